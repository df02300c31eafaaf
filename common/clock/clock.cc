#include "common/clock/clock.h"

#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, fake_now, "",
          "Pretend the current time is this RFC 3339 instant (demos and end-to-end tests only).");

namespace halfsky {

Clock* SystemClock::Default() {
  static Clock* clock = new SystemClock();
  return clock;
}

Clock* ClockFromFlags() {
  const std::string fake = absl::GetFlag(FLAGS_fake_now);
  if (fake.empty()) {
    return SystemClock::Default();
  }
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, fake, &t, &err)) {
    std::cerr << "--fake_now: cannot parse '" << fake << "': " << err << "\n";
    std::exit(2);
  }
  static Clock* clock = new FakeClock(t);
  return clock;
}

absl::TimeZone DistrictTimeZone() { return absl::FixedTimeZone(8 * 3600); }

int LocalYear(absl::Time t) {
  return static_cast<int>(absl::ToCivilYear(t, DistrictTimeZone()).year());
}

}  // namespace halfsky
