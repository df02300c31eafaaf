#include "services/aggregation/follower.h"

#include <malloc.h>

#include <algorithm>
#include <deque>
#include <iostream>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/status/status.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/util/time_util.h"

namespace halfsky::aggregation {

using halfsky::v1::ChangeEvent;

// ---------------------------------------------------------------------------
// AggregationState

AggregationState::AggregationState(std::shared_ptr<const CatalogIndex> catalog)
    : agg_(std::make_unique<Aggregator>(std::move(catalog))) {}

bool AggregationState::ready() const {
  absl::ReaderMutexLock lock(&mu_);
  return ready_;
}

int64_t AggregationState::version() const {
  absl::ReaderMutexLock lock(&mu_);
  return version_;
}

void AggregationState::Swap(std::unique_ptr<Aggregator> agg) {
  std::unique_ptr<Aggregator> old;
  {
    absl::WriterMutexLock lock(&mu_);
    old = std::move(agg_);
    agg_ = std::move(agg);
    ready_ = true;
    ++version_;
  }
  // `old` is destroyed outside the lock, and the freed pages handed back to
  // the system (glibc keeps a freed heap mapped): at 2·10^6 values the size
  // bench measured 282 MB of RSS with this, 307 MB without.
  old.reset();
  malloc_trim(0);
}

// ---------------------------------------------------------------------------
// ChangeStream: one WatchChanges call read by gRPC's callback threads into a
// bounded queue.

// Events taken from a ChangeStream, in feed order. Each message is parsed
// onto its own arena and handed over whole: when the reader allocated every
// event and the follower thread freed it, that hand-over of heap chunks
// between threads was the aggregation's largest cost in a Rebuild
// (`_int_malloc` about a fifth of its samples; docs/BENCHMARKS.md).
class Follower::ChangeBatch {
 public:
  struct Message {
    google::protobuf::Arena arena;
    halfsky::v1::WatchChangesResponse* response =
        google::protobuf::Arena::CreateMessage<halfsky::v1::WatchChangesResponse>(&arena);
  };

  void Add(std::unique_ptr<Message> message) {
    for (const ChangeEvent& ev : message->response->events()) {
      events_.push_back(&ev);
    }
    messages_.push_back(std::move(message));
  }
  // Drops the first `n` events (their messages stay until Clear).
  void DropFront(size_t n) { events_.erase(events_.begin(), events_.begin() + n); }
  // Valid until Clear or destruction.
  const std::vector<const ChangeEvent*>& events() const { return events_; }
  size_t size() const { return events_.size(); }
  bool empty() const { return events_.empty(); }
  void Clear() {
    events_.clear();
    messages_.clear();
  }

