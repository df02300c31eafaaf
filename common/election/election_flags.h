#ifndef HALFSKY_COMMON_ELECTION_ELECTION_FLAGS_H_
#define HALFSKY_COMMON_ELECTION_ELECTION_FLAGS_H_

// The leader-election flags of a service with several replicas and one
// active writer (halfsky-aggregation), defined once:
//   --leader_election postgres:CONNINFO (empty: no election, the process is
//     the only writer), --leader_election_password_file,
//     --leader_election_lease (>= 2s).
// The password comes from the file or libpq's environment (PGPASSWORD,
// PGPASSFILE), never from the command line.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/election/leader_elector.h"

namespace halfsky::election {

// The elector the flags ask for, electing `role` (names the lock and the
// epoch row); nullptr without --leader_election. INVALID_ARGUMENT for a
// value other than postgres:..., a conninfo carrying a password or a lease
// under 2 s; ReadSecretFile's errors for the password file. Call after
// absl::ParseCommandLine.
absl::StatusOr<std::unique_ptr<LeaderElector>> ElectorFromFlags(const std::string& role);

// --leader_election_lease.
absl::Duration LeaseFromFlags();

}  // namespace halfsky::election

#endif  // HALFSKY_COMMON_ELECTION_ELECTION_FLAGS_H_
