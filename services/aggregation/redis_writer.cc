#include "services/aggregation/redis_writer.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/cache/cache_layout.h"
#include "common/status/status.h"

namespace halfsky::aggregation {

using cache::AppendStoredAggregate;
using cache::IndexField;
using cache::IndexRedisKey;
using cache::kAnyLayoutKeyPattern;
using cache::kCursorKey;
using cache::kFormCursorKey;
using cache::kLeaderEpochKey;
using cache::kUpdatesChannel;
using cache::kVersionKey;
using cache::SealSeriesValue;
using cache::SeriesRedisKey;

namespace {

using Commands = std::vector<std::vector<std::string>>;

absl::StatusOr<std::optional<int64_t>> ParseCursor(const RedisReply& reply) {
  HALFSKY_ASSIGN_OR_RETURN(std::optional<std::string> text, reply.AsOptionalString());
  if (!text) {
    return std::optional<int64_t>();
  }
  int64_t v = 0;
  if (!absl::SimpleAtoi(*text, &v)) {
    return absl::FailedPreconditionError(
        absl::StrCat(kCursorKey, " is not an integer: \"", *text, "\""));
  }
  return std::optional<int64_t>(v);
}

absl::StatusOr<std::optional<CachePosition>> ParsePosition(const RedisReply& cursor,
                                                           const RedisReply& form_cursor) {
  HALFSKY_ASSIGN_OR_RETURN(std::optional<int64_t> seq, ParseCursor(cursor));
  HALFSKY_ASSIGN_OR_RETURN(std::optional<int64_t> form_seq, ParseCursor(form_cursor));
  if (!seq || !form_seq) {
    return std::optional<CachePosition>();
  }
  return std::optional<CachePosition>(CachePosition{*seq, *form_seq});
}

// Renders series into SET commands. One per thread (it reuses buffers).
class SeriesRenderer {
 public:
  SeriesRenderer(const Aggregator& agg, absl::string_view mac_key) : agg_(agg), mac_key_(mac_key) {}

  // Appends the SET of series `s` (every year with a figure) to `commands`
  // and records its index field. A series without any figure gets a DEL
  // when `delete_empty`, nothing otherwise. Returns the number of years
  // written.
  int Append(Aggregator::SeriesId s, bool delete_empty, Commands* commands) {
    std::string value;
    int years = 0;
    for (int y = 0; y <= agg_.last_year() - agg_.first_year(); ++y) {
      if (!agg_.RenderValue(Aggregator::MakeCell(s, y), &aggregate_)) {
        continue;
      }
      if (years == 0) {
        value.reserve(64 * static_cast<size_t>(agg_.last_year() - agg_.first_year() + 1));
      }
      aggregate_.mutable_key()->set_year(agg_.first_year() + y);
      AppendStoredAggregate(aggregate_, &value);
      ++years;
    }
    const Aggregator::SeriesName name = agg_.NameOf(s);
    std::string key = SeriesRedisKey(*name.indicator_id, *name.area_code, name.sex, name.residence);
    if (years == 0) {
      if (delete_empty) {
        // The series lost its last figure (a withdrawal): its key and its
        // index field go.
        commands->push_back({"DEL", std::move(key)});
        commands->push_back({"HDEL", IndexRedisKey(*name.indicator_id),
                             IndexField(*name.area_code, name.sex, name.residence)});
      }
      return 0;
    }
    std::string sealed = SealSeriesValue(mac_key_, key, value);
    commands->push_back({"SET", std::move(key), std::move(sealed)});
    index_fields_[name.indicator_index].push_back(
        IndexField(*name.area_code, name.sex, name.residence));
    return years;
  }

  // The HSETs of the index hashes for every series appended so far.
  void AppendIndex(Commands* commands) const {
    for (const auto& [ind, fields] : index_fields_) {
      std::vector<std::string> argv;
      argv.reserve(2 + 2 * fields.size());
      argv.emplace_back("HSET");
      argv.push_back(IndexRedisKey(agg_.IndicatorAt(ind).id()));
      for (const auto& f : fields) {
        argv.push_back(f);
        argv.emplace_back();
      }
      commands->push_back(std::move(argv));
    }
  }

