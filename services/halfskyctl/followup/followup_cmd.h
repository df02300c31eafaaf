#ifndef HALFSKY_SERVICES_HALFSKYCTL_FOLLOWUP_FOLLOWUP_CMD_H_
#define HALFSKY_SERVICES_HALFSKYCTL_FOLLOWUP_FOLLOWUP_CMD_H_

// `halfskyctl followup list|show|assign|plan|note|close|silence`: the
// follow-up (督办) client of the evaluation service; `list --watch` streams
// escalations. Exit codes: 0 ok, 1 the server said no, 2 usage, 3
// unreachable.

#include <ostream>
#include <string>
#include <vector>

namespace halfsky {

int RunFollowUpCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_FOLLOWUP_FOLLOWUP_CMD_H_
