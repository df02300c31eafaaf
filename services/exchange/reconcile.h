#ifndef HALFSKY_SERVICES_EXCHANGE_RECONCILE_H_
#define HALFSKY_SERVICES_EXCHANGE_RECONCILE_H_

// The pure half of reporting upward (issue #17): which figures of the lower
// instance's area go up, and what to send given what the upper instance
// already holds for that area (reconcile by difference).
//
// - Mapping: a lower indicator goes up to the upper indicator with the same
//   statistic_code, when both are numeric and of the same kind; narratives
//   never travel (they belong to the lower instance's member units).
// - Figures: every (sex, residence) cell of the lower root area's series
//   that the upper indicator takes (its required_disaggregations; TOTAL/ALL
//   always), each as its own key. Both instances aggregate each cell over the areas
//   on its own (never FEMALE+MALE into TOTAL, never URBAN+RURAL into ALL),
//   so the upper instance's Σnumerator/Σdenominator over its districts is
//   exact and nothing is counted twice. An incomplete point (a part of the
//   area, not its figure) does not go up; a published figure goes up as
//   published; a rate or proportion as its numerator and denominator.
// - Approval: under kApproved a point holding unapproved parts is held back:
//   the upper instance keeps what it has (the last approved figure, or
//   nothing). Under kComplete (a deployment without review) every complete
//   point goes up, its note saying it was not reviewed.
// - Difference: a figure is written when the upper instance has no value or
//   another payload (payload, source and note compared); an upper value of a
//   mapped indicator at the area with no eligible or held figure below is
//   withdrawn. One batch per (year, action), so that one locked year does
//   not hold the others back.
// - Request ids are deterministic: a hash of the area, year, action, the
//   batch's content and the upper revisions it replaces. A resend after a
//   crash (same difference) replays the committed batch; after the upper
//   value changed (A→B→A) the id differs, so nothing stale is replayed.
//
// Pure functions; thread-safe.

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "halfsky/v1/aggregation.pb.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::exchange {

enum class ApprovalRule { kApproved, kComplete };

// "approved" / "complete".
const char* ApprovalRuleName(ApprovalRule rule);
// INVALID_ARGUMENT for anything but "approved" or "complete".
absl::StatusOr<ApprovalRule> ParseApprovalRule(const std::string& text);

struct IndicatorMapping {
  std::string lower_id;
  std::string upper_id;
  halfsky::v1::IndicatorKind kind = halfsky::v1::INDICATOR_KIND_UNSPECIFIED;
  // Whether the upper indicator takes FEMALE/MALE and URBAN/RURAL cells
  // (its required_disaggregations, as the upper validation checks): a
  // breakdown the upper instance does not collect stays below.
  bool by_sex = false;
  bool by_residence = false;
};

struct Mappings {
  std::vector<IndicatorMapping> indicators;
  // Human-readable reasons for lower indicators with a statistic_code that
  // do not go up (no such code above, another kind), for the run's log.
  std::vector<std::string> skipped;
};

// The lower → upper indicator mapping by statistic_code (see above).
Mappings MapIndicators(const halfsky::v1::Catalog& lower, const halfsky::v1::Catalog& upper);

// (upper indicator id, year, sex, residence): a key at the reporting area.
using CellKey = std::tuple<std::string, int, int, int>;

CellKey KeyOf(const halfsky::v1::DataKey& key);

// Whether the upper indicator of `mapping` takes the (sex, residence) cell.
bool Takes(const IndicatorMapping& mapping, halfsky::v1::Sex sex, halfsky::v1::Residence residence);

struct Figure {
  // Keyed by the upper instance (indicator id, the area code).
  halfsky::v1::DataValue value;
  std::string source_indicator_id;
};

struct LowerFigures {
  std::map<CellKey, Figure> eligible;
  // Complete but with unapproved parts (kApproved only).
  std::map<CellKey, std::string> held;  // → lower indicator id
};

// Adds the points of one lower series (`series` of `mapping.lower_id` at the
// root area `area_code`) to `out`, each with `source` and `note`; nothing
// for a cell the upper indicator does not take (see Takes).
void AddSeries(const IndicatorMapping& mapping, const std::string& area_code,
               const halfsky::v1::GetSeriesResponse& series, ApprovalRule rule,
               const std::string& source, const std::string& note, LowerFigures* out);

struct PlannedBatch {
  int year = 0;
  bool withdraw = false;
  std::string request_id;
  // Writes: the values; withdrawals: only their keys are used.
  std::vector<Figure> figures;
};

struct Plan {
  std::vector<PlannedBatch> batches;
  int in_sync_count = 0;
};

// The difference between the lower figures and the upper instance's current
// values at `area_code` (`upper_current`: revisions of mapped indicators at
// that area; others are ignored). Batches hold at most `max_batch` figures.
Plan PlanBatches(const std::string& area_code, const LowerFigures& lower,
                 const std::vector<halfsky::v1::Revision>& upper_current,
                 const std::vector<IndicatorMapping>& mappings, int max_batch = 1000);

// "3/29000", "42", "13.2 (published)": a value as the log shows it.
std::string ValueText(const halfsky::v1::DataValue& value);

}  // namespace halfsky::exchange

#endif  // HALFSKY_SERVICES_EXCHANGE_RECONCILE_H_
