#include "common/redis/hiredis_client.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/redis/hiredis_subscriber.h"
#include "common/status/status.h"
#include "hiredis/hiredis.h"

namespace halfsky {

namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using UniqueReply = std::unique_ptr<redisReply, ReplyDeleter>;

timeval ClampedTimeval(absl::Duration d) {
  if (d < absl::Milliseconds(1)) {
    d = absl::Milliseconds(1);
  }
  return absl::ToTimeval(d);
}

RedisReply CopyReply(const redisReply& r) {
  switch (r.type) {
    case REDIS_REPLY_STRING:
      return RedisReply::String(std::string(r.str, r.len));
    case REDIS_REPLY_STATUS:
      return RedisReply::Status(std::string(r.str, r.len));
    case REDIS_REPLY_ERROR:
      return RedisReply::Error(std::string(r.str, r.len));
    case REDIS_REPLY_INTEGER:
      return RedisReply::Integer(r.integer);
    case REDIS_REPLY_ARRAY: {
      std::vector<RedisReply> elements;
      elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) {
        elements.push_back(CopyReply(*r.element[i]));
      }
      return RedisReply::Array(std::move(elements));
    }
    case REDIS_REPLY_NIL:
    default:
      return RedisReply::Nil();
  }
}

// True if the idle connection on `fd` can no longer be used: the peer closed
// it, it has an error, or unexpected bytes are waiting (a desynchronized
// stream).
bool IdleConnectionBroken(int fd) {
  pollfd p{fd, POLLIN, 0};
  const int n = poll(&p, 1, 0);
  if (n <= 0) {
    return n < 0;
  }
  if ((p.revents & (POLLERR | POLLNVAL)) != 0) {
    return true;
  }
  char byte;
  const ssize_t got = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (got < 0) {
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  }
  return true;  // EOF (0) or unexpected data (> 0)
}

absl::Status WithIndex(const absl::Status& status, absl::string_view what, size_t index,
                       absl::string_view name) {
  return absl::Status(status.code(), absl::StrCat("redis ", what, " command ", index, " (", name,
                                                  "): ", status.message()));
}

}  // namespace

namespace {

absl::StatusOr<RedisEndpoint> ParseHostPort(absl::string_view address, absl::string_view whole) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis address \"", whole, "\": \"", address, "\" is not HOST:PORT"));
  }
  absl::string_view host = address.substr(0, colon);
  const absl::string_view port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis address \"", whole, "\": write IPv6 hosts as [HOST]:PORT"));
  }
  int port = 0;
  if (host.empty() || !absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("redis address \"", whole, "\": \"", address,
                                                   "\" is not HOST:PORT (port 1-65535)"));
  }
  return RedisEndpoint{std::string(host), port};
}

constexpr absl::string_view kSentinelScheme = "sentinel://";

}  // namespace

absl::StatusOr<HiredisOptions> ParseRedisAddress(absl::string_view address, HiredisOptions base) {
  if (!absl::StartsWith(address, kSentinelScheme)) {
    HALFSKY_ASSIGN_OR_RETURN(RedisEndpoint endpoint, ParseHostPort(address, address));
    base.host = std::move(endpoint.host);
    base.port = endpoint.port;
    base.sentinels.clear();
    base.sentinel_master.clear();
    return base;
  }
  const absl::string_view rest = address.substr(kSentinelScheme.size());
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis address \"", address,
                     "\" names no master: sentinel://HOST:PORT[,HOST:PORT]/MASTER"));
  }
  const absl::string_view master = rest.substr(slash + 1);
  if (master.empty() || master.find('/') != absl::string_view::npos ||
      std::any_of(master.begin(), master.end(),
                  [](char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); })) {
    return absl::InvalidArgumentError(absl::StrCat(
        "redis address \"", address, "\": the master name after '/' must be one word"));
  }
  std::vector<RedisEndpoint> sentinels;
  for (absl::string_view one : absl::StrSplit(rest.substr(0, slash), ',')) {
    HALFSKY_ASSIGN_OR_RETURN(RedisEndpoint endpoint, ParseHostPort(one, address));
    sentinels.push_back(std::move(endpoint));
  }
  base.sentinels = std::move(sentinels);
  base.sentinel_master = std::string(master);
  return base;
}

