#include "tests/halfskyctl/chromium.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tests/support/process.h"

namespace halfsky::testing {

std::string FindChromium() {
  const char* env = std::getenv("HALFSKY_CHROMIUM");
  if (env != nullptr && env[0] != '\0') {
    return access(env, X_OK) == 0 ? env : "";
  }
  const char* path = std::getenv("PATH");
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "/usr/bin", ':')) {
      const std::string candidate = absl::StrCat(dir, "/", name);
      if (access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
  }
  return "";
}

absl::StatusOr<ChromiumRun> RunChromium(const std::string& chromium, const std::string& html_path,
                                        const std::string& extra_flags) {
  return RunChromiumOnUrl(chromium, absl::StrCat("file://", html_path), extra_flags);
}

absl::StatusOr<ChromiumRun> RunChromiumOnUrl(const std::string& chromium, const std::string& url,
                                             const std::string& extra_flags) {
  const std::string dir = MakeTempDir("chromium");
  const std::string out = dir + "/stdout.txt";
  const std::string err = dir + "/stderr.txt";
  const std::string cmd =
      absl::StrCat("exec '", chromium,
                   "' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                   "--disable-background-networking --disable-component-update --disable-sync "
                   "--disable-default-apps --disable-extensions --mute-audio --hide-scrollbars "
                   "--user-data-dir='",
                   dir, "/profile' ", extra_flags, " '", url, "' >'", out, "' 2>'", err, "'");
  auto child = ChildProcess::Start({"/bin/sh", "-c", cmd});
  if (!child.ok()) {
    return child.status();
  }
  absl::StatusOr<int> status = (*child)->Wait(absl::Seconds(90));
  if (!status.ok()) {
    return status.status();
  }
  ChromiumRun run;
  run.stdout_text = ReadFile(out);
  run.stderr_text = ReadFile(err);
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(absl::StrCat("chromium failed (wait status ", *status,
                                            "): ", run.stderr_text.substr(0, 2000)));
  }
  return run;
}

}  // namespace halfsky::testing
