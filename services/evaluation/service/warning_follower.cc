#include "services/evaluation/service/warning_follower.h"

#include <algorithm>
#include <iostream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/status/status.h"
#include "services/evaluation/service/evaluation_service.h"

namespace halfsky::evaluation {

std::shared_ptr<grpc::Channel> MakePrimaryChannel(const std::string& target,
                                                  std::shared_ptr<grpc::ChannelCredentials> creds,
                                                  absl::Duration max_backoff) {
  grpc::ChannelArguments args;
  const int max_ms =
      static_cast<int>(std::max<int64_t>(100, absl::ToInt64Milliseconds(max_backoff)));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(100, max_ms));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::min(100, max_ms));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_ms);
  // Notice a primary lost without a TCP reset (its node gone): an HTTP/2
  // ping every 6 minutes on the open stream. The servers' default ping
  // policy (common/server sets none) tolerates one every 5 minutes at most
  // while they send no data; more often and they would end the connection.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 6 * 60 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  // The stream is quiet from this side: keep pinging without sending data.
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  return grpc::CreateCustomChannel(target, std::move(creds), args);
}

WarningFollower::WarningFollower(std::shared_ptr<grpc::ChannelInterface> primary,
                                 WarningEngine* mirror, WarningFollowerOptions options)
    : stub_(halfsky::v1::EvaluationService::NewStub(std::move(primary))),
      mirror_(mirror),
      options_(std::move(options)) {}

WarningFollower::~WarningFollower() { Stop(); }

void WarningFollower::Start() {
  thread_ = std::thread([this] { Run(); });
}

void WarningFollower::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (current_ != nullptr) {
      current_->TryCancel();
    }
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool WarningFollower::synced() const {
  absl::MutexLock lock(&mu_);
  return synced_;
}

void WarningFollower::SetSynced(bool synced) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ || synced_ == synced) {
      return;
    }
    synced_ = synced;
  }
  if (options_.metrics != nullptr) {
    options_.metrics->SetConnected(synced);
  }
  if (options_.on_serving) {
    options_.on_serving(synced);
  }
}

absl::Status WarningFollower::FollowOnce() {
  grpc::ClientContext ctx;
  if (!options_.token.empty()) {
    auth::AddBearerToken(&ctx, options_.token);
  }
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      return absl::CancelledError("stopping");
    }
    current_ = &ctx;
  }
  halfsky::v1::WatchWarningsRequest request;  // no filter: everything
  request.set_all_states(true);
  std::unique_ptr<grpc::ClientReader<halfsky::v1::WarningEvent>> reader =
      stub_->WatchWarnings(&ctx, request);
  std::vector<halfsky::v1::Warning> initial;
  bool synced = false;
  absl::Status applied = absl::OkStatus();
  halfsky::v1::WarningEvent event;
  while (reader->Read(&event)) {
    if (!synced) {
      if (event.type() == halfsky::v1::WARNING_EVENT_TYPE_CURRENT) {
        initial.push_back(std::move(*event.mutable_warning()));
        continue;
      }
      if (event.type() != halfsky::v1::WARNING_EVENT_TYPE_SYNCED) {
        applied = absl::InternalError(absl::StrCat(
            "unexpected event before SYNCED: ", halfsky::v1::WarningEventType_Name(event.type())));
        break;
      }
      applied = mirror_->Resume(std::move(initial));
      if (!applied.ok()) {
        break;
      }
      synced = true;
      if (options_.metrics != nullptr) {
        options_.metrics->Synced(absl::Now());
      }
      SetSynced(true);
      continue;
    }
    applied = mirror_->ApplyEvent(event);
    if (!applied.ok()) {
      break;
    }
    if (options_.metrics != nullptr) {
      options_.metrics->EventApplied();
    }
  }
  if (!applied.ok()) {
    ctx.TryCancel();
    while (reader->Read(&event)) {
    }
  }
  const grpc::Status finished = reader->Finish();
  {
    absl::MutexLock lock(&mu_);
    current_ = nullptr;
  }
  if (!applied.ok()) {
    return applied;
  }
  if (finished.ok()) {
    return absl::UnavailableError("the primary ended the stream");
  }
  return FromGrpcStatus(finished);
}

void WarningFollower::Run() {
  absl::Duration backoff = options_.initial_backoff;
  while (true) {
    const absl::Time opened = absl::Now();
    const absl::Status ended = FollowOnce();
    const bool was_synced = synced();
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) {
        return;
      }
    }
    if (was_synced) {
      SetSynced(false);
      backoff = options_.initial_backoff;
    }
    mirror_->Suspend(absl::UnavailableError(
        absl::StrCat("与主服务的同步中断，请稍后重新订阅 / lost sync with the primary evaluation "
                     "service; watch again shortly (",
                     ended.message(), ")")));
    if (options_.metrics != nullptr) {
      options_.metrics->Reconnecting();
    }
    std::cerr << "halfsky-evaluation: 主服务同步中断 / follow stream ended after "
              << absl::FormatDuration(absl::Now() - opened) << ": " << ended << "; retrying in "
              << absl::FormatDuration(backoff) << "\n";
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff)) {
        return;
      }
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace halfsky::evaluation
