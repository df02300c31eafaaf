#include "common/redis/redis_reply.h"

#include <ostream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace halfsky {

RedisReply RedisReply::Status(std::string status) {
  RedisReply r;
  r.type_ = Type::kStatus;
  r.str_ = std::move(status);
  return r;
}

RedisReply RedisReply::Error(std::string message) {
  RedisReply r;
  r.type_ = Type::kError;
  r.str_ = std::move(message);
  return r;
}

RedisReply RedisReply::Integer(int64_t value) {
  RedisReply r;
  r.type_ = Type::kInteger;
  r.integer_ = value;
  return r;
}

RedisReply RedisReply::String(std::string value) {
  RedisReply r;
  r.type_ = Type::kString;
  r.str_ = std::move(value);
  return r;
}

RedisReply RedisReply::Array(std::vector<RedisReply> elements) {
  RedisReply r;
  r.type_ = Type::kArray;
  r.elements_ = std::move(elements);
  return r;
}

const char* RedisReplyTypeName(RedisReply::Type type) {
  switch (type) {
    case RedisReply::Type::kNil:
      return "nil";
    case RedisReply::Type::kStatus:
      return "status";
    case RedisReply::Type::kError:
      return "error";
    case RedisReply::Type::kInteger:
      return "integer";
    case RedisReply::Type::kString:
      return "string";
    case RedisReply::Type::kArray:
      return "array";
  }
  return "unknown";
}

namespace {

absl::Status WrongType(const RedisReply& reply, absl::string_view wanted) {
  return absl::FailedPreconditionError(
      absl::StrCat("redis: expected ", wanted, " reply, got ", reply.DebugString()));
}

}  // namespace

absl::StatusOr<std::optional<std::string>> RedisReply::AsOptionalString() const {
  switch (type_) {
    case Type::kNil:
      return std::optional<std::string>();
    case Type::kString:
    case Type::kStatus:
      return std::optional<std::string>(str_);
    default:
      return WrongType(*this, "string");
  }
}

absl::StatusOr<int64_t> RedisReply::AsInteger() const {
  if (type_ == Type::kInteger) {
    return integer_;
  }
  int64_t value = 0;
  if (type_ == Type::kString && absl::SimpleAtoi(str_, &value)) {
    return value;
  }
  return WrongType(*this, "integer");
}

absl::StatusOr<std::vector<std::optional<std::string>>> RedisReply::AsOptionalStringArray() const {
  if (type_ != Type::kArray) {
    return WrongType(*this, "array");
  }
  std::vector<std::optional<std::string>> out;
  out.reserve(elements_.size());
  for (const RedisReply& e : elements_) {
    if (e.is_nil()) {
      out.emplace_back();
    } else if (e.is_string() || e.is_status()) {
      out.emplace_back(e.str());
    } else {
      return WrongType(*this, "array of strings");
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> RedisReply::AsStringArray() const {
  if (type_ != Type::kArray) {
    return WrongType(*this, "array");
  }
  std::vector<std::string> out;
  out.reserve(elements_.size());
  for (const RedisReply& e : elements_) {
    if (!e.is_string() && !e.is_status()) {
      return WrongType(*this, "array of strings");
    }
    out.push_back(e.str());
  }
  return out;
}

std::string RedisReply::DebugString() const {
  switch (type_) {
    case Type::kNil:
      return "nil";
    case Type::kStatus:
      return absl::StrCat("+", absl::CHexEscape(str_));
    case Type::kError:
      return absl::StrCat("(error) ", absl::CHexEscape(str_));
    case Type::kInteger:
      return absl::StrCat(integer_);
    case Type::kString:
      return absl::StrCat("\"", absl::CHexEscape(str_), "\"");
    case Type::kArray:
      return absl::StrCat("[",
                          absl::StrJoin(elements_, ", ",
                                        [](std::string* out, const RedisReply& e) {
                                          absl::StrAppend(out, e.DebugString());
                                        }),
                          "]");
  }
  return "?";
}

bool operator==(const RedisReply& a, const RedisReply& b) {
  return a.type_ == b.type_ && a.str_ == b.str_ && a.integer_ == b.integer_ &&
         a.elements_ == b.elements_;
}

std::ostream& operator<<(std::ostream& os, const RedisReply& reply) {
  return os << reply.DebugString();
}

}  // namespace halfsky