namespace redis_internal {

void ContextCloser::operator()(redisContext* c) const { redisFree(c); }

void AppendCommand(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data());
}

absl::StatusOr<RedisReply> ReadReply(redisContext* c, absl::string_view what) {
  void* raw = nullptr;
  errno = 0;
  if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
    const bool timed_out = c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
    return absl::UnavailableError(
        absl::StrCat("redis: ", what, ": ", timed_out ? "timed out" : c->errstr));
  }
  UniqueReply reply(static_cast<redisReply*>(raw));
  return CopyReply(*reply);
}

namespace {

// Connects to host:port and runs `setup` (AUTH, SELECT ...) in order.
absl::StatusOr<UniqueContext> ConnectAndSetUp(const std::string& host, int port,
                                              const HiredisOptions& options,
                                              const std::vector<std::vector<std::string>>& setup) {
  const std::string where = absl::StrCat(
      host, ":", port,
      options.via_tls_tunnel ? ", TLS 隧道：证书等错误见隧道日志 / TLS tunnel: see its log for "
                               "certificate errors"
                             : "");
  UniqueContext c(
      redisConnectWithTimeout(host.c_str(), port, ClampedTimeval(options.connect_timeout)));
  if (c == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("redis: cannot connect to ", where, ": out of memory"));
  }
  if (c->err != 0) {
    return absl::UnavailableError(
        absl::StrCat("redis: cannot connect to ", where, ": ", c->errstr));
  }
  if (redisSetTimeout(c.get(), ClampedTimeval(options.command_timeout)) != REDIS_OK) {
    return absl::UnavailableError(absl::StrCat("redis: cannot set timeouts on ", where));
  }
  (void)redisEnableKeepAlive(c.get());
  for (const auto& argv : setup) {
    AppendCommand(c.get(), argv);
    absl::StatusOr<RedisReply> reply = ReadReply(c.get(), argv[0]);
    if (!reply.ok()) {
      return absl::Status(reply.status().code(),
                          absl::StrCat(reply.status().message(), " (", where, ")"));
    }
    if (reply->is_error()) {
      const absl::Status mapped = RedisErrorToStatus(reply->str());
      return absl::Status(mapped.code(),
                          absl::StrCat("redis ", argv[0], " on ", where, ": ", mapped.message()));
    }
  }
  return c;
}

std::vector<std::vector<std::string>> AuthCommands(const std::string& username,
                                                   const std::string& password) {
  if (password.empty()) {
    return {};
  }
  if (username.empty()) {
    return {{"AUTH", password}};
  }
  return {{"AUTH", username, password}};
}

absl::StatusOr<UniqueContext> ConnectDirect(const std::string& host, int port,
                                            const HiredisOptions& options) {
  std::vector<std::vector<std::string>> setup = AuthCommands(options.username, options.password);
  if (options.db != 0) {
    setup.push_back({"SELECT", absl::StrCat(options.db)});
  }
  return ConnectAndSetUp(host, port, options, setup);
}

