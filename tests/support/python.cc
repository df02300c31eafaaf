#include "tests/support/python.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "tests/support/process.h"

namespace halfsky::testing {

namespace {

// 'text' for /bin/sh.
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

}  // namespace

absl::StatusOr<std::string> FindPython(const std::string& module, const std::string& package) {
  std::vector<std::string> candidates;
  if (const char* p = std::getenv("PYTHON"); p != nullptr && *p != '\0') {
    candidates.push_back(p);
  }
  candidates.push_back("python3");
  candidates.push_back("/usr/bin/python3");
  for (const std::string& python : candidates) {
    const std::string cmd =
        absl::StrCat(Quote(python), " -c ", Quote("import " + module), " >/dev/null 2>&1");
    if (std::system(cmd.c_str()) == 0) {
      return python;
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat("no python3 can import ", module, " (Debian: apt-get install ", package, ")"));
}

absl::Status RunPython(const std::string& python, const std::string& script,
                       const std::vector<std::string>& args) {
  const std::string log = MakeTempDir("python") + "/stderr";
  std::string cmd = absl::StrCat(Quote(python), " ", Quote(script));
  for (const std::string& a : args) {
    absl::StrAppend(&cmd, " ", Quote(a));
  }
  absl::StrAppend(&cmd, " 2>", Quote(log));
  const int rc = std::system(cmd.c_str());
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat(script, " exited with status ", rc, ":\n", ReadFile(log)));
  }
  return absl::OkStatus();
}

}  // namespace halfsky::testing
