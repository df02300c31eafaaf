#ifndef HALFSKY_SERVICES_HALFSKYCTL_FORM_FORM_CMD_H_
#define HALFSKY_SERVICES_HALFSKYCTL_FORM_FORM_CMD_H_

// `halfskyctl form`: a member unit's blank report form (报表表式) for a year,
// from the catalog the submission service serves, with last year's values
// for reference; see its --help. Exit codes: 0 ok, 1 the server said no or
// a file could not be written, 2 usage, 3 unreachable.

#include <ostream>
#include <string>
#include <vector>

namespace halfsky {

int RunFormCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_FORM_FORM_CMD_H_