  // Sorted ids of the indicators with series appended so far.
  std::vector<std::string> IndicatorIds() const {
    std::vector<std::string> ids;
    for (const auto& [ind, fields] : index_fields_) {
      ids.push_back(agg_.IndicatorAt(ind).id());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

 private:
  const Aggregator& agg_;
  const absl::string_view mac_key_;
  halfsky::v1::Aggregate aggregate_;
  std::map<int, std::vector<std::string>> index_fields_;
};

// A bounded single-producer single-consumer queue of command chunks.
class ChunkQueue {
 public:
  explicit ChunkQueue(size_t capacity) : capacity_(capacity) {}

  // False if the consumer gave up (the chunk is dropped).
  bool Push(Commands chunk) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &ChunkQueue::CanPush));
    if (abandoned_) {
      return false;
    }
    chunks_.push_back(std::move(chunk));
    return true;
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  // False once closed and drained.
  bool Pop(Commands* chunk) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &ChunkQueue::CanPop));
    if (chunks_.empty()) {
      return false;
    }
    *chunk = std::move(chunks_.front());
    chunks_.pop_front();
    return true;
  }
  void Abandon() {
    absl::MutexLock lock(&mu_);
    abandoned_ = true;
    chunks_.clear();
  }

 private:
  bool CanPush() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return abandoned_ || chunks_.size() < capacity_;
  }
  bool CanPop() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || !chunks_.empty(); }

  const size_t capacity_;
  absl::Mutex mu_;
  std::deque<Commands> chunks_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool abandoned_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

absl::StatusOr<std::optional<CachePosition>> RedisWriter::ReadCursor() {
  HALFSKY_ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                           redis_->Transaction({{"GET", kCursorKey}, {"GET", kFormCursorKey}}));
  if (replies.size() != 2) {
    return absl::UnavailableError("EXEC returned an unexpected number of replies");
  }
  return ParsePosition(replies[0], replies[1]);
}

absl::StatusOr<RedisWriter::CommitResult> RedisWriter::Commit(const Aggregator& agg,
                                                              const std::vector<CellId>& cells,
                                                              CachePosition cursor,
                                                              bool create_cursor,
                                                              const BaseCheck& base_ok) {
  std::vector<CellId> sorted = cells;
  std::sort(sorted.begin(), sorted.end());
  Commands commands;
  if (!base_ok) {
    commands.push_back({"GET", kCursorKey});
    commands.push_back({"GET", kFormCursorKey});
  }
  SeriesRenderer renderer(agg, mac_key_);
  for (size_t i = 0; i < sorted.size();) {
    const Aggregator::SeriesId s = Aggregator::SeriesOf(sorted[i]);
    while (i < sorted.size() && Aggregator::SeriesOf(sorted[i]) == s) {
      ++i;
    }
    if (s < agg.series_count()) {
      renderer.Append(s, /*delete_empty=*/true, &commands);
    }
  }
  renderer.AppendIndex(&commands);
  if (create_cursor) {
    commands.push_back({"SET", kCursorKey, absl::StrCat(cursor.sequence)});
    commands.push_back({"SET", kFormCursorKey, absl::StrCat(cursor.form_sequence)});
  } else {
    commands.push_back({"SET", kCursorKey, absl::StrCat(cursor.sequence), "XX"});
    commands.push_back({"SET", kFormCursorKey, absl::StrCat(cursor.form_sequence), "XX"});
  }
  commands.push_back({"INCR", kVersionKey});
  CommitResult result;
  if (base_ok) {
    // The cursor must be one this writer accepts as its base, checked
    // atomically with the commit (WATCH): a commit never lands on a cache
    // that lost writes (a failover, a restore) and never moves its cursor.
    bool malformed = false;
    bool fenced = false;
    std::optional<std::string> fence_holder;
    RedisClient::GuardedResult guarded;
    for (int attempt = 0;; ++attempt) {
      malformed = false;
      fenced = false;
      HALFSKY_ASSIGN_OR_RETURN(
          guarded,
          redis_->GuardedTransaction(
              fence_epoch_ > 0
                  ? std::vector<std::string>{std::string(kCursorKey), std::string(kFormCursorKey),
                                             std::string(kLeaderEpochKey)}
                  : std::vector<std::string>{std::string(kCursorKey), std::string(kFormCursorKey)},
              [&](const std::vector<std::optional<std::string>>& texts) {
                if (fence_epoch_ > 0 && !FenceIsOurs(texts[2])) {
                  fenced = true;
                  fence_holder = texts[2];
                  return false;
                }
                auto reply = [](const std::optional<std::string>& text) {
                  return text ? RedisReply::String(*text) : RedisReply::Nil();
                };
                absl::StatusOr<std::optional<CachePosition>> parsed =
                    ParsePosition(reply(texts[0]), reply(texts[1]));
                if (!parsed.ok()) {
                  malformed = true;
                  return false;
                }
                result.previous_cursor = *parsed;
                return base_ok(*parsed);
              },
              commands));
      if (!fenced) {
        break;
      }
      if (attempt > 0 || !MayReclaim(fence_holder)) {
        return Superseded(fence_holder);
      }
      HALFSKY_RETURN_IF_ERROR(ClaimFence());
    }
    if (!guarded.applied) {
      result.applied = false;
      if (malformed) {
        result.previous_cursor.reset();
      }
      return result;
    }
    if (guarded.replies.size() != commands.size()) {
      return absl::UnavailableError("EXEC returned an unexpected number of replies");
    }
    HALFSKY_ASSIGN_OR_RETURN(result.version, guarded.replies.back().AsInteger());
    return result;
  }
  HALFSKY_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, FencedTransaction(commands));
  if (replies.size() != commands.size()) {
    return absl::UnavailableError("EXEC returned an unexpected number of replies");
  }
  HALFSKY_ASSIGN_OR_RETURN(result.previous_cursor, ParsePosition(replies[0], replies[1]));
  HALFSKY_ASSIGN_OR_RETURN(result.version, replies.back().AsInteger());
  return result;
}