 private:
  std::vector<std::unique_ptr<Message>> messages_;
  std::vector<const ChangeEvent*> events_;
};

// The longest a follower with nothing to do waits before it looks for a
// Rebuild request again.
constexpr absl::Duration kIdleWaitSlice = absl::Milliseconds(20);
// How many applied events make an idle follower trim the heap.
constexpr size_t kTrimAfterEvents = 100000;

// The stream is read with gRPC's callback API: a thread blocked in a
// synchronous Read polls the process's whole event set, so the server's
// calls were being read on it and handed to the server's own threads (one
// more wake-up per call: halfsky's health Check answered about a third
// fewer calls per second here than in the evaluation service;
// docs/BENCHMARKS.md). A read is outstanding while the queue holds fewer
// than `capacity` events; otherwise the next one is started by Wait once
// the follower has taken messages off.
class Follower::ChangeStream final
    : public grpc::ClientReadReactor<halfsky::v1::WatchChangesResponse> {
 public:
  enum class Next { kEvents, kTimeout, kEnded };

  ChangeStream(halfsky::v1::SubmissionService::Stub* stub, int64_t after, int64_t after_form,
               size_t capacity, const std::string& token)
      : capacity_(capacity) {
    auth::AddBearerToken(&ctx_, token);
    request_.set_after_sequence(after);
    request_.set_after_form_sequence(after_form);
    stub->async()->WatchChanges(&ctx_, &request_, this);
    // Held until no read will be started any more (hold_): OnDone cannot
    // run while Wait may still start one.
    AddHold();
    reading_ = std::make_unique<ChangeBatch::Message>();
    StartRead(reading_->response);
    StartCall();
  }
  ~ChangeStream() override {
    bool release = false;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      // No read outstanding (paused): nothing else will release the hold.
      release = hold_ && !read_outstanding_;
      if (release) {
        hold_ = false;
      }
    }
    ctx_.TryCancel();
    if (release) {
      RemoveHold();
    }
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&ended_));
  }

  // Waits up to `timeout` for at least one event; moves whole messages
  // into `out` while it holds fewer than `max` events (so it may pass `max`
  // by one message's events). kEnded once the stream ended and the queue is
  // empty.
  Next Wait(absl::Duration timeout, size_t max, ChangeBatch* out) {
    bool resume = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](ChangeStream* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                 return !s->queue_.empty() || s->ended_;
                               },
                               this),
                           timeout);
      if (queue_.empty()) {
        return ended_ ? Next::kEnded : Next::kTimeout;
      }
      while (!queue_.empty() && out->size() < max) {
        queued_events_ -= static_cast<size_t>(queue_.front()->response->events_size());
        out->Add(std::move(queue_.front()));
        queue_.pop_front();
      }
      resume = ResumeLocked();
    }
    if (resume) {
      StartRead(reading_->response);
    }
    return Next::kEvents;
  }

  absl::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  bool received_any() {
    absl::MutexLock lock(&mu_);
    return received_any_;
  }

  void OnReadDone(bool ok) override {
    bool release = false;
    bool again = false;
    {
      absl::MutexLock lock(&mu_);
      read_outstanding_ = false;
      if (ok) {
        received_any_ = true;
        // A whole message is queued at once: the queue may pass its
        // capacity by one message (bounded by the server's message size).
        queued_events_ += static_cast<size_t>(reading_->response->events_size());
        queue_.push_back(std::move(reading_));
        again = ResumeLocked();
      }
      // The stream ended (or was cancelled): no read will be started again.
      release = (!ok || cancelled_) && hold_;
      if (release) {
        hold_ = false;
      }
    }
    if (again) {
      StartRead(reading_->response);
    }
    if (release) {
      RemoveHold();
    }
  }

  void OnDone(const grpc::Status& st) override {
    absl::MutexLock lock(&mu_);
    status_ = st.ok() ? absl::UnavailableError("WatchChanges ended") : FromGrpcStatus(st);
    ended_ = true;
  }

 private:
  // Whether a read should be started now (then marks it outstanding, with a
  // fresh message to read into): none is, the stream is live, and the
  // queue has room.
  bool ResumeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (read_outstanding_ || !hold_ || cancelled_ || queued_events_ >= capacity_) {
      return false;
    }
    read_outstanding_ = true;
    reading_ = std::make_unique<ChangeBatch::Message>();
    return true;
  }

  const size_t capacity_;
  grpc::ClientContext ctx_;
  halfsky::v1::WatchChangesRequest request_;
  absl::Mutex mu_;
  // The message the outstanding read fills (touched by the reaction that
  // completes it, or by whoever starts the next read, never both at once).
  std::unique_ptr<ChangeBatch::Message> reading_;
  bool read_outstanding_ ABSL_GUARDED_BY(mu_) = true;
  // The hold taken in the constructor is still held.
  bool hold_ ABSL_GUARDED_BY(mu_) = true;
  std::deque<std::unique_ptr<ChangeBatch::Message>> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_events_ ABSL_GUARDED_BY(mu_) = 0;
  // OnDone ran: the call is over and gRPC touches this object no more.
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool received_any_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------
// Follower

