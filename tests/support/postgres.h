#ifndef HALFSKY_TESTS_SUPPORT_POSTGRES_H_
#define HALFSKY_TESTS_SUPPORT_POSTGRES_H_

// A real PostgreSQL server for tests: initdb into a fresh temporary
// directory, the server on a free loopback port (and a Unix socket in that
// directory), stopped and the directory removed on destruction. The
// binaries come from $HALFSKY_PG_BINDIR, else the newest
// /usr/lib/postgresql/*/bin (Debian's postgresql package).
//
// initdb and postgres refuse to run as root: when the test runs as root
// they run as user `nobody` (setpriv), in a directory under /tmp owned by
// it. Authentication is `trust` on loopback for user "halfsky", except for
// StartOptions::password (then scram-sha-256 with that password).
// Thread-safety: not thread-safe.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tests/support/process.h"

namespace halfsky::testing {

class PostgresServer {
 public:
  struct StartOptions {
    // Non-empty: user halfsky must authenticate with this password.
    std::string password;
    // fsync=off for speed where the test does not depend on durability.
    bool fsync = true;
    int max_connections = 100;
  };
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start(const StartOptions& options);
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start() { return Start(StartOptions()); }
  ~PostgresServer();

  int port() const { return port_; }
  // URI of database `db` as user halfsky (no password in it).
  std::string Uri(const std::string& db = "postgres") const;
  // Creates an empty database and returns its URI.
  absl::StatusOr<std::string> CreateDatabase(const std::string& name);
  // Runs SQL through psql on database `db`; returns psql's output.
  absl::StatusOr<std::string> Psql(const std::string& db, const std::string& sql);
  // SIGKILLs the server (all connections drop) / starts it again on the
  // same port and data directory.
  void Kill();
  absl::Status Restart();

  // One server per test binary, started on first use (fsync off), stopped
  // at exit. Errors: as Start.
  static absl::StatusOr<PostgresServer*> Shared();

 private:
  PostgresServer() = default;
  absl::Status Launch();
  // argv run as the unprivileged user when root.
  std::vector<std::string> AsOwner(std::vector<std::string> argv) const;

  StartOptions options_;
  std::string bindir_;
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_SUPPORT_POSTGRES_H_
