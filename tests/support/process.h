#ifndef HALFSKY_TESTS_SUPPORT_PROCESS_H_
#define HALFSKY_TESTS_SUPPORT_PROCESS_H_

// Child processes and loopback ports for integration tests.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace halfsky::testing {

// A TCP port on 127.0.0.1 that was free when asked (bound to port 0 and
// released). Another process could take it before use; callers that start
// servers retry on a bind failure.
int FreePort();

// A child process. The destructor sends SIGKILL and reaps it if still
// running. Not thread-safe.
class ChildProcess {
 public:
  // Starts `argv[0]` (a path) with `argv`. stdout and stderr go to
  // `log_path` (appended) when non-empty, else to the test's own.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                             const std::string& log_path = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `sig` (e.g. SIGTERM, SIGKILL).
  void Signal(int sig);
  // Waits up to `timeout` for exit. Returns the raw wait status, or
  // DEADLINE_EXCEEDED if still running.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  bool Running();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
};

// Waits until something accepts TCP connections on 127.0.0.1:port.
bool WaitForPort(int port, absl::Duration timeout);

// GET http://127.0.0.1:PORT/PATH; returns the whole response (status line,
// headers and body) or an error.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);

// Reads a whole file ("" if missing).
std::string ReadFile(const std::string& path);

// A fresh empty directory under $TMPDIR (or /tmp) for this test; not removed
// (ctest's working tree is disposable and the logs help diagnose failures).
std::string MakeTempDir(const std::string& prefix);

// TLS on a RedisServer (files in PEM): the server's certificate and key,
// and the CA that client certificates must chain to.
struct RedisTlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  // --tls-auth-clients yes (a client certificate is required) or no.
  bool require_client_cert = false;
};

// A real redis-server on a free loopback port, data under its own temp dir.
// The binary is $HALFSKY_REDIS_SERVER, else "redis-server" on PATH.
class RedisServer {
 public:
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start();
  // With `acl` (the text of a Redis ACL file, e.g. deploy/redis/users.acl.in
  // with its passwords filled in) written to <dir>/users.acl, mode 600, and
  // passed as --aclfile. Empty: no ACL file (the default user, no password).
  static absl::StatusOr<std::unique_ptr<RedisServer>> StartWithAcl(const std::string& acl);
  // With `extra_args` appended to the command line (e.g. {"--replicaof",
  // "127.0.0.1", "6379"}), and the ACL as above when `acl` is not empty.
  static absl::StatusOr<std::unique_ptr<RedisServer>> StartWithArgs(
      const std::vector<std::string>& extra_args, const std::string& acl = "");
  // TLS only: plaintext --port 0 and --tls-port on the free port (port()
  // and address() are the TLS port), the ACL as above.
  static absl::StatusOr<std::unique_ptr<RedisServer>> StartWithTls(const RedisTlsFiles& tls,
                                                                   const std::string& acl = "");
  ~RedisServer();
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Its process id (-1 when not running).
  pid_t pid() const { return process_ != nullptr ? process_->pid() : -1; }
  // SIGKILLs the server (if running).
  void Kill();
  // Starts it again on the same port and directory.
  absl::Status Restart();

 private:
  RedisServer() = default;
  static absl::StatusOr<std::unique_ptr<RedisServer>> StartWithArgsAndTls(
      const std::vector<std::string>& extra_args, const std::string& acl,
      std::optional<RedisTlsFiles> tls);
  absl::Status Launch();
  int port_ = 0;
  std::string dir_;
  std::string acl_file_;  // "" = none
  std::vector<std::string> extra_args_;
  std::optional<RedisTlsFiles> tls_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_SUPPORT_PROCESS_H_
