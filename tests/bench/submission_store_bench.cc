// SqliteSubmissionStore alone (no gRPC, no validation): values/s of
// sequential 1 000-value write requests, each committed durably. Shows how
// much of SubmitStream's cost is the store. Usage:
//   submission_store_bench [DB_PATH] [CHUNKS]
#include <iostream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "services/submission/sqlite_store.h"

int main(int argc, char** argv) {
  using namespace halfsky::submission;
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
  std::cout << absl::StrFormat("store only: %.0f durable values/s (%d sequential 1000-value requests, %.2f s)\n",
                               chunks * 1000 / s, chunks, s);
  return 0;
}
