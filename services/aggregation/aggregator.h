#ifndef HALFSKY_SERVICES_AGGREGATION_AGGREGATOR_H_
#define HALFSKY_SERVICES_AGGREGATION_AGGREGATOR_H_

// The aggregation core: pure logic, no I/O.
//
// State: the current figure of every DataKey (a later revision of a key
// replaces the earlier one; applying the same revision twice changes
// nothing), and from it one aggregate per
// indicator × area (every level of the area tree) × year × sex × residence.
//
// The rules (DESIGN.md §4):
//   - RATE / PROPORTION (method SUM_FRACTIONS, the default): a parent's
//     figure is Σnumerator / Σdenominator of its children's figures, × the
//     indicator's multiplier for RATE, × 100 for PROPORTION. NEVER an average
//     of the children's rates.
//   - COUNT (method SUM, the default): the children's figures add up.
//   - VALUE: only by the catalog's rule. WEIGHTED_MEAN:
//     Σ(value_c × weight_c) / Σweight_c where weight_c is the child's figure
//     of the COUNT indicator `weight_indicator_id` for the same year, sex and
//     residence (a child without a weight does not contribute); SUM adds up;
//     anything else (the default) means "only figures reported directly".
//   - NONE (any kind): only figures reported directly; parents get nothing.
//   - QUALITATIVE: never aggregated; the fact that a narrative was reported
//     is kept for completeness of reporting.
//   - Sex and residence are separate dimensions: a parent's female figure is
//     made of its children's female figures; totals are never derived from
//     female + male.
//   - A figure reported directly for an area takes precedence over the
//     combination of its children (and is what its own parent combines).
//     When the children also combine into a figure, it is kept as
//     `children_value`; `children_mismatch` is set when every child area
//     contributed and |direct − children| > max(kMismatchAbsoluteTolerance,
//     kMismatchRelativeTolerance × max(|direct|, |children|)) (in the display
//     unit). With some children missing a difference is expected (counts of a
//     part are smaller than the whole) and is not flagged.
//   - "Contributing" children are the direct children of the area in the
//     catalog that have a figure (direct or combined); the others are listed
//     as missing (only for combined figures; a direct figure is complete).
//   - Coverage: every aggregate carries expected_area_count (the area's
//     children in the catalog). A combined figure is `incomplete` when
//     fewer than Indicator.coverage_threshold_percent (0 → 100: every
//     child) of the expected children contributed a complete figure (direct,
//     or combined and itself not incomplete); it is then a part of the area,
//     never its figure. A direct figure is complete.
//     Where the whole denominator is known — a direct RATE/PROPORTION figure
//     whose children also combine — children_denominator_share_percent =
//     Σ children's denominators / the direct denominator × 100.
//   - Published figures (DataValue.published, RATE/PROPORTION only): the
//     value as it stands, numerator and denominator 0, `published` set. They
//     are never summed into a parent: the parent lists the child in
//     published_area_codes (not in missing_area_codes), and the child does
//     not contribute (so, at the default threshold, the parent's combined
//     figure is incomplete). A parent whose only reporting children are such
//     has an aggregate without a value (numerator, denominator 0) naming
//     them, and counts as "published only" for its own parent in turn, so
//     an aggregate never disappears when a figure becomes a published one.
//   - Approval (review workflow): a direct figure is approved while an
//     approved (FORM_STATE_APPROVED) form of one of the indicator's
//     responsible units covers its area and year (the submission service's
//     lock, ApprovedForms). Every aggregate counts the reported figures it
//     rests on (part_count: 1 for a direct figure, else the contributing
//     children's, the weights' included for WEIGHTED_MEAN) and how many are
//     approved (approved_part_count). Form changes (ApplyFormChange) move it
//     without a new revision; the result depends only on the current
//     figures and the current approved forms, never on the order in which
//     revisions and form changes arrived.
//   - Aggregate.as_of_sequence is the highest change-feed sequence among the
//     revisions the aggregate depends on (its own, its descendants', and the
//     weights' for WEIGHTED_MEAN). It does not depend on the order or the
//     batching in which revisions were applied, so incremental and rebuilt
//     results are identical field by field.
//
// Incremental and bulk paths compute each cell with the same function,
// summing children in catalog order, so their results are bit-identical.
//
// Revisions that cannot be applied (unknown indicator or area — a catalog
// mismatch —, year outside [catalog base year, final year], a payload that
// does not fit the indicator's kind, a sequence outside [0, 2^56), which a
// leaf's 24-byte cell cannot hold) are skipped and counted
// (skipped_count()); they never fail the feed.
//
// Thread-safety: thread-compatible. Callers serialize writers against
// readers (AggregationState in follower.h does).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/catalog/catalog.h"
#include "halfsky/v1/aggregation.pb.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/submission.pb.h"

