#ifndef HALFSKY_COMMON_CATALOG_PROGRESS_BANDS_H_
#define HALFSKY_COMMON_CATALOG_PROGRESS_BANDS_H_

// The progress bands of the evaluation method (halfsky.v1.ProgressBands,
// set per deployment in the catalog's `progress_bands`): the one place the
// default bounds are written. The evaluation method bands P with them, the
// catalog validates them and `halfskyctl catalog doc` prints the bands in
// force. Pure functions; thread-safe.

#include <string>

#include "halfsky/v1/catalog.pb.h"

namespace halfsky {

// Every bound set to the default (DESIGN §5; Open SDG's bands).
halfsky::v1::ProgressBands DefaultProgressBands();

// `bands` with every bound it leaves out taken from DefaultProgressBands():
// the bands in force. Every bound of the result is set.
halfsky::v1::ProgressBands ResolveProgressBands(const halfsky::v1::ProgressBands& bands);

// "" when `bands` is usable: every bound set and finite, on_track ≥
// needs_acceleration ≥ at_risk and no_target_on_track ≥
// no_target_needs_acceleration ≥ no_target_at_risk. Otherwise one sentence,
// Chinese first, naming the rule broken and the values, e.g.
// 「进展分档须逐档递减 / bands must not increase: on_track 0.5 <
// needs_acceleration 0.6」.
std::string ProgressBandsProblem(const halfsky::v1::ProgressBands& bands);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_CATALOG_PROGRESS_BANDS_H_
