#ifndef HALFSKY_TESTS_HALFSKYCTL_CHROMIUM_H_
#define HALFSKY_TESTS_HALFSKYCTL_CHROMIUM_H_

// Headless Chromium for the report browser tests and the docs screenshot.
// Not thread-safe (one call at a time per test).

#include <string>

#include "absl/status/statusor.h"

namespace halfsky::testing {

// $HALFSKY_CHROMIUM, else the first of chromium, chromium-browser,
// google-chrome on PATH; "" when none.
std::string FindChromium();

struct ChromiumRun {
  std::string stdout_text;  // --dump-dom output
  std::string stderr_text;  // log, incl. console messages (--enable-logging=stderr)
};

// Loads file://`html_path` in a fresh profile with the flags that work as
// root in containers (--headless --no-sandbox --disable-gpu …) plus
// `extra_flags`, and returns its output. DEADLINE_EXCEEDED after 90 s.
absl::StatusOr<ChromiumRun> RunChromium(const std::string& chromium, const std::string& html_path,
                                        const std::string& extra_flags);

// The same for any `url` (e.g. http://127.0.0.1:PORT/… of a server under
// test); the URL must not contain a single quote.
absl::StatusOr<ChromiumRun> RunChromiumOnUrl(const std::string& chromium, const std::string& url,
                                             const std::string& extra_flags);

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_HALFSKYCTL_CHROMIUM_H_
