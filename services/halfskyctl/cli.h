#ifndef HALFSKY_SERVICES_HALFSKYCTL_CLI_H_
#define HALFSKY_SERVICES_HALFSKYCTL_CLI_H_

// The one command-line parser of halfskyctl, and the exit codes and output
// helper every command shares. Pure (no RPC; the only I/O is WriteOutput's
// file). The connection flags (--server, --token, ...) are parsed by the
// same parser: see ParseWithClientFlags in client.h.
// Thread-compatible.

#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/support/status.h"

namespace halfsky::cli {

// Exit codes scripts can rely on.
inline constexpr int kExitOk = 0;
inline constexpr int kExitProblems = 1;     // the server said no, or problems were found
inline constexpr int kExitUsage = 2;        // bad flags or arguments
inline constexpr int kExitUnreachable = 3;  // no answer: UNAVAILABLE or DEADLINE_EXCEEDED

// The exit-code paragraph for commands' --help.
const char* ExitCodesHelp();

// kExitUnreachable for UNAVAILABLE and DEADLINE_EXCEEDED, kExitProblems for
// any other error, kExitOk for OK.
int ExitCodeFor(const grpc::Status& status);

// Parsed command line: "--name value", "--name=value", boolean "--name",
// "-o value", and positional arguments ("-" is positional; everything
// after "--" is). Flag names are normalised ('_' → '-', so --min_severity
// == --min-severity), in the argument list, in the flag lists and in
// Get/GetOr/Has alike.
class Args {
 public:
  // INVALID_ARGUMENT ("未知选项 / unknown flag --x", "--x 缺少取值 / needs a
  // value") for an unknown flag, a value flag without a value, or a value
  // given to a boolean flag (--watch=1). `value_flags` and `bool_flags`
  // list names without dashes ("format", "o" for -o).
  static absl::StatusOr<Args> Parse(const std::vector<std::string>& args,
                                    const std::set<std::string>& value_flags,
                                    const std::set<std::string>& bool_flags);

  // The last value given for a value flag.
  std::optional<std::string> Get(const std::string& name) const;
  // Every value given for a value flag, in order (empty if none).
  std::vector<std::string> GetAll(const std::string& name) const;
  std::string GetOr(const std::string& name, const std::string& fallback) const;
  bool Has(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::set<std::string> bools_;
  std::vector<std::string> positional_;
};

// True when args hold --help or -h.
bool WantsHelp(const std::vector<std::string>& args);

// Writes `content` to `path` ("-" or "" = `out`). False, with a message on
// `err`, when the file cannot be written.
bool WriteOutput(const std::string& path, const std::string& content, std::ostream& out,
                 std::ostream& err);

}  // namespace halfsky::cli

#endif  // HALFSKY_SERVICES_HALFSKYCTL_CLI_H_
