#ifndef HALFSKY_TESTS_FUZZ_FUZZ_CHECKS_H_
#define HALFSKY_TESTS_FUZZ_FUZZ_CHECKS_H_

// Invariants shared by the request fuzz targets: abort (so libFuzzer keeps
// the input) when a check answers anything but OK / `allowed` with a
// BadRequest, or when an accepted text holds a control character.

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/catalog/catalog.h"
#include "common/status/status.h"
#include "common/text/utf8.h"

namespace halfsky::fuzz {

inline void Fail(absl::string_view what) {
  std::cerr << "invariant broken: " << what << "\n";
  std::abort();
}

// `s` is OK, or has code INVALID_ARGUMENT (or `also`) and names a field.
inline void ExpectRefusalShape(const absl::Status& s,
                               absl::StatusCode also = absl::StatusCode::kInvalidArgument) {
  if (s.ok()) {
    return;
  }
  if (s.code() != absl::StatusCode::kInvalidArgument && s.code() != also) {
    std::cerr << s << "\n";
    Fail("a request check answered a code other than INVALID_ARGUMENT");
  }
  if (halfsky::BadRequestViolations(s).empty()) {
    std::cerr << s << "\n";
    Fail("a refusal names no field");
  }
}

// True when `text` holds a control character (C0, DEL, C1) other than tab
// and newline.
inline bool HasControl(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const int32_t cp = halfsky::NextCodePoint(text, &i);
    if (cp == '\t' || cp == '\n') {
      continue;
    }
    if ((cp >= 0 && cp < 0x20) || (cp >= 0x7F && cp <= 0x9F)) {
      return true;
    }
  }
  return false;
}

inline const halfsky::CatalogIndex& Catalog() {
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

}  // namespace halfsky::fuzz

#endif  // HALFSKY_TESTS_FUZZ_FUZZ_CHECKS_H_
