#ifndef HALFSKY_COMMON_CATALOG_CATALOG_H_
#define HALFSKY_COMMON_CATALOG_CATALOG_H_

// Loading, validating and looking up the indicator catalog.
//
// The catalog is protobuf text format (halfsky.v1.Catalog), split over one
// or more files that are merged in order. Validation is strict: every
// problem is reported at once, each as "FILE:LINE: id: what is wrong".

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "halfsky/v1/catalog.pb.h"

namespace halfsky {

// One problem found in a catalog.
struct CatalogProblem {
  std::string file;  // path as given
  int line = 0;      // 1-based; 0 if unknown
  std::string id;    // the object's id/code, or "" for file-level problems
  std::string message;
  std::string ToString() const;  // "FILE:LINE: id: message"
};

// Parses and merges the text-format files and validates the result.
// `paths` may name files or directories (a directory contributes its
// *.textproto files, sorted by name).
// Returns the problems found (empty = valid) and, when parsing succeeded,
// the merged catalog. Never throws; I/O errors are problems too.
struct CatalogLoadResult {
  halfsky::v1::Catalog catalog;
  std::vector<CatalogProblem> problems;
};
//
// `options` adds checks for the catalog's authors that the services'
// loader (CatalogIndex::Load) does not make: require_explanations, every
// numeric indicator's 指标解释 complete (what `halfskyctl catalog lint`
// asks; a catalog used in tests need not carry the wording).
struct LintOptions {
  bool require_explanations = false;
};
CatalogLoadResult LintCatalog(const std::vector<std::string>& paths,
                              const LintOptions& options = {});

// Immutable, validated catalog with indexes. Thread-safe after construction
// (all methods const). Pointers returned stay valid for the object's life.
class CatalogIndex {
 public:
  // Loads and validates; INVALID_ARGUMENT listing every problem (one per
  // line, "FILE:LINE: id: message") if the catalog is not valid.
  static absl::StatusOr<std::shared_ptr<const CatalogIndex>> Load(
      const std::vector<std::string>& paths);
  // Validates an in-memory catalog (tests); problems carry no file/line.
  static absl::StatusOr<std::shared_ptr<const CatalogIndex>> FromProto(
      halfsky::v1::Catalog catalog);

  const halfsky::v1::Catalog& catalog() const { return catalog_; }
  // Hex SHA-256 of the deterministic serialization of catalog().
  const std::string& fingerprint() const { return fingerprint_; }

  // nullptr when unknown.
  const halfsky::v1::Indicator* FindIndicator(absl::string_view id) const;
  const halfsky::v1::Area* FindArea(absl::string_view code) const;
  const halfsky::v1::Domain* FindDomain(absl::string_view id) const;
  const halfsky::v1::Objective* FindObjective(absl::string_view id) const;
  const halfsky::v1::MemberUnit* FindMemberUnit(absl::string_view code) const;

  // The area without a parent.
  const halfsky::v1::Area& RootArea() const;
  // Direct children of an area, in catalog order (empty for leaves/unknown).
  const std::vector<const halfsky::v1::Area*>& Children(absl::string_view code) const;
  // The plan governing an area (Catalog.plans): the plan of the area's
  // nearest ancestor-or-self with one. nullptr when the catalog lists no
  // plans (the one-plan case: the header is the plan) or the area is unknown.
  const halfsky::v1::Plan* GoverningPlan(absl::string_view area_code) const;
  // The title of the plan governing the area: its Plan.title_zh, else the
  // catalog's plan_title_zh.
  const std::string& PlanTitle(absl::string_view area_code) const;
  // Whether `target` is set by the plan governing the area (its plan_code,
  // "" read as the root area's plan). Always true without plans.
  bool TargetApplies(const halfsky::v1::Target& target, absl::string_view area_code) const;
  // Indicators a unit is responsible for, in catalog order.
  std::vector<const halfsky::v1::Indicator*> IndicatorsOfUnit(absl::string_view unit_code) const;
  // The indicator's lead unit 牵头单位: lead_unit_code, else its first (for a
  // valid catalog: only) responsible unit; "" when it has none.
  static const std::string& LeadUnit(const halfsky::v1::Indicator& indicator);

  // The indicator's due date (its override, else the calendar's), in the
  // district's time zone, for data year `year`: end of that day (23:59:59).
  absl::Time DueAt(const halfsky::v1::Indicator& indicator, int year) const;

 private:
  CatalogIndex() = default;
  void BuildIndexes();

  halfsky::v1::Catalog catalog_;
  std::string fingerprint_;
  absl::flat_hash_map<std::string, const halfsky::v1::Indicator*> indicators_;
  absl::flat_hash_map<std::string, const halfsky::v1::Area*> areas_;
  absl::flat_hash_map<std::string, const halfsky::v1::Domain*> domains_;
  absl::flat_hash_map<std::string, const halfsky::v1::Objective*> objectives_;
  absl::flat_hash_map<std::string, const halfsky::v1::MemberUnit*> units_;
  absl::flat_hash_map<std::string, std::vector<const halfsky::v1::Area*>> children_;
  absl::flat_hash_map<std::string, const halfsky::v1::Plan*> plan_of_area_;  // governed roots
  const halfsky::v1::Plan* root_plan_ = nullptr;
  const halfsky::v1::Area* root_ = nullptr;
};

}  // namespace halfsky

#endif  // HALFSKY_COMMON_CATALOG_CATALOG_H_
