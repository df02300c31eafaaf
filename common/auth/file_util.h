#ifndef HALFSKY_COMMON_AUTH_FILE_UTIL_H_
#define HALFSKY_COMMON_AUTH_FILE_UTIL_H_

// Reading the files authentication depends on (the server's token file, a
// client's token file). Internal to common/auth; thread-safe.

#include <string>

#include "absl/status/statusor.h"

namespace halfsky::auth {

// The bytes of the file at `path`. NOT_FOUND, or PERMISSION_DENIED when
// access is refused, with "cannot read token file PATH: REASON".
absl::StatusOr<std::string> ReadTokenFileBytes(const std::string& path);

}  // namespace halfsky::auth

#endif  // HALFSKY_COMMON_AUTH_FILE_UTIL_H_
