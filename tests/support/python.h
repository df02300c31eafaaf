#ifndef HALFSKY_TESTS_SUPPORT_PYTHON_H_
#define HALFSKY_TESTS_SUPPORT_PYTHON_H_

// Python scripts of the tests (e.g. workbooks written by Debian's
// python3-openpyxl, an independent writer of .xlsx files).

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace halfsky::testing {

// The first of $PYTHON, python3 on PATH, /usr/bin/python3 that can import
// `module`; FAILED_PRECONDITION naming the Debian package otherwise (a
// missing tool fails the test, it does not skip it).
absl::StatusOr<std::string> FindPython(const std::string& module, const std::string& package);

// Runs `python script args...`; INTERNAL with its exit status and stderr
// when it fails.
absl::Status RunPython(const std::string& python, const std::string& script,
                       const std::vector<std::string>& args);

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_SUPPORT_PYTHON_H_
