#include "tests/support/suite.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

extern char** environ;

namespace halfsky::testing {

std::string ServiceBinary(const std::string& name) {
  if (name == "halfskyctl") {
    return absl::StrCat(HALFSKY_BINARY_DIR, "/services/halfskyctl/halfskyctl");
  }
  return absl::StrCat(HALFSKY_BINARY_DIR, "/services/", name,
                      name == "evaluation" ? "/service" : "", "/halfsky-", name);
}

absl::Status WriteTextFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSourceFile(const std::string& relative) {
  const std::string path = absl::StrCat(HALFSKY_SOURCE_DIR, "/", relative);
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

absl::StatusOr<std::string> HalfskyRedisAcl(const std::string& writer_password,
                                            const std::string& reader_password) {
  absl::StatusOr<std::string> text = ReadSourceFile("deploy/redis/users.acl.in");
  if (!text.ok()) {
    return text.status();
  }
  return absl::StrReplaceAll(*text, {{"@WRITER_PASSWORD@", writer_password},
                                     {"@READER_PASSWORD@", reader_password},
                                     {"@ADMIN_PASSWORD@", kRedisAdminPassword}});
}

namespace {

bool Serving(const std::string& address) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status st = stub->Check(&ctx, request, &response);
  return st.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

}  // namespace

ServiceProcess::~ServiceProcess() { Kill(); }

absl::Status ServiceProcess::Start(const std::string& dir, const std::string& name,
                                   const std::string& binary, const std::string& catalog,
                                   const std::string& tokens_file,
                                   std::vector<std::string> extra_flags) {
  if (process_ != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(name, " is already running"));
  }
  name_ = name;
  address_file_ = absl::StrCat(dir, "/", name, ".addr");
  log_path_ = absl::StrCat(dir, "/", name, ".log");
  argv_ = {binary,
           "--listen=127.0.0.1:0",
           "--metrics_listen=127.0.0.1:0",
           "--address_file=" + address_file_,
           "--catalog=" + catalog,
           "--drain_delay=0s",
           "--grace_period=3s"};
  if (!tokens_file.empty()) {
    argv_.push_back("--tokens_file=" + tokens_file);
  }
  argv_.insert(argv_.end(), extra_flags.begin(), extra_flags.end());
  return Restart();
}

absl::Status ServiceProcess::Restart() {
  if (process_ != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(name_, " is already running"));
  }
  if (argv_.empty()) {
    return absl::FailedPreconditionError("Restart before Start");
  }
  std::remove(address_file_.c_str());
  address_.clear();
  auto child = ChildProcess::Start(argv_, log_path_);
  if (!child.ok()) {
    return child.status();
  }
  process_ = std::move(*child);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline && process_->Running()) {
    const std::string text = ReadFile(address_file_);
    if (address_.empty() && absl::StrContains(text, "\n")) {
      for (absl::string_view field :
           absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), ' ')) {
        if (absl::ConsumePrefix(&field, "grpc=")) {
          address_ = std::string(field);
        }
      }
    }
    if (!address_.empty() && Serving(address_)) {
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  Kill();
  return absl::UnavailableError(
      absl::StrCat(name_, " did not start serving within 20 s; log:\n", log()));
}

absl::Status ServiceProcess::Stop() {
  if (process_ == nullptr) {
    return absl::OkStatus();
  }
  process_->Signal(SIGTERM);
  absl::StatusOr<int> status = process_->Wait(absl::Seconds(15));
  if (!status.ok()) {
    Kill();
    return absl::DeadlineExceededError(
        absl::StrCat(name_, " did not exit after SIGTERM; log:\n", log()));
  }
  process_.reset();
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(
        absl::StrCat(name_, " exited with wait status ", *status, "; log:\n", log()));
  }
  return absl::OkStatus();
}

void ServiceProcess::Kill() {
  if (process_ != nullptr) {
    process_->Signal(SIGKILL);
    (void)process_->Wait(absl::Seconds(5));
    process_.reset();
  }
}