Follower::Follower(std::shared_ptr<const CatalogIndex> catalog,
                   std::shared_ptr<grpc::Channel> submission, RedisClient* redis,
                   AggregationState* state, FollowerOptions options)
    : catalog_(std::move(catalog)),
      channel_(std::move(submission)),
      stub_(halfsky::v1::SubmissionService::NewStub(channel_)),
      state_(state),
      writer_(redis, options.cache_mac_key),
      options_(options),
      backoff_(options.backoff_min) {
  status_.committed_sequence = -1;
  status_.committed_form_sequence = -1;
  if (MetricsRegistry* m = options_.metrics; m != nullptr) {
    metrics_.cursor = m->GetGauge("halfsky_aggregation_cursor",
                                  "Change-feed cursor acknowledged by Redis (-1: none yet).");
    metrics_.applied = m->GetGauge("halfsky_aggregation_applied_sequence",
                                   "Last change-feed revision applied in memory.");
    metrics_.head = m->GetGauge("halfsky_aggregation_feed_head_sequence",
                                "Change-feed head as last seen (heartbeats, revisions).");
    metrics_.lag = m->GetGauge("halfsky_aggregation_lag_revisions",
                               "Revisions the Redis cursor is behind the feed head.");
    metrics_.ready = m->GetGauge("halfsky_aggregation_ready",
                                 "1 once the first build from the change feed is done.");
    metrics_.commits = m->GetCounter("halfsky_aggregation_commits_total",
                                     "Incremental commits (MULTI/EXEC with a new cursor).");
    metrics_.commit_seconds =
        m->GetHistogram("halfsky_aggregation_commit_seconds",
                        "Duration of one successful incremental commit (render + MULTI/EXEC).");
    metrics_.rebuilds =
        m->GetCounter("halfsky_aggregation_rebuilds_total", "Full rewrites of the Redis cache.");
    metrics_.builds = m->GetCounter("halfsky_aggregation_builds_total",
                                    "Builds of the in-memory state from sequence 0.");
    metrics_.redis_errors = m->GetCounter("halfsky_aggregation_redis_errors_total",
                                          "Failed Redis operations (retried).");
    metrics_.reconnects = m->GetCounter("halfsky_aggregation_stream_reconnects_total",
                                        "WatchChanges streams re-opened after ending.");
    metrics_.catchups = m->GetCounter(
        "halfsky_aggregation_catchups_total",
        "Redis found behind the committed cursor (failover or restore lost writes) and caught "
        "up by re-committing the aggregates changed since.");
    metrics_.cursor->Set(-1);
  }
}

Follower::~Follower() { Stop(); }

void Follower::Start() {
  absl::MutexLock lock(&mu_);
  if (started_) {
    return;
  }
  started_ = true;
  writes_enabled_.store(true, std::memory_order_release);
  thread_ = std::thread([this] { Run(); });
}

void Follower::StartStandby() {
  absl::MutexLock lock(&mu_);
  if (started_) {
    return;
  }
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Follower::EnableWrites(int64_t leader_epoch) {
  absl::MutexLock lock(&mu_);
  if (writes_enabled_.load(std::memory_order_acquire)) {
    return;
  }
  // The follower thread reads the writer only after it sees the flag
  // (acquire), so the epoch is set before any write.
  if (leader_epoch > 0) {
    writer_.set_fence_epoch(leader_epoch);
  }
  writes_enabled_.store(true, std::memory_order_release);
  cv_.SignalAll();
}

void Follower::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  FinishRebuilds(absl::UnavailableError("聚合服务正在停止 / aggregation is stopping"));
}

void Follower::RequestRebuild(
    std::function<void(absl::StatusOr<halfsky::v1::RebuildResponse>)> done) {
  bool standby = false;
  {
    absl::MutexLock lock(&mu_);
    if (!stop_ && started_ && writes_enabled_.load(std::memory_order_acquire)) {
      rebuilds_.push_back(std::move(done));
      cv_.SignalAll();
      return;
    }
    standby = !stop_;
  }
  done(absl::UnavailableError(
      standby ? "本节点为备用汇总节点，请求主节点 / this aggregation replica is a standby "
                "(not the elected leader); ask the leader"
              : "聚合服务正在停止 / aggregation is stopping"));
}

void Follower::FinishRebuilds(const absl::StatusOr<halfsky::v1::RebuildResponse>& result) {
  std::vector<std::function<void(absl::StatusOr<halfsky::v1::RebuildResponse>)>> done;
  {
    absl::MutexLock lock(&mu_);
    done.swap(rebuilds_);
  }
  for (auto& fn : done) {
    fn(result);
  }
}

FollowerStatus Follower::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

