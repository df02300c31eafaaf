#ifndef HALFSKY_COMMON_REDIS_SECRET_FILE_H_
#define HALFSKY_COMMON_REDIS_SECRET_FILE_H_

// Secrets the services read from files (never from the command line, where
// `ps` shows them): the Redis ACL password (--redis_password_file) and the
// cache MAC key (--cache_mac_key_file).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace halfsky {

// The contents of `path` without surrounding ASCII whitespace. Refuses
// (FAILED_PRECONDITION) a file that is not a regular file, that others may
// read, write or execute (mode & 007 != 0: run `chmod 600`; group read is
// allowed for Kubernetes Secret volumes with fsGroup and defaultMode 0440),
// or that is empty after stripping;
// NOT_FOUND / PERMISSION_DENIED when it cannot be opened. The message names
// the file, never its contents. Thread-safe.
absl::StatusOr<std::string> ReadSecretFile(absl::string_view path);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_REDIS_SECRET_FILE_H_