namespace halfsky::aggregation {

inline constexpr double kMismatchAbsoluteTolerance = 0.01;
inline constexpr double kMismatchRelativeTolerance = 0.005;

// Identifies one aggregate cell inside an Aggregator: (series, year index).
// Only meaningful for the Aggregator that produced it.
using CellId = uint64_t;

// What one or more Apply() calls changed.
struct ChangeSet {
  absl::flat_hash_set<CellId> cells;
  // Catalog indexes of the indicators with changed cells.
  absl::flat_hash_set<int> indicators;
  bool empty() const { return cells.empty(); }
  void Clear() {
    cells.clear();
    indicators.clear();
  }
};

class Aggregator {
 public:
  // `catalog` must not be null.
  explicit Aggregator(std::shared_ptr<const CatalogIndex> catalog);
  Aggregator(const Aggregator&) = delete;
  Aggregator& operator=(const Aggregator&) = delete;

  const CatalogIndex& catalog() const { return *catalog_; }
  int first_year() const { return first_year_; }
  int last_year() const { return last_year_; }

  // Incremental path: applies one revision and recomputes only the affected
  // cells (the area's own, its ancestors', and — for a weight indicator —
  // the ancestors' cells of the indicators it weights). Adds every cell
  // whose aggregate changed to `changes` (may be null). Returns false if the
  // revision was skipped (see above).
  bool Apply(const halfsky::v1::Revision& revision, ChangeSet* changes);

  // Bulk path for rebuilds: Load() sets figures without recomputing; call
  // RecomputeAll() once after the last Load() (before any read).
  bool Load(const halfsky::v1::Revision& revision);
  void RecomputeAll();

  // A review form's transition (ChangeEvent.form_change): the form's values
  // are approved while change.state is FORM_STATE_APPROVED. Incremental:
  // recomputes the cells of the indicators the unit is responsible for at
  // the form's area and year, and their ancestors, adding changed ones to
  // `changes` (may be null). A change with form_sequence <= the last one
  // applied is a replay and changes nothing. An unknown unit, area or a
  // year outside the catalog's is skipped (counted). False if skipped.
  bool ApplyFormChange(const halfsky::v1::FormChange& change, ChangeSet* changes);
  // Bulk path: records the form's state; RecomputeAll() afterwards.
  bool LoadFormChange(const halfsky::v1::FormChange& change);
  // Highest form_sequence applied or loaded (0 if none).
  int64_t last_form_sequence() const { return last_form_sequence_; }

  // Highest sequence applied or loaded (0 if none).
  int64_t last_sequence() const { return last_sequence_; }
  // Keys with a current figure (numeric or narrative).
  int64_t data_value_count() const { return data_value_count_; }
  int64_t skipped_count() const { return skipped_count_; }
  // Aggregates with a figure (QUALITATIVE excluded).
  int64_t aggregate_count() const;

  // The aggregate of `key` (sex/residence UNSPECIFIED read as TOTAL/ALL), or
  // nullopt if there is no figure (unknown names included).
  std::optional<halfsky::v1::Aggregate> Get(const halfsky::v1::DataKey& key) const;
  // The aggregate of a cell (nullopt if it has no figure).
  std::optional<halfsky::v1::Aggregate> Render(CellId cell) const;
  // The same without its `key` (left unset), rendered into `*out`, which is
  // cleared first and may be reused across calls (writers rendering many
  // cells avoid an allocation per cell). False, with `*out` unspecified, if
  // the cell has no figure.
  bool RenderValue(CellId cell, halfsky::v1::Aggregate* out) const;
  // The DataKey of a cell.
  halfsky::v1::DataKey KeyOf(CellId cell) const;
  // True when a figure or narrative was reported directly for `key`.
  bool Reported(const halfsky::v1::DataKey& key) const;

  // Every aggregate with a figure, in a deterministic order (indicator and
  // area in catalog order, then sex, residence, year).
  void ForEach(const std::function<void(const halfsky::v1::Aggregate&)>& fn) const;
  // Same order, restricted: empty filters mean "all".
  void ForEachFiltered(const std::vector<int>& indicator_indexes,
                       const std::vector<int>& area_indexes, int from_year, int to_year,
                       const std::function<void(const halfsky::v1::Aggregate&)>& fn) const;

