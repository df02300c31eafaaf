#include "common/auth/token_store.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/file_util.h"
#include "common/auth/roles.h"

namespace halfsky::auth {

namespace {

bool IsHex64(absl::string_view s) {
  if (s.size() != 64) {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

bool IsValidName(absl::string_view s) {
  if (s.empty() || s.size() > 128) {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '@' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

absl::Status LineError(absl::string_view source, int line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(source, ":", line, ": ", message));
}

}  // namespace

std::string HashToken(absl::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::StatusOr<TokenStore> TokenStore::FromString(absl::string_view content,
                                                  absl::string_view source) {
  TokenStore store;
  absl::flat_hash_map<std::string, int> hash_line;
  // name → (roles as written, first line)
  absl::flat_hash_map<std::string, std::pair<std::string, int>> name_roles;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    const absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed.front() == '#') {
      continue;
    }
    std::vector<absl::string_view> fields =
        absl::StrSplit(trimmed, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 3) {
      return LineError(source, line_number,
                       absl::StrCat("expected 3 fields \"SHA256HEX NAME ROLE[,ROLE...]\", found ",
                                    fields.size()));
    }
    if (!IsHex64(fields[0])) {
      return LineError(source, line_number,
                       "first field must be the token's hex SHA-256 (64 hex digits), never the "
                       "token itself");
    }
    const std::string hash = absl::AsciiStrToLower(fields[0]);
    if (!IsValidName(fields[1])) {
      return LineError(source, line_number,
                       absl::StrCat("principal name \"", absl::CHexEscape(fields[1]),
                                    "\" must be 1-128 of [A-Za-z0-9._@-]"));
    }
    const std::string name(fields[1]);
    halfsky::v1::Principal principal;
    principal.set_name(name);
    std::set<std::string> seen;
    for (absl::string_view text : absl::StrSplit(fields[2], ',')) {
      absl::StatusOr<halfsky::v1::Role> role = ParseRole(text);
      if (!role.ok()) {
        return LineError(source, line_number, role.status().message());
      }
      if (!seen.insert(std::string(text)).second) {
        return LineError(source, line_number, absl::StrCat("role \"", text, "\" listed twice"));
      }
      *principal.add_roles() = *std::move(role);
    }
    auto [it, inserted] = hash_line.try_emplace(hash, line_number);
    if (!inserted) {
      return LineError(source, line_number,
                       absl::StrCat("the same token hash is already on line ", it->second));
    }
    const std::string canonical_roles = absl::StrJoin(seen, ",");
    auto [named, new_name] = name_roles.try_emplace(name, canonical_roles, line_number);
    if (!new_name && named->second.first != canonical_roles) {
      return LineError(source, line_number,
                       absl::StrCat("principal \"", name, "\" has different roles on line ",
                                    named->second.second));
    }
    store.by_hash_.emplace(hash, std::move(principal));
  }
  if (store.by_hash_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source,
                     ": defines no principal (leave --tokens_file empty to run without "
                     "authentication)"));
  }
  return store;
}

absl::StatusOr<TokenStore> TokenStore::FromFile(const std::string& path) {
  absl::StatusOr<std::string> content = ReadTokenFileBytes(path);
  if (!content.ok()) {
    return content.status();
  }
  return FromString(*content, path);
}

absl::StatusOr<halfsky::v1::Principal> TokenStore::Authenticate(
    absl::string_view bearer_token) const {
  if (bearer_token.empty()) {
    return absl::UnauthenticatedError("令牌为空 / empty bearer token");
  }
  auto it = by_hash_.find(HashToken(bearer_token));
  if (it == by_hash_.end()) {
    return absl::UnauthenticatedError("令牌无效或已吊销 / unknown or revoked bearer token");
  }
  return it->second;
}

std::vector<std::string> TokenStore::PrincipalNames() const {
  std::set<std::string> names;
  for (const auto& [hash, principal] : by_hash_) {
    names.insert(principal.name());
  }
  return std::vector<std::string>(names.begin(), names.end());
}

std::vector<std::string> TokenStore::UnitCodes() const {
  std::set<std::string> codes;
  for (const auto& [hash, principal] : by_hash_) {
    for (const auto& role : principal.roles()) {
      if (role.kind() == halfsky::v1::ROLE_KIND_UNIT) {
        codes.insert(role.unit_code());
      }
    }
  }
  return std::vector<std::string>(codes.begin(), codes.end());
}

absl::Status TokenStore::CheckUnitCodes(
    const std::function<bool(absl::string_view)>& is_known) const {
  std::map<std::string, std::string> unknown;  // code → a principal holding it
  for (const auto& [hash, principal] : by_hash_) {
    for (const auto& role : principal.roles()) {
      if (role.kind() == halfsky::v1::ROLE_KIND_UNIT && !is_known(role.unit_code())) {
        auto [it, inserted] = unknown.try_emplace(role.unit_code(), principal.name());
        if (!inserted && principal.name() < it->second) {
          it->second = principal.name();
        }
      }
    }
  }
  if (unknown.empty()) {
    return absl::OkStatus();
  }
  std::vector<std::string> parts;
  for (const auto& [code, name] : unknown) {
    parts.push_back(absl::StrCat("unit:", code, " (principal \"", name, "\")"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("令牌文件中的成员单位不在指标目录中 / token file names member units missing "
                   "from the catalog: ",
                   absl::StrJoin(parts, ", ")));
}

}  // namespace halfsky::auth
