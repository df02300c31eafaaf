#include "services/aggregation/leader_role.h"

#include <iostream>
#include <utility>

#include "grpcpp/health_check_service_interface.h"

namespace halfsky::aggregation {

LeaderRole::LeaderRole(std::unique_ptr<election::LeaderElector> elector, Follower* follower,
                       const AggregationState* state, Options options)
    : follower_(follower), state_(state), options_(std::move(options)) {
  if (options_.metrics != nullptr) {
    leader_gauge_ = options_.metrics->GetGauge(
        "halfsky_aggregation_leader",
        "1 while this replica is the elected aggregation leader (the one writer of the cache)");
    epoch_gauge_ = options_.metrics->GetGauge("halfsky_aggregation_leader_epoch",
                                              "The leader epoch this replica writes the cache with "
                                              "(0: standby, or no election)");
    leader_gauge_->Set(0);
    epoch_gauge_->Set(0);
  }
  if (elector != nullptr) {
    election::Leadership::Callbacks callbacks;
    callbacks.elected = [this](int64_t epoch) { Elected(epoch); };
    callbacks.lost = [this](const absl::Status& why) { Lost(why); };
    leadership_ = std::make_unique<election::Leadership>(std::move(elector), options_.leadership,
                                                         std::move(callbacks));
  }
}

LeaderRole::~LeaderRole() { Stop(); }

void LeaderRole::Start() {
  health_thread_ = std::thread([this] { HealthLoop(); });
  if (leadership_ == nullptr) {
    leading_without_election_ = true;
    if (leader_gauge_ != nullptr) {
      leader_gauge_->Set(1);
    }
    follower_->Start();
    return;
  }
  std::cerr << "halfsky-aggregation: standing by for the leader election (following the feed "
               "in memory)\n";
  follower_->StartStandby();
  leadership_->Start();
}

void LeaderRole::AttachServer(grpc::Server* server) {
  absl::MutexLock lock(&mu_);
  server_ = server;
}

bool LeaderRole::leading() const {
  if (lost_) {
    return false;
  }
  return leadership_ == nullptr ? leading_without_election_.load() : leadership_->leading();
}

void LeaderRole::Elected(int64_t epoch) {
  std::cerr << "halfsky-aggregation: elected leader (epoch " << epoch << ")\n";
  if (leader_gauge_ != nullptr) {
    leader_gauge_->Set(1);
    epoch_gauge_->Set(static_cast<double>(epoch));
  }
  follower_->EnableWrites(epoch);
}

void LeaderRole::Lost(const absl::Status& why) {
  if (lost_.exchange(true)) {
    return;
  }
  std::cerr << "halfsky-aggregation: lost the leadership: " << why << "\n";
  if (leader_gauge_ != nullptr) {
    leader_gauge_->Set(0);
  }
  if (options_.on_lost) {
    options_.on_lost(why);
  }
}

void LeaderRole::HealthLoop() {
  bool published = false;
  bool serving = false;
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    const bool now = leading() && state_->ready();
    if (server_ != nullptr && (!published || now != serving)) {
      if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
          health != nullptr) {
        health->SetServingStatus(kAggregationHealthService, now);
        published = true;
        serving = now;
      }
    }
    const auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
    mu_.AwaitWithTimeout(absl::Condition(&stopping), absl::Milliseconds(100));
  }
}

void LeaderRole::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stop_) {
      return;
    }
    stop_ = true;
    if (server_ != nullptr && server_->GetHealthCheckService() != nullptr) {
      server_->GetHealthCheckService()->SetServingStatus(kAggregationHealthService, false);
    }
  }
  if (health_thread_.joinable()) {
    health_thread_.join();
  }
  // The follower first: once the leadership is released a successor may
  // claim the cache, and this replica must have stopped writing (its
  // writes are fenced anyway).
  follower_->Stop();
  if (leadership_ != nullptr) {
    leadership_->Stop();
  }
  if (leader_gauge_ != nullptr) {
    leader_gauge_->Set(0);
  }
}

}  // namespace halfsky::aggregation