bool Follower::WaitForCommitted(int64_t sequence, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const absl::Time deadline = absl::Now() + timeout;
  while (status_.committed_sequence < sequence) {
    if (cv_.WaitWithDeadline(&mu_, deadline)) {
      return status_.committed_sequence >= sequence;
    }
  }
  return true;
}

bool Follower::WaitForFormCommitted(int64_t form_sequence, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const absl::Time deadline = absl::Now() + timeout;
  while (status_.committed_form_sequence < form_sequence) {
    if (cv_.WaitWithDeadline(&mu_, deadline)) {
      return status_.committed_form_sequence >= form_sequence;
    }
  }
  return true;
}

bool Follower::Stopping() const {
  absl::MutexLock lock(&mu_);
  return stop_;
}

bool Follower::Sleep(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  const absl::Time deadline = absl::Now() + d;
  while (!stop_) {
    if (cv_.WaitWithDeadline(&mu_, deadline)) {
      break;
    }
  }
  return !stop_;
}

void Follower::NextBackoff() { backoff_ = std::min(backoff_ * 2, options_.backoff_max); }

void Follower::SetRedisOk(bool ok) {
  absl::MutexLock lock(&mu_);
  status_.redis_ok = ok;
}

void Follower::RedisFailed(const absl::Status& st) {
  SetRedisOk(false);
  if (metrics_.redis_errors != nullptr) {
    metrics_.redis_errors->Increment();
  }
  if (RedisWriter::IsLeaderSuperseded(st) && !superseded_) {
    superseded_ = true;
    std::cerr << "halfsky-aggregation: " << st.message() << "; this replica stops writing\n";
    if (options_.on_superseded) {
      options_.on_superseded(st);
    }
  }
}

void Follower::UpdateGauges() {
  if (metrics_.cursor == nullptr) {
    return;
  }
  metrics_.cursor->Set(static_cast<double>(status_.committed_sequence));
  metrics_.applied->Set(static_cast<double>(status_.applied_sequence));
  metrics_.head->Set(static_cast<double>(head_));
  metrics_.lag->Set(static_cast<double>(
      std::max<int64_t>(0, head_ - std::max<int64_t>(0, status_.committed_sequence))));
  metrics_.ready->Set(status_.ready ? 1 : 0);
}

absl::StatusOr<std::unique_ptr<Aggregator>> Follower::BuildFromZero(
    std::unique_ptr<ChangeStream>* stream, ChangeBatch* carry, int64_t* applied,
    int64_t* applied_form) {
  auto agg = std::make_unique<Aggregator>(catalog_);
  stream->reset();
  *stream = std::make_unique<ChangeStream>(stub_.get(), 0, 0, options_.queue_capacity,
                                           options_.submission_token);
  int64_t last = 0;
  int64_t last_form = 0;
  ChangeBatch batch;
  const absl::Time start = absl::Now();
  build_times_ = BuildTimes();
  while (true) {
    if (Stopping()) {
      return absl::CancelledError("stopping");
    }
    batch.Clear();
    const auto next = (*stream)->Wait(absl::Milliseconds(200), 8192, &batch);
    if (next == ChangeStream::Next::kEvents && build_times_.first_event == absl::ZeroDuration()) {
      build_times_.first_event = absl::Now() - start;
    }
    if (next == ChangeStream::Next::kEnded) {
      return (*stream)->status();
    }
    if (next == ChangeStream::Next::kTimeout) {
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      status_.stream_connected = true;
    }
    const std::vector<const ChangeEvent*>& events = batch.events();
    for (size_t i = 0; i < events.size(); ++i) {
      const ChangeEvent& ev = *events[i];
      if (ev.has_revision()) {
        if (ev.revision().sequence() > last) {
          agg->Load(ev.revision());
          last = ev.revision().sequence();
          ++build_times_.revisions;
        }
      } else if (ev.has_form_change()) {
        if (ev.form_change().form_sequence() > last_form) {
          agg->LoadFormChange(ev.form_change());
          last_form = ev.form_change().form_sequence();
        }
      } else if (ev.has_heartbeat()) {
        // Backlog drained: what follows is live and applied incrementally.
        batch.DropFront(i + 1);
        *carry = std::move(batch);
        const absl::Time replayed = absl::Now();
        build_times_.replay = replayed - start;
        agg->RecomputeAll();
        build_times_.recompute = absl::Now() - replayed;
        *applied = last;
        *applied_form = last_form;
        return agg;
      }
    }
  }
}

