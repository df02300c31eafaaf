#include "common/auth/file_util.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace halfsky::auth {

absl::StatusOr<std::string> ReadTokenFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string message =
        absl::StrCat("cannot read token file ", path, ": ", std::strerror(err));
    if (err == EACCES) {
      return absl::PermissionDeniedError(message);
    }
    return absl::NotFoundError(message);
  }
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace halfsky::auth
