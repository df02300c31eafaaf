#include "common/auth/authenticator.h"

#include <atomic>
#include <iostream>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, tokens_file, "",
          "Bearer token file (lines \"SHA256HEX NAME ROLE[,ROLE...]\", see "
          "deploy/local/tokens.example). Empty: NO authentication, every caller is an "
          "anonymous admin (local development only).");

ABSL_FLAG(double, rate_limit_per_second, 50,
          "Calls a second each authenticated principal may make, sustained (token bucket; "
          "service principals are not limited). 0 turns the limit off. Over it a call answers "
          "RESOURCE_EXHAUSTED with google.rpc.RetryInfo.");
ABSL_FLAG(double, rate_limit_burst, 200,
          "Calls a principal may make back to back after being idle (the bucket's size).");

namespace halfsky::auth {

namespace {

constexpr char kMissing[] =
    "缺少身份凭证：请在 authorization 元数据中提供 \"Bearer <令牌>\" / missing credentials: "
    "send metadata \"authorization: Bearer <token>\"";
constexpr char kMalformed[] =
    "身份凭证格式错误：应为 \"authorization: Bearer <令牌>\" / malformed authorization metadata: "
    "expected \"Bearer <token>\"";

std::atomic<const Authenticator*> flags_authenticator{nullptr};

bool IsToken68Char(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '+' || c == '/';
}

}  // namespace

absl::StatusOr<std::string> ParseBearerHeader(absl::string_view value) {
  constexpr absl::string_view kScheme = "bearer";
  if (value.size() <= kScheme.size() || !absl::StartsWithIgnoreCase(value, kScheme) ||
      value[kScheme.size()] != ' ') {
    return absl::UnauthenticatedError(kMalformed);
  }
  absl::string_view token = value.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') {
    token.remove_prefix(1);
  }
  // token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  size_t i = 0;
  while (i < token.size() && IsToken68Char(token[i])) {
    ++i;
  }
  if (i == 0) {
    return absl::UnauthenticatedError(kMalformed);
  }
  while (i < token.size() && token[i] == '=') {
    ++i;
  }
  if (i != token.size()) {
    return absl::UnauthenticatedError(kMalformed);
  }
  return std::string(token);
}

Authenticator::Authenticator(bool enabled, std::shared_ptr<const TokenStore> store,
                             std::string path, AuthenticatorOptions options)
    : enabled_(enabled),
      path_(std::move(path)),
      options_(options),
      limiter_(enabled && options.rate_limit.per_second > 0
                   ? std::make_unique<RateLimiter>(options.rate_limit, options.clock)
                   : nullptr),
      store_(std::move(store)) {}

std::unique_ptr<Authenticator> Authenticator::WithTokens(TokenStore store, std::string path,
                                                         AuthenticatorOptions options) {
  return std::unique_ptr<Authenticator>(new Authenticator(
      true, std::make_shared<const TokenStore>(std::move(store)), std::move(path), options));
}

Authenticator::~Authenticator() {
  const Authenticator* self = this;
  flags_authenticator.compare_exchange_strong(self, nullptr);
}

std::unique_ptr<Authenticator> Authenticator::NoAuth() {
  return std::unique_ptr<Authenticator>(new Authenticator(false, nullptr, "", {}));
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::FromTokensFile(
    const std::string& path, AuthenticatorOptions options) {
  if (path.empty()) {
    std::cerr << "\n"
              << "**********************************************************************\n"
              << "* 警告：未配置 --tokens_file，身份认证已关闭，任何调用者都是管理员。   *\n"
              << "* WARNING: --tokens_file is empty: authentication is DISABLED and    *\n"
              << "* every caller is the anonymous admin. Local development only.       *\n"
              << "**********************************************************************\n"
              << std::endl;
    return NoAuth();
  }
  absl::StatusOr<TokenStore> store = TokenStore::FromFile(path);
  if (!store.ok()) {
    return store.status();
  }
  return WithTokens(*std::move(store), path, options);
}

absl::StatusOr<halfsky::v1::Principal> Authenticator::AuthenticateToken(
    absl::string_view token) const {
  if (!enabled_) {
    halfsky::v1::Principal anonymous;
    anonymous.set_name(kAnonymousPrincipal);
    anonymous.add_roles()->set_kind(halfsky::v1::ROLE_KIND_ADMIN);
    return anonymous;
  }
  std::shared_ptr<const TokenStore> store;
  uint64_t generation = 0;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (auto it = cache_.find(token); it != cache_.end()) {
      return it->second;
    }
    store = store_;
    generation = generation_;
  }
  absl::StatusOr<halfsky::v1::Principal> who = store->Authenticate(token);
  if (who.ok() && options_.cache_entries > 0) {
    absl::MutexLock lock(&mu_);
    if (generation == generation_) {  // not computed from tokens Reload() replaced
      if (cache_.size() >= options_.cache_entries) {
        cache_.clear();
      }
      cache_.emplace(std::string(token), *who);
    }
  }
  return who;
}

