#ifndef HALFSKY_SERVICES_HALFSKYCTL_WITHDRAW_WITHDRAW_CMD_H_
#define HALFSKY_SERVICES_HALFSKYCTL_WITHDRAW_WITHDRAW_CMD_H_

// `halfskyctl withdraw` (SubmissionService.WithdrawValues) and `halfskyctl
// history` (GetHistory: every revision of one key, withdrawals and reasons
// for change included); see their --help. Exit codes: 0 ok, 1 the server
// said no, 2 usage, 3 unreachable.

#include <ostream>
#include <string>
#include <vector>

namespace halfsky {

int RunWithdrawCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunHistoryCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_WITHDRAW_WITHDRAW_CMD_H_