void Follower::ApplyEvents(const std::vector<const ChangeEvent*>& events) {
  state_->Mutate([&](Aggregator& agg) {
    for (const ChangeEvent* event : events) {
      const ChangeEvent& ev = *event;
      if (ev.has_revision()) {
        const int64_t seq = ev.revision().sequence();
        if (seq <= applied_) {
          continue;  // re-delivered after a reconnect
        }
        agg.Apply(ev.revision(), &pending_);
        applied_ = seq;
        head_ = std::max(head_, seq);
      } else if (ev.has_form_change()) {
        const int64_t seq = ev.form_change().form_sequence();
        if (seq <= applied_form_) {
          continue;  // re-delivered after a reconnect
        }
        agg.ApplyFormChange(ev.form_change(), &pending_);
        applied_form_ = seq;
        form_head_ = std::max(form_head_, seq);
        form_pending_ = true;
      } else if (ev.has_heartbeat()) {
        head_ = ev.heartbeat().head_sequence();
        form_head_ = ev.heartbeat().head_form_sequence();
        if (ev.heartbeat().head_sequence() < applied_ ||
            ev.heartbeat().head_form_sequence() < applied_form_) {
          std::cerr << "halfsky-aggregation: change feed head " << ev.heartbeat().head_sequence()
                    << " (forms " << ev.heartbeat().head_form_sequence()
                    << ") is below the applied sequence " << applied_ << " (forms " << applied_form_
                    << "); rebuilding from sequence 0\n";
          feed_reset_ = true;
        }
      }
    }
  });
  absl::MutexLock lock(&mu_);
  status_.applied_sequence = applied_;
  status_.applied_form_sequence = applied_form_;
  UpdateGauges();
}

void Follower::Publish(const cache::UpdateMessage& message) {
  const absl::Status st = writer_.Publish(message);
  if (!st.ok()) {
    // The commit is durable; only the notification is lost (readers can
    // compare the version counter).
    std::cerr << "halfsky-aggregation: PUBLISH failed: " << st << "\n";
  }
}

absl::Status Follower::SyncRedis(Sync mode) {
  if (writer_.fence_epoch() > 0 && !fence_claimed_) {
    HALFSKY_RETURN_IF_ERROR(writer_.ClaimFence());
    fence_claimed_ = true;
  }
  const Aggregator& agg = state_->WriterView();
  HALFSKY_ASSIGN_OR_RETURN(std::optional<CachePosition> cursor, writer_.ReadCursor());
  const CachePosition applied(applied_, applied_form_);
  CachePosition committed(-1, -1);
  // Approval counts move without a revision sequence: a form cursor other
  // than the applied one is only made exact by a rewrite. A cursor below our
  // last rewrite predates it and cannot be caught up either.
  if (mode == Sync::kFull || !cursor || cursor->sequence > applied_ ||
      cursor->form_sequence != applied_form_ || cursor->sequence < rewrite_floor_) {
    HALFSKY_ASSIGN_OR_RETURN(RedisWriter::RewriteResult r, writer_.RewriteAll(agg, applied));
    committed = applied;
    rewrite_floor_ = applied_;
    {
      absl::MutexLock lock(&mu_);
      ++status_.rewrites;
    }
    if (metrics_.rebuilds != nullptr) {
      metrics_.rebuilds->Increment();
    }
    Publish(cache::UpdateMessage{applied_, r.version, true, r.indicator_ids});
  } else if (cursor->sequence < applied_) {
    std::vector<CellId> cells;
    agg.ForEachCellAfter(cursor->sequence, [&](CellId c) { cells.push_back(c); });
    unknown_attempts_.push_back(applied);
    const std::optional<CachePosition> base = cursor;
    HALFSKY_ASSIGN_OR_RETURN(
        RedisWriter::CommitResult r,
        writer_.Commit(agg, cells, applied, /*create_cursor=*/false,
                       [base](const std::optional<CachePosition>& c) { return c == base; }));
    if (!r.applied) {
      return absl::AbortedError("the cursor changed during the sync");
    }
    committed = applied;
    std::set<std::string> ids;
    for (CellId c : cells) {
      ids.insert(*agg.NameOf(Aggregator::SeriesOf(c)).indicator_id);
    }
    Publish(cache::UpdateMessage{applied_, r.version, false, {ids.begin(), ids.end()}});
  } else {
    committed = *cursor;
  }
  pending_.Clear();
  form_pending_ = false;
  unknown_attempts_.clear();
  absl::MutexLock lock(&mu_);
  status_.committed_sequence = committed.sequence;
  status_.committed_form_sequence = committed.form_sequence;
  status_.redis_ok = true;
  UpdateGauges();
  cv_.SignalAll();
  return absl::OkStatus();
}