// Asks one sentinel for the primary of options.sentinel_master.
absl::StatusOr<RedisEndpoint> AskSentinel(const RedisEndpoint& sentinel,
                                          const HiredisOptions& options) {
  HALFSKY_ASSIGN_OR_RETURN(
      UniqueContext c,
      ConnectAndSetUp(sentinel.host, sentinel.port, options,
                      AuthCommands(options.sentinel_username, options.sentinel_password)));
  AppendCommand(c.get(), {"SENTINEL", "get-master-addr-by-name", options.sentinel_master});
  HALFSKY_ASSIGN_OR_RETURN(RedisReply reply, ReadReply(c.get(), "SENTINEL"));
  if (reply.is_error()) {
    return absl::UnavailableError(
        absl::StrCat("redis: sentinel ", sentinel.host, ":", sentinel.port, ": ", reply.str()));
  }
  int port = 0;
  if (reply.is_nil() || !reply.is_array() || reply.elements().size() != 2 ||
      !absl::SimpleAtoi(reply.elements()[1].str(), &port) || port < 1 || port > 65535) {
    return absl::UnavailableError(absl::StrCat("redis: sentinel ", sentinel.host, ":",
                                               sentinel.port, " knows no master \"",
                                               options.sentinel_master, "\""));
  }
  return RedisEndpoint{reply.elements()[0].str(), port};
}

// OK if the server on `c` says ROLE master.
absl::Status CheckIsPrimary(redisContext* c, const RedisEndpoint& where) {
  AppendCommand(c, {"ROLE"});
  HALFSKY_ASSIGN_OR_RETURN(RedisReply reply, ReadReply(c, "ROLE"));
  if (reply.is_error()) {
    const absl::Status mapped = RedisErrorToStatus(reply.str());
    return absl::Status(mapped.code(), absl::StrCat("redis ROLE on ", where.host, ":", where.port,
                                                    ": ", mapped.message()));
  }
  if (!reply.is_array() || reply.elements().empty() || reply.elements()[0].str() != "master") {
    return absl::UnavailableError(absl::StrCat(
        "redis: ", where.host, ":", where.port, " is not a master (ROLE ",
        reply.is_array() && !reply.elements().empty() ? reply.elements()[0].str() : "?",
        "): failover in progress"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<UniqueContext> ConnectHiredis(const HiredisOptions& options) {
  if (options.sentinels.empty()) {
    return ConnectDirect(options.host, options.port, options);
  }
  std::vector<std::string> why;
  for (const RedisEndpoint& sentinel : options.sentinels) {
    absl::StatusOr<RedisEndpoint> primary = AskSentinel(sentinel, options);
    if (!primary.ok()) {
      why.push_back(std::string(primary.status().message()));
      continue;
    }
    absl::StatusOr<UniqueContext> c = ConnectDirect(primary->host, primary->port, options);
    if (!c.ok()) {
      if (!absl::IsUnavailable(c.status())) {
        return c.status();  // AUTH or SELECT refused by the primary itself
      }
      why.push_back(std::string(c.status().message()));
      continue;
    }
    absl::Status role = CheckIsPrimary(c->get(), *primary);
    if (!role.ok()) {
      if (!absl::IsUnavailable(role)) {
        return role;  // e.g. NOPERM: the ACL user lacks ROLE
      }
      why.push_back(std::string(role.message()));
      continue;
    }
    return c;
  }
  return absl::UnavailableError(absl::StrCat("redis: no primary for \"", options.sentinel_master,
                                             "\" via ", DescribeTarget(options), ": ",
                                             absl::StrJoin(why, "; ")));
}

bool IsNotPrimaryError(absl::string_view message) {
  return absl::StartsWith(message, "READONLY") || absl::StartsWith(message, "MASTERDOWN");
}

}  // namespace redis_internal

std::string DescribeTarget(const HiredisOptions& options) {
  if (options.sentinels.empty()) {
    return absl::StrCat(options.host, ":", options.port,
                        options.via_tls_tunnel ? " (TLS 隧道 / tunnel)" : "");
  }
  std::vector<std::string> parts;
  for (const RedisEndpoint& s : options.sentinels) {
    parts.push_back(absl::StrCat(s.host, ":", s.port));
  }
  return absl::StrCat(kSentinelScheme, absl::StrJoin(parts, ","), "/", options.sentinel_master);
}

HiredisClient::HiredisClient(HiredisOptions options) : options_(std::move(options)) {}

HiredisClient::~HiredisClient() = default;

absl::Status HiredisClient::EnsureConnectedLocked() {
  if (context_ != nullptr && (context_->err != 0 || IdleConnectionBroken(context_->fd))) {
    context_.reset();
  }
  if (context_ == nullptr) {
    HALFSKY_ASSIGN_OR_RETURN(context_, redis_internal::ConnectHiredis(options_));
  }
  return absl::OkStatus();
}

absl::Status HiredisClient::Connect() { return Ping(); }

absl::StatusOr<std::vector<RedisReply>> HiredisClient::RoundTripLocked(
    const std::vector<std::vector<std::string>>& commands) {
  HALFSKY_RETURN_IF_ERROR(EnsureConnectedLocked());
  return RoundTripOnCurrentLocked(commands);
}

namespace {

bool HasNotPrimaryError(const RedisReply& reply) {
  if (reply.is_error()) {
    return redis_internal::IsNotPrimaryError(reply.str());
  }
  if (reply.is_array()) {
    return std::any_of(reply.elements().begin(), reply.elements().end(), HasNotPrimaryError);
  }
  return false;
}

}  // namespace

absl::StatusOr<std::vector<RedisReply>> HiredisClient::RoundTripOnCurrentLocked(
    const std::vector<std::vector<std::string>>& commands) {
  if (context_ == nullptr || context_->err != 0) {
    context_.reset();
    return absl::UnavailableError("redis: the connection broke");
  }
  for (const auto& argv : commands) {
    redis_internal::AppendCommand(context_.get(), argv);
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  bool not_primary = false;
  for (const auto& argv : commands) {
    absl::StatusOr<RedisReply> reply = redis_internal::ReadReply(context_.get(), argv[0]);
    if (!reply.ok()) {
      // The stream is in an unknown state: never reuse it.
      context_.reset();
      return reply.status();
    }
    not_primary = not_primary || HasNotPrimaryError(*reply);
    replies.push_back(*std::move(reply));
  }
  if (not_primary) {
    // A replica (or a primary cut off from its replicas): the next command
    // looks for the primary again.
    context_.reset();
  }
  return replies;
}

absl::StatusOr<std::vector<RedisReply>> HiredisClient::RoundTrip(
    const std::vector<std::vector<std::string>>& commands) {
  absl::MutexLock lock(&mu_);
  return RoundTripLocked(commands);
}

absl::StatusOr<RedisReply> HiredisClient::Command(const std::vector<std::string>& argv) {
  HALFSKY_RETURN_IF_ERROR(CheckClientCommand(argv));
  HALFSKY_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, RoundTrip({argv}));
  if (replies[0].is_error()) {
    return RedisErrorToStatus(replies[0].str());
  }
  return std::move(replies[0]);
}

absl::StatusOr<std::vector<RedisReply>> HiredisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  for (const auto& argv : commands) {
    HALFSKY_RETURN_IF_ERROR(CheckClientCommand(argv));
  }
  if (commands.empty()) {
    return std::vector<RedisReply>();
  }
  HALFSKY_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, RoundTrip(commands));
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].is_error()) {
      return WithIndex(RedisErrorToStatus(replies[i].str()), "pipeline", i, commands[i][0]);
    }
  }
  return replies;
}

