#include "common/text/csv.h"

#include "common/text/formula.h"

namespace halfsky {

std::string CsvField(absl::string_view raw) {
  const std::string safe = FormulaSafeText(raw);
  const absl::string_view text = safe;
  if (text.find_first_of(",\"\r\n") == absl::string_view::npos) {
    return safe;
  }
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') {
      out += "\"\"";
    } else {
      out += c;
    }
  }
  out += "\"";
  return out;
}

}  // namespace halfsky