void Follower::ForeignCursor(const std::optional<CachePosition>& cursor,
                             const CachePosition& committed) {
  const std::string seen =
      cursor ? absl::StrCat(cursor->sequence, "/forms ", cursor->form_sequence) : "absent";
  if (cursor && cursor->sequence < committed.sequence && cursor->sequence >= rewrite_floor_ &&
      cursor->form_sequence == applied_form_) {
    // Behind our last commit but after our last full rewrite, with the
    // applied form cursor: Redis holds exactly our commit at *cursor (every
    // commit is one MULTI/EXEC and replication keeps their order) and only
    // revisions were lost, so re-committing the cells they changed restores
    // everything. (A lost form change is not caught up: SyncRedis rewrites.)
    std::cerr << "halfsky-aggregation: Redis cursor is " << seen << ", behind the committed "
              << committed.sequence << "/forms " << committed.form_sequence
              << " (a failover or restore lost writes); re-committing the aggregates changed "
                 "after "
              << cursor->sequence << "\n";
    sync_ = Sync::kCompare;
    {
      absl::MutexLock lock(&mu_);
      ++status_.catchups;
    }
    if (metrics_.catchups != nullptr) {
      metrics_.catchups->Increment();
    }
    return;
  }
  std::cerr << "halfsky-aggregation: Redis cursor is " << seen << ", expected "
            << committed.sequence << "/forms " << committed.form_sequence
            << "; rewriting the cache\n";
  sync_ = Sync::kFull;
}

absl::Status Follower::CommitPending() {
  const Aggregator& agg = state_->WriterView();
  CachePosition committed;
  {
    absl::MutexLock lock(&mu_);
    committed = CachePosition(status_.committed_sequence, status_.committed_form_sequence);
  }
  std::vector<CellId> cells(pending_.cells.begin(), pending_.cells.end());
  const CachePosition applied(applied_, applied_form_);
  // The bases this commit may land on: the position Redis acknowledged, or
  // one of the commits since whose outcome is unknown (they wrote a subset
  // of the cells still pending, which this commit writes again).
  std::vector<CachePosition> bases = unknown_attempts_;
  bases.push_back(committed);
  if (std::find(unknown_attempts_.begin(), unknown_attempts_.end(), applied) ==
      unknown_attempts_.end()) {
    unknown_attempts_.push_back(applied);
  }
  const absl::Time start = absl::Now();
  HALFSKY_ASSIGN_OR_RETURN(RedisWriter::CommitResult r,
                           writer_.Commit(agg, cells, applied, /*create_cursor=*/false,
                                          [&bases](const std::optional<CachePosition>& c) {
                                            return c && std::find(bases.begin(), bases.end(), *c) !=
                                                            bases.end();
                                          }));
  const absl::Duration took = absl::Now() - start;
  if (!r.applied) {
    // Nothing was written: Redis does not hold our last commit (a failover
    // that lost writes, a restore, a FLUSHALL).
    ForeignCursor(r.previous_cursor, committed);
    return absl::OkStatus();
  }
  std::vector<std::string> ids;
  for (int ind : pending_.indicators) {
    ids.push_back(agg.IndicatorAt(ind).id());
  }
  std::sort(ids.begin(), ids.end());
  pending_.Clear();
  form_pending_ = false;
  unknown_attempts_.clear();
  {
    absl::MutexLock lock(&mu_);
    status_.committed_sequence = applied_;
    status_.committed_form_sequence = applied_form_;
    status_.redis_ok = true;
    ++status_.commits;
    UpdateGauges();
    cv_.SignalAll();
  }
  if (metrics_.commits != nullptr) {
    metrics_.commits->Increment();
    metrics_.commit_seconds->Observe(absl::ToDoubleSeconds(took));
  }
  Publish(cache::UpdateMessage{applied_, r.version, false, std::move(ids)});
  return absl::OkStatus();
}

