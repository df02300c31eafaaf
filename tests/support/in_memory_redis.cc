#include "tests/support/in_memory_redis.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status/status.h"

namespace halfsky {

namespace {

constexpr char kWrongType[] = "WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr char kNotInteger[] = "ERR value is not an integer or out of range";
constexpr char kSyntax[] = "ERR syntax error";

// Redis' arity convention: n > 0 exactly n arguments (command included),
// n < 0 at least -n.
const absl::flat_hash_map<std::string, int>& Arity() {
  static const auto* arity = new absl::flat_hash_map<std::string, int>{
      {"PING", -1},   {"ECHO", 2},     {"GET", 2},       {"SET", -3},     {"SETNX", 3},
      {"MSET", -3},   {"GETDEL", 2},   {"DEL", -2},      {"UNLINK", -2},  {"EXISTS", -2},
      {"MGET", -2},   {"INCR", 2},     {"INCRBY", 3},    {"DECR", 2},     {"DECRBY", 3},
      {"HSET", -4},   {"HMSET", -4},   {"HGET", 3},      {"HMGET", -3},   {"HGETALL", 2},
      {"HDEL", -3},   {"HEXISTS", 3},  {"HLEN", 2},      {"HINCRBY", 4},  {"RPUSH", -3},
      {"LPUSH", -3},  {"LRANGE", 4},   {"LLEN", 2},      {"ZADD", -4},    {"ZRANGE", -4},
      {"ZREM", -3},   {"ZSCORE", 3},   {"ZCARD", 2},     {"TYPE", 2},     {"KEYS", 2},
      {"SCAN", -2},   {"DBSIZE", 1},   {"FLUSHALL", -1}, {"FLUSHDB", -1}, {"PUBLISH", 3},
      {"EXPIRE", -3}, {"PEXPIRE", -3}, {"PERSIST", 2},   {"TTL", 2},      {"PTTL", 2},
  };
  return *arity;
}

RedisReply ArityError(const std::string& name) {
  return RedisReply::Error(absl::StrCat("ERR wrong number of arguments for '",
                                        absl::AsciiStrToLower(name), "' command"));
}

std::string FormatScore(double score) {
  if (score == std::numeric_limits<double>::infinity()) {
    return "inf";
  }
  if (score == -std::numeric_limits<double>::infinity()) {
    return "-inf";
  }
  return absl::StrFormat("%.17g", score);
}

bool ParseScore(const std::string& text, double* out) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "inf" || lower == "+inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == "-inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  return absl::SimpleAtod(text, out) && !std::isnan(*out);
}

// Redis' index normalization for LRANGE/ZRANGE: [start, stop] clipped, or
// an empty range.
bool NormalizeRange(int64_t start, int64_t stop, int64_t size, int64_t* from, int64_t* to) {
  if (start < 0) {
    start += size;
  }
  if (stop < 0) {
    stop += size;
  }
  start = std::max<int64_t>(start, 0);
  if (start > stop || start >= size) {
    return false;
  }
  *from = start;
  *to = std::min(stop, size - 1);
  return true;
}

}  // namespace

// ---- Subscriptions ----

struct SubscriptionState {
  std::vector<std::string> channels;
  RedisSubscriptionCallbacks callbacks;
  absl::Mutex mu;
  std::deque<std::function<void()>> queue ABSL_GUARDED_BY(mu);
  bool stop ABSL_GUARDED_BY(mu) = false;
  bool busy ABSL_GUARDED_BY(mu) = false;

  void Enqueue(std::function<void()> f) {
    absl::MutexLock lock(&mu);
    queue.push_back(std::move(f));
  }

  void Loop() {
    while (true) {
      std::function<void()> next;
      {
        absl::MutexLock lock(&mu);
        mu.Await(absl::Condition(
            +[](SubscriptionState* s)
                 ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) { return s->stop || !s->queue.empty(); },
            this));
        if (stop) {
          return;
        }
        next = std::move(queue.front());
        queue.pop_front();
        busy = true;
      }
      next();
      absl::MutexLock lock(&mu);
      busy = false;
    }
  }

  void Drain() {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](SubscriptionState* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
          return s->stop || (s->queue.empty() && !s->busy);
        },
        this));
  }
};

