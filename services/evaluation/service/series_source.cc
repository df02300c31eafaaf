#include "services/evaluation/service/series_source.h"

#include <algorithm>
#include <iostream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "common/auth/credentials.h"
#include "common/cache/cache_layout.h"
#include "common/cache/series_point.h"
#include "common/status/status.h"

namespace halfsky::evaluation {
namespace {

using ::halfsky::v1::Indicator;
using ::halfsky::v1::Residence;
using ::halfsky::v1::SeriesPoint;
using ::halfsky::v1::Sex;

Sex NormSex(Sex s) { return s == halfsky::v1::SEX_UNSPECIFIED ? halfsky::v1::SEX_TOTAL : s; }
Residence NormRes(Residence r) {
  return r == halfsky::v1::RESIDENCE_UNSPECIFIED ? halfsky::v1::RESIDENCE_ALL : r;
}

void AddUnique(std::vector<SeriesSpec>* specs, SeriesSpec spec) {
  if (std::find(specs->begin(), specs->end(), spec) == specs->end()) {
    specs->push_back(spec);
  }
}

// Sorts by year and fills change_from_previous (previous calendar year only,
// neither point incomplete, as the aggregation service does).
void Finish(std::vector<SeriesPoint>* points) {
  std::sort(points->begin(), points->end(),
            [](const SeriesPoint& a, const SeriesPoint& b) { return a.year() < b.year(); });
  for (size_t i = 1; i < points->size(); ++i) {
    SeriesPoint& p = (*points)[i];
    const SeriesPoint& prev = (*points)[i - 1];
    if (prev.year() == p.year() - 1 && p.has_value() && prev.has_value() && !p.incomplete() &&
        !prev.incomplete()) {
      p.set_change_from_previous(p.value() - prev.value());
    }
  }
}

}  // namespace

std::vector<SeriesSpec> NeededSeries(const Indicator& indicator) {
  std::vector<SeriesSpec> specs;
  specs.push_back(SeriesSpec{halfsky::v1::SEX_TOTAL, halfsky::v1::RESIDENCE_ALL});
  for (const auto& target : indicator.targets()) {
    const Sex s = NormSex(target.sex());
    const Residence r = NormRes(target.residence());
    if (target.comparator() == halfsky::v1::COMPARATOR_NARROW_GAP) {
      if (target.gap_dimension() == halfsky::v1::GAP_DIMENSION_RESIDENCE) {
        AddUnique(&specs, {s, halfsky::v1::RESIDENCE_URBAN});
        AddUnique(&specs, {s, halfsky::v1::RESIDENCE_RURAL});
      } else {
        AddUnique(&specs, {halfsky::v1::SEX_FEMALE, r});
        AddUnique(&specs, {halfsky::v1::SEX_MALE, r});
      }
    } else {
      AddUnique(&specs, {s, r});
    }
  }
  return specs;
}

const std::vector<SeriesPoint>& AreaSeries::Get(SeriesSpec spec) const {
  static const std::vector<SeriesPoint>* const kEmpty = new std::vector<SeriesPoint>();
  auto it = series.find(spec);
  return it == series.end() ? *kEmpty : it->second;
}

absl::StatusOr<std::vector<IndicatorSnapshot>> SeriesSource::ReadMany(
    const std::vector<SeriesRequest>& requests) {
  std::vector<IndicatorSnapshot> out;
  out.reserve(requests.size());
  for (const SeriesRequest& r : requests) {
    HALFSKY_ASSIGN_OR_RETURN(IndicatorSnapshot snapshot, Read(*r.indicator, r.area_codes, r.specs));
    out.push_back(std::move(snapshot));
  }
  return out;
}

absl::StatusOr<IndicatorSnapshot> RedisSeriesSource::Read(const Indicator& indicator,
                                                          const std::vector<std::string>& areas,
                                                          const std::vector<SeriesSpec>& specs) {
  HALFSKY_ASSIGN_OR_RETURN(std::vector<IndicatorSnapshot> one,
                           ReadMany({SeriesRequest{&indicator, areas, specs}}));
  return std::move(one.front());
}

absl::StatusOr<std::vector<IndicatorSnapshot>> RedisSeriesSource::ReadMany(
    const std::vector<SeriesRequest>& requests) {
  std::vector<IndicatorSnapshot> out;
  out.reserve(requests.size());
  size_t begin = 0;
  while (begin < requests.size()) {
    size_t end = begin;
    size_t keys = 0;
    while (end < requests.size()) {
      const size_t more = requests[end].area_codes.size() * requests[end].specs.size();
      if (end > begin && keys + more > max_keys_) {
        break;
      }
      keys += more;
      ++end;
    }
    HALFSKY_RETURN_IF_ERROR(
        ReadTransaction(absl::MakeConstSpan(requests).subspan(begin, end - begin), &out));
    begin = end;
  }
  return out;
}

absl::Status RedisSeriesSource::ReadTransaction(absl::Span<const SeriesRequest> requests,
                                                std::vector<IndicatorSnapshot>* out) {
  std::vector<std::vector<std::string>> commands;
  size_t keys = 1;
  for (const SeriesRequest& r : requests) {
    keys += r.area_codes.size() * r.specs.size();
  }
  commands.reserve(keys);
  commands.push_back({"GET", cache::kCursorKey});
  for (const SeriesRequest& r : requests) {
    for (const std::string& area : r.area_codes) {
      for (const SeriesSpec& spec : r.specs) {
        commands.push_back(
            {"GET", cache::SeriesRedisKey(r.indicator->id(), area, spec.sex, spec.residence)});
      }
    }
  }
  // One MULTI/EXEC: the cursor and every series come from the same state,
  // between two aggregation commits, never in the middle of one.
  HALFSKY_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, redis_->Transaction(commands));
  if (replies.size() != commands.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("unexpected EXEC reply size ", replies.size(), " for ", commands.size()));
  }
  HALFSKY_ASSIGN_OR_RETURN(std::optional<std::string> cursor_text, replies[0].AsOptionalString());
  if (!cursor_text.has_value()) {
    return absl::UnavailableError("聚合缓存无效（无游标）/ aggregate cache not valid (no cursor)");
  }
  int64_t as_of_sequence = 0;
  if (!absl::SimpleAtoi(*cursor_text, &as_of_sequence)) {
    return absl::FailedPreconditionError(absl::StrCat("cursor is not an integer: ", *cursor_text));
  }
  size_t i = 1;
  for (const SeriesRequest& r : requests) {
    const Indicator& indicator = *r.indicator;
    IndicatorSnapshot& snapshot = out->emplace_back();
    snapshot.indicator_id = indicator.id();
    snapshot.origin = IndicatorSnapshot::Origin::kRedis;
    snapshot.as_of_sequence = as_of_sequence;
    for (const std::string& area : r.area_codes) {
      AreaSeries& area_out = snapshot.areas.emplace_back();
      area_out.area_code = area;
      for (const SeriesSpec& spec : r.specs) {
        HALFSKY_ASSIGN_OR_RETURN(std::optional<std::string> value, replies[i].AsOptionalString());
        ++i;
        std::vector<SeriesPoint>& points = area_out.series[spec];
        if (value.has_value()) {
          // commands[i - 1] is {"GET", key} of this series.
          const std::string& key = commands[i - 1][1];
          absl::StatusOr<absl::string_view> payload = cache::OpenSeriesValue(mac_key_, key, *value);
          if (!payload.ok()) {
            Reject(key, payload.status());
            return absl::FailedPreconditionError(
                absl::StrCat("聚合缓存值未通过认证，改读聚合服务 / cached aggregate refused: ",
                             payload.status().message()));
          }
          auto aggregates =
              cache::ParseStoredSeries(indicator.id(), area, spec.sex, spec.residence, *payload);
          if (!aggregates.ok()) {
            return absl::FailedPreconditionError(aggregates.status().message());
          }
          for (const halfsky::v1::Aggregate& aggregate : *aggregates) {
            points.push_back(cache::SeriesPointFromAggregate(aggregate));
          }
        }
        Finish(&points);
      }
    }
  }
  return absl::OkStatus();
}