absl::StatusOr<std::string> ServiceProcess::Metrics() const {
  int port = 0;
  // A named string: the split views into it (a temporary inside the range
  // expression would be gone before the loop body runs).
  const std::string text = ReadFile(address_file_);
  for (absl::string_view field : absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), ' ')) {
    if (absl::ConsumePrefix(&field, "metrics=")) {
      const size_t colon = field.rfind(':');
      if (colon != absl::string_view::npos) {
        (void)absl::SimpleAtoi(field.substr(colon + 1), &port);
      }
    }
  }
  if (port == 0) {
    return absl::NotFoundError(absl::StrCat(name_, ": no metrics address in ", address_file_));
  }
  return HttpGet(port, "/metrics");
}

std::optional<double> MetricSample(const std::string& page, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, name) && absl::ConsumePrefix(&rest, " ")) {
      double v = 0;
      if (absl::SimpleAtod(absl::StripAsciiWhitespace(rest), &v)) {
        return v;
      }
    }
  }
  return std::nullopt;
}

void ServiceProcess::Signal(int sig) {
  if (process_ != nullptr) {
    process_->Signal(sig);
  }
}

absl::StatusOr<int> ServiceProcess::WaitForExit(absl::Duration timeout) {
  if (process_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(name_, " is not running"));
  }
  absl::StatusOr<int> status = process_->Wait(timeout);
  if (status.ok()) {
    process_.reset();
  }
  return status;
}

std::string ServiceProcess::log() const { return ReadFile(log_path_); }

absl::StatusOr<std::unique_ptr<Suite>> Suite::Start(SuiteOptions options) {
  for (const char* name : {"submission", "aggregation", "evaluation"}) {
    if (!std::ifstream(ServiceBinary(name)).good()) {
      return absl::NotFoundError(absl::StrCat(ServiceBinary(name), " is not built"));
    }
  }
  std::unique_ptr<Suite> suite(new Suite());
  suite->dir_ = options.dir.empty() ? MakeTempDir("halfsky-suite") : options.dir;
  if (suite->dir_.empty()) {
    return absl::InternalError("cannot create a temporary directory");
  }
  const std::string& dir = suite->dir_;
  std::string tokens_file;
  std::vector<std::string> agg_auth;
  std::vector<std::string> eval_auth;
  if (!options.tokens.empty()) {
    tokens_file = dir + "/tokens.txt";
    if (absl::Status st = WriteTextFile(tokens_file, options.tokens); !st.ok()) {
      return st;
    }
    if (!options.service_token.empty()) {
      const std::string token_file = dir + "/service-token";
      if (absl::Status st = WriteTextFile(token_file, options.service_token); !st.ok()) {
        return st;
      }
      agg_auth = {"--submission_token_file=" + token_file};
      eval_auth = {"--submission_token_file=" + token_file,
                   "--aggregation_token_file=" + token_file};
    }
  }
  std::string acl;
  if (options.redis_acl) {
    auto text = HalfskyRedisAcl(kRedisWriterPassword, kRedisReaderPassword);
    if (!text.ok()) {
      return text.status();
    }
    acl = *std::move(text);
    const std::vector<std::pair<std::string, std::string>> secrets = {
        {dir + "/redis-writer-password", kRedisWriterPassword},
        {dir + "/redis-reader-password", kRedisReaderPassword},
        {dir + "/cache-mac-key", options.cache_mac_key}};
    for (const auto& [path, content] : secrets) {
      if (absl::Status st = WriteTextFile(path, content); !st.ok()) {
        return st;
      }
      if (chmod(path.c_str(), 0600) != 0) {
        return absl::InternalError(absl::StrCat("cannot chmod ", path));
      }
    }
    agg_auth.insert(agg_auth.end(), {"--redis_user=halfsky-writer",
                                     "--redis_password_file=" + dir + "/redis-writer-password",
                                     "--cache_mac_key_file=" + dir + "/cache-mac-key"});
    eval_auth.insert(eval_auth.end(), {"--redis_user=halfsky-reader",
                                       "--redis_password_file=" + dir + "/redis-reader-password",
                                       "--cache_mac_key_file=" + dir + "/cache-mac-key"});
  }
  auto redis = options.redis_tls.has_value() ? RedisServer::StartWithTls(*options.redis_tls, acl)
                                             : RedisServer::StartWithAcl(acl);
  if (!redis.ok()) {
    return redis.status();
  }
  suite->redis_ = std::move(*redis);
  auto redis_address = [&](const std::string& service) -> absl::StatusOr<std::string> {
    if (!options.redis_address_for) {
      return suite->redis_->address();
    }
    return options.redis_address_for(service, *suite->redis_);
  };

  std::vector<std::string> flags = {"--db=" + dir + "/submission.db"};
  flags.insert(flags.end(), options.submission_flags.begin(), options.submission_flags.end());
  if (absl::Status st = suite->submission_.Start(dir, "submission", ServiceBinary("submission"),
                                                 options.catalog, tokens_file, flags);
      !st.ok()) {
    return st;
  }
  absl::StatusOr<std::string> aggregation_redis = redis_address("aggregation");
  if (!aggregation_redis.ok()) {
    return aggregation_redis.status();
  }
  flags = {"--submission=" + suite->submission_.address(), "--redis=" + *aggregation_redis};
  flags.insert(flags.end(), agg_auth.begin(), agg_auth.end());
  flags.insert(flags.end(), options.aggregation_flags.begin(), options.aggregation_flags.end());
  if (absl::Status st = suite->aggregation_.Start(dir, "aggregation", ServiceBinary("aggregation"),
                                                  options.catalog, tokens_file, flags);
      !st.ok()) {
    return st;
  }
  absl::StatusOr<std::string> evaluation_redis = redis_address("evaluation");
  if (!evaluation_redis.ok()) {
    return evaluation_redis.status();
  }
  flags = {"--submission=" + suite->submission_.address(),
           "--aggregation=" + suite->aggregation_.address(), "--redis=" + *evaluation_redis,
           "--db=" + dir + "/evaluation.db"};
  flags.insert(flags.end(), eval_auth.begin(), eval_auth.end());
  flags.insert(flags.end(), options.evaluation_flags.begin(), options.evaluation_flags.end());
  if (absl::Status st = suite->evaluation_.Start(dir, "evaluation", ServiceBinary("evaluation"),
                                                 options.catalog, tokens_file, flags);
      !st.ok()) {
    return st;
  }
  return suite;
}

