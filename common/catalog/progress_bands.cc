#include "common/catalog/progress_bands.h"

#include <cmath>
#include <string>

#include "absl/strings/str_format.h"

namespace halfsky {

halfsky::v1::ProgressBands DefaultProgressBands() {
  halfsky::v1::ProgressBands b;
  // P: the share of the needed yearly rate achieved.
  b.set_on_track(0.95);
  b.set_needs_acceleration(0.6);
  b.set_at_risk(0.0);
  // Targets without a number: the direction-adjusted CAGR (Open SDG).
  b.set_no_target_on_track(0.015);
  b.set_no_target_needs_acceleration(0.005);
  b.set_no_target_at_risk(0.0);
  return b;
}

halfsky::v1::ProgressBands ResolveProgressBands(const halfsky::v1::ProgressBands& bands) {
  halfsky::v1::ProgressBands out = DefaultProgressBands();
  out.MergeFrom(bands);  // set optional fields override, absent ones stay
  return out;
}

namespace {

std::string Order(const char* high_name, bool has_high, double high, const char* low_name,
                  bool has_low, double low) {
  if (!has_high || !has_low) {
    return absl::StrFormat("进展分档缺少界限 / missing bound: %s",
                           !has_high ? high_name : low_name);
  }
  if (!std::isfinite(high) || !std::isfinite(low)) {
    return absl::StrFormat("进展分档界限须为有限数 / bounds must be finite: %s %g, %s %g",
                           high_name, high, low_name, low);
  }
  if (high < low) {
    return absl::StrFormat("进展分档须逐档递减 / bands must not increase: %s %g < %s %g", high_name,
                           high, low_name, low);
  }
  return "";
}

}  // namespace

std::string ProgressBandsProblem(const halfsky::v1::ProgressBands& b) {
  for (std::string p : {
           Order("on_track", b.has_on_track(), b.on_track(), "needs_acceleration",
                 b.has_needs_acceleration(), b.needs_acceleration()),
           Order("needs_acceleration", b.has_needs_acceleration(), b.needs_acceleration(),
                 "at_risk", b.has_at_risk(), b.at_risk()),
           Order("no_target_on_track", b.has_no_target_on_track(), b.no_target_on_track(),
                 "no_target_needs_acceleration", b.has_no_target_needs_acceleration(),
                 b.no_target_needs_acceleration()),
           Order("no_target_needs_acceleration", b.has_no_target_needs_acceleration(),
                 b.no_target_needs_acceleration(), "no_target_at_risk", b.has_no_target_at_risk(),
                 b.no_target_at_risk()),
       }) {
    if (!p.empty()) {
      return p;
    }
  }
  return "";
}

}  // namespace halfsky
