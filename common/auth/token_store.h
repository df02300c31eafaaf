#ifndef HALFSKY_COMMON_AUTH_TOKEN_STORE_H_
#define HALFSKY_COMMON_AUTH_TOKEN_STORE_H_

// Bearer tokens → principals. Only SHA-256 hashes of tokens are stored
// (in the token file, a Kubernetes Secret, memory); a leaked token file does
// not leak tokens.
//
// Token file format (see deploy/local/tokens.example):
//
//   # comment
//   SHA256HEX  NAME  ROLE[,ROLE...]
//
//   - one principal token per line; fields separated by spaces or tabs;
//     blank lines and lines starting with '#' (after optional whitespace)
//     are ignored; a '#' elsewhere is not a comment;
//   - SHA256HEX: the lowercase or uppercase hex SHA-256 (64 digits) of the
//     token's bytes, e.g. from `halfskyctl token hash` or
//     `printf %s "$TOKEN" | sha256sum`;
//   - NAME: the principal's stable name, [A-Za-z0-9._@-]{1,128} (recorded
//     as "submitted by" on every revision);
//   - ROLE: unit:<CODE> (CODE = a member unit code, [A-Za-z0-9_.-]+),
//     statistics, assessment or admin; comma-separated, no spaces, no
//     duplicates.
//   - The same NAME may appear on several lines (several tokens for one
//     principal, e.g. while rotating) but then with the same roles.
//   - Parsing is strict: any malformed line, unknown role, duplicate hash,
//     or a file with no principal at all is an INVALID_ARGUMENT error
//     naming "file:line".
//
// Thread-safety: a TokenStore is immutable after construction; const
// methods are thread-safe.

#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::auth {

// Lowercase hex SHA-256 of `token` (64 characters).
std::string HashToken(absl::string_view token);

class TokenStore {
 public:
  // Parses token-file `content`; `source` names it in errors ("tokens.txt").
  static absl::StatusOr<TokenStore> FromString(absl::string_view content,
                                               absl::string_view source = "<tokens>");
  // Reads and parses the file at `path`. NOT_FOUND / PERMISSION_DENIED if
  // it cannot be read (the message names the path), else as FromString.
  static absl::StatusOr<TokenStore> FromFile(const std::string& path);

  // The principal whose token hashes to HashToken(bearer_token).
  // UNAUTHENTICATED for an empty or unknown token; the message never
  // contains the token.
  absl::StatusOr<halfsky::v1::Principal> Authenticate(absl::string_view bearer_token) const;

  // Number of token lines (hashes) loaded.
  size_t size() const { return by_hash_.size(); }
  // Every distinct principal name, sorted.
  std::vector<std::string> PrincipalNames() const;
  // Every unit code named by a unit:<code> role, sorted, without
  // duplicates (for checking against the catalog's member units).
  std::vector<std::string> UnitCodes() const;
  // OK if `is_known` accepts every unit code of every unit:<code> role;
  // otherwise FAILED_PRECONDITION naming each unknown code and a principal
  // holding it. Services call it at start-up with the catalog's member
  // units (CatalogIndex::FindMemberUnit), so a typo in a role is a start-up
  // error instead of a unit that can never submit.
  absl::Status CheckUnitCodes(const std::function<bool(absl::string_view)>& is_known) const;

 private:
  TokenStore() = default;
  absl::flat_hash_map<std::string, halfsky::v1::Principal> by_hash_;
};

}  // namespace halfsky::auth

#endif  // HALFSKY_COMMON_AUTH_TOKEN_STORE_H_
