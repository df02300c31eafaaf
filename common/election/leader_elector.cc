#include "common/election/leader_elector.h"

#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace halfsky::election {

Leadership::Leadership(std::unique_ptr<LeaderElector> elector, Options options, Callbacks callbacks)
    : elector_(std::move(elector)), options_(options), callbacks_(std::move(callbacks)) {}

Leadership::~Leadership() { Stop(); }

void Leadership::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stop_) {
    return;
  }
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Leadership::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool Leadership::Stopping() const {
  absl::MutexLock lock(&mu_);
  return stop_;
}

bool Leadership::Sleep(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  const auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
  mu_.AwaitWithTimeout(absl::Condition(&stopping), d);
  return !stop_;
}

void Leadership::Run() {
  int64_t epoch = 0;
  while (true) {
    absl::StatusOr<int64_t> acquired = elector_->Acquire([this] { return Stopping(); });
    if (acquired.ok()) {
      epoch = *acquired;
      break;
    }
    if (absl::IsCancelled(acquired.status()) || Stopping()) {
      return;
    }
    std::cerr << "halfsky: leader election: " << acquired.status() << "; retrying in "
              << options_.retry_interval << "\n";
    if (!Sleep(options_.retry_interval)) {
      return;
    }
  }
  epoch_ = epoch;
  leading_ = true;
  if (callbacks_.elected) {
    callbacks_.elected(epoch);
  }
  absl::Time last_ok = absl::Now();
  absl::Status why;
  while (Sleep(options_.renew_interval)) {
    // A process stopped (SIGSTOP) or starved past the lease may already have
    // been succeeded: it must not renew its way back.
    if (absl::Now() - last_ok > options_.lease) {
      why = absl::DeadlineExceededError(
          absl::StrCat("no renewal for ", absl::FormatDuration(absl::Now() - last_ok), " (lease ",
                       absl::FormatDuration(options_.lease), ")"));
      break;
    }
    absl::Status renewed = elector_->Renew();
    if (!renewed.ok()) {
      why = std::move(renewed);
      break;
    }
    if (absl::Now() - last_ok > options_.lease) {
      why = absl::DeadlineExceededError("the renewal took longer than the lease");
      break;
    }
    last_ok = absl::Now();
  }
  leading_ = false;
  elector_->Release();
  if (!why.ok() && !Stopping() && callbacks_.lost) {
    callbacks_.lost(why);
  }
}

}  // namespace halfsky::election
