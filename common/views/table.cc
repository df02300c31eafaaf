#include "common/views/table.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/text/csv.h"
#include "common/views/display_width.h"

namespace halfsky::views {

std::string Paint(absl::string_view text, absl::string_view sgr, bool colour) {
  if (!colour || sgr.empty()) {
    return std::string(text);
  }
  return absl::StrCat("\x1b[", sgr, "m", text, "\x1b[0m");
}

std::string RenderTable(const std::vector<Column>& columns,
                        const std::vector<std::vector<Cell>>& rows, bool colour) {
  const size_t n = columns.size();
  auto cell_text = [&](const Cell& c, size_t i) {
    return columns[i].max_width > 0 ? TruncateToWidth(c.text, columns[i].max_width) : c.text;
  };
  std::vector<int> widths(n, 0);
  for (size_t i = 0; i < n; ++i) {
    widths[i] = DisplayWidth(columns[i].header);
  }
  for (const auto& row : rows) {
    for (size_t i = 0; i < n && i < row.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(cell_text(row[i], i)));
    }
  }
  auto line = [&](const std::vector<Cell>& cells) {
    std::string out;
    for (size_t i = 0; i < n; ++i) {
      const std::string text = i < cells.size() ? cell_text(cells[i], i) : "";
      const std::string sgr = i < cells.size() ? cells[i].sgr : "";
      const bool last = i + 1 == n;
      std::string padded;
      if (columns[i].right_align) {
        padded = PadLeftToWidth(text, widths[i]);
      } else {
        padded = last ? text : PadToWidth(text, widths[i]);
      }
      // Colour the text only, not the padding.
      if (colour && !sgr.empty()) {
        const size_t at = padded.find(text);
        padded = absl::StrCat(padded.substr(0, at), Paint(text, sgr, true),
                              padded.substr(at + text.size()));
      }
      out += padded;
      if (!last) {
        out += "  ";
      }
    }
    while (!out.empty() && out.back() == ' ') {
      out.pop_back();
    }
    return out + "\n";
  };
  std::vector<Cell> header;
  std::vector<Cell> rule;
  for (size_t i = 0; i < n; ++i) {
    header.push_back({columns[i].header, colour ? "1" : ""});
    rule.push_back({std::string(widths[i], '-'), ""});
  }
  std::string out = line(header) + line(rule);
  for (const auto& row : rows) {
    out += line(row);
  }
  return out;
}

bool UseColour(const std::ostream& out) {
  if (&out != &std::cout || isatty(STDOUT_FILENO) == 0) {
    return false;
  }
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') {
    return false;
  }
  const char* term = std::getenv("TERM");
  return term == nullptr || absl::string_view(term) != "dumb";
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::vector<std::string> escaped;
  escaped.reserve(fields.size());
  for (const auto& f : fields) {
    escaped.push_back(CsvField(f));
  }
  return absl::StrCat(absl::StrJoin(escaped, ","), "\n");
}

const char* SeveritySgr(absl::string_view token) {
  if (token == "red") {
    return "1;31";
  }
  if (token == "orange") {
    return "38;5;208";
  }
  if (token == "yellow") {
    return "33";
  }
  return "";
}

}  // namespace halfsky::views
