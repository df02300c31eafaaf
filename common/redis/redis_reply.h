#ifndef HALFSKY_COMMON_REDIS_REDIS_REPLY_H_
#define HALFSKY_COMMON_REDIS_REDIS_REPLY_H_

// An owned copy of one Redis (RESP2) reply. Replies are copied out of
// hiredis' redisReply tree as soon as they arrive, so no hiredis memory ever
// escapes the client. Values are binary-safe std::strings.
//
// Thread-compatible value type (copyable, movable).

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace halfsky {

class RedisReply {
 public:
  enum class Type {
    kNil,      // "$-1" / "*-1": a missing key, an aborted EXEC
    kStatus,   // "+OK", "+QUEUED", "+PONG"
    kError,    // "-ERR ...", "-WRONGTYPE ..."
    kInteger,  // ":42"
    kString,   // "$n": a bulk string, may contain NUL bytes
    kArray,    // "*n": nested replies
  };

  // A nil reply.
  RedisReply() = default;

  static RedisReply Nil() { return RedisReply(); }
  static RedisReply Status(std::string status);
  static RedisReply Error(std::string message);
  static RedisReply Integer(int64_t value);
  static RedisReply String(std::string value);
  static RedisReply Array(std::vector<RedisReply> elements);
  // "+OK".
  static RedisReply Ok() { return Status("OK"); }

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::kNil; }
  bool is_status() const { return type_ == Type::kStatus; }
  bool is_error() const { return type_ == Type::kError; }
  bool is_integer() const { return type_ == Type::kInteger; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }

  // The text of a status or error reply, or the bytes of a string reply;
  // "" for other types.
  const std::string& str() const { return str_; }
  // The value of an integer reply; 0 for other types.
  int64_t integer() const { return integer_; }
  // The elements of an array reply; empty for other types.
  const std::vector<RedisReply>& elements() const { return elements_; }

  // Typed views. Each returns FAILED_PRECONDITION naming the actual type
  // when the reply is not of the expected shape.
  //
  // A string (or status) reply's bytes; nil → std::nullopt.
  absl::StatusOr<std::optional<std::string>> AsOptionalString() const;
  // An integer reply, or a string reply holding a decimal integer (what
  // GET returns for a counter).
  absl::StatusOr<int64_t> AsInteger() const;
  // An array of strings/nils (MGET, HGETALL, KEYS ...); nil elements
  // become std::nullopt.
  absl::StatusOr<std::vector<std::optional<std::string>>> AsOptionalStringArray() const;
  // An array of strings; a nil element is an error.
  absl::StatusOr<std::vector<std::string>> AsStringArray() const;

  // A short human-readable rendering for logs and test failures, e.g.
  // `["a", nil, 3]`. Non-printable bytes are escaped.
  std::string DebugString() const;

  friend bool operator==(const RedisReply& a, const RedisReply& b);
  friend bool operator!=(const RedisReply& a, const RedisReply& b) { return !(a == b); }

 private:
  Type type_ = Type::kNil;
  std::string str_;
  int64_t integer_ = 0;
  std::vector<RedisReply> elements_;
};

// "nil", "status", "error", "integer", "string", "array".
const char* RedisReplyTypeName(RedisReply::Type type);

// For GoogleTest and absl::StrCat-free logging.
std::ostream& operator<<(std::ostream& os, const RedisReply& reply);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_REDIS_REDIS_REPLY_H_