void RedisSeriesSource::Reject(const std::string& key, const absl::Status& why) {
  if (rejected_ != nullptr) {
    rejected_->Increment();
  }
  absl::MutexLock lock(&mu_);
  if (logged_.insert(key).second) {
    std::cerr << "halfsky-evaluation: refused cached value (" << why.message()
              << "); reading the aggregation service instead. Logged once per key.\n";
  }
}

void PrepareClientContext(grpc::ClientContext* ctx, const std::string& bearer_token,
                          absl::Duration deadline) {
  if (!bearer_token.empty()) {
    auth::AddBearerToken(ctx, bearer_token);
  }
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
}

GrpcSeriesSource::GrpcSeriesSource(std::shared_ptr<grpc::Channel> channel, std::string bearer_token,
                                   absl::Duration deadline)
    : stub_(halfsky::v1::AggregationService::NewStub(channel)),
      token_(std::move(bearer_token)),
      deadline_(deadline) {}

absl::StatusOr<IndicatorSnapshot> GrpcSeriesSource::Read(const Indicator& indicator,
                                                         const std::vector<std::string>& areas,
                                                         const std::vector<SeriesSpec>& specs) {
  // Each GetSeries answers from one state of the aggregation service; the
  // snapshot is consistent when all of them carry the same as_of_sequence.
  // Retry a few times when an update landed between two calls.
  absl::Status last = absl::UnavailableError("no attempt");
  for (int attempt = 0; attempt < 5; ++attempt) {
    IndicatorSnapshot snapshot;
    snapshot.indicator_id = indicator.id();
    snapshot.origin = IndicatorSnapshot::Origin::kAggregationService;
    bool first = true;
    bool consistent = true;
    for (const std::string& area : areas) {
      AreaSeries& out = snapshot.areas.emplace_back();
      out.area_code = area;
      for (const SeriesSpec& spec : specs) {
        grpc::ClientContext ctx;
        PrepareClientContext(&ctx, token_, deadline_);
        halfsky::v1::GetSeriesRequest request;
        request.set_indicator_id(indicator.id());
        request.set_area_code(area);
        request.set_sex(spec.sex);
        request.set_residence(spec.residence);
        halfsky::v1::GetSeriesResponse response;
        grpc::Status st = stub_->GetSeries(&ctx, request, &response);
        if (!st.ok()) {
          return FromGrpcStatus(st);
        }
        if (first) {
          snapshot.as_of_sequence = response.as_of_sequence();
          first = false;
        } else if (response.as_of_sequence() != snapshot.as_of_sequence) {
          consistent = false;
        }
        std::vector<SeriesPoint>& points = out.series[spec];
        points.assign(response.points().begin(), response.points().end());
        Finish(&points);
      }
    }
    if (consistent) {
      return snapshot;
    }
    last = absl::UnavailableError("aggregation changed during the read");
  }
  return last;
}

absl::StatusOr<IndicatorSnapshot> FallbackSeriesSource::Read(const Indicator& indicator,
                                                             const std::vector<std::string>& areas,
                                                             const std::vector<SeriesSpec>& specs) {
  absl::StatusOr<IndicatorSnapshot> first = primary_->Read(indicator, areas, specs);
  if (first.ok()) {
    return first;
  }
  absl::StatusOr<IndicatorSnapshot> second = secondary_->Read(indicator, areas, specs);
  if (second.ok()) {
    return second;
  }
  return absl::Status(
      second.status().code(),
      absl::StrCat(second.status().message(), " (cache: ", first.status().message(), ")"));
}

absl::StatusOr<std::vector<IndicatorSnapshot>> FallbackSeriesSource::ReadMany(
    const std::vector<SeriesRequest>& requests) {
  // The primary only: one indicator it cannot serve must not send the
  // whole batch to the secondary (one GetSeries per area and series each);
  // the caller reads each indicator again through Read.
  return primary_->ReadMany(requests);
}

}  // namespace halfsky::evaluation