absl::StatusOr<std::vector<RedisReply>> HiredisClient::Transaction(
    const std::vector<std::vector<std::string>>& commands) {
  for (const auto& argv : commands) {
    HALFSKY_RETURN_IF_ERROR(CheckClientCommand(argv));
  }
  if (commands.empty()) {
    return std::vector<RedisReply>();
  }
  std::vector<std::vector<std::string>> wrapped;
  wrapped.reserve(commands.size() + 2);
  wrapped.push_back({"MULTI"});
  wrapped.insert(wrapped.end(), commands.begin(), commands.end());
  wrapped.push_back({"EXEC"});
  HALFSKY_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, RoundTrip(wrapped));
  return TransactionReplies(commands, std::move(replies));
}

absl::StatusOr<std::vector<RedisReply>> HiredisClient::TransactionReplies(
    const std::vector<std::vector<std::string>>& commands, std::vector<RedisReply> replies) {
  if (replies[0].is_error()) {
    return RedisErrorToStatus(replies[0].str());
  }
  // A command refused while queueing: EXEC answers EXECABORT, nothing ran.
  for (size_t i = 0; i < commands.size(); ++i) {
    if (replies[i + 1].is_error()) {
      return WithIndex(RedisErrorToStatus(replies[i + 1].str()), "transaction", i, commands[i][0]);
    }
  }
  RedisReply& exec = replies.back();
  if (exec.is_error()) {
    return RedisErrorToStatus(exec.str());
  }
  if (exec.is_nil()) {
    return absl::AbortedError("redis: transaction aborted (a watched key changed)");
  }
  if (!exec.is_array() || exec.elements().size() != commands.size()) {
    return absl::InternalError(absl::StrCat("redis: unexpected EXEC reply ", exec.DebugString()));
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    if (exec.elements()[i].is_error()) {
      return WithIndex(RedisErrorToStatus(exec.elements()[i].str()), "transaction", i,
                       commands[i][0]);
    }
  }
  return exec.elements();
}

