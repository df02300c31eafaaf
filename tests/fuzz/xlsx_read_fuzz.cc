// The .xlsx reader (common/xlsx) and halfskyctl submit's workbook path on
// arbitrary bytes: never crashes, stays within its bounds, and every error
// is INVALID_ARGUMENT.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "common/submission_file/xlsx.h"
#include "common/xlsx/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  halfsky::xlsx::ReadLimits limits;
  limits.max_total_bytes = 8 << 20;  // keeps each run fast
  limits.max_part_bytes = 4 << 20;
  absl::StatusOr<halfsky::xlsx::Workbook> wb = halfsky::xlsx::ReadWorkbook(bytes, limits);
  if (!wb.ok() && wb.status().code() != absl::StatusCode::kInvalidArgument) {
    std::abort();
  }
  (void)halfsky::submit::ParseSubmissionXlsx(bytes);
  return 0;
}
