#include "common/auth/credentials.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/auth/file_util.h"

namespace halfsky::auth {

namespace {

class BearerTokenPlugin final : public grpc::MetadataCredentialsPlugin {
 public:
  explicit BearerTokenPlugin(std::string token) : header_(absl::StrCat("Bearer ", token)) {}

  bool IsBlocking() const override { return false; }
  const char* GetType() const override { return "halfsky.bearer"; }

  grpc::Status GetMetadata(grpc::string_ref /*service_url*/, grpc::string_ref /*method_name*/,
                           const grpc::AuthContext& /*channel_auth_context*/,
                           std::multimap<grpc::string, grpc::string>* metadata) override {
    metadata->insert(std::make_pair("authorization", header_));
    return grpc::Status::OK;
  }

  grpc::string DebugString() override { return "halfsky bearer token (redacted)"; }

 private:
  const std::string header_;
};

}  // namespace

void AddBearerToken(grpc::ClientContext* context, absl::string_view token) {
  if (token.empty()) {
    return;
  }
  context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
}

std::shared_ptr<grpc::CallCredentials> BearerTokenCredentials(const std::string& token) {
  return grpc::MetadataCredentialsFromPlugin(std::make_unique<BearerTokenPlugin>(token));
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  if (path.empty()) {
    return std::string();
  }
  absl::StatusOr<std::string> content = ReadTokenFileBytes(path);
  if (!content.ok()) {
    return content.status();
  }
  return std::string(absl::StripAsciiWhitespace(*content));
}

}  // namespace halfsky::auth
