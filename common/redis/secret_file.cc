#include "common/redis/secret_file.h"

#include <errno.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace halfsky {

absl::StatusOr<std::string> ReadSecretFile(absl::string_view path) {
  const std::string p(path);
  struct stat st;
  if (stat(p.c_str(), &st) != 0) {
    const int err = errno;
    const std::string why = absl::StrCat("secret file ", p, ": cannot stat (errno ", err, ")");
    return err == ENOENT ? absl::NotFoundError(why) : absl::PermissionDeniedError(why);
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("secret file ", p, " is not a regular file"));
  }
  if ((st.st_mode & 0007) != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("secret file %s has mode %04o: others must have no access (chmod 600)", p,
                        st.st_mode & 07777));
  }
  std::ifstream in(p);
  if (!in) {
    return absl::PermissionDeniedError(absl::StrCat("secret file ", p, ": cannot open"));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string secret(absl::StripAsciiWhitespace(text.str()));
  if (secret.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("secret file ", p, " is empty"));
  }
  return secret;
}

}  // namespace halfsky
