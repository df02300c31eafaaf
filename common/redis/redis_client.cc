#include "common/redis/redis_client.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace halfsky {

namespace {

absl::Status UnexpectedReply(absl::string_view command, const RedisReply& reply) {
  return absl::FailedPreconditionError(
      absl::StrCat("redis: unexpected reply to ", command, ": ", reply.DebugString()));
}

// Commands that change the connection's protocol state; they would
// desynchronize the request/reply pairing this client relies on.
bool IsConnectionStateCommand(const std::string& name) {
  const std::string upper = absl::AsciiStrToUpper(name);
  return upper == "MULTI" || upper == "EXEC" || upper == "DISCARD" || upper == "WATCH" ||
         upper == "UNWATCH" || upper == "SUBSCRIBE" || upper == "PSUBSCRIBE" ||
         upper == "SSUBSCRIBE" || upper == "UNSUBSCRIBE" || upper == "PUNSUBSCRIBE" ||
         upper == "MONITOR" || upper == "SELECT" || upper == "AUTH" || upper == "QUIT" ||
         upper == "RESET" || upper == "HELLO";
}

}  // namespace

absl::Status CheckClientCommand(const std::vector<std::string>& argv) {
  if (argv.empty()) {
    return absl::InvalidArgumentError("redis: empty command");
  }
  if (IsConnectionStateCommand(argv[0])) {
    return absl::InvalidArgumentError(absl::StrCat(
        "redis: ", argv[0], " is managed by the client (use Transaction() or Subscribe())"));
  }
  return absl::OkStatus();
}

absl::Status RedisErrorToStatus(absl::string_view message) {
  // The first word of a Redis error is its kind ("ERR", "WRONGTYPE", ...).
  const absl::string_view kind = message.substr(0, message.find(' '));
  const std::string text = absl::StrCat("redis: ", message);
  for (absl::string_view transient :
       {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "READONLY"}) {
    if (kind == transient) {
      return absl::UnavailableError(text);
    }
  }
  if (kind == "ERR" && absl::StartsWithIgnoreCase(message, "ERR unknown command")) {
    return absl::UnimplementedError(text);
  }
  return absl::FailedPreconditionError(text);
}