  // Series (indicator × area × sex × residence) helpers for writers. A
  // series id is stable for this Aggregator's life.
  using SeriesId = uint32_t;
  static SeriesId SeriesOf(CellId cell) { return static_cast<SeriesId>(cell >> 8); }
  static int YearIndexOf(CellId cell) { return static_cast<int>(cell & 0xff); }
  static CellId MakeCell(SeriesId s, int year_index) {
    return (static_cast<uint64_t>(s) << 8) | static_cast<uint64_t>(year_index);
  }
  size_t series_count() const { return series_keys_.size(); }
  // indicator id, area code, sex, residence of a series.
  struct SeriesName {
    const std::string* indicator_id;
    const std::string* area_code;
    halfsky::v1::Sex sex;
    halfsky::v1::Residence residence;
    int indicator_index;
  };
  SeriesName NameOf(SeriesId s) const;
  // True if some year of series `s` has a figure (Render would return one).
  bool SeriesHasFigure(SeriesId s) const;
  // Calls fn(cell) for every cell of every series with a figure whose
  // as_of_sequence > `after_sequence`, series by series.
  void ForEachCellAfter(int64_t after_sequence, const std::function<void(CellId)>& fn) const;

  // Catalog indexes (−1 when unknown).
  int IndicatorIndex(absl::string_view id) const;
  int AreaIndex(absl::string_view code) const;
  const halfsky::v1::Indicator& IndicatorAt(int index) const;

 private:
  enum class Method { kFractions, kSum, kWeightedMean, kNone, kQualitative };
  struct IndicatorInfo {
    const halfsky::v1::Indicator* proto = nullptr;
    Method method = Method::kNone;
    bool fraction_payload = false;  // RATE / PROPORTION
    double multiplier = 1;
    double coverage_threshold = 100;  // percent of children (catalog's, default 100)
    int weight = -1;                  // WEIGHTED_MEAN: indicator index
    std::vector<int> weighted;        // indicators weighted by this one
  };
  struct AreaInfo {
    const halfsky::v1::Area* proto = nullptr;
    int parent = -1;
    int depth = 0;
    std::vector<int> children;
  };
  static constexpr uint8_t kDirect = 1;
  static constexpr uint8_t kNarrative = 2;
  static constexpr uint8_t kPublished = 4;  // with kDirect: a PublishedRate
  struct Cell {
    double num = 0;                  // direct figure: numerator, or the count/value
    double den = 0;                  // direct figure: denominator (fractions only)
    double cnum = 0;                 // children combined: Σnumerator / Σcount / Σ(value·weight)
    double cden = 0;                 // children combined: Σdenominator / Σweight
    int64_t seq = 0;                 // sequence of the direct figure
    int64_t max_seq = 0;             // as_of_sequence
    int32_t children = 0;            // contributing children
    int32_t complete_children = 0;   // contributing children with a complete figure
    int32_t published_children = 0;  // children with a published figure (left out)
    int32_t parts = 0;               // reported figures the effective figure rests on
    int32_t approved_parts = 0;      // of which approved
    uint8_t flags = 0;
  };
  static bool SameCell(const Cell& a, const Cell& b);
  // A leaf area's cell as stored. A leaf (an area without children in the
  // catalog) never combines children, so Recompute leaves every derived
  // field of its Cell a function of its own figure: cnum, cden and the
  // children's counts 0, max_seq = seq when it holds a figure or narrative,
  // parts = 1 for a direct figure, approved_parts stored as kLeafApproved.
  // 24 bytes instead of Cell's 72: at a province's size nearly every series
  // is a community's.
  static constexpr uint8_t kLeafApproved = 8;  // in LeafCell's flags only
  static constexpr int kLeafSeqBits = 56;      // sequences at or above 2^56 are skipped
  struct LeafCell {
    double num = 0;
    double den = 0;
    uint64_t seq_flags = 0;  // the sequence in the low 56 bits, the flags in the top 8

    int64_t seq() const {
      return static_cast<int64_t>(seq_flags & ((uint64_t{1} << kLeafSeqBits) - 1));
    }
    uint8_t flags() const { return static_cast<uint8_t>(seq_flags >> kLeafSeqBits); }
    // `seq` in [0, 2^56).
    void Set(int64_t seq, uint8_t flags) {
      seq_flags = static_cast<uint64_t>(seq) | (uint64_t{flags} << kLeafSeqBits);
    }
  };
  static_assert(sizeof(LeafCell) == 24, "a leaf's cell is three words");
  static Cell ExpandLeaf(const LeafCell& leaf);
  struct Figure {
    double num;
    double den;
    bool computed;
  };

