// The cost of the cache MAC (common/cache/cache_layout.h, SealSeriesValue /
// OpenSeriesValue) next to the encoding it protects: for a typical series
// value (--years years of one indicator and area, as RewriteAll renders
// them), the time per series to encode (AppendStoredAggregate for every
// year), to tag (SealSeriesValue), to verify (OpenSeriesValue) and to decode
// (ParseStoredSeries). Prints medians of --runs runs of --series series each.
//
//   build/tests/bench/aggregation/cache_mac_bench --years=11 --series=92000 --runs=5

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "common/cache/cache_layout.h"

ABSL_FLAG(int, years, 11, "Years with a figure per series (2020-2030: 11).");
ABSL_FLAG(int, series, 92000, "Series per run (a full rewrite of 990 000 values: 92 000).");
ABSL_FLAG(int, runs, 5, "Runs (the median is printed).");

namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int years = absl::GetFlag(FLAGS_years);
  const int n = absl::GetFlag(FLAGS_series);
  const std::string mac_key(64, 'k');
  std::vector<halfsky::v1::Aggregate> aggregates(years);
  for (int y = 0; y < years; ++y) {
    halfsky::v1::Aggregate& a = aggregates[y];
    a.mutable_key()->set_year(2020 + y);
    a.set_numerator(1234 + y);
    a.set_denominator(56789);
    a.set_value(100.0 * (1234 + y) / 56789);
    a.set_contributing_area_count(9);
    a.set_expected_area_count(9);
    a.set_as_of_sequence(1000000 + y);
  }
  std::vector<double> encode_s, seal_s, open_s, decode_s;
  size_t bytes = 0;
  for (int run = 0; run < absl::GetFlag(FLAGS_runs); ++run) {
    std::vector<std::string> keys(n), payloads(n), sealed(n);
    for (int i = 0; i < n; ++i) {
      keys[i] = halfsky::cache::SeriesRedisKey("HEALTH-01", std::to_string(610303000 + i),
                                               halfsky::v1::SEX_TOTAL, halfsky::v1::RESIDENCE_ALL);
    }
    const absl::Time t0 = absl::Now();
    for (int i = 0; i < n; ++i) {
      for (const auto& a : aggregates) {
        halfsky::cache::AppendStoredAggregate(a, &payloads[i]);
      }
    }
    const absl::Time t1 = absl::Now();
    for (int i = 0; i < n; ++i) {
      sealed[i] = halfsky::cache::SealSeriesValue(mac_key, keys[i], payloads[i]);
    }
    const absl::Time t2 = absl::Now();
    size_t ok = 0;
    for (int i = 0; i < n; ++i) {
      ok += halfsky::cache::OpenSeriesValue(mac_key, keys[i], sealed[i]).ok();
    }
    const absl::Time t3 = absl::Now();
    size_t parsed = 0;
    for (int i = 0; i < n; ++i) {
      parsed += halfsky::cache::ParseStoredSeries("HEALTH-01", "610303", halfsky::v1::SEX_TOTAL,
                                                  halfsky::v1::RESIDENCE_ALL, payloads[i])
                    ->size();
    }
    const absl::Time t4 = absl::Now();
    if (ok != static_cast<size_t>(n) || parsed != static_cast<size_t>(n) * years) {
      std::fprintf(stderr, "verification failed\n");
      return 1;
    }
    bytes = payloads[0].size();
    encode_s.push_back(absl::ToDoubleSeconds(t1 - t0));
    seal_s.push_back(absl::ToDoubleSeconds(t2 - t1));
    open_s.push_back(absl::ToDoubleSeconds(t3 - t2));
    decode_s.push_back(absl::ToDoubleSeconds(t4 - t3));
  }
  const double e = Median(encode_s), s = Median(seal_s), o = Median(open_s), d = Median(decode_s);
  std::printf(
      "%d series x %d years, payload %zu B (+32 B tag): encode %.1f ns/series, seal %.1f "
      "ns/series (%.2fx encode), verify %.1f ns/series, decode %.1f ns/series (verify = %.2fx "
      "decode); per full rewrite of %d series: +%.3f s writer CPU\n",
      n, years, bytes, 1e9 * e / n, 1e9 * s / n, s / e, 1e9 * o / n, 1e9 * d / n, o / d, n, s);
  return 0;
}