absl::StatusOr<RedisClient::GuardedResult> HiredisClient::GuardedTransaction(
    const std::vector<std::string>& keys, const GuardProceed& proceed,
    const std::vector<std::vector<std::string>>& commands) {
  if (keys.empty()) {
    return absl::InvalidArgumentError("redis: GuardedTransaction needs at least one key");
  }
  for (const auto& argv : commands) {
    HALFSKY_RETURN_IF_ERROR(CheckClientCommand(argv));
  }
  std::vector<std::vector<std::string>> reads;
  reads.reserve(keys.size() + 1);
  reads.push_back({"WATCH"});
  reads.front().insert(reads.front().end(), keys.begin(), keys.end());
  for (const std::string& key : keys) {
    reads.push_back({"GET", key});
  }
  absl::MutexLock lock(&mu_);
  HALFSKY_ASSIGN_OR_RETURN(std::vector<RedisReply> read, RoundTripLocked(reads));
  for (const RedisReply& r : read) {
    if (r.is_error()) {
      // WATCH refused (e.g. NOPERM) or GET on a non-string: nothing to undo
      // but the WATCH.
      (void)RoundTripOnCurrentLocked({{"UNWATCH"}});
      return RedisErrorToStatus(r.str());
    }
  }
  GuardedResult result;
  for (size_t i = 1; i < read.size(); ++i) {
    result.observed.push_back(read[i].is_nil() ? std::optional<std::string>()
                                               : std::optional<std::string>(read[i].str()));
  }
  if (!proceed(result.observed)) {
    HALFSKY_RETURN_IF_ERROR(RoundTripOnCurrentLocked({{"UNWATCH"}}).status());
    return result;
  }
  std::vector<std::vector<std::string>> wrapped;
  wrapped.reserve(commands.size() + 2);
  wrapped.push_back({"MULTI"});
  wrapped.insert(wrapped.end(), commands.begin(), commands.end());
  wrapped.push_back({"EXEC"});
  // No reconnect here: the WATCH lives on this connection only.
  HALFSKY_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, RoundTripOnCurrentLocked(wrapped));
  HALFSKY_ASSIGN_OR_RETURN(result.replies, TransactionReplies(commands, std::move(replies)));
  result.applied = true;
  return result;
}

absl::StatusOr<std::unique_ptr<RedisSubscription>> HiredisClient::Subscribe(
    const std::vector<std::string>& channels, RedisSubscriptionCallbacks callbacks) {
  HiredisSubscriber::Options options;
  options.redis = options_;
  HALFSKY_ASSIGN_OR_RETURN(std::unique_ptr<HiredisSubscriber> subscriber,
                           HiredisSubscriber::Start(options, channels, std::move(callbacks)));
  return std::unique_ptr<RedisSubscription>(std::move(subscriber));
}

}  // namespace halfsky