absl::StatusOr<halfsky::v1::Principal> Authenticator::AuthenticateMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const {
  if (!enabled_) {
    return AuthenticateToken("");
  }
  auto [begin, end] = metadata.equal_range("authorization");
  if (begin == end) {
    return absl::UnauthenticatedError(kMissing);
  }
  if (std::next(begin) != end) {
    return absl::UnauthenticatedError(kMalformed);
  }
  absl::StatusOr<std::string> token =
      ParseBearerHeader(absl::string_view(begin->second.data(), begin->second.size()));
  if (!token.ok()) {
    return token.status();
  }
  return AuthenticateToken(*token);
}

absl::StatusOr<halfsky::v1::Principal> Authenticator::AuthenticateCall(
    const grpc::ServerContextBase& context) const {
  absl::StatusOr<halfsky::v1::Principal> who = AuthenticateMetadata(context.client_metadata());
  if (!who.ok() || limiter_ == nullptr) {
    return who;
  }
  for (const halfsky::v1::Role& role : who->roles()) {
    if (role.kind() == halfsky::v1::ROLE_KIND_SERVICE) {
      return who;
    }
  }
  if (absl::Status admitted = limiter_->Admit(who->name()); !admitted.ok()) {
    return admitted;
  }
  return who;
}

AuthenticateFn Authenticator::AsFunction() const {
  return [this](const grpc::CallbackServerContext& context) { return AuthenticateCall(context); };
}

absl::Status Authenticator::CheckUnitCodes(
    const std::function<bool(absl::string_view)>& is_known) const {
  if (!enabled_) {
    return absl::OkStatus();
  }
  absl::ReaderMutexLock lock(&mu_);
  return store_->CheckUnitCodes(is_known);
}

absl::Status Authenticator::Reload() {
  if (!enabled_ || path_.empty()) {
    return absl::FailedPreconditionError("no token file to reload");
  }
  absl::StatusOr<TokenStore> store = TokenStore::FromFile(path_);
  if (!store.ok()) {
    return store.status();
  }
  auto fresh = std::make_shared<const TokenStore>(*std::move(store));
  absl::MutexLock lock(&mu_);
  store_ = std::move(fresh);
  ++generation_;
  cache_.clear();
  return absl::OkStatus();
}

size_t Authenticator::cached_principals() const {
  absl::ReaderMutexLock lock(&mu_);
  return cache_.size();
}

std::string TokensFileFlag() { return absl::GetFlag(FLAGS_tokens_file); }

absl::StatusOr<std::unique_ptr<Authenticator>> AuthenticatorFromFlags() {
  AuthenticatorOptions options;
  options.rate_limit.per_second = absl::GetFlag(FLAGS_rate_limit_per_second);
  options.rate_limit.burst = absl::GetFlag(FLAGS_rate_limit_burst);
  if (!(options.rate_limit.per_second >= 0) || !(options.rate_limit.burst >= 0)) {
    return absl::InvalidArgumentError(
        "--rate_limit_per_second 和 --rate_limit_burst 不能为负 / must not be negative");
  }
  absl::StatusOr<std::unique_ptr<Authenticator>> made =
      Authenticator::FromTokensFile(TokensFileFlag(), options);
  if (made.ok()) {
    flags_authenticator.store(made->get());
  }
  return made;
}

const Authenticator* FlagsAuthenticator() { return flags_authenticator.load(); }

}  // namespace halfsky::auth
