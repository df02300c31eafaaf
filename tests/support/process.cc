#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace halfsky::testing {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return 0;
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty()) {
    return absl::InvalidArgumentError("empty argv");
  }
  std::vector<char*> args;
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    // Child: die with the test (even if it crashes), unblock every signal
    // (tests may block some) and exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    if (!log_path.empty()) {
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
    }
    execvp(args[0], args.data());
    _exit(127);
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

void ChildProcess::Signal(int sig) {
  if (!reaped_) {
    kill(pid_, sig);
  }
}

absl::StatusOr<int> ChildProcess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      return status;
    }
    if (r < 0) {
      return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("process still running");
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

bool ChildProcess::Running() {
  if (reaped_) {
    return false;
  }
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

bool WaitForPort(int port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const int r = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    close(fd);
    if (r == 0) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect: ", strerror(errno)));
  }
  // One request per connection: the server closes it after the answer.
  const std::string req =
      absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
    resp.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return resp;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", prefix, "-XXXXXX");
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  const char* dir = mkdtemp(buf.data());
  return dir != nullptr ? std::string(dir) : std::string();
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start() { return StartWithAcl(""); }

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::StartWithAcl(const std::string& acl) {
  return StartWithArgs({}, acl);
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::StartWithTls(const RedisTlsFiles& tls,
                                                                       const std::string& acl) {
  return StartWithArgsAndTls({}, acl, tls);
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::StartWithArgs(
    const std::vector<std::string>& extra_args, const std::string& acl) {
  return StartWithArgsAndTls(extra_args, acl, std::nullopt);
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::StartWithArgsAndTls(
    const std::vector<std::string>& extra_args, const std::string& acl,
    std::optional<RedisTlsFiles> tls) {
  std::unique_ptr<RedisServer> server(new RedisServer());
  server->extra_args_ = extra_args;
  server->tls_ = std::move(tls);
  server->dir_ = MakeTempDir("halfsky-redis");
  if (!acl.empty()) {
    server->acl_file_ = server->dir_ + "/users.acl";
    const int fd = open(server->acl_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, acl.data(), acl.size()) != static_cast<ssize_t>(acl.size())) {
      if (fd >= 0) {
        close(fd);
      }
      return absl::InternalError("cannot write " + server->acl_file_);
    }
    close(fd);
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = FreePort();
    absl::Status s = server->Launch();
    if (s.ok()) {
      return server;
    }
  }
  return absl::UnavailableError("could not start redis-server");
}

absl::Status RedisServer::Launch() {
  const char* bin = std::getenv("HALFSKY_REDIS_SERVER");
  const std::string binary = bin != nullptr && *bin != '\0' ? bin : "redis-server";
  std::vector<std::string> argv = {binary,         "--port",      std::to_string(port_),
                                   "--bind",       "127.0.0.1",   "--dir",
                                   dir_,           "--save",      "",
                                   "--appendonly", "no",          "--protected-mode",
                                   "yes",          "--daemonize", "no"};
  if (!acl_file_.empty()) {
    argv.push_back("--aclfile");
    argv.push_back(acl_file_);
  }
  if (tls_.has_value()) {
    // Later arguments win: the plaintext port is off, TLS on port_.
    argv.insert(argv.end(),
                {"--port", "0", "--tls-port", std::to_string(port_), "--tls-cert-file",
                 tls_->cert_file, "--tls-key-file", tls_->key_file, "--tls-ca-cert-file",
                 tls_->ca_file, "--tls-auth-clients", tls_->require_client_cert ? "yes" : "no"});
  }
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  auto child = ChildProcess::Start(argv, dir_ + "/redis.log");
  if (!child.ok()) {
    return child.status();
  }
  process_ = std::move(*child);
  if (!WaitForPort(port_, absl::Seconds(10))) {
    process_.reset();
    return absl::UnavailableError("redis-server did not listen");
  }
  return absl::OkStatus();
}

void RedisServer::Kill() {
  if (process_ != nullptr) {
    process_->Signal(SIGKILL);
    (void)process_->Wait(absl::Seconds(5));
    process_.reset();
  }
}

absl::Status RedisServer::Restart() {
  Kill();
  return Launch();
}

RedisServer::~RedisServer() { Kill(); }

}  // namespace halfsky::testing
