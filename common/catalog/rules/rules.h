#ifndef HALFSKY_COMMON_CATALOG_RULES_RULES_H_
#define HALFSKY_COMMON_CATALOG_RULES_RULES_H_

// Validation rules 逻辑审核: the catalog's own (Catalog.validation_rules)
// and the built-in families generated for every indicator with the
// disaggregation, their lint, and their evaluation over a table of figures.
// Pure: no I/O, no clock. Thread-safe (no shared state).
//
// Built-in families (importance ERROR unless said; ids "builtin.<family>.<indicator>"
// plus the part for fractions):
//   sex_sum        female + male == total     (SEX disaggregation)
//   residence_sum  urban + rural == all       (RESIDENCE disaggregation)
//   sex_part       female <= total, male <= total
//   residence_part urban <= all, rural <= all
//   fraction       numerator <= denominator   (PROPORTION, every group)
//   children_sum   sum over the child areas == the area's own figure,
//                  importance WARNING (every group the indicator has:
//                  total, female, male, urban, rural), checked only where
//                  the area reports its own figure and every child area has
//                  one; message 「下级合计 … 与本级 … 不一致」
// For COUNT the figure's value is compared; for RATE and PROPORTION the
// numerators and the denominators (never the rates); VALUE and QUALITATIVE
// indicators get no family (a mean is not a sum).

#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/review.pb.h"

namespace halfsky::rules {

// Prefix of every built-in rule id; catalog rules may not use it.
inline constexpr char kBuiltinPrefix[] = "builtin.";

// The built-in rules of `catalog`'s indicators, in catalog order.
std::vector<halfsky::v1::ValidationRule> BuiltinRules(const halfsky::v1::Catalog& catalog);

// Every rule in force: the built-in ones, then the catalog's.
std::vector<halfsky::v1::ValidationRule> RulesInForce(const halfsky::v1::Catalog& catalog);

// The problems of catalog rule `index` (Chinese first, English beside),
// e.g. an unknown indicator, a numerator of a COUNT, no or two forms, a
// duplicate id. Empty when the rule is valid.
struct RuleProblem {
  int index = 0;  // into catalog.validation_rules()
  std::string id;
  std::string message;
};
std::vector<RuleProblem> LintRules(const halfsky::v1::Catalog& catalog);

// The figures rules are evaluated on: current values by (indicator, area,
// year, sex, residence). Sex / residence UNSPECIFIED are read as TOTAL / ALL.
class FigureTable {
 public:
  // `indicator` is the value's catalog indicator (for its multiplier).
  // Narratives and values without a payload are ignored.
  void Add(const halfsky::v1::DataValue& value, const halfsky::v1::Indicator& indicator);

  // The part of a figure, or nullopt when absent (or, for NUMERATOR /
  // DENOMINATOR, when the figure is not a fraction).
  std::optional<double> Get(const std::string& indicator_id, const std::string& area_code, int year,
                            halfsky::v1::Sex sex, halfsky::v1::Residence residence,
                            halfsky::v1::RulePart part) const;

  // Every (area, year) holding a figure, sorted.
  std::vector<std::pair<std::string, int>> AreaYears() const;

 private:
  struct Figure {
    double value = 0;  // VALUE part
    bool fraction = false;
    double numerator = 0;
    double denominator = 0;
  };
  using Key = std::tuple<std::string, std::string, int, int, int>;
  absl::flat_hash_map<Key, Figure> figures_;
  absl::flat_hash_set<std::pair<std::string, int>> area_years_;
};

// Checks every rule of `rules` for every (area, year) of `scope` (a rule
// whose figures are not all present is skipped) and returns every violation,
// by scope then rule order. `checked`, when not null, receives the number of
// (rule, area, year) checks made. `catalog` gives the indicators' names for
// the messages.
std::vector<halfsky::v1::RuleViolation> Evaluate(
    const std::vector<halfsky::v1::ValidationRule>& rules, const halfsky::v1::Catalog& catalog,
    const FigureTable& figures, const std::vector<std::pair<std::string, int>>& scope,
    int* checked = nullptr);

// The rules of `rules` that involve at least one of `indicator_ids`.
std::vector<halfsky::v1::ValidationRule> RulesTouching(
    const std::vector<halfsky::v1::ValidationRule>& rules,
    const absl::flat_hash_set<std::string>& indicator_ids);

}  // namespace halfsky::rules

#endif  // HALFSKY_COMMON_CATALOG_RULES_RULES_H_
