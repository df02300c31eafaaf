#ifndef HALFSKY_SERVICES_EVALUATION_METHOD_EXPLAIN_H_
#define HALFSKY_SERVICES_EVALUATION_METHOD_EXPLAIN_H_

// The sentences of the evaluation method (internal to the library, exposed
// for its tests). Pure functions; thread-safe.
//
// Numbers: figures in the indicator's unit with one decimal (COUNT
// indicators: whole numbers when whole), rates and changes as percentages
// with one decimal, target values as the catalog gives them (up to six
// significant digits, no trailing zeros). Rounding is printf's ("%.1f").
// A difference of two figures in "%" or "‰" is in 个百分点 / 个千分点
// (percentage / per-mille points).

#include <string>

#include "halfsky/v1/catalog.pb.h"
#include "services/evaluation/method/method.h"

namespace halfsky::evaluation {

// A figure in the indicator's unit, e.g. "14.3/10万" (zh) or
// "14.3 per 100,000" (en).
std::string FormatFigureZh(const halfsky::v1::Indicator& indicator, double value);
std::string FormatFigureEn(const halfsky::v1::Indicator& indicator, double value);
// A fraction as a percentage magnitude with one decimal: −0.0553 → "5.5".
std::string FormatPercent(double fraction);
// A target value as the catalog gives it: 10.15 → "10.15", 95 → "95".
std::string FormatTargetValue(double value);
// The target as printed in sentences, e.g. "≤10.15/10万", "45%左右".
std::string TargetTextZh(const halfsky::v1::Indicator& indicator,
                         const halfsky::v1::Target& target);
std::string TargetTextEn(const halfsky::v1::Indicator& indicator,
                         const halfsky::v1::Target& target);

// Fills explanation_zh / explanation_en of a finished assessment.
void ExplainAssessment(const halfsky::v1::Indicator& indicator, const MethodOptions& options,
                       Assessment* assessment);
// Fills explanation_zh / explanation_en of a finished fluctuation result.
void ExplainFluctuation(const halfsky::v1::Indicator& indicator, const MethodOptions& options,
                        FluctuationResult* result);

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_METHOD_EXPLAIN_H_