absl::Status Suite::Stop() {
  absl::Status first;
  for (ServiceProcess* s : {&evaluation_, &aggregation_, &submission_}) {
    absl::Status st = s->Stop();
    if (!st.ok() && first.ok()) {
      first = st;
    }
  }
  if (redis_ != nullptr) {
    redis_->Kill();
  }
  return first;
}

Suite::~Suite() {
  evaluation_.Kill();
  aggregation_.Kill();
  submission_.Kill();
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::map<std::string, std::string>& env,
                                         absl::Duration timeout) {
  if (argv.empty()) {
    return absl::InvalidArgumentError("empty argv");
  }
  // Prepared before fork: the child only calls async-signal-safe functions.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const absl::string_view entry(*e);
    const absl::string_view name = entry.substr(0, entry.find('='));
    if (env.count(std::string(name)) == 0) {
      env_strings.emplace_back(entry);
    }
  }
  for (const auto& [name, value] : env) {
    if (!value.empty()) {
      env_strings.push_back(absl::StrCat(name, "=", value));
    }
  }
  std::vector<char*> envp;
  for (std::string& e : env_strings) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  std::vector<std::string> args_copy = argv;
  std::vector<char*> args;
  for (std::string& a : args_copy) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) {
      dup2(null_fd, 0);
    }
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  CommandResult result;
  const absl::Time deadline = absl::Now() + timeout;
  bool timed_out = false;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      timed_out = true;
      break;
    }
    const int r = poll(fds, 2, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (r < 0 && errno != EINTR) {
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      char buf[8192];
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) {
      close(p.fd);
    }
  }
  if (timed_out) {
    kill(pid, SIGKILL);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(argv[0], " ran longer than ",
                                                    absl::FormatDuration(timeout), "; stdout:\n",
                                                    result.out, "\nstderr:\n", result.err));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace halfsky::testing