struct InMemoryRedisClient::Hub {
  absl::Mutex mu;
  std::vector<std::shared_ptr<SubscriptionState>> subscriptions ABSL_GUARDED_BY(mu);

  std::vector<std::shared_ptr<SubscriptionState>> Snapshot() {
    absl::MutexLock lock(&mu);
    return subscriptions;
  }
};

namespace {

class InMemorySubscription final : public RedisSubscription {
 public:
  InMemorySubscription(std::shared_ptr<InMemoryRedisClient::Hub> hub,
                       std::shared_ptr<SubscriptionState> state)
      : hub_(std::move(hub)), state_(std::move(state)) {
    thread_ = std::thread([s = state_] { s->Loop(); });
  }
  ~InMemorySubscription() override {
    {
      absl::MutexLock lock(&hub_->mu);
      auto& subs = hub_->subscriptions;
      subs.erase(std::remove(subs.begin(), subs.end(), state_), subs.end());
    }
    {
      absl::MutexLock lock(&state_->mu);
      state_->stop = true;
    }
    thread_.join();
  }

 private:
  std::shared_ptr<InMemoryRedisClient::Hub> hub_;
  std::shared_ptr<SubscriptionState> state_;
  std::thread thread_;
};

}  // namespace

InMemoryRedisClient::InMemoryRedisClient() : hub_(std::make_shared<Hub>()) {}

InMemoryRedisClient::~InMemoryRedisClient() = default;

void InMemoryRedisClient::SetUnavailable(bool unavailable) {
  absl::MutexLock lock(&mu_);
  unavailable_ = unavailable;
}

int64_t InMemoryRedisClient::command_count() const {
  absl::MutexLock lock(&mu_);
  return command_count_;
}

void InMemoryRedisClient::SimulateSubscriberReconnect() {
  for (const auto& s : hub_->Snapshot()) {
    s->Enqueue([s = s.get()] {
      if (s->callbacks.on_disconnected) {
        s->callbacks.on_disconnected(
            absl::UnavailableError("redis subscriber: simulated disconnect"));
      }
      if (s->callbacks.on_subscribed) {
        s->callbacks.on_subscribed();
      }
    });
  }
}

void InMemoryRedisClient::DrainSubscriptions() {
  for (const auto& s : hub_->Snapshot()) {
    s->Drain();
  }
}

absl::StatusOr<std::unique_ptr<RedisSubscription>> InMemoryRedisClient::Subscribe(
    const std::vector<std::string>& channels, RedisSubscriptionCallbacks callbacks) {
  if (channels.empty()) {
    return absl::InvalidArgumentError("redis subscriber: no channels");
  }
  if (!callbacks.on_message) {
    return absl::InvalidArgumentError("redis subscriber: on_message is required");
  }
  auto state = std::make_shared<SubscriptionState>();
  state->channels = channels;
  state->callbacks = std::move(callbacks);
  if (state->callbacks.on_subscribed) {
    state->Enqueue([s = state.get()] { s->callbacks.on_subscribed(); });
  }
  {
    absl::MutexLock lock(&hub_->mu);
    hub_->subscriptions.push_back(state);
  }
  return std::unique_ptr<RedisSubscription>(new InMemorySubscription(hub_, std::move(state)));
}

// ---- Commands ----

absl::Status InMemoryRedisClient::CheckAvailableLocked() const {
  if (unavailable_) {
    return absl::UnavailableError("redis: connection refused (in-memory fake set unavailable)");
  }
  return absl::OkStatus();
}

