#include "common/redis/hiredis_client.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

absl::StatusOr<HiredisOptions> ParseRedisAddress(absl::string_view address, HiredisOptions base) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis address \"", address, "\" is not HOST:PORT"));
  }
  absl::string_view host = address.substr(0, colon);
  const absl::string_view port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis address \"", address, "\": write IPv6 hosts as [HOST]:PORT"));
  }
  int port = 0;
  if (host.empty() || !absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis address \"", address, "\" is not HOST:PORT (port 1-65535)"));
  }
  base.host = std::string(host);
  base.port = port;
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

absl::StatusOr<UniqueContext> ConnectHiredis(const HiredisOptions& options) {
  const std::string where = absl::StrCat(options.host, ":", options.port);
  UniqueContext c(redisConnectWithTimeout(options.host.c_str(), options.port,
                                          ClampedTimeval(options.connect_timeout)));
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
  std::vector<std::vector<std::string>> setup;
  if (!options.password.empty()) {
    if (options.username.empty()) {
      setup.push_back({"AUTH", options.password});
    } else {
      setup.push_back({"AUTH", options.username, options.password});
    }
  }
  if (options.db != 0) {
    setup.push_back({"SELECT", absl::StrCat(options.db)});
  }
  for (const auto& argv : setup) {
    AppendCommand(c.get(), argv);
    absl::StatusOr<RedisReply> reply = ReadReply(c.get(), argv[0]);
    if (!reply.ok()) {
      return reply.status();
    }
    if (reply->is_error()) {
      const absl::Status mapped = RedisErrorToStatus(reply->str());
      return absl::Status(mapped.code(),
                          absl::StrCat("redis ", argv[0], " on ", where, ": ", mapped.message()));
    }
  }
  return c;
}

}  // namespace redis_internal

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
  for (const auto& argv : commands) {
    redis_internal::AppendCommand(context_.get(), argv);
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (const auto& argv : commands) {
    absl::StatusOr<RedisReply> reply = redis_internal::ReadReply(context_.get(), argv[0]);
    if (!reply.ok()) {
      // The stream is in an unknown state: never reuse it.
      context_.reset();
      return reply.status();
    }
    replies.push_back(*std::move(reply));
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
    return absl::AbortedError("redis: transaction aborted");
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

absl::StatusOr<std::unique_ptr<RedisSubscription>> HiredisClient::Subscribe(
    const std::vector<std::string>& channels, RedisSubscriptionCallbacks callbacks) {
  HiredisSubscriber::Options options;
  options.redis = options_;
  HALFSKY_ASSIGN_OR_RETURN(std::unique_ptr<HiredisSubscriber> subscriber,
                           HiredisSubscriber::Start(options, channels, std::move(callbacks)));
  return std::unique_ptr<RedisSubscription>(std::move(subscriber));
}

}  // namespace halfsky
