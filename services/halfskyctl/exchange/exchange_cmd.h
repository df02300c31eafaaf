#ifndef HALFSKY_SERVICES_HALFSKYCTL_EXCHANGE_EXCHANGE_CMD_H_
#define HALFSKY_SERVICES_HALFSKYCTL_EXCHANGE_EXCHANGE_CMD_H_

// `halfskyctl exchange status|log|sync` (ExchangeService of
// halfsky-exchange): where reporting upward stands, what was sent when and
// what the upper instance refused and why; see --help. Exit codes: 0 ok
// (status: in sync, nothing pending), 1 the server said no or something is
// refused / pending, 2 usage, 3 unreachable.

#include <ostream>
#include <string>
#include <vector>

namespace halfsky {

int RunExchangeCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_EXCHANGE_EXCHANGE_CMD_H_