absl::StatusOr<RedisWriter::RewriteResult> RedisWriter::RewriteAll(const Aggregator& agg,
                                                                   CachePosition cursor) {
  // 1. The cache is invalid from here until the final MULTI/EXEC.
  if (fence_epoch_ > 0) {
    HALFSKY_RETURN_IF_ERROR(FencedTransaction({{"DEL", kCursorKey, kFormCursorKey}}).status());
  } else {
    HALFSKY_RETURN_IF_ERROR(redis_->Command({"DEL", kCursorKey, kFormCursorKey}).status());
  }

  // 2. Delete the old aggregate keys (and any of the previous layout) —
  // except the series about to be overwritten by a SET anyway.
  {
    HALFSKY_ASSIGN_OR_RETURN(std::vector<std::string> keys, redis_->ScanKeys(kAnyLayoutKeyPattern));
    absl::flat_hash_set<std::string> rewritten;
    if (!keys.empty()) {
      for (size_t s = 0; s < agg.series_count(); ++s) {
        if (agg.SeriesHasFigure(static_cast<Aggregator::SeriesId>(s))) {
          const Aggregator::SeriesName name = agg.NameOf(static_cast<Aggregator::SeriesId>(s));
          rewritten.insert(
              SeriesRedisKey(*name.indicator_id, *name.area_code, name.sex, name.residence));
        }
      }
    }
    keys.erase(std::remove_if(keys.begin(), keys.end(),
                              [&](const std::string& k) {
                                return k == kVersionKey || k == kLeaderEpochKey ||
                                       rewritten.contains(k);
                              }),
               keys.end());
    bool unlink = true;
    for (size_t i = 0; i < keys.size();) {
      Commands batch;
      while (i < keys.size() && batch.size() < 64) {
        std::vector<std::string> argv = {unlink ? "UNLINK" : "DEL"};
        for (size_t j = 0; j < 1000 && i < keys.size(); ++j, ++i) {
          argv.push_back(std::move(keys[i]));
        }
        batch.push_back(std::move(argv));
      }
      auto send = [&] {
        return fence_epoch_ > 0 ? FencedTransaction(batch).status()
                                : redis_->Pipeline(batch).status();
      };
      auto st = send();
      if (absl::IsUnimplemented(st) && unlink) {
        // Redis < 4: no UNLINK. DEL of keys already gone is harmless.
        unlink = false;
        for (auto& argv : batch) {
          argv[0] = "DEL";
        }
        st = send();
      }
      HALFSKY_RETURN_IF_ERROR(st);
    }
  }

  // 3. Write: render on a second thread, send here.
  RewriteResult result;
  std::vector<std::string> indicator_ids;
  ChunkQueue queue(/*capacity=*/2);
  std::thread renderer_thread([&] {
    SeriesRenderer renderer(agg, mac_key_);
    Commands chunk;
    int64_t count = 0;
    const size_t n = agg.series_count();
    for (size_t s = 0; s < n; ++s) {
      count +=
          renderer.Append(static_cast<Aggregator::SeriesId>(s), /*delete_empty=*/false, &chunk);
      if (static_cast<int>(chunk.size()) >= pipeline_chunk_) {
        if (!queue.Push(std::move(chunk))) {
          return;
        }
        chunk = Commands();
      }
    }
    renderer.AppendIndex(&chunk);
    if (!chunk.empty() && !queue.Push(std::move(chunk))) {
      return;
    }
    result.aggregate_count = count;
    indicator_ids = renderer.IndicatorIds();
    queue.Close();
  });
  absl::Status write_status;
  Commands chunk;
  while (queue.Pop(&chunk)) {
    write_status =
        fence_epoch_ > 0 ? FencedTransaction(chunk).status() : redis_->Pipeline(chunk).status();
    if (!write_status.ok()) {
      queue.Abandon();
      break;
    }
  }
  renderer_thread.join();
  HALFSKY_RETURN_IF_ERROR(write_status);

  // 4. The cursor, atomically with the version bump.
  HALFSKY_ASSIGN_OR_RETURN(
      std::vector<RedisReply> replies,
      FencedTransaction({{"SET", kCursorKey, absl::StrCat(cursor.sequence)},
                         {"SET", kFormCursorKey, absl::StrCat(cursor.form_sequence)},
                         {"INCR", kVersionKey}}));
  if (replies.size() != 3) {
    return absl::UnavailableError("EXEC returned an unexpected number of replies");
  }
  HALFSKY_ASSIGN_OR_RETURN(result.version, replies.back().AsInteger());
  result.indicator_ids = std::move(indicator_ids);
  return result;
}

