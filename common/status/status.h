#ifndef HALFSKY_COMMON_STATUS_STATUS_H_
#define HALFSKY_COMMON_STATUS_STATUS_H_

// The one conversion between absl::Status (what every library returns) and
// grpc::Status (what an RPC answers), carrying google.rpc error details.
//
// Details travel as absl::Status payloads keyed by their type URL
// ("type.googleapis.com/google.rpc.BadRequest"), and as the
// grpc-status-details-bin trailer (a serialized google.rpc.Status) on the
// wire. Both directions keep every payload. Thread-safe (pure functions).

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace halfsky {

struct FieldViolation {
  // Path of the bad field, e.g. "data_values[3].key.year".
  std::string field;
  // Chinese first, English beside it: "年份超出2020—2030 / year outside 2020–2030".
  std::string description;
};

inline constexpr char kBadRequestTypeUrl[] = "type.googleapis.com/google.rpc.BadRequest";
inline constexpr char kErrorInfoTypeUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";

// INVALID_ARGUMENT with a google.rpc.BadRequest detail listing `violations`.
absl::Status InvalidArgumentError(absl::string_view message,
                                  const std::vector<FieldViolation>& violations);

// The BadRequest violations attached to `status` (empty if none).
std::vector<FieldViolation> BadRequestViolations(const absl::Status& status);

// Attaches a google.rpc.ErrorInfo(reason, domain "halfsky") to `status`.
absl::Status WithReason(absl::Status status, absl::string_view reason);
// The ErrorInfo reason of `status`, or "" if none.
std::string ErrorReason(const absl::Status& status);

// What ToGrpcStatus puts on the wire is bounded, so that an error always
// reaches the caller: gRPC sends a status as trailers (grpc-message,
// percent-encoded, so a non-ASCII byte takes 3; grpc-status-details-bin,
// base64, 4/3), and a peer refuses headers over its metadata limit (8 KiB
// by default in gRPC 1.51) with "received initial metadata size exceeds
// limit", or hangs. With these bounds the two trailers stay under
// (512 + ~100 for the note)·3 + 3 072·4/3 ≈ 5.9 KiB.
inline constexpr size_t kMaxStatusMessageBytes = 512;   // before the "first N of M" note
inline constexpr size_t kMaxStatusDetailsBytes = 3072;  // serialized google.rpc.Status
inline constexpr int kMaxFieldViolations = 20;          // listed in BadRequest
inline constexpr size_t kMaxViolationFieldBytes = 128;
inline constexpr size_t kMaxViolationDescriptionBytes = 256;

// `s` cut to at most `max_bytes` at a UTF-8 character boundary, with "…"
// (counted in the bound) when cut. Invalid UTF-8 bytes are replaced by '?'.
std::string TruncateUtf8(absl::string_view s, size_t max_bytes);

// absl → grpc: same code; the message truncated to kMaxStatusMessageBytes;
// payloads become google.rpc.Status details. A BadRequest keeps its first
// violations (at most kMaxFieldViolations, fewer if the details would pass
// kMaxStatusDetailsBytes), each field and description truncated, and the
// message then ends with "（仅列出前N处，共M处） / (first N of M violations
// listed)". Another payload larger than 1 KiB is dropped. OK maps to OK.
grpc::Status ToGrpcStatus(const absl::Status& status);

// grpc → absl: same code and message; details become payloads.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace halfsky

// Evaluates `expr` (an absl::Status); returns it from the enclosing function
// if not OK.
#define HALFSKY_RETURN_IF_ERROR(expr)        \
  do {                                       \
    ::absl::Status halfsky_status_ = (expr); \
    if (!halfsky_status_.ok()) {             \
      return halfsky_status_;                \
    }                                        \
  } while (false)

#define HALFSKY_CONCAT_INNER_(a, b) a##b
#define HALFSKY_CONCAT_(a, b) HALFSKY_CONCAT_INNER_(a, b)
#define HALFSKY_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) {                                     \
    return tmp.status();                               \
  }                                                    \
  lhs = std::move(tmp).value()

// `lhs = value of expr` (an absl::StatusOr<T>), or returns its error.
#define HALFSKY_ASSIGN_OR_RETURN(lhs, expr) \
  HALFSKY_ASSIGN_OR_RETURN_IMPL_(HALFSKY_CONCAT_(halfsky_statusor_, __LINE__), lhs, expr)

#endif  // HALFSKY_COMMON_STATUS_STATUS_H_
