#ifndef HALFSKY_COMMON_CATALOG_VALIDATE_H_
#define HALFSKY_COMMON_CATALOG_VALIDATE_H_

// Internal to halfsky_catalog: the validation rules and the source
// locations they report against. Use LintCatalog / CatalogIndex instead.

#include <map>
#include <string>
#include <vector>

#include "common/catalog/catalog.h"
#include "halfsky/v1/catalog.pb.h"

namespace halfsky {
namespace catalog_internal {

// Where an element of the merged catalog was written. file "" and line 0
// when unknown (a catalog built in memory).
struct SourceLoc {
  std::string file;
  int line = 0;
};

// Locations of the merged catalog's elements, index-aligned with the
// repeated fields of halfsky.v1.Catalog (after merging, in merge order).
struct CatalogLocations {
  std::vector<SourceLoc> domains;
  std::vector<SourceLoc> objectives;
  std::vector<SourceLoc> indicators;
  std::vector<std::vector<SourceLoc>> targets;  // [indicator][target]
  std::vector<SourceLoc> member_units;
  std::vector<SourceLoc> areas;
  std::vector<SourceLoc> plans;
  std::vector<SourceLoc> validation_rules;
  // Top-level singular fields by name ("version", "calendar", ...).
  std::map<std::string, SourceLoc> header;
  // Where catalog-wide problems are reported (the first file).
  SourceLoc catalog;
};

// Every problem of `catalog`, in a stable order (by kind of element, then
// catalog order). `locations` may be null (no file/line in problems).
std::vector<CatalogProblem> ValidateCatalog(const halfsky::v1::Catalog& catalog,
                                            const CatalogLocations* locations);

// The 指标解释 check (LintOptions::require_explanations): one problem per
// numeric indicator whose explanation lacks definition_zh, formula_zh,
// data_source_zh or wording, naming all that is missing.
std::vector<CatalogProblem> CheckExplanations(const halfsky::v1::Catalog& catalog,
                                              const CatalogLocations* locations);

}  // namespace catalog_internal
}  // namespace halfsky

#endif  // HALFSKY_COMMON_CATALOG_VALIDATE_H_
