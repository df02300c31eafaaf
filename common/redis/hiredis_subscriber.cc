#include "common/redis/hiredis_subscriber.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "hiredis/hiredis.h"

namespace halfsky {

namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using UniqueReply = std::unique_ptr<redisReply, ReplyDeleter>;

std::string Str(const redisReply* r) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) {
    return std::string();
  }
  return std::string(r->str, r->len);
}

absl::Status Flush(redisContext* c) {
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(c, &done) != REDIS_OK) {
      return absl::UnavailableError(absl::StrCat("redis subscriber: write: ", c->errstr));
    }
  }
  return absl::OkStatus();
}

int PollTimeoutMs(absl::Duration d) {
  if (d <= absl::ZeroDuration()) {
    return 0;
  }
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d) + 1, 60 * 1000));
}

}  // namespace

absl::StatusOr<std::unique_ptr<HiredisSubscriber>> HiredisSubscriber::Start(
    Options options, std::vector<std::string> channels, RedisSubscriptionCallbacks callbacks) {
  if (channels.empty()) {
    return absl::InvalidArgumentError("redis subscriber: no channels");
  }
  if (!callbacks.on_message) {
    return absl::InvalidArgumentError("redis subscriber: on_message is required");
  }
  std::unique_ptr<HiredisSubscriber> s(
      new HiredisSubscriber(std::move(options), std::move(channels), std::move(callbacks)));
  if (pipe2(s->wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError("redis subscriber: pipe2 failed");
  }
  s->thread_ = std::thread([p = s.get()] { p->Run(); });
  return s;
}

HiredisSubscriber::HiredisSubscriber(Options options, std::vector<std::string> channels,
                                     RedisSubscriptionCallbacks callbacks)
    : options_(std::move(options)),
      channels_(std::move(channels)),
      callbacks_(std::move(callbacks)) {}

HiredisSubscriber::~HiredisSubscriber() {
  stop_.store(true, std::memory_order_release);
  if (wake_[1] >= 0) {
    const char byte = 'x';
    (void)!write(wake_[1], &byte, 1);
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  for (int fd : wake_) {
    if (fd >= 0) {
      close(fd);
    }
  }
}

bool HiredisSubscriber::SleepUnlessStopped(absl::Duration d) {
  pollfd p{wake_[0], POLLIN, 0};
  const absl::Time deadline = absl::Now() + d;
  while (!Stopping()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return true;
    }
    (void)poll(&p, 1, PollTimeoutMs(left));
  }
  return false;
}

void HiredisSubscriber::Run() {
  absl::Duration backoff = options_.reconnect_min;
  while (!Stopping()) {
    bool subscribed = false;
    const absl::Status status = Session(&subscribed);
    if (Stopping()) {
      break;
    }
    if (subscribed) {
      backoff = options_.reconnect_min;
      if (callbacks_.on_disconnected) {
        callbacks_.on_disconnected(status);
      }
    }
    if (!SleepUnlessStopped(backoff)) {
      break;
    }
    backoff = std::min(backoff * 2, options_.reconnect_max);
  }
}

absl::Status HiredisSubscriber::Session(bool* subscribed) {
  HALFSKY_ASSIGN_OR_RETURN(redis_internal::UniqueContext context,
                           redis_internal::ConnectHiredis(options_.redis));
  redisContext* c = context.get();
  std::vector<std::string> argv = {"SUBSCRIBE"};
  argv.insert(argv.end(), channels_.begin(), channels_.end());
  redis_internal::AppendCommand(c, argv);
  for (size_t i = 0; i < channels_.size(); ++i) {
    HALFSKY_ASSIGN_OR_RETURN(RedisReply confirm, redis_internal::ReadReply(c, "SUBSCRIBE"));
    if (confirm.is_error()) {
      return RedisErrorToStatus(confirm.str());
    }
    if (!confirm.is_array() || confirm.elements().empty() ||
        confirm.elements()[0].str() != "subscribe") {
      return absl::UnavailableError(
          absl::StrCat("redis subscriber: unexpected reply ", confirm.DebugString()));
    }
  }
  *subscribed = true;
  if (callbacks_.on_subscribed) {
    callbacks_.on_subscribed();
  }

  absl::Time last_activity = absl::Now();
  bool ping_outstanding = false;
  absl::Time ping_sent;
  while (!Stopping()) {
    // Deliver everything already buffered.
    void* raw = nullptr;
    if (redisGetReplyFromReader(c, &raw) != REDIS_OK) {
      return absl::UnavailableError(absl::StrCat("redis subscriber: protocol: ", c->errstr));
    }
    if (raw != nullptr) {
      UniqueReply reply(static_cast<redisReply*>(raw));
      if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 3 &&
          Str(reply->element[0]) == "message") {
        callbacks_.on_message(Str(reply->element[1]), Str(reply->element[2]));
      }
      // Anything else ("pong", late confirmations) only proves liveness.
      continue;
    }

    const absl::Time now = absl::Now();
    absl::Duration wait = ping_outstanding ? ping_sent + options_.redis.command_timeout - now
                                           : last_activity + options_.ping_interval - now;
    if (wait <= absl::ZeroDuration()) {
      if (ping_outstanding) {
        return absl::UnavailableError("redis subscriber: no answer to PING");
      }
      redis_internal::AppendCommand(c, {"PING"});
      HALFSKY_RETURN_IF_ERROR(Flush(c));
      ping_outstanding = true;
      ping_sent = now;
      continue;
    }
    pollfd fds[2] = {{c->fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    const int n = poll(fds, 2, PollTimeoutMs(wait));
    if (n < 0 && errno != EINTR) {
      return absl::UnavailableError("redis subscriber: poll failed");
    }
    if (Stopping()) {
      break;
    }
    if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      if (redisBufferRead(c) != REDIS_OK) {
        return absl::UnavailableError(absl::StrCat("redis subscriber: read: ", c->errstr));
      }
      last_activity = absl::Now();
      ping_outstanding = false;
    }
  }
  return absl::OkStatus();
}

}  // namespace halfsky
