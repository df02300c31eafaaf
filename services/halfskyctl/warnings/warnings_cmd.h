#ifndef HALFSKY_SERVICES_HALFSKYCTL_WARNINGS_WARNINGS_CMD_H_
#define HALFSKY_SERVICES_HALFSKYCTL_WARNINGS_WARNINGS_CMD_H_

// `halfskyctl warnings` (list or --watch) and `halfskyctl ack`: the
// evaluation client. Exit codes: 0 ok (warnings: none match), 1 the server
// said no (warnings: some match), 2 usage, 3 unreachable.

#include <ostream>
#include <string>
#include <vector>

namespace halfsky {

int RunWarningsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunAckCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_WARNINGS_WARNINGS_CMD_H_
