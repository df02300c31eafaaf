// SqliteSubmissionStore alone (no gRPC, no validation). Usage:
//   submission_store_bench [DB_PATH] [CHUNKS]
//       values/s of sequential 1 000-value write requests, each committed
//       durably: how much of SubmitStream's cost is the store;
//   submission_store_bench --fill=N DB_PATH
//       writes N distinct keys (1 000-value requests) into DB_PATH;
//   submission_store_bench --open DB_PATH
//       opens DB_PATH and prints how long Open took (the key directory is
//       loaded then) and how much resident memory it added: the key
//       directory's cost per key. Run it in a fresh process after --fill.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "services/submission/sqlite_store.h"

namespace {

// VmRSS of this process, kB.
long ResidentKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

// Key i of a key space of many indicators x 400 areas x 3 residences x 7 years.
halfsky::v1::DataKey KeyOf(int64_t i) {
  halfsky::v1::DataKey key;
  key.set_indicator_id(absl::StrFormat("HEALTH-B%03d", 1 + i / 8400));
  const int64_t k = i % 8400;
  key.set_area_code(absl::StrFormat("610303%03d", 201 + k % 400));
  key.set_residence(static_cast<halfsky::v1::Residence>(1 + (k / 400) % 3));
  key.set_year(2020 + static_cast<int>(k / 1200));
  key.set_sex(halfsky::v1::SEX_TOTAL);
  return key;
}

int Fill(const std::string& path, int64_t n) {
  using namespace halfsky::submission;
  SqliteSubmissionStore::Options o;
  o.path = path;
  o.clock = halfsky::SystemClock::Default();
  auto store = SqliteSubmissionStore::Open(o);
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  for (int64_t first = 0; first < n; first += 1000) {
    WriteRequest r;
    r.principal = "bench";
    r.request_id = absl::StrCat("fill-", first);
    r.payload_hash = r.request_id;
    for (int64_t i = first; i < std::min(n, first + 1000); ++i) {
      ValueToWrite v;
      *v.value.mutable_key() = KeyOf(i);
      v.value.mutable_fraction()->set_numerator(static_cast<double>(i % 9000 + 1));
      v.value.mutable_fraction()->set_denominator(1e6);
      v.value.set_source("基准测试");
      v.unit_code = "HEALTH_BUREAU";
      v.encoded = v.value.SerializeAsString();
      r.values.push_back(std::move(v));
    }
    auto res = (*store)->WriteAndWait(std::move(r));
    if (!res.ok()) {
      std::cerr << res.status() << "\n";
      return 1;
    }
  }
  std::cout << absl::StrFormat("filled %s with %d keys\n", path, n);
  return 0;
}

int OpenOnly(const std::string& path) {
  using namespace halfsky::submission;
  SqliteSubmissionStore::Options o;
  o.path = path;
  o.clock = halfsky::SystemClock::Default();
  const long before = ResidentKb();
  const absl::Time start = absl::Now();
  auto store = SqliteSubmissionStore::Open(o);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  const long after = ResidentKb();
  std::cout << absl::StrFormat("open %s: %.2f s, resident memory +%d kB (%d kB -> %d kB)\n", path,
                               seconds, after - before, before, after);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace halfsky::submission;
  if (argc == 3 && std::string(argv[1]).rfind("--fill=", 0) == 0) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(argv[1] + 7, &n)) {
      std::cerr << "--fill=N\n";
      return 2;
    }
    return Fill(argv[2], n);
  }
  if (argc == 3 && std::string(argv[1]) == "--open") {
    return OpenOnly(argv[2]);
  }
  SqliteSubmissionStore::Options o;
  o.path = argc > 1 ? argv[1] : absl::StrCat("/tmp/submission-store-bench-", getpid(), ".db");
  o.clock = halfsky::SystemClock::Default();
  int chunks = 60;
  if (argc > 2) {
    absl::SimpleAtoi(argv[2], &chunks);
  }
  auto store = SqliteSubmissionStore::Open(o);
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  std::vector<WriteRequest> requests;
  for (int c = 0; c < chunks; ++c) {
    WriteRequest r;
    r.principal = "bench";
    r.request_id = absl::StrCat("r", c);
    r.payload_hash = r.request_id;
    for (int k = 0; k < 1000; ++k) {
      ValueToWrite v;
      const int kk = (c % 8) * 1000 + k;
      auto* key = v.value.mutable_key();
      key->set_indicator_id("HEALTH-01");
      key->set_area_code(absl::StrFormat("610303%03d", 200 + kk % 400));
      key->set_year(2020 + kk / 1200);
      key->set_sex(halfsky::v1::SEX_TOTAL);
      key->set_residence(static_cast<halfsky::v1::Residence>(1 + (kk / 400) % 3));
      v.value.mutable_fraction()->set_numerator(c + 1);
      v.value.mutable_fraction()->set_denominator(1e6);
      v.value.set_source("基准测试");
      v.unit_code = "HEALTH_BUREAU";
      // The service serializes each value on its gRPC thread (for the
      // payload hash) and hands the bytes over; do the same here.
      v.encoded = v.value.SerializeAsString();
      r.values.push_back(std::move(v));
    }
    requests.push_back(std::move(r));
  }
  // Requests are built before the clock starts: only the store is timed.
  const absl::Time start = absl::Now();
  for (WriteRequest& r : requests) {
    auto res = (*store)->WriteAndWait(std::move(r));
    if (!res.ok()) {
      std::cerr << res.status() << "\n";
      return 1;
    }
  }
  const double s = absl::ToDoubleSeconds(absl::Now() - start);
  std::cout << absl::StrFormat(
      "store only: %.0f durable values/s (%d sequential 1000-value requests, %.2f s)\n",
      chunks * 1000 / s, chunks, s);
  return 0;
}