void Follower::Run() {
  std::unique_ptr<ChangeStream> stream;
  bool force_full = false;
  while (!Stopping() && !superseded_) {
    // ---- 1. Build from sequence 0 ----
    bool rebuild_requested;
    {
      absl::MutexLock lock(&mu_);
      rebuild_requested = !rebuilds_.empty();
    }
    const absl::Time build_start = absl::Now();
    ChangeBatch carry;
    int64_t built_applied = 0;
    int64_t built_applied_form = 0;
    auto built = BuildFromZero(&stream, &carry, &built_applied, &built_applied_form);
    if (!built.ok()) {
      if (Stopping()) {
        break;
      }
      std::cerr << "halfsky-aggregation: building from the change feed failed: " << built.status()
                << "; retrying in " << backoff_ << "\n";
      {
        absl::MutexLock lock(&mu_);
        status_.stream_connected = false;
      }
      if (rebuild_requested) {
        FinishRebuilds(absl::UnavailableError(absl::StrCat(
            "无法读取提交服务的变更流 / cannot read the change feed: ", built.status().message())));
      }
      stream.reset();
      Sleep(backoff_);
      NextBackoff();
      continue;
    }
    backoff_ = options_.backoff_min;
    state_->Swap(std::move(built).value());
    applied_ = built_applied;
    applied_form_ = built_applied_form;
    pending_.Clear();
    form_pending_ = false;
    unknown_attempts_.clear();
    feed_reset_ = false;
    sync_ = (force_full || rebuild_requested) ? Sync::kFull : Sync::kCompare;
    force_full = false;
    {
      absl::MutexLock lock(&mu_);
      status_.ready = true;
      status_.applied_sequence = applied_;
      status_.applied_form_sequence = applied_form_;
      ++status_.builds;
      head_ = std::max(head_, applied_);
      form_head_ = std::max(form_head_, applied_form_);
      UpdateGauges();
    }
    if (metrics_.builds != nullptr) {
      metrics_.builds->Increment();
    }
    if (!carry.empty()) {
      ApplyEvents(carry.events());
    }
    carry.Clear();

    // ---- 2./3. Sync and follow ----
    absl::Time last_cursor_check = absl::Now();
    // Events applied since the freed heap was last handed back (below).
    size_t applied_since_trim = 0;
    bool rebuild_answered = !rebuild_requested;
    ChangeBatch batch;
    while (!Stopping()) {
      const bool writing = writes_enabled_.load(std::memory_order_acquire);
      if (!writing) {
        // A standby (StartStandby): the feed is applied in memory, nothing
        // is written. Once writes are enabled the first sync compares the
        // cache with memory and commits exactly what it lacks.
        pending_.Clear();
        form_pending_ = false;
        if (sync_ == Sync::kNone) {
          sync_ = Sync::kCompare;
        }
      }
      if (!writing) {
        // nothing to write
      } else if (sync_ != Sync::kNone) {
        const absl::Time sync_start = absl::Now();
        const absl::Status st = SyncRedis(sync_);
        if (st.ok()) {
          sync_ = Sync::kNone;
          backoff_ = options_.backoff_min;
          last_cursor_check = absl::Now();
          if (!rebuild_answered) {
            rebuild_answered = true;
            // Where a Rebuild's time went, for the operator (and the
            // Rebuild benchmark, docs/BENCHMARKS.md).
            std::cerr << "halfsky-aggregation: rebuilt from the change feed: "
                      << build_times_.revisions << " revisions replayed in " << build_times_.replay
                      << " (first event after " << build_times_.first_event << "), recomputed in "
                      << build_times_.recompute << ", cache rewritten in "
                      << (absl::Now() - sync_start) << "; " << (absl::Now() - build_start)
                      << " in all\n";
            const Aggregator& agg = state_->WriterView();
            halfsky::v1::RebuildResponse response;
            response.set_data_value_count(agg.data_value_count());
            response.set_aggregate_count(agg.aggregate_count());
            response.set_as_of_sequence(applied_);
            *response.mutable_took() = google::protobuf::util::TimeUtil::NanosecondsToDuration(
                absl::ToInt64Nanoseconds(absl::Now() - build_start));
            FinishRebuilds(response);
          }
        } else {
          RedisFailed(st);
          if (superseded_) {
            break;
          }
          std::cerr << "halfsky-aggregation: Redis sync failed: " << st << "; retrying in "
                    << backoff_ << "\n";
          if (absl::IsAborted(st)) {
            sync_ = Sync::kFull;
          }
          Sleep(backoff_);
          NextBackoff();
        }
      } else if (!pending_.empty() || form_pending_) {
        const absl::Status st = CommitPending();
        if (st.ok()) {
          backoff_ = options_.backoff_min;
          last_cursor_check = absl::Now();
        } else {
          // The cursor stays where it was; the changed cells stay pending and
          // the feed keeps being applied in memory (bounded by the queue).
          RedisFailed(st);
          if (superseded_) {
            break;
          }
          std::cerr << "halfsky-aggregation: Redis commit failed: " << st << "; retrying in "
                    << backoff_ << "\n";
          Sleep(backoff_);
          NextBackoff();
        }
      }
      {
        absl::MutexLock lock(&mu_);
        if (!rebuilds_.empty() && rebuild_answered) {
          break;  // → build from sequence 0
        }
      }
      if (feed_reset_) {
        force_full = true;
        break;
      }
      batch.Clear();
      // Idle, wait for events in short slices: a Rebuild request (which
      // cannot wake this wait) is taken within one slice, not one cursor
      // check interval; the cursor check below keeps its own interval.
      const auto next =
          stream->Wait(!writing || (pending_.empty() && !form_pending_ && sync_ == Sync::kNone)
                           ? std::min(options_.cursor_check_interval, kIdleWaitSlice)
                           : absl::ZeroDuration(),
                       options_.max_batch, &batch);
      if (next == ChangeStream::Next::kEvents) {
        ApplyEvents(batch.events());
        applied_since_trim += batch.size();
        continue;
      }
      if (next == ChangeStream::Next::kEnded) {
        const absl::Status why = stream->status();
        {
          absl::MutexLock lock(&mu_);
          status_.stream_connected = false;
        }
        if (Stopping()) {
          break;
        }
        std::cerr << "halfsky-aggregation: change feed ended: " << why << "; reconnecting in "
                  << backoff_ << "\n";
        stream.reset();
        Sleep(backoff_);
        NextBackoff();
        if (metrics_.reconnects != nullptr) {
          metrics_.reconnects->Increment();
        }
        stream = std::make_unique<ChangeStream>(stub_.get(), applied_, applied_form_,
                                                options_.queue_capacity, options_.submission_token);
        continue;
      }
      // Idle after a burst (a catch-up, a large load): the queue's and the
      // parsed batches' memory is free but glibc keeps it mapped; hand it
      // back, as Swap does after a rebuild (at 2·10^6 values the size bench
      // measured 134-151 MB of RSS without this; docs/BENCHMARKS.md).
      if (applied_since_trim >= kTrimAfterEvents && pending_.empty() && !form_pending_) {
        applied_since_trim = 0;
        malloc_trim(0);
      }
      // Idle: is the cache still ours?
      if (writing && pending_.empty() && !form_pending_ && sync_ == Sync::kNone &&
          absl::Now() - last_cursor_check >= options_.cursor_check_interval) {
        last_cursor_check = absl::Now();
        auto cursor = writer_.ReadCursor();
        if (!cursor.ok()) {
          RedisFailed(cursor.status());
          continue;
        }
        SetRedisOk(true);
        CachePosition committed;
        {
          absl::MutexLock lock(&mu_);
          committed = CachePosition(status_.committed_sequence, status_.committed_form_sequence);
          status_.stream_connected = stream->received_any() || status_.stream_connected;
        }
        if (!cursor->has_value() || **cursor != committed) {
          ForeignCursor(*cursor, committed);
        }
      }
    }
  }
  stream.reset();
}

}  // namespace halfsky::aggregation
