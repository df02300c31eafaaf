#ifndef HALFSKY_SERVICES_HALFSKYCTL_CATALOG_CATALOG_CMD_H_
#define HALFSKY_SERVICES_HALFSKYCTL_CATALOG_CATALOG_CMD_H_

// `halfskyctl catalog ...`: lint, show and document the indicator catalog.
//
//   lint [FILE|DIR...]   every problem as FILE:LINE: id: message
//   show [--catalog PATHS] [--domain ID] [--format table|json]
//   doc  [--catalog PATHS] -o FILE      (docs/CATALOG.md; "-o -" = stdout)
//
// PATHS is a comma-separated list of files or directories; the default is
// $HALFSKY_CATALOG, else deploy/catalog relative to the current directory.
// Works offline: it reads the catalog files, it does not call a server.

#include <ostream>
#include <string>
#include <vector>

namespace halfsky {

// `args` are the words after `halfskyctl catalog`. Returns the exit code:
// 0 ok, 1 problems found (invalid catalog, unknown domain, unwritable
// output), 2 usage error. Results go to `out`, diagnostics to `err`.
// Thread-compatible (reads the environment and files).
int RunCatalogCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_CATALOG_CATALOG_CMD_H_