std::optional<RedisReply> InMemoryRedisClient::ValidateLocked(
    const std::vector<std::string>& argv) const {
  const std::string name = absl::AsciiStrToUpper(argv[0]);
  auto it = Arity().find(name);
  if (it == Arity().end()) {
    std::string args;
    for (size_t i = 1; i < argv.size(); ++i) {
      absl::StrAppend(&args, "'", argv[i], "' ");
    }
    return RedisReply::Error(
        absl::StrCat("ERR unknown command '", argv[0], "', with args beginning with: ", args));
  }
  const int arity = it->second;
  const int argc = static_cast<int>(argv.size());
  if ((arity > 0 && argc != arity) || (arity < 0 && argc < -arity)) {
    return ArityError(name);
  }
  return std::nullopt;
}

absl::StatusOr<RedisReply> InMemoryRedisClient::Command(const std::vector<std::string>& argv) {
  HALFSKY_RETURN_IF_ERROR(CheckClientCommand(argv));
  absl::MutexLock lock(&mu_);
  HALFSKY_RETURN_IF_ERROR(CheckAvailableLocked());
  RedisReply reply = ExecuteLocked(argv);
  if (reply.is_error()) {
    return RedisErrorToStatus(reply.str());
  }
  return reply;
}

absl::StatusOr<std::vector<RedisReply>> InMemoryRedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  for (const auto& argv : commands) {
    HALFSKY_RETURN_IF_ERROR(CheckClientCommand(argv));
  }
  absl::MutexLock lock(&mu_);
  if (commands.empty()) {
    return std::vector<RedisReply>();
  }
  HALFSKY_RETURN_IF_ERROR(CheckAvailableLocked());
  std::vector<RedisReply> replies;
  for (const auto& argv : commands) {
    replies.push_back(ExecuteLocked(argv));
  }
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].is_error()) {
      const absl::Status s = RedisErrorToStatus(replies[i].str());
      return absl::Status(s.code(), absl::StrCat("redis pipeline command ", i, " (", commands[i][0],
                                                 "): ", s.message()));
    }
  }
  return replies;
}

absl::StatusOr<std::vector<RedisReply>> InMemoryRedisClient::Transaction(
    const std::vector<std::vector<std::string>>& commands) {
  for (const auto& argv : commands) {
    HALFSKY_RETURN_IF_ERROR(CheckClientCommand(argv));
  }
  absl::MutexLock lock(&mu_);
  if (commands.empty()) {
    return std::vector<RedisReply>();
  }
  HALFSKY_RETURN_IF_ERROR(CheckAvailableLocked());
  return TransactionLocked(commands);
}

absl::StatusOr<std::vector<RedisReply>> InMemoryRedisClient::TransactionLocked(
    const std::vector<std::vector<std::string>>& commands) {
  for (size_t i = 0; i < commands.size(); ++i) {
    std::optional<RedisReply> error = ValidateLocked(commands[i]);
    if (error.has_value()) {
      const absl::Status s = RedisErrorToStatus(error->str());
      return absl::Status(s.code(), absl::StrCat("redis transaction command ", i, " (",
                                                 commands[i][0], "): ", s.message()));
    }
  }
  std::vector<RedisReply> replies;
  for (const auto& argv : commands) {
    replies.push_back(ExecuteLocked(argv));
  }
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].is_error()) {
      const absl::Status s = RedisErrorToStatus(replies[i].str());
      return absl::Status(s.code(), absl::StrCat("redis transaction command ", i, " (",
                                                 commands[i][0], "): ", s.message()));
    }
  }
  return replies;
}

absl::StatusOr<std::optional<std::string>> InMemoryRedisClient::ReadStringLocked(
    const std::string& key) const {
  auto it = data_.find(key);
  if (it == data_.end()) {
    return std::optional<std::string>();
  }
  if (it->second.kind != Entry::Kind::kString) {
    return RedisErrorToStatus("WRONGTYPE Operation against a key holding the wrong kind of value");
  }
  return std::optional<std::string>(it->second.str);
}

