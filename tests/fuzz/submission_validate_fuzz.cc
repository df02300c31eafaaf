// Submission validation on arbitrary SubmitBatchRequests (the bytes are
// parsed as the wire format) against the plan's real catalog: never
// crashes; a batch is either OK or INVALID_ARGUMENT with violations.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "common/status/status.h"
#include "halfsky/v1/submission.pb.h"
#include "services/submission/validate.h"

namespace {

const halfsky::CatalogIndex& Catalog() {
  static const std::shared_ptr<const halfsky::CatalogIndex> catalog = [] {
    auto c = halfsky::CatalogIndex::Load({HALFSKY_SOURCE_DIR "/deploy/catalog"});
    if (!c.ok()) {
      std::cerr << c.status() << "\n";
      std::abort();
    }
    return *c;
  }();
  return *catalog;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  halfsky::v1::SubmitBatchRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) {
    return 0;
  }
  const absl::Time now = absl::FromCivil(absl::CivilDay(2026, 6, 1), absl::UTCTimeZone());
  const absl::Status s =
      halfsky::submission::ValidateBatch(request.request_id(), request.data_values(), Catalog(),
                                         now, halfsky::submission::ValidationLimits());
  if (!s.ok() && s.code() != absl::StatusCode::kInvalidArgument) {
    std::abort();  // validation may only say OK or INVALID_ARGUMENT
  }
  if (!s.ok() && halfsky::BadRequestViolations(s).empty()) {
    std::abort();  // every rejection names its fields
  }
  return 0;
}