bool RedisGlobMatch(absl::string_view pattern, absl::string_view text) {
  size_t p = 0;
  size_t t = 0;
  // Backtracking point for the most recent '*'.
  size_t star_p = absl::string_view::npos;
  size_t star_t = 0;
  while (t < text.size()) {
    bool advanced = false;
    if (p < pattern.size()) {
      const char c = pattern[p];
      if (c == '*') {
        star_p = p++;
        star_t = t;
        continue;
      }
      if (c == '?') {
        ++p;
        ++t;
        advanced = true;
      } else if (c == '[') {
        size_t q = p + 1;
        bool negate = false;
        if (q < pattern.size() && pattern[q] == '^') {
          negate = true;
          ++q;
        }
        bool matched = false;
        while (q < pattern.size() && pattern[q] != ']') {
          if (pattern[q] == '\\' && q + 1 < pattern.size()) {
            ++q;
            matched |= pattern[q] == text[t];
            ++q;
          } else if (q + 2 < pattern.size() && pattern[q + 1] == '-' && pattern[q + 2] != ']') {
            unsigned char lo = pattern[q];
            unsigned char hi = pattern[q + 2];
            if (lo > hi) {
              std::swap(lo, hi);
            }
            const unsigned char ch = text[t];
            matched |= ch >= lo && ch <= hi;
            q += 3;
          } else {
            matched |= pattern[q] == text[t];
            ++q;
          }
        }
        if (negate) {
          matched = !matched;
        }
        if (matched) {
          p = q < pattern.size() ? q + 1 : q;  // past ']'
          ++t;
          advanced = true;
        }
      } else if (c == '\\' && p + 1 < pattern.size()) {
        if (pattern[p + 1] == text[t]) {
          p += 2;
          ++t;
          advanced = true;
        }
      } else if (c == text[t]) {
        ++p;
        ++t;
        advanced = true;
      }
    }
    if (!advanced) {
      if (star_p == absl::string_view::npos) {
        return false;
      }
      p = star_p + 1;
      t = ++star_t;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

absl::Status RedisClient::Ping() {
  absl::StatusOr<RedisReply> reply = Command({"PING"});
  if (!reply.ok()) {
    return reply.status();
  }
  if (!reply->is_status() || reply->str() != "PONG") {
    return UnexpectedReply("PING", *reply);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> RedisClient::Get(absl::string_view key) {
  absl::StatusOr<RedisReply> reply = Command({"GET", std::string(key)});
  if (!reply.ok()) {
    return reply.status();
  }
  return reply->AsOptionalString();
}

absl::Status RedisClient::Set(absl::string_view key, absl::string_view value, absl::Duration ttl) {
  std::vector<std::string> argv = {"SET", std::string(key), std::string(value)};
  if (ttl != absl::InfiniteDuration()) {
    const int64_t ms = absl::ToInt64Milliseconds(ttl);
    if (ms <= 0) {
      return absl::InvalidArgumentError("redis: SET ttl must be at least 1 ms");
    }
    argv.push_back("PX");
    argv.push_back(absl::StrCat(ms));
  }
  absl::StatusOr<RedisReply> reply = Command(argv);
  if (!reply.ok()) {
    return reply.status();
  }
  if (!reply->is_status()) {
    return UnexpectedReply("SET", *reply);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::optional<std::string>>> RedisClient::MGet(
    const std::vector<std::string>& keys) {
  if (keys.empty()) {
    return std::vector<std::optional<std::string>>();
  }
  std::vector<std::string> argv = {"MGET"};
  argv.insert(argv.end(), keys.begin(), keys.end());
  absl::StatusOr<RedisReply> reply = Command(argv);
  if (!reply.ok()) {
    return reply.status();
  }
  return reply->AsOptionalStringArray();
}

absl::StatusOr<int64_t> RedisClient::Del(const std::vector<std::string>& keys) {
  if (keys.empty()) {
    return 0;
  }
  std::vector<std::string> argv = {"DEL"};
  argv.insert(argv.end(), keys.begin(), keys.end());
  absl::StatusOr<RedisReply> reply = Command(argv);
  if (!reply.ok()) {
    return reply.status();
  }
  if (!reply->is_integer()) {
    return UnexpectedReply("DEL", *reply);
  }
  return reply->integer();
}

absl::StatusOr<bool> RedisClient::Exists(absl::string_view key) {
  absl::StatusOr<RedisReply> reply = Command({"EXISTS", std::string(key)});
  if (!reply.ok()) {
    return reply.status();
  }
  if (!reply->is_integer()) {
    return UnexpectedReply("EXISTS", *reply);
  }
  return reply->integer() > 0;
}

absl::StatusOr<int64_t> RedisClient::IncrBy(absl::string_view key, int64_t delta) {
  absl::StatusOr<RedisReply> reply = Command({"INCRBY", std::string(key), absl::StrCat(delta)});
  if (!reply.ok()) {
    return reply.status();
  }
  if (!reply->is_integer()) {
    return UnexpectedReply("INCRBY", *reply);
  }
  return reply->integer();
}

absl::StatusOr<int64_t> RedisClient::HSet(
    absl::string_view key, const std::vector<std::pair<std::string, std::string>>& fields) {
  if (fields.empty()) {
    return absl::InvalidArgumentError("redis: HSET needs at least one field");
  }
  std::vector<std::string> argv = {"HSET", std::string(key)};
  for (const auto& [field, value] : fields) {
    argv.push_back(field);
    argv.push_back(value);
  }
  absl::StatusOr<RedisReply> reply = Command(argv);
  if (!reply.ok()) {
    return reply.status();
  }
  if (!reply->is_integer()) {
    return UnexpectedReply("HSET", *reply);
  }
  return reply->integer();
}

absl::StatusOr<std::optional<std::string>> RedisClient::HGet(absl::string_view key,
                                                             absl::string_view field) {
  absl::StatusOr<RedisReply> reply = Command({"HGET", std::string(key), std::string(field)});
  if (!reply.ok()) {
    return reply.status();
  }
  return reply->AsOptionalString();
}

absl::StatusOr<std::map<std::string, std::string>> RedisClient::HGetAll(absl::string_view key) {
  absl::StatusOr<RedisReply> reply = Command({"HGETALL", std::string(key)});
  if (!reply.ok()) {
    return reply.status();
  }
  absl::StatusOr<std::vector<std::string>> flat = reply->AsStringArray();
  if (!flat.ok() || flat->size() % 2 != 0) {
    return UnexpectedReply("HGETALL", *reply);
  }
  std::map<std::string, std::string> out;
  for (size_t i = 0; i + 1 < flat->size(); i += 2) {
    out[(*flat)[i]] = (*flat)[i + 1];
  }
  return out;
}

absl::StatusOr<int64_t> RedisClient::Publish(absl::string_view channel, absl::string_view message) {
  absl::StatusOr<RedisReply> reply =
      Command({"PUBLISH", std::string(channel), std::string(message)});
  if (!reply.ok()) {
    return reply.status();
  }
  if (!reply->is_integer()) {
    return UnexpectedReply("PUBLISH", *reply);
  }
  return reply->integer();
}

absl::StatusOr<std::vector<std::string>> RedisClient::ScanKeys(absl::string_view pattern) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    absl::StatusOr<RedisReply> reply =
        Command({"SCAN", cursor, "MATCH", std::string(pattern), "COUNT", "1000"});
    if (!reply.ok()) {
      return reply.status();
    }
    if (!reply->is_array() || reply->elements().size() != 2 || !reply->elements()[0].is_string()) {
      return UnexpectedReply("SCAN", *reply);
    }
    absl::StatusOr<std::vector<std::string>> batch = reply->elements()[1].AsStringArray();
    if (!batch.ok()) {
      return UnexpectedReply("SCAN", *reply);
    }
    keys.insert(keys.end(), batch->begin(), batch->end());
    cursor = reply->elements()[0].str();
  } while (cursor != "0");
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace halfsky