absl::StatusOr<RedisClient::GuardedResult> InMemoryRedisClient::GuardedTransaction(
    const std::vector<std::string>& keys, const GuardProceed& proceed,
    const std::vector<std::vector<std::string>>& commands) {
  if (keys.empty()) {
    return absl::InvalidArgumentError("redis: GuardedTransaction needs at least one key");
  }
  for (const auto& argv : commands) {
    HALFSKY_RETURN_IF_ERROR(CheckClientCommand(argv));
  }
  GuardedResult result;
  {
    absl::MutexLock lock(&mu_);
    HALFSKY_RETURN_IF_ERROR(CheckAvailableLocked());
    command_count_ += 1 + static_cast<int64_t>(keys.size());  // WATCH, GETs
    for (const std::string& key : keys) {
      HALFSKY_ASSIGN_OR_RETURN(std::optional<std::string> value, ReadStringLocked(key));
      result.observed.push_back(std::move(value));
    }
  }
  if (!proceed(result.observed)) {
    return result;
  }
  absl::MutexLock lock(&mu_);
  HALFSKY_RETURN_IF_ERROR(CheckAvailableLocked());
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::StatusOr<std::optional<std::string>> now = ReadStringLocked(keys[i]);
    if (!now.ok() || *now != result.observed[i]) {
      return absl::AbortedError("redis: transaction aborted (a watched key changed)");
    }
  }
  if (!commands.empty()) {
    HALFSKY_ASSIGN_OR_RETURN(result.replies, TransactionLocked(commands));
  }
  result.applied = true;
  return result;
}

