#ifndef HALFSKY_TESTS_SUPPORT_SUITE_H_
#define HALFSKY_TESTS_SUPPORT_SUITE_H_

// The whole product as child processes, for end-to-end tests: a real
// redis-server and the real halfsky-submission, halfsky-aggregation and
// halfsky-evaluation binaries on loopback ports chosen at run time, with a
// tokens file; plus running a command-line program (halfskyctl) and
// capturing its exit code, stdout and stderr.
//
// The binaries are looked up under the build tree this library was built in
// (HALFSKY_BINARY_DIR); tests that use the suite should add_dependencies on
// the service targets so they are built first.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/process.h"

namespace halfsky::testing {

// Path of a binary of this build: "submission", "aggregation" and
// "evaluation" give the services, "halfskyctl" the client.
std::string ServiceBinary(const std::string& name);

// Writes `content` to `path` (truncating); an error if it cannot.
absl::Status WriteTextFile(const std::string& path, const std::string& content);

// One service binary run as a child process with the common flags
// (--listen=127.0.0.1:0, --metrics_listen=127.0.0.1:0, --address_file,
// --catalog, --tokens_file, --drain_delay=0s, --grace_period=3s) plus
// its own. Not thread-safe.
class ServiceProcess {
 public:
  ServiceProcess() = default;
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // Starts `binary` and waits (up to 20 s) until it has written its address
  // file and its grpc.health.v1 check answers SERVING. Logs go to
  // DIR/NAME.log (appended over restarts). FAILED_PRECONDITION if already
  // running; UNAVAILABLE (with the log) if it exits or does not serve.
  absl::Status Start(const std::string& dir, const std::string& name, const std::string& binary,
                     const std::string& catalog, const std::string& tokens_file,
                     std::vector<std::string> extra_flags);
  // Starts it again with the arguments of the last Start (a new port).
  absl::Status Restart();
  // SIGTERM, then waits up to 15 s for a clean exit (SIGKILL after that).
  // DEADLINE_EXCEEDED if it had to be killed, INTERNAL if it exited
  // non-zero; both errors carry the process's log. OK when not running.
  absl::Status Stop();
  // Sends SIGKILL and reaps it (simulating a crash).
  void Kill();
  // Sends `sig` (e.g. SIGSTOP / SIGCONT to freeze and thaw it).
  void Signal(int sig);
  // Waits up to `timeout` for it to exit on its own and reaps it: its wait
  // status. DEADLINE_EXCEEDED (still running), FAILED_PRECONDITION (not
  // running).
  absl::StatusOr<int> WaitForExit(absl::Duration timeout);
  bool running() const { return process_ != nullptr; }
  // Its process id (-1 when not running).
  pid_t pid() const { return process_ != nullptr ? process_->pid() : -1; }

  // "127.0.0.1:PORT" of its gRPC server (valid after Start).
  const std::string& address() const { return address_; }
  // GET /metrics of the running process (its --metrics_listen port from the
  // address file). Errors: as HttpGet; NOT_FOUND without a metrics port.
  absl::StatusOr<std::string> Metrics() const;
  std::string log() const;

 private:
  std::unique_ptr<ChildProcess> process_;
  std::vector<std::string> argv_;
  std::string name_;
  std::string address_file_;
  std::string log_path_;
  std::string address_;
};

// The value of the sample `name` (without labels) in a Prometheus text
// page; nullopt when absent.
std::optional<double> MetricSample(const std::string& page, const std::string& name);

struct SuiteOptions {
  // --catalog of every service (a directory of textprotos).
  std::string catalog;
  // Content of the --tokens_file (common/auth/token_store.h format). Empty:
  // the services run without authentication.
  std::string tokens;
  // The bearer token aggregation and evaluation present upstream
  // (--submission_token_file / --aggregation_token_file); its hash must be in
  // `tokens` with the statistics role. Ignored when `tokens` is empty.
  std::string service_token;
  // Extra flags per service.
  std::vector<std::string> submission_flags;
  std::vector<std::string> aggregation_flags;
  std::vector<std::string> evaluation_flags;
  // Directory for databases, logs, tokens; "" = a fresh MakeTempDir.
  std::string dir;
  // Redis with deploy/redis/users.acl.in (default user off): aggregation
  // runs as halfsky-writer, evaluation as halfsky-reader, each with
  // --redis_password_file, and both with --cache_mac_key_file holding
  // `cache_mac_key` (files mode 600 under `dir`).
  bool redis_acl = false;
  std::string cache_mac_key = "test-cache-mac-key";
  // Redis with TLS only (RedisServer::StartWithTls) when set.
  std::optional<RedisTlsFiles> redis_tls;
  // The --redis address of "aggregation" and of "evaluation", asked after
  // Redis has started and just before that service starts (e.g. the
  // loopback port of a TLS tunnel the caller starts here). Unset: the
  // server's own address. An error stops Start with it.
  std::function<absl::StatusOr<std::string>(const std::string& service, RedisServer& redis)>
      redis_address_for;
};

// The text of a file of the source tree (`relative` to its root, e.g.
// "deploy/k8s/components/redis-tls/stunnel.conf"); NOT_FOUND if unreadable.
absl::StatusOr<std::string> ReadSourceFile(const std::string& relative);

// The passwords a Suite with redis_acl gives its Redis users.
inline constexpr char kRedisWriterPassword[] = "writer-pw-0123456789abcdef";
inline constexpr char kRedisReaderPassword[] = "reader-pw-0123456789abcdef";
inline constexpr char kRedisAdminPassword[] = "admin-pw-0123456789abcdef";
// deploy/redis/users.acl.in with those passwords filled in (the file is
// found under HALFSKY_SOURCE_DIR, compiled into halfsky_test_suite).
absl::StatusOr<std::string> HalfskyRedisAcl(const std::string& writer_password,
                                            const std::string& reader_password);

// Redis plus the three services, started in dependency order. The
// destructor stops whatever still runs (evaluation, aggregation,
// submission, then Redis).
class Suite {
 public:
  // Starts everything; any failure is returned with the failing service's
  // log. The binaries must exist (NOT_FOUND names the missing one).
  static absl::StatusOr<std::unique_ptr<Suite>> Start(SuiteOptions options);
  ~Suite();
  Suite(const Suite&) = delete;
  Suite& operator=(const Suite&) = delete;

  // Stops the services (SIGTERM, clean exit expected) and then Redis; the
  // first error is returned.
  absl::Status Stop();

  const std::string& dir() const { return dir_; }
  RedisServer& redis() { return *redis_; }
  ServiceProcess& submission() { return submission_; }
  ServiceProcess& aggregation() { return aggregation_; }
  ServiceProcess& evaluation() { return evaluation_; }

 private:
  Suite() = default;
  std::string dir_;
  std::unique_ptr<RedisServer> redis_;
  ServiceProcess submission_;
  ServiceProcess aggregation_;
  ServiceProcess evaluation_;
};

// What a finished command did.
struct CommandResult {
  int exit_code = -1;  // the exit status; 128+N if killed by signal N
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs `argv` (argv[0] a path) to completion with stdin from /dev/null,
// stdout and stderr captured separately, and `env` added to (or replacing
// in) the environment, where an empty value removes the variable.
// DEADLINE_EXCEEDED (after SIGKILL) if it runs longer than `timeout`.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::map<std::string, std::string>& env = {},
                                         absl::Duration timeout = absl::Seconds(60));

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_SUPPORT_SUITE_H_
