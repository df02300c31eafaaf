#ifndef HALFSKY_SERVICES_HALFSKYCTL_HEALTH_CMD_H_
#define HALFSKY_SERVICES_HALFSKYCTL_HEALTH_CMD_H_

#include <ostream>
#include <string>
#include <vector>

namespace halfsky {

// `halfskyctl health [--wait DURATION] [--service NAME] ADDRESS...`
// Asks each address's grpc.health.v1 service. Prints one line per address
// ("127.0.0.1:7301  SERVING"). Exit code: 0 when every address is SERVING,
// 1 otherwise, 2 for usage errors. With --wait, retries each address until
// it is SERVING or the duration has passed.
int RunHealthCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_HEALTH_CMD_H_
