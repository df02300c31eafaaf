#ifndef HALFSKY_SERVICES_HALFSKYCTL_SERIES_SERIES_CMD_H_
#define HALFSKY_SERVICES_HALFSKYCTL_SERIES_SERIES_CMD_H_

// `halfskyctl series`; see its --help. Exit codes: 0 ok, 1 the server said no
// (or problems found), 2 usage, 3 unreachable.

#include <ostream>
#include <string>
#include <vector>

namespace halfsky {

int RunSeriesCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_SERIES_SERIES_CMD_H_
