#ifndef HALFSKY_SERVICES_HALFSKYCTL_VIEWS_CLI_H_
#define HALFSKY_SERVICES_HALFSKYCTL_VIEWS_CLI_H_

// Argument parsing and exit codes shared by the halfskyctl commands built
// on the views library (warnings, ack, series, status, report, export).
// Thread-compatible.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/catalog.pb.h"
#include "services/halfskyctl/client.h"

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
// "-o value", and positional arguments. Flag names are normalised ('_' →
// '-', so --min_severity == --min-severity).
class Args {
 public:
  // INVALID_ARGUMENT for an unknown flag or a value flag without a value.
  // `value_flags` and `bool_flags` list names without dashes ("format",
  // "o" for -o).
  static absl::StatusOr<Args> Parse(const std::vector<std::string>& args,
                                    const std::set<std::string>& value_flags,
                                    const std::set<std::string>& bool_flags);

  // The last value given for a value flag.
  std::optional<std::string> Get(const std::string& name) const;
  std::string GetOr(const std::string& name, const std::string& fallback) const;
  bool Has(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> bools_;
  std::vector<std::string> positional_;
};

// True when args hold --help or -h.
bool WantsHelp(const std::vector<std::string>& args);

// The catalog the server serves (every halfsky service serves
// CatalogService), for names of areas, units, domains and indicators.
// The RPC's status on failure.
grpc::Status FetchCatalog(const ClientOptions& options, halfsky::v1::Catalog* catalog);

// Writes `content` to `path` ("-" or "" = `out`). False, with a message on
// `err`, when the file cannot be written.
bool WriteOutput(const std::string& path, const std::string& content, std::ostream& out,
                 std::ostream& err);

}  // namespace halfsky::cli

#endif  // HALFSKY_SERVICES_HALFSKYCTL_VIEWS_CLI_H_
