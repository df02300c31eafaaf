#ifndef HALFSKY_TESTS_HALFSKYCTL_SAMPLE_REPORT_H_
#define HALFSKY_TESTS_HALFSKYCTL_SAMPLE_REPORT_H_

// Fixed, realistic protos for the halfskyctl view and report tests: an
// annual evaluation report for 2024 with three domains (an AT_MOST rate
// resting on few events and at risk, an achieved proportion, a qualitative
// objective, an every-year MAINTAIN_AT_LEAST, an ABOUT band with a missing
// year) and warnings of several kinds. Synthetic figures.

#include <vector>

#include "halfsky/v1/aggregation.pb.h"
#include "halfsky/v1/evaluation.pb.h"
#include "halfsky/v1/submission.pb.h"

namespace halfsky::testing {

halfsky::v1::EvaluationReport SampleReport();
// The warnings of SampleReport(), plus a resolved and an acknowledged one,
// in no particular order.
std::vector<halfsky::v1::Warning> SampleWarnings();
halfsky::v1::GetSeriesResponse SampleSeries();
halfsky::v1::GetReportingStatusResponse SampleReportingStatus();
halfsky::v1::AnnualReport SampleAnnualReport();

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_HALFSKYCTL_SAMPLE_REPORT_H_