  static uint64_t SeriesKey(int indicator, int area, int sex, int residence) {
    return (static_cast<uint64_t>(indicator) << 40) | (static_cast<uint64_t>(area) << 8) |
           (static_cast<uint64_t>(sex) << 4) | static_cast<uint64_t>(residence);
  }
  bool Present(const Cell& c, const IndicatorInfo& info) const;
  // The cell's figure rests on published values only: a direct published
  // figure, or a combination whose only reporting children are such.
  static bool OnlyPublished(const Cell& c);
  // A combined figure of `area` below the indicator's coverage threshold.
  bool Incomplete(const Cell& c, int area, const IndicatorInfo& info) const;
  // The figure the cell passes on (direct first), if present.
  std::optional<Figure> Effective(const Cell& c, const IndicatorInfo& info) const;
  std::optional<double> DisplayValue(const IndicatorInfo& info, double num, double den,
                                     bool computed) const;
  int64_t FindSeries(uint64_t key) const;
  SeriesId GetOrCreateSeries(uint64_t key, int area);
  // The cell (a leaf's expanded), and its write back: StoreCell keeps what
  // the series' storage holds (a leaf: the figure, flags and approval).
  Cell CellAt(SeriesId s, int y) const;
  void StoreCell(SeriesId s, int y, const Cell& cell);
  // Shared by Apply and Load: resolves and stores the direct figure.
  // Returns the series and year index, or nullopt if skipped.
  std::optional<std::pair<SeriesId, int>> SetDirect(const halfsky::v1::Revision& revision);
  // Recomputes one cell from its own direct figure and its children.
  void Recompute(SeriesId s, int y);
  // An approved form of one of the indicator's responsible units covers
  // (area, year index).
  bool DirectApproved(int indicator, int area, int y) const;
  // Recomputes (ind, area, sex, res, y), its ancestors and the cells it
  // weights, recording changes.
  void RecomputeUpward(int ind, int area, int sex, int res, int y, ChangeSet* changes);
  // Records the form's state; nullopt if skipped, else (area, year index).
  std::optional<std::pair<int, int>> SetForm(const halfsky::v1::FormChange& change);
  void RecomputeAndRecord(uint64_t key, int y, ChangeSet* changes);
  std::optional<halfsky::v1::Aggregate> RenderCell(SeriesId s, int y) const;
  bool RenderCellValue(SeriesId s, int y, halfsky::v1::Aggregate* out) const;
  void ForEachSeriesSorted(const std::vector<int>& indicator_indexes,
                           const std::vector<int>& area_indexes,
                           const std::function<void(SeriesId)>& fn) const;

  std::shared_ptr<const CatalogIndex> catalog_;
  int first_year_ = 2020;
  int last_year_ = 2030;
  int years_ = 11;
  std::vector<IndicatorInfo> indicators_;
  std::vector<AreaInfo> areas_;
  std::vector<int> areas_deepest_first_;
  absl::flat_hash_map<std::string, int> indicator_index_;
  absl::flat_hash_map<std::string, int> area_index_;

  absl::flat_hash_map<uint64_t, SeriesId> series_index_;
  std::vector<uint64_t> series_keys_;
  std::vector<std::vector<SeriesId>> series_by_area_;
  // Where series s keeps its cells: slots_[s] = i, the cells of year y at
  // chunks_[i / kChunk][(i % kChunk) * years_ + y]; a leaf area's series
  // (slot with kLeafSlot) in leaf_chunks_ the same way.
  static constexpr size_t kChunk = 1024;
  static constexpr uint32_t kLeafSlot = 0x80000000u;
  std::vector<uint32_t> slots_;
  uint32_t full_series_ = 0;
  uint32_t leaf_series_ = 0;
  std::vector<std::unique_ptr<Cell[]>> chunks_;
  std::vector<std::unique_ptr<LeafCell[]>> leaf_chunks_;

  // Approved forms: (area index, year index) → their units.
  absl::flat_hash_map<std::pair<int, int>, std::vector<std::string>> approved_units_;
  int64_t last_form_sequence_ = 0;

  int64_t last_sequence_ = 0;
  int64_t data_value_count_ = 0;
  int64_t skipped_count_ = 0;
};

}  // namespace halfsky::aggregation

#endif  // HALFSKY_SERVICES_AGGREGATION_AGGREGATOR_H_
