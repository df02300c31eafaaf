// Aggregation benchmarks (print measurements; never run by ctest).
//
//   aggregation_bench [--values=N] [--rate=R] [--seconds=S]
//
// 1. Rebuild: N data values (default ≈1 000 000: 500 villages × 20
//    indicators × 11 years × 9 sex/residence groups) loaded into an
//    Aggregator (Load + RecomputeAll), then RewriteAll into a real
//    redis-server ($HALFSKY_REDIS_SERVER or redis-server on PATH). Prints the
//    times and the process RSS (VmRSS / VmHWM) with the state in memory.
// 2. Commit → publish latency: a Follower on a loopback WatchChanges server
//    (FakeSubmission) holding 100 000 values, under a steady load of R
//    revisions/s (default 1 000, in batches every 10 ms) for S seconds
//    (default 10); latency = PUBLISH received by a subscriber − the time the
//    newest revision it covers was appended (committed). Prints p50/p99/max.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/cache/cache_layout.h"
#include "common/catalog/catalog.h"
#include "common/redis/hiredis_client.h"
#include "services/aggregation/aggregator.h"
#include "services/aggregation/follower.h"
#include "services/aggregation/redis_writer.h"
#include "tests/aggregation/fake_submission.h"
#include "tests/support/process.h"

namespace {

using halfsky::aggregation::Aggregator;

constexpr int kTowns = 10;
constexpr int kVillagesPerTown = 50;
constexpr int kIndicators = 20;

std::shared_ptr<const halfsky::CatalogIndex> BenchCatalog() {
  halfsky::v1::Catalog c;
  c.set_version("bench.1");
  c.set_plan_title_zh("基准");
  c.set_base_year(2020);
  c.set_midterm_year(2025);
  c.set_final_year(2030);
  c.mutable_calendar()->mutable_default_due_date()->set_month(12);
  c.mutable_calendar()->mutable_default_due_date()->set_day(31);
  auto* d = c.add_domains();
  d->set_id("HEALTH");
  d->set_number(1);
  d->set_name_zh("健康");
  d->set_name_en("Health");
  auto* o = c.add_objectives();
  o->set_id("HEALTH-O01");
  o->set_domain_id("HEALTH");
  o->set_number(1);
  o->set_text_zh("目标");
  auto* u = c.add_member_units();
  u->set_code("HEALTH_BUREAU");
  u->set_name_zh("卫健局");
  u->set_name_en("Health bureau");
  auto* root = c.add_areas();
  root->set_code("610303");
  root->set_name_zh("金台区");
  root->set_level(halfsky::v1::AREA_LEVEL_DISTRICT);
  root->set_residence(halfsky::v1::RESIDENCE_URBAN);
  for (int t = 1; t <= kTowns; ++t) {
    auto* town = c.add_areas();
    town->set_code(absl::StrCat("610303", absl::Dec(t, absl::kZeroPad3)));
    town->set_name_zh(absl::StrCat("镇", t));
    town->set_parent_code("610303");
    town->set_level(halfsky::v1::AREA_LEVEL_TOWN);
    town->set_residence(halfsky::v1::RESIDENCE_RURAL);
    for (int v = 1; v <= kVillagesPerTown; ++v) {
      auto* village = c.add_areas();
      village->set_code(absl::StrCat(town->code(), absl::Dec(v, absl::kZeroPad3)));
      village->set_name_zh(absl::StrCat("村", t, "-", v));
      village->set_parent_code(town->code());
      village->set_level(halfsky::v1::AREA_LEVEL_VILLAGE);
      village->set_residence(halfsky::v1::RESIDENCE_RURAL);
    }
  }
  for (int i = 1; i <= kIndicators; ++i) {
    auto* ind = c.add_indicators();
    ind->set_id(absl::StrCat("HEALTH-", absl::Dec(i, absl::kZeroPad2)));
    ind->set_domain_id("HEALTH");
    ind->add_objective_ids("HEALTH-O01");
    ind->set_name_zh(absl::StrCat("指标", i));
    ind->set_name_en(absl::StrCat("Indicator ", i));
    ind->add_responsible_unit_codes("HEALTH_BUREAU");
    ind->set_data_source(halfsky::v1::DATA_SOURCE_DEPARTMENTAL_STATISTICS);
    ind->set_direction(halfsky::v1::DIRECTION_HIGHER_IS_BETTER);
    if (i % 3 == 0) {
      ind->set_kind(halfsky::v1::INDICATOR_KIND_COUNT);
      ind->set_unit("人");
    } else {
      ind->set_kind(i % 3 == 1 ? halfsky::v1::INDICATOR_KIND_RATE
                               : halfsky::v1::INDICATOR_KIND_PROPORTION);
      if (i % 3 == 1) {
        ind->set_multiplier(100000);
        ind->set_unit("/10万");
      } else {
        ind->set_unit("%");
      }
      ind->mutable_definition()->set_numerator_zh("分子");
      ind->mutable_definition()->set_denominator_zh("分母");
    }
  }
  auto idx = halfsky::CatalogIndex::FromProto(c);
  if (!idx.ok()) {
    std::cerr << idx.status() << "\n";
    std::exit(1);
  }
  return *idx;
}

// The i-th synthetic revision (deterministic), i in [0, total).
halfsky::v1::Revision MakeRevision(const halfsky::CatalogIndex& cat, int64_t i, int64_t seq) {
  const int groups = 9;
  const int years = 11;
  const int64_t villages = kTowns * kVillagesPerTown;
  const int g = static_cast<int>(i % groups);
  const int y = static_cast<int>((i / groups) % years);
  const int ind = static_cast<int>((i / (groups * years)) % kIndicators);
  const int64_t v = (i / (groups * years * kIndicators)) % villages;
  const auto& area = cat.catalog().areas(static_cast<int>(
      1 + (v / kVillagesPerTown) * (kVillagesPerTown + 1) + 1 + v % kVillagesPerTown));
  const auto& indicator = cat.catalog().indicators(ind);
  halfsky::v1::Revision r;
  auto* dv = r.mutable_data_value();
  auto* k = dv->mutable_key();
  k->set_indicator_id(indicator.id());
  k->set_area_code(area.code());
  k->set_year(2020 + y);
  k->set_sex(static_cast<halfsky::v1::Sex>(1 + g / 3));
  k->set_residence(static_cast<halfsky::v1::Residence>(1 + g % 3));
  if (indicator.kind() == halfsky::v1::INDICATOR_KIND_COUNT) {
    dv->set_value(static_cast<double>((i * 7) % 500));
  } else {
    dv->mutable_fraction()->set_numerator(static_cast<double>((i * 13) % 97));
    dv->mutable_fraction()->set_denominator(100.0 + static_cast<double>((i * 31) % 9000));
  }
  dv->set_source("bench");
  r.set_sequence(seq);
  r.set_revision(1);
  return r;
}

std::string ProcStatus(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) {
      return line;
    }
  }
  return "";
}