RedisReply InMemoryRedisClient::ExecuteLocked(const std::vector<std::string>& argv) {
  ++command_count_;
  if (std::optional<RedisReply> error = ValidateLocked(argv); error.has_value()) {
    return *error;
  }
  const std::string name = absl::AsciiStrToUpper(argv[0]);
  const size_t argc = argv.size();
  using Kind = Entry::Kind;

  // The entry at `key` if it exists with `kind`; sets *wrong if it exists
  // with another kind.
  auto find = [this](const std::string& key, Kind kind, bool* wrong)
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> Entry* {
    *wrong = false;
    auto it = data_.find(key);
    if (it == data_.end()) {
      return nullptr;
    }
    if (it->second.kind != kind) {
      *wrong = true;
      return nullptr;
    }
    return &it->second;
  };
  // The entry at `key`, created with `kind` if missing; nullptr if it has
  // another kind.
  auto get_or_create = [this](const std::string& key, Kind kind)
                           ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> Entry* {
    auto [it, inserted] = data_.try_emplace(key);
    if (inserted) {
      it->second.kind = kind;
      return &it->second;
    }
    return it->second.kind == kind ? &it->second : nullptr;
  };
  auto remove_if_empty = [this](const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = data_.find(key);
    if (it != data_.end() && it->second.kind != Kind::kString && it->second.hash.empty() &&
        it->second.list.empty() && it->second.zset.empty()) {
      data_.erase(it);
    }
  };
  auto incr_by = [&](const std::string& key, int64_t delta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    bool wrong = false;
    Entry* e = find(key, Kind::kString, &wrong);
    if (wrong) {
      return RedisReply::Error(kWrongType);
    }
    int64_t value = 0;
    if (e != nullptr && !absl::SimpleAtoi(e->str, &value)) {
      return RedisReply::Error(kNotInteger);
    }
    if ((delta > 0 && value > std::numeric_limits<int64_t>::max() - delta) ||
        (delta < 0 && value < std::numeric_limits<int64_t>::min() - delta)) {
      return RedisReply::Error("ERR increment or decrement would overflow");
    }
    value += delta;
    Entry& target = data_[key];
    target.kind = Kind::kString;
    target.str = absl::StrCat(value);
    return RedisReply::Integer(value);
  };

  if (name == "PING") {
    if (argc == 1) {
      return RedisReply::Status("PONG");
    }
    if (argc == 2) {
      return RedisReply::String(argv[1]);
    }
    return ArityError(name);
  }
  if (name == "ECHO") {
    return RedisReply::String(argv[1]);
  }
  if (name == "GET" || name == "GETDEL") {
    bool wrong = false;
    Entry* e = find(argv[1], Kind::kString, &wrong);
    if (wrong) {
      return RedisReply::Error(kWrongType);
    }
    if (e == nullptr) {
      return RedisReply::Nil();
    }
    RedisReply value = RedisReply::String(e->str);
    if (name == "GETDEL") {
      data_.erase(argv[1]);
    }
    return value;
  }
  if (name == "SET") {
    bool nx = false;
    bool xx = false;
    bool get = false;
    bool expiry = false;
    for (size_t i = 3; i < argc; ++i) {
      const std::string opt = absl::AsciiStrToUpper(argv[i]);
      if (opt == "NX") {
        nx = true;
      } else if (opt == "XX") {
        xx = true;
      } else if (opt == "GET") {
        get = true;
      } else if (opt == "KEEPTTL") {
        // Expiry is not simulated.
      } else if ((opt == "EX" || opt == "PX" || opt == "EXAT" || opt == "PXAT") && i + 1 < argc &&
                 !expiry) {
        int64_t t = 0;
        if (!absl::SimpleAtoi(argv[++i], &t)) {
          return RedisReply::Error(kNotInteger);
        }
        if (t <= 0) {
          return RedisReply::Error("ERR invalid expire time in 'set' command");
        }
        expiry = true;
      } else {
        return RedisReply::Error(kSyntax);
      }
    }
    if (nx && xx) {
      return RedisReply::Error(kSyntax);
    }
    auto it = data_.find(argv[1]);
    if (get && it != data_.end() && it->second.kind != Kind::kString) {
      return RedisReply::Error(kWrongType);
    }
    RedisReply old = it != data_.end() ? RedisReply::String(it->second.str) : RedisReply::Nil();
    const bool exists = it != data_.end();
    if ((nx && exists) || (xx && !exists)) {
      return get ? old : RedisReply::Nil();
    }
    Entry fresh;
    fresh.str = argv[2];
    data_[argv[1]] = std::move(fresh);
    return get ? old : RedisReply::Ok();
  }
  if (name == "SETNX") {
    if (data_.count(argv[1]) > 0) {
      return RedisReply::Integer(0);
    }
    data_[argv[1]].str = argv[2];
    return RedisReply::Integer(1);
  }
  if (name == "MSET") {
    if (argc % 2 == 0) {
      return ArityError(name);
    }
    for (size_t i = 1; i + 1 < argc; i += 2) {
      Entry fresh;
      fresh.str = argv[i + 1];
      data_[argv[i]] = std::move(fresh);
    }
    return RedisReply::Ok();
  }
  if (name == "DEL" || name == "UNLINK") {
    int64_t n = 0;
    for (size_t i = 1; i < argc; ++i) {
      n += static_cast<int64_t>(data_.erase(argv[i]));
    }
    return RedisReply::Integer(n);
  }
  if (name == "EXISTS") {
    int64_t n = 0;
    for (size_t i = 1; i < argc; ++i) {
      n += static_cast<int64_t>(data_.count(argv[i]));
    }
    return RedisReply::Integer(n);
  }
  if (name == "MGET") {
    std::vector<RedisReply> out;
    for (size_t i = 1; i < argc; ++i) {
      auto it = data_.find(argv[i]);
      out.push_back(it != data_.end() && it->second.kind == Kind::kString
                        ? RedisReply::String(it->second.str)
                        : RedisReply::Nil());
    }
    return RedisReply::Array(std::move(out));
  }
  if (name == "INCR" || name == "DECR") {
    return incr_by(argv[1], name == "INCR" ? 1 : -1);
  }
  if (name == "INCRBY" || name == "DECRBY") {
    int64_t delta = 0;
    if (!absl::SimpleAtoi(argv[2], &delta) ||
        (name == "DECRBY" && delta == std::numeric_limits<int64_t>::min())) {
      return RedisReply::Error(kNotInteger);
    }
    return incr_by(argv[1], name == "INCRBY" ? delta : -delta);
  }
  if (name == "HSET" || name == "HMSET") {
    if (argc % 2 != 0) {
      return ArityError(name);
    }
    Entry* e = get_or_create(argv[1], Kind::kHash);
    if (e == nullptr) {
      return RedisReply::Error(kWrongType);
    }
    int64_t added = 0;
    for (size_t i = 2; i + 1 < argc; i += 2) {
      added += e->hash.insert_or_assign(argv[i], argv[i + 1]).second ? 1 : 0;
    }
    return name == "HSET" ? RedisReply::Integer(added) : RedisReply::Ok();
  }
  if (name == "HGET" || name == "HEXISTS") {
    bool wrong = false;
    Entry* e = find(argv[1], Kind::kHash, &wrong);
    if (wrong) {
      return RedisReply::Error(kWrongType);
    }
    auto it = e != nullptr ? e->hash.find(argv[2]) : std::map<std::string, std::string>::iterator();
    const bool found = e != nullptr && it != e->hash.end();
    if (name == "HEXISTS") {
      return RedisReply::Integer(found ? 1 : 0);
    }
    return found ? RedisReply::String(it->second) : RedisReply::Nil();
  }
  if (name == "HMGET") {
    bool wrong = false;
    Entry* e = find(argv[1], Kind::kHash, &wrong);
    if (wrong) {
      return RedisReply::Error(kWrongType);
    }
    std::vector<RedisReply> out;
    for (size_t i = 2; i < argc; ++i) {
      if (e != nullptr && e->hash.count(argv[i]) > 0) {
        out.push_back(RedisReply::String(e->hash.at(argv[i])));
      } else {
        out.push_back(RedisReply::Nil());
      }
    }
    return RedisReply::Array(std::move(out));
  }
  if (name == "HGETALL" || name == "HLEN") {
    bool wrong = false;
    Entry* e = find(argv[1], Kind::kHash, &wrong);
    if (wrong) {
      return RedisReply::Error(kWrongType);
    }
    if (name == "HLEN") {
      return RedisReply::Integer(e != nullptr ? static_cast<int64_t>(e->hash.size()) : 0);
    }
    std::vector<RedisReply> out;
    if (e != nullptr) {
      for (const auto& [field, value] : e->hash) {
        out.push_back(RedisReply::String(field));
        out.push_back(RedisReply::String(value));
      }
    }
    return RedisReply::Array(std::move(out));
  }
  if (name == "HDEL") {
    bool wrong = false;
    Entry* e = find(argv[1], Kind::kHash, &wrong);
    if (wrong) {
      return RedisReply::Error(kWrongType);
    }
    int64_t n = 0;
    if (e != nullptr) {
      for (size_t i = 2; i < argc; ++i) {
        n += static_cast<int64_t>(e->hash.erase(argv[i]));
      }
      remove_if_empty(argv[1]);
    }
    return RedisReply::Integer(n);
  }
  if (name == "HINCRBY") {
    int64_t delta = 0;
    if (!absl::SimpleAtoi(argv[3], &delta)) {
      return RedisReply::Error(kNotInteger);
    }
    Entry* e = get_or_create(argv[1], Kind::kHash);
    if (e == nullptr) {
      return RedisReply::Error(kWrongType);
    }
    int64_t value = 0;
    auto it = e->hash.find(argv[2]);
    if (it != e->hash.end() && !absl::SimpleAtoi(it->second, &value)) {
      return RedisReply::Error("ERR hash value is not an integer");
    }
    if ((delta > 0 && value > std::numeric_limits<int64_t>::max() - delta) ||
        (delta < 0 && value < std::numeric_limits<int64_t>::min() - delta)) {
      return RedisReply::Error("ERR increment or decrement would overflow");
    }
    value += delta;
    e->hash[argv[2]] = absl::StrCat(value);
    return RedisReply::Integer(value);
  }
  if (name == "RPUSH" || name == "LPUSH") {
    Entry* e = get_or_create(argv[1], Kind::kList);
    if (e == nullptr) {
      return RedisReply::Error(kWrongType);
    }
    for (size_t i = 2; i < argc; ++i) {
      if (name == "RPUSH") {
        e->list.push_back(argv[i]);
      } else {
        e->list.push_front(argv[i]);
      }
    }
    return RedisReply::Integer(static_cast<int64_t>(e->list.size()));
  }
  if (name == "LRANGE" || name == "LLEN") {
    bool wrong = false;
    Entry* e = find(argv[1], Kind::kList, &wrong);
    if (wrong) {
      return RedisReply::Error(kWrongType);
    }
    const int64_t size = e != nullptr ? static_cast<int64_t>(e->list.size()) : 0;
    if (name == "LLEN") {
      return RedisReply::Integer(size);
    }
    int64_t start = 0;
    int64_t stop = 0;
    if (!absl::SimpleAtoi(argv[2], &start) || !absl::SimpleAtoi(argv[3], &stop)) {
      return RedisReply::Error(kNotInteger);
    }
    std::vector<RedisReply> out;
    int64_t from = 0;
    int64_t to = -1;
    if (e != nullptr && NormalizeRange(start, stop, size, &from, &to)) {
      for (int64_t i = from; i <= to; ++i) {
        out.push_back(RedisReply::String(e->list[i]));
      }
    }
    return RedisReply::Array(std::move(out));
  }
  if (name == "ZADD") {
    // ZADD key score member [score member ...] (no NX/XX/GT/LT/CH/INCR).
    if ((argc - 2) % 2 != 0) {
      return RedisReply::Error(kSyntax);
    }
    std::vector<std::pair<double, std::string>> pairs;
    for (size_t i = 2; i + 1 < argc; i += 2) {
      double score = 0;
      if (!ParseScore(argv[i], &score)) {
        return RedisReply::Error("ERR value is not a valid float");
      }
      pairs.emplace_back(score, argv[i + 1]);
    }
    Entry* e = get_or_create(argv[1], Kind::kZSet);
    if (e == nullptr) {
      return RedisReply::Error(kWrongType);
    }
    int64_t added = 0;
    for (const auto& [score, member] : pairs) {
      added += e->zset.insert_or_assign(member, score).second ? 1 : 0;
    }
    return RedisReply::Integer(added);
  }
  if (name == "ZRANGE") {
    // ZRANGE key start stop [WITHSCORES] (by rank only).
    bool with_scores = false;
    for (size_t i = 4; i < argc; ++i) {
      if (absl::AsciiStrToUpper(argv[i]) == "WITHSCORES") {
        with_scores = true;
      } else {
        return RedisReply::Error(kSyntax);
      }
    }
    int64_t start = 0;
    int64_t stop = 0;
    if (!absl::SimpleAtoi(argv[2], &start) || !absl::SimpleAtoi(argv[3], &stop)) {
      return RedisReply::Error(kNotInteger);
    }
    bool wrong = false;
    Entry* e = find(argv[1], Kind::kZSet, &wrong);
    if (wrong) {
      return RedisReply::Error(kWrongType);
    }
    std::vector<RedisReply> out;
    if (e != nullptr) {
      std::vector<std::pair<double, std::string>> sorted;
      for (const auto& [member, score] : e->zset) {
        sorted.emplace_back(score, member);
      }
      std::sort(sorted.begin(), sorted.end());
      int64_t from = 0;
      int64_t to = -1;
      if (NormalizeRange(start, stop, static_cast<int64_t>(sorted.size()), &from, &to)) {
        for (int64_t i = from; i <= to; ++i) {
          out.push_back(RedisReply::String(sorted[i].second));
          if (with_scores) {
            out.push_back(RedisReply::String(FormatScore(sorted[i].first)));
          }
        }
      }
    }
    return RedisReply::Array(std::move(out));
  }
  if (name == "ZREM" || name == "ZSCORE" || name == "ZCARD") {
    bool wrong = false;
    Entry* e = find(argv[1], Kind::kZSet, &wrong);
    if (wrong) {
      return RedisReply::Error(kWrongType);
    }
    if (name == "ZCARD") {
      return RedisReply::Integer(e != nullptr ? static_cast<int64_t>(e->zset.size()) : 0);
    }
    if (name == "ZSCORE") {
      if (e == nullptr || e->zset.count(argv[2]) == 0) {
        return RedisReply::Nil();
      }
      return RedisReply::String(FormatScore(e->zset.at(argv[2])));
    }
    int64_t n = 0;
    if (e != nullptr) {
      for (size_t i = 2; i < argc; ++i) {
        n += static_cast<int64_t>(e->zset.erase(argv[i]));
      }
      remove_if_empty(argv[1]);
    }
    return RedisReply::Integer(n);
  }
  if (name == "TYPE") {
    auto it = data_.find(argv[1]);
    if (it == data_.end()) {
      return RedisReply::Status("none");
    }
    switch (it->second.kind) {
      case Kind::kString:
        return RedisReply::Status("string");
      case Kind::kHash:
        return RedisReply::Status("hash");
      case Kind::kList:
        return RedisReply::Status("list");
      case Kind::kZSet:
        return RedisReply::Status("zset");
    }
  }
  if (name == "KEYS") {
    std::vector<RedisReply> out;
    for (const auto& [key, entry] : data_) {
      if (RedisGlobMatch(argv[1], key)) {
        out.push_back(RedisReply::String(key));
      }
    }
    return RedisReply::Array(std::move(out));
  }
  if (name == "SCAN") {
    // One pass returns everything: the next cursor is always "0".
    uint64_t cursor = 0;
    if (!absl::SimpleAtoi(argv[1], &cursor)) {
      return RedisReply::Error("ERR invalid cursor");
    }
    std::string pattern = "*";
    for (size_t i = 2; i < argc; i += 2) {
      const std::string opt = absl::AsciiStrToUpper(argv[i]);
      if (i + 1 >= argc) {
        return RedisReply::Error(kSyntax);
      }
      if (opt == "MATCH") {
        pattern = argv[i + 1];
      } else if (opt == "COUNT") {
        int64_t count = 0;
        if (!absl::SimpleAtoi(argv[i + 1], &count)) {
          return RedisReply::Error(kNotInteger);
        }
        if (count < 1) {
          return RedisReply::Error(kSyntax);
        }
      } else {
        return RedisReply::Error(kSyntax);
      }
    }
    std::vector<RedisReply> keys;
    if (cursor == 0) {
      for (const auto& [key, entry] : data_) {
        if (RedisGlobMatch(pattern, key)) {
          keys.push_back(RedisReply::String(key));
        }
      }
    }
    return RedisReply::Array({RedisReply::String("0"), RedisReply::Array(std::move(keys))});
  }
  if (name == "DBSIZE") {
    return RedisReply::Integer(static_cast<int64_t>(data_.size()));
  }
  if (name == "FLUSHALL" || name == "FLUSHDB") {
    if (argc > 2 || (argc == 2 && absl::AsciiStrToUpper(argv[1]) != "ASYNC" &&
                     absl::AsciiStrToUpper(argv[1]) != "SYNC")) {
      return RedisReply::Error(kSyntax);
    }
    data_.clear();
    return RedisReply::Ok();
  }
  if (name == "PUBLISH") {
    if (unavailable_) {
      return RedisReply::Integer(0);
    }
    int64_t receivers = 0;
    for (const auto& s : hub_->Snapshot()) {
      if (std::find(s->channels.begin(), s->channels.end(), argv[1]) != s->channels.end()) {
        ++receivers;
        s->Enqueue([s = s.get(), channel = argv[1], message = argv[2]] {
          s->callbacks.on_message(channel, message);
        });
      }
    }
    return RedisReply::Integer(receivers);
  }
  if (name == "EXPIRE" || name == "PEXPIRE") {
    int64_t t = 0;
    if (!absl::SimpleAtoi(argv[2], &t)) {
      return RedisReply::Error(kNotInteger);
    }
    // Expiry is not simulated.
    return RedisReply::Integer(static_cast<int64_t>(data_.count(argv[1])));
  }
  if (name == "PERSIST") {
    return RedisReply::Integer(0);
  }
  if (name == "TTL" || name == "PTTL") {
    return RedisReply::Integer(data_.count(argv[1]) > 0 ? -1 : -2);
  }
  return RedisReply::Error(absl::StrCat("ERR unknown command '", argv[0], "'"));
}

}  // namespace halfsky
