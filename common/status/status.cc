#include "common/status/status.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/text/utf8.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace halfsky {

absl::Status InvalidArgumentError(absl::string_view message,
                                  const std::vector<FieldViolation>& violations) {
  absl::Status status = absl::InvalidArgumentError(message);
  google::rpc::BadRequest bad_request;
  for (const FieldViolation& v : violations) {
    auto* fv = bad_request.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
  }
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

std::vector<FieldViolation> BadRequestViolations(const absl::Status& status) {
  std::vector<FieldViolation> out;
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  if (!payload.has_value()) {
    return out;
  }
  google::rpc::BadRequest bad_request;
  if (!bad_request.ParseFromString(std::string(*payload))) {
    return out;
  }
  for (const auto& fv : bad_request.field_violations()) {
    out.push_back({fv.field(), fv.description()});
  }
  return out;
}

absl::Status WithReason(absl::Status status, absl::string_view reason) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain("halfsky");
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

std::string ErrorReason(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoTypeUrl);
  if (!payload.has_value()) {
    return "";
  }
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) {
    return "";
  }
  return info.reason();
}

std::string TruncateUtf8(absl::string_view s, size_t max_bytes) {
  static constexpr absl::string_view kEllipsis = "…";
  std::string out;
  const bool cut = s.size() > max_bytes;
  const size_t budget =
      cut ? (max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0) : max_bytes;
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = i;
    const int32_t cp = NextCodePoint(s, &i);
    const absl::string_view piece = cp < 0 ? absl::string_view("?") : s.substr(start, i - start);
    if (out.size() + piece.size() > budget) {
      break;
    }
    out.append(piece.data(), piece.size());
  }
  if (cut || i < s.size()) {
    out.append(kEllipsis.data(), kEllipsis.size());
  }
  return out;
}

namespace {

constexpr size_t kMaxOtherPayloadBytes = 1024;

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) {
    return grpc::Status::OK;
  }
  const auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message = TruncateUtf8(status.message(), kMaxStatusMessageBytes);
  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  google::rpc::BadRequest bounded;
  int total_violations = 0;
  bool has_bad_request = false;
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    if (type_url == kBadRequestTypeUrl) {
      google::rpc::BadRequest full;
      if (full.ParseFromString(std::string(payload))) {
        has_bad_request = true;
        total_violations = full.field_violations_size();
        for (int i = 0; i < full.field_violations_size() && i < kMaxFieldViolations; ++i) {
          auto* fv = bounded.add_field_violations();
          fv->set_field(TruncateUtf8(full.field_violations(i).field(), kMaxViolationFieldBytes));
          fv->set_description(
              TruncateUtf8(full.field_violations(i).description(), kMaxViolationDescriptionBytes));
        }
      }
      return;
    }
    if (payload.size() > kMaxOtherPayloadBytes) {
      return;
    }
    google::protobuf::Any* any = rpc_status.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  if (has_bad_request) {
    // Drop violations from the end until the whole detail fits.
    const size_t others = rpc_status.ByteSizeLong();
    auto note = [&](int listed) {
      return listed == total_violations
                 ? std::string()
                 : absl::StrCat("（仅列出前", listed, "处，共", total_violations, "处） / (first ",
                                listed, " of ", total_violations, " violations listed)");
    };
    while (bounded.field_violations_size() > 0 &&
           others + bounded.ByteSizeLong() + message.size() +
                   note(bounded.field_violations_size()).size() + 32 >
               kMaxStatusDetailsBytes) {
      bounded.mutable_field_violations()->RemoveLast();
    }
    message += note(bounded.field_violations_size());
    google::protobuf::Any* any = rpc_status.add_details();
    any->set_type_url(kBadRequestTypeUrl);
    any->set_value(bounded.SerializeAsString());
  }
  rpc_status.set_message(message);
  if (rpc_status.details_size() == 0) {
    return grpc::Status(code, message);
  }
  return grpc::Status(code, message, rpc_status.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  if (!status.error_details().empty()) {
    google::rpc::Status rpc_status;
    if (rpc_status.ParseFromString(status.error_details())) {
      for (const auto& any : rpc_status.details()) {
        out.SetPayload(any.type_url(), absl::Cord(any.value()));
      }
    }
  }
  return out;
}

}  // namespace halfsky
