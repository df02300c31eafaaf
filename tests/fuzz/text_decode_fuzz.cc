// common/text/encoding.h's DecodeText on arbitrary bytes: never crashes;
// whatever it returns is well-formed UTF-8; valid UTF-8 without a BOM comes
// back unchanged as UTF-8; each forced encoding keeps the same promise.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "common/text/encoding.h"
#include "common/text/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using halfsky::TextEncoding;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (TextEncoding e : {TextEncoding::kAuto, TextEncoding::kUtf8, TextEncoding::kGb18030,
                         TextEncoding::kGbk, TextEncoding::kUtf16Le, TextEncoding::kUtf16Be}) {
    absl::StatusOr<halfsky::DecodedText> d = halfsky::DecodeText(bytes, e);
    if (!d.ok()) {
      if (d.status().message().empty()) {
        std::abort();
      }
      continue;
    }
    if (d->encoding == TextEncoding::kAuto || !halfsky::IsValidUtf8(d->utf8)) {
      std::abort();
    }
  }
  if (halfsky::IsValidUtf8(bytes) && !absl::StartsWith(bytes, "\xEF\xBB\xBF")) {
    absl::StatusOr<halfsky::DecodedText> d = halfsky::DecodeText(bytes);
    if (!d.ok() || d->encoding != TextEncoding::kUtf8 || d->utf8 != bytes) {
      std::abort();
    }
  }
  return 0;
}