bool RedisWriter::FenceIsOurs(const std::optional<std::string>& text) const {
  int64_t epoch = 0;
  return text && absl::SimpleAtoi(*text, &epoch) && epoch == fence_epoch_;
}

absl::Status RedisWriter::Superseded(const std::optional<std::string>& holder) const {
  return WithReason(
      absl::FailedPreconditionError(absl::StrCat(
          "汇总主节点已更替，本节点不再写缓存 / this aggregation replica (leader epoch ",
          fence_epoch_, ") was succeeded: the cache belongs to leader epoch ",
          holder ? *holder : "(none)", "; nothing was written")),
      "LEADER_SUPERSEDED");
}

bool RedisWriter::IsLeaderSuperseded(const absl::Status& status) {
  return absl::IsFailedPrecondition(status) && ErrorReason(status) == "LEADER_SUPERSEDED";
}

absl::StatusOr<std::vector<RedisReply>> RedisWriter::FencedTransaction(const Commands& commands) {
  if (fence_epoch_ <= 0) {
    return redis_->Transaction(commands);
  }
  for (int attempt = 0;; ++attempt) {
    std::optional<std::string> holder;
    bool ours = false;
    HALFSKY_ASSIGN_OR_RETURN(RedisClient::GuardedResult guarded,
                             redis_->GuardedTransaction(
                                 std::string(kLeaderEpochKey),
                                 [&](const std::optional<std::string>& text) {
                                   holder = text;
                                   ours = FenceIsOurs(text);
                                   return ours;
                                 },
                                 commands));
    if (ours) {
      return std::move(guarded.replies);
    }
    if (attempt > 0 || !MayReclaim(holder)) {
      return Superseded(holder);
    }
    HALFSKY_RETURN_IF_ERROR(ClaimFence());
  }
}

bool RedisWriter::MayReclaim(const std::optional<std::string>& holder) const {
  int64_t epoch = 0;
  return !holder || !absl::SimpleAtoi(*holder, &epoch) || epoch < fence_epoch_;
}

absl::Status RedisWriter::ClaimFence() {
  if (fence_epoch_ <= 0) {
    return absl::FailedPreconditionError("no fence epoch set");
  }
  std::optional<std::string> holder;
  bool newer = false;
  HALFSKY_ASSIGN_OR_RETURN(
      RedisClient::GuardedResult guarded,
      redis_->GuardedTransaction(std::string(kLeaderEpochKey),
                                 [&](const std::optional<std::string>& text) {
                                   holder = text;
                                   int64_t epoch = 0;
                                   newer = text && absl::SimpleAtoi(*text, &epoch) &&
                                           epoch >= fence_epoch_;
                                   return !newer;
                                 },
                                 {{"SET", kLeaderEpochKey, absl::StrCat(fence_epoch_)}}));
  if (newer) {
    int64_t epoch = 0;
    if (absl::SimpleAtoi(holder.value_or(""), &epoch) && epoch == fence_epoch_) {
      return absl::OkStatus();  // claimed before (a retried claim)
    }
    return Superseded(holder);
  }
  (void)guarded;
  return absl::OkStatus();
}

absl::Status RedisWriter::Publish(const cache::UpdateMessage& message) {
  return redis_->Publish(kUpdatesChannel, cache::FormatUpdateMessage(message)).status();
}

}  // namespace halfsky::aggregation