int64_t Flag(int argc, char** argv, const std::string& name, int64_t def) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const std::string prefix = "--" + name + "=";
    int64_t v;
    if (a.rfind(prefix, 0) == 0 && absl::SimpleAtoi(a.substr(prefix.size()), &v)) {
      return v;
    }
  }
  return def;
}

// CPU seconds (user + sys) redis-server has used so far, from INFO cpu.
double RedisCpuSeconds(halfsky::RedisClient& redis) {
  auto info = redis.Command({"INFO", "cpu"});
  if (!info.ok()) {
    return -1;
  }
  double total = 0;
  for (absl::string_view line : absl::StrSplit(info->str(), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    for (const char* field : {"used_cpu_user:", "used_cpu_sys:"}) {
      absl::string_view v = line;
      double d;
      if (absl::ConsumePrefix(&v, field) && absl::SimpleAtod(v, &d)) {
        total += d;
      }
    }
  }
  return total;
}

// CPU seconds (user + sys) of this process so far.
double SelfCpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double Median(std::vector<double> v) {
  if (v.empty()) {
    return -1;
  }
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string Loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = Flag(argc, argv, "values", 990000);
  const int64_t rate = Flag(argc, argv, "rate", 1000);
  const int64_t seconds = Flag(argc, argv, "seconds", 10);
  const int64_t runs = Flag(argc, argv, "runs", 5);
  const int64_t latency_values = Flag(argc, argv, "latency_values", 100000);
  const int64_t chunk = Flag(argc, argv, "chunk", 0);
  auto catalog = BenchCatalog();
  auto redis_server = halfsky::testing::RedisServer::Start();
  if (!redis_server.ok()) {
    std::cerr << redis_server.status() << "\n";
    return 1;
  }
  halfsky::HiredisOptions ro;
  ro.port = (*redis_server)->port();
  ro.command_timeout = absl::Seconds(30);
  std::printf("loadavg at start: %s\n", Loadavg().c_str());

  // ---- 0. Profiling aid: K RewriteAlls into an empty Redis, nothing else ----
  if (const int64_t k = Flag(argc, argv, "rewrite_only", 0); k > 0) {
    halfsky::HiredisClient redis(ro);
    auto agg = std::make_unique<Aggregator>(catalog);
    for (int64_t i = 0; i < n; ++i) {
      agg->Load(MakeRevision(*catalog, i, i + 1));
    }
    agg->RecomputeAll();
    halfsky::aggregation::RedisWriter writer(&redis);
    if (chunk > 0) {
      writer.set_pipeline_chunk(static_cast<int>(chunk));
    }
    // --rewrite_full: every run after the first rewrites a full cache (as
    // the Rebuild RPC does: its stale-key listing has every key to list).
    const bool full = Flag(argc, argv, "rewrite_full", 0) != 0;
    for (int64_t run = 0; run < k; ++run) {
      if (run == 0 || !full) {
        redis.Command({"FLUSHALL"}).IgnoreError();
      }
      const double c0 = RedisCpuSeconds(redis);
      const double s0 = SelfCpuSeconds();
      const absl::Time t0 = absl::Now();
      auto r = writer.RewriteAll(*agg, n);
      const absl::Time t1 = absl::Now();
      std::printf("RewriteAll %.3f s (redis-server CPU %.3f s, bench CPU %.3f s)%s\n",
                  absl::ToDoubleSeconds(t1 - t0), RedisCpuSeconds(redis) - c0,
                  SelfCpuSeconds() - s0, r.ok() ? "" : " FAILED");
    }
    return 0;
  }

  // ---- 1. Rebuild ----
  if (runs > 0) {
    halfsky::HiredisClient redis(ro);
    std::printf("rss before: %s\n", ProcStatus("VmRSS").c_str());
    std::vector<double> load_s, recompute_s, render_s, write_s, total_s, redis_cpu_s, self_cpu_s,
        protos_s;
    for (int64_t run = 0; run < runs; ++run) {
      redis.Command({"FLUSHALL"}).IgnoreError();
      auto agg = std::make_unique<Aggregator>(catalog);
      // What building the synthetic Revision protos alone costs (part of
      // "load" below; in the service, parsing them off the stream instead).
      const absl::Time p0 = absl::Now();
      size_t sink = 0;
      for (int64_t i = 0; i < n; ++i) {
        sink += MakeRevision(*catalog, i, i + 1).data_value().key().year();
      }
      protos_s.push_back(absl::ToDoubleSeconds(absl::Now() - p0) + (sink == 0 ? 1 : 0));
      const absl::Time t0 = absl::Now();
      for (int64_t i = 0; i < n; ++i) {
        agg->Load(MakeRevision(*catalog, i, i + 1));
      }
      const absl::Time t1 = absl::Now();
      agg->RecomputeAll();
      const absl::Time t2 = absl::Now();
      halfsky::aggregation::RedisWriter writer(&redis);
      if (chunk > 0) {
        writer.set_pipeline_chunk(static_cast<int>(chunk));
      }
      const double redis_cpu0 = RedisCpuSeconds(redis);
      const double self_cpu0 = SelfCpuSeconds();
      const absl::Time t3 = absl::Now();
      auto r = writer.RewriteAll(*agg, n);
      const absl::Time t4 = absl::Now();
      const double self_cpu1 = SelfCpuSeconds();
      const double redis_cpu1 = RedisCpuSeconds(redis);
      if (!r.ok()) {
        std::cerr << r.status() << "\n";
        return 1;
      }
      // Rendering alone (what the writer serializes), without any I/O.
      const absl::Time t5 = absl::Now();
      size_t bytes = 0;
      {
        halfsky::v1::Aggregate a;
        std::string value;
        for (size_t s = 0; s < agg->series_count(); ++s) {
          value.clear();
          for (int y = 0; y <= agg->last_year() - agg->first_year(); ++y) {
            if (agg->RenderValue(Aggregator::MakeCell(static_cast<Aggregator::SeriesId>(s), y),
                                 &a)) {
              a.mutable_key()->set_year(agg->first_year() + y);
              halfsky::cache::AppendStoredAggregate(a, &value);
            }
          }
          bytes += value.size();
        }
      }
      const absl::Time t6 = absl::Now();
      load_s.push_back(absl::ToDoubleSeconds(t1 - t0));
      recompute_s.push_back(absl::ToDoubleSeconds(t2 - t1));
      write_s.push_back(absl::ToDoubleSeconds(t4 - t3));
      render_s.push_back(absl::ToDoubleSeconds(t6 - t5));
      total_s.push_back(absl::ToDoubleSeconds((t2 - t0) + (t4 - t3)));
      redis_cpu_s.push_back(redis_cpu1 - redis_cpu0);
      self_cpu_s.push_back(self_cpu1 - self_cpu0);
      std::printf(
          "run %lld: load %.3f s (building the protos alone %.3f s), recompute %.3f s, RewriteAll "
          "%.3f s (redis-server CPU %.3f s, "
          "bench CPU %.3f s), total %.3f s; render+serialize alone %.3f s, %.1f MB of values; "
          "loadavg %s\n",
          static_cast<long long>(run + 1), load_s.back(), protos_s.back(), recompute_s.back(),
          write_s.back(), redis_cpu_s.back(), self_cpu_s.back(), total_s.back(), render_s.back(),
          bytes / 1e6, Loadavg().c_str());
      if (run + 1 == runs) {
        std::printf("rebuild: %lld data values, %lld aggregates (%zu series)\n",
                    static_cast<long long>(agg->data_value_count()),
                    static_cast<long long>(r->aggregate_count), agg->series_count());
        std::printf("rss with %lld values in memory: %s | peak %s\n", static_cast<long long>(n),
                    ProcStatus("VmRSS").c_str(), ProcStatus("VmHWM").c_str());
        auto dbsize = redis.Command({"DBSIZE"});
        auto encoding = redis.Command(
            {"OBJECT", "ENCODING",
             halfsky::cache::SeriesRedisKey("HEALTH-01", "610303", halfsky::v1::SEX_TOTAL,
                                            halfsky::v1::RESIDENCE_ALL)});
        auto memory = redis.Command({"MEMORY", "STATS"});
        std::printf("redis keys: %lld, series value encoding: %s, used memory: %.1f MB\n",
                    dbsize.ok() ? static_cast<long long>(dbsize->integer()) : -1LL,
                    encoding.ok() ? encoding->str().c_str() : "?",
                    memory.ok() && memory->elements().size() > 3
                        ? static_cast<double>(memory->elements()[3].integer()) / 1e6
                        : -1.0);
        // Over a full cache: what the Rebuild RPC pays (the old keys are
        // deleted first).
        const double c0 = RedisCpuSeconds(redis);
        const absl::Time w0 = absl::Now();
        auto again = writer.RewriteAll(*agg, n);
        const absl::Time w1 = absl::Now();
        std::printf("RewriteAll over the full cache: %.3f s (redis-server CPU %.3f s)%s\n",
                    absl::ToDoubleSeconds(w1 - w0), RedisCpuSeconds(redis) - c0,
                    again.ok() ? "" : " FAILED");
      }
    }
    std::printf(
        "median of %lld runs: load %.3f s (protos alone %.3f s), recompute %.3f s, RewriteAll %.3f "
        "s (redis-server "
        "CPU %.3f s, bench CPU %.3f s), total %.3f s; render alone %.3f s\n",
        static_cast<long long>(runs), Median(load_s), Median(protos_s), Median(recompute_s),
        Median(write_s), Median(redis_cpu_s), Median(self_cpu_s), Median(total_s),
        Median(render_s));
    redis.Command({"FLUSHALL"}).IgnoreError();
  }
  if (seconds <= 0) {
    return 0;
  }

  // ---- 2. Commit → publish latency under steady load ----
  {
    halfsky::aggregation::testing::FakeSubmission submission;
    if (!submission.Start()) {
      std::cerr << "cannot start the fake submission server\n";
      return 1;
    }
    const int64_t base = latency_values;
    for (int64_t i = 0; i < base; ++i) {
      submission.Append(MakeRevision(*catalog, i, 0));
    }
    halfsky::HiredisClient redis(ro);
    halfsky::HiredisClient sub_client(ro);
    halfsky::aggregation::AggregationState state(catalog);
    halfsky::aggregation::Follower follower(
        catalog, grpc::CreateChannel(submission.address(), grpc::InsecureChannelCredentials()),
        &redis, &state);
    absl::Mutex mu;
    std::vector<absl::Time> appended(static_cast<size_t>(base + rate * seconds + 10));
    std::vector<double> latencies_ms;
    halfsky::RedisSubscriptionCallbacks cb;
    cb.on_message = [&](const std::string&, const std::string& m) {
      const absl::Time now = absl::Now();
      auto msg = halfsky::cache::ParseUpdateMessage(m);
      if (!msg.ok() || msg->rebuild || msg->cursor <= base) {
        return;
      }
      absl::MutexLock lock(&mu);
      if (msg->cursor < static_cast<int64_t>(appended.size()) &&
          appended[msg->cursor] != absl::Time()) {
        latencies_ms.push_back(absl::ToDoubleMilliseconds(now - appended[msg->cursor]));
      }
    };
    auto sub = sub_client.Subscribe({halfsky::cache::kUpdatesChannel}, cb);
    follower.Start();
    if (!follower.WaitForCommitted(base, absl::Minutes(2))) {
      std::cerr << "follower did not catch up\n";
      return 1;
    }
    const int per_tick = static_cast<int>(std::max<int64_t>(1, rate / 100));
    const absl::Time end = absl::Now() + absl::Seconds(seconds);
    int64_t i = base;
    absl::Time next = absl::Now();
    while (absl::Now() < end) {
      for (int k = 0; k < per_tick; ++k, ++i) {
        // Revisions of existing keys with new figures (i * 3 varies the key).
        auto r = MakeRevision(*catalog, (i * 7919) % base, 0);
        r.mutable_data_value()->set_note(absl::StrCat(i));
        if (r.data_value().has_fraction()) {
          r.mutable_data_value()->mutable_fraction()->set_numerator(static_cast<double>(i % 50));
        } else {
          r.mutable_data_value()->set_value(static_cast<double>(i % 300));
        }
        const int64_t seq = submission.Append(std::move(r));
        absl::MutexLock lock(&mu);
        if (seq < static_cast<int64_t>(appended.size())) {
          appended[seq] = absl::Now();
        }
      }
      next += absl::Milliseconds(10);
      absl::SleepFor(next - absl::Now());
    }
    follower.WaitForCommitted(i, absl::Seconds(10));
    absl::SleepFor(absl::Milliseconds(200));
    follower.Stop();
    absl::MutexLock lock(&mu);
    std::sort(latencies_ms.begin(), latencies_ms.end());
    auto pct = [&](double p) {
      if (latencies_ms.empty()) {
        return -1.0;
      }
      return latencies_ms[std::min(latencies_ms.size() - 1,
                                   static_cast<size_t>(p * latencies_ms.size()))];
    };
    std::printf("commit -> publish: %lld revisions at %lld/s over %lld s, %zu commits observed\n",
                static_cast<long long>(i - base), static_cast<long long>(rate),
                static_cast<long long>(seconds), latencies_ms.size());
    std::printf("  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", pct(0.50), pct(0.99),
                latencies_ms.empty() ? -1.0 : latencies_ms.back());
  }
  return 0;
}
