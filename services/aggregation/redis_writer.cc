#include "services/aggregation/redis_writer.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace halfsky::aggregation {
namespace {

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

// Appends the HSET of one series (the given year indexes) to `commands` and
// records its index field. Returns the number of fields written.
int AppendSeries(const Aggregator& agg, Aggregator::SeriesId s, const std::vector<int>& years,
                 std::vector<std::vector<std::string>>* commands,
                 std::map<int, std::vector<std::string>>* index_fields) {
  const Aggregator::SeriesName name = agg.NameOf(s);
  std::vector<std::string> argv;
  argv.reserve(2 + 2 * years.size());
  argv.emplace_back("HSET");
  argv.push_back(SeriesRedisKey(*name.indicator_id, *name.area_code, name.sex, name.residence));
  for (int y : years) {
    auto a = agg.Render(Aggregator::MakeCell(s, y));
    if (!a) {
      continue;
    }
    argv.push_back(absl::StrCat(agg.first_year() + y));
    argv.emplace_back();
    a->SerializeToString(&argv.back());
  }
  const int fields = static_cast<int>((argv.size() - 2) / 2);
  if (fields > 0) {
    commands->push_back(std::move(argv));
    (*index_fields)[name.indicator_index].push_back(
        IndexField(*name.area_code, name.sex, name.residence));
  }
  return fields;
}

void AppendIndex(const Aggregator& agg, const std::map<int, std::vector<std::string>>& index_fields,
                 std::vector<std::vector<std::string>>* commands) {
  for (const auto& [ind, fields] : index_fields) {
    std::vector<std::string> argv;
    argv.reserve(2 + 2 * fields.size());
    argv.emplace_back("HSET");
    argv.push_back(IndexRedisKey(agg.IndicatorAt(ind).id()));
    for (const auto& f : fields) {
      argv.push_back(f);
      argv.emplace_back();
    }
    commands->push_back(std::move(argv));
  }
}

}  // namespace

absl::StatusOr<std::optional<int64_t>> RedisWriter::ReadCursor() {
  HALFSKY_ASSIGN_OR_RETURN(RedisReply reply, redis_->Command({"GET", kCursorKey}));
  return ParseCursor(reply);
}

absl::StatusOr<RedisWriter::CommitResult> RedisWriter::Commit(const Aggregator& agg,
                                                              const std::vector<CellId>& cells,
                                                              int64_t cursor, bool create_cursor) {
  std::vector<CellId> sorted = cells;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::vector<std::string>> commands;
  commands.push_back({"GET", kCursorKey});
  std::map<int, std::vector<std::string>> index_fields;
  for (size_t i = 0; i < sorted.size();) {
    const Aggregator::SeriesId s = Aggregator::SeriesOf(sorted[i]);
    std::vector<int> years;
    while (i < sorted.size() && Aggregator::SeriesOf(sorted[i]) == s) {
      years.push_back(Aggregator::YearIndexOf(sorted[i]));
      ++i;
    }
    AppendSeries(agg, s, years, &commands, &index_fields);
  }
  AppendIndex(agg, index_fields, &commands);
  if (create_cursor) {
    commands.push_back({"SET", kCursorKey, absl::StrCat(cursor)});
  } else {
    commands.push_back({"SET", kCursorKey, absl::StrCat(cursor), "XX"});
  }
  commands.push_back({"INCR", kVersionKey});
  HALFSKY_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, redis_->Transaction(commands));
  if (replies.size() != commands.size()) {
    return absl::UnavailableError("EXEC returned an unexpected number of replies");
  }
  CommitResult result;
  HALFSKY_ASSIGN_OR_RETURN(result.previous_cursor, ParseCursor(replies.front()));
  HALFSKY_ASSIGN_OR_RETURN(result.version, replies.back().AsInteger());
  return result;
}

absl::StatusOr<RedisWriter::RewriteResult> RedisWriter::RewriteAll(const Aggregator& agg,
                                                                   int64_t cursor) {
  HALFSKY_RETURN_IF_ERROR(redis_->Command({"DEL", kCursorKey}).status());
  for (const char* pattern : {"halfsky:agg:v1:s:*", "halfsky:agg:v1:idx:*"}) {
    HALFSKY_ASSIGN_OR_RETURN(std::vector<std::string> keys, redis_->ScanKeys(pattern));
    for (size_t i = 0; i < keys.size(); i += 1000) {
      std::vector<std::string> argv = {"UNLINK"};
      for (size_t j = i; j < std::min(keys.size(), i + 1000); ++j) {
        argv.push_back(keys[j]);
      }
      auto st = redis_->Command(argv).status();
      if (absl::IsUnimplemented(st)) {
        argv[0] = "DEL";
        st = redis_->Command(argv).status();
      }
      HALFSKY_RETURN_IF_ERROR(st);
    }
  }
  RewriteResult result;
  std::set<int> indicators;
  std::vector<std::vector<std::string>> commands;
  std::map<int, std::vector<std::string>> index_fields;
  std::vector<int> all_years;
  for (int y = 0; y <= agg.last_year() - agg.first_year(); ++y) {
    all_years.push_back(y);
  }
  auto flush = [&]() -> absl::Status {
    if (commands.empty()) {
      return absl::OkStatus();
    }
    HALFSKY_RETURN_IF_ERROR(redis_->Pipeline(commands).status());
    commands.clear();
    return absl::OkStatus();
  };
  const size_t n = agg.series_count();
  for (size_t s = 0; s < n; ++s) {
    const int fields =
        AppendSeries(agg, static_cast<Aggregator::SeriesId>(s), all_years, &commands, &index_fields);
    if (fields > 0) {
      result.aggregate_count += fields;
      indicators.insert(agg.NameOf(static_cast<Aggregator::SeriesId>(s)).indicator_index);
    }
    if (static_cast<int>(commands.size()) >= pipeline_chunk_) {
      HALFSKY_RETURN_IF_ERROR(flush());
    }
  }
  AppendIndex(agg, index_fields, &commands);
  HALFSKY_RETURN_IF_ERROR(flush());
  HALFSKY_ASSIGN_OR_RETURN(
      std::vector<RedisReply> replies,
      redis_->Transaction({{"SET", kCursorKey, absl::StrCat(cursor)}, {"INCR", kVersionKey}}));
  if (replies.size() != 2) {
    return absl::UnavailableError("EXEC returned an unexpected number of replies");
  }
  HALFSKY_ASSIGN_OR_RETURN(result.version, replies.back().AsInteger());
  for (int ind : indicators) {
    result.indicator_ids.push_back(agg.IndicatorAt(ind).id());
  }
  std::sort(result.indicator_ids.begin(), result.indicator_ids.end());
  return result;
}

absl::Status RedisWriter::Publish(const UpdateMessage& message) {
  return redis_->Publish(kUpdatesChannel, FormatUpdateMessage(message)).status();
}

}  // namespace halfsky::aggregation
