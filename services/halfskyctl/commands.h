#ifndef HALFSKY_SERVICES_HALFSKYCTL_COMMANDS_H_
#define HALFSKY_SERVICES_HALFSKYCTL_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

namespace halfsky {

// Dispatches `halfskyctl SUBCOMMAND ARGS...` (args excludes the program
// name). Returns the process exit code: 0 success, 1 the command ran and
// found a problem (a check failed, the server refused), 2 usage error.
int RunHalfskyctl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_COMMANDS_H_
