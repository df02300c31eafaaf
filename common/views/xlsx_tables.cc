#include "common/views/xlsx_tables.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/xlsx/writer.h"

namespace halfsky::views {

namespace {

// Display width of UTF-8 text in Excel's column unit: 2 per CJK character.
double TextWidth(const std::string& s) {
  double w = 0;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    w += len >= 3 ? 2 : 1;
    i += len;
  }
  return w;
}

}  // namespace

absl::Status WriteCompendiumXlsx(const std::vector<CompendiumSheet>& sheets,
                                 const std::string& title, const std::string& path) {
  auto book = xlsx::Workbook::Create(path);
  if (!book.ok()) {
    return book.status();
  }
  if (absl::Status st = (*book)->SetTitle(title, "halfsky"); !st.ok()) {
    return st;
  }
  xlsx::Style bold;
  bold.bold = true;
  xlsx::Style big = bold;
  big.font_size = 14;
  xlsx::Style head;
  head.bold = true;
  head.border = true;
  head.wrap = true;
  head.fill_rgb = 0xD9E1F2;
  xlsx::Style cell;
  cell.border = true;
  xlsx::Style text_cell = cell;
  text_cell.wrap = true;
  for (const CompendiumSheet& cs : sheets) {
    auto sheet = (*book)->AddSheet(cs.name);
    if (!sheet.ok()) {
      return sheet.status();
    }
    xlsx::Sheet& s = **sheet;
    std::map<int, double> widths;
    int r = 0;
    if (absl::Status st = s.Text(r++, 0, cs.title, big); !st.ok()) {
      return st;
    }
    for (const std::string& note : cs.notes) {
      if (absl::Status st = s.Text(r++, 0, note); !st.ok()) {
        return st;
      }
    }
    bool frozen = false;
    for (const CompendiumTable& t : cs.tables) {
      ++r;
      if (absl::Status st = s.Text(r++, 0, t.caption, bold); !st.ok()) {
        return st;
      }
      for (int c = 0; c < static_cast<int>(t.header.size()); ++c) {
        if (absl::Status st = s.Text(r, c, t.header[c], head); !st.ok()) {
          return st;
        }
        widths[c] = std::max(widths[c], std::min(TextWidth(t.header[c]) + 2, 16.0));
      }
      if (!frozen) {
        s.Freeze(r + 1, 0);
        frozen = true;
      }
      ++r;
      if (t.rows.empty()) {
        if (absl::Status st = s.Text(r++, 0, "（无）"); !st.ok()) {
          return st;
        }
      }
      for (const auto& row : t.rows) {
        for (int c = 0; c < static_cast<int>(row.size()); ++c) {
          const CompendiumCell& v = row[c];
          absl::Status st;
          if (v.kind == CompendiumCell::kNumber) {
            st = s.Number(r, c, v.number, cell);
            widths[c] = std::max(widths[c], 10.0);
          } else if (v.kind == CompendiumCell::kText) {
            st = s.Text(r, c, v.text, text_cell);
            widths[c] = std::max(widths[c], std::min(TextWidth(v.text) + 2, 48.0));
          } else {
            st = s.Blank(r, c, cell);
          }
          if (!st.ok()) {
            return st;
          }
        }
        ++r;
      }
    }
    for (const auto& [c, w] : widths) {
      if (absl::Status st = s.ColumnWidth(c, c, std::max(w, 8.0)); !st.ok()) {
        return st;
      }
    }
  }
  return (*book)->Close();
}

absl::StatusOr<std::string> CompendiumXlsxBytes(const std::vector<CompendiumSheet>& sheets,
                                                const std::string& title) {
  const char* dir = std::getenv("TMPDIR");
  std::string path =
      absl::StrCat(dir != nullptr && *dir != '\0' ? dir : "/tmp", "/halfsky-compendium-XXXXXX");
  const int fd = mkstemp(path.data());
  if (fd < 0) {
    return absl::InternalError("无法创建临时文件 / cannot create a temporary file");
  }
  close(fd);
  absl::Status st = WriteCompendiumXlsx(sheets, title, path);
  std::string bytes;
  if (st.ok()) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    bytes = buffer.str();
    if (!in.good() && !in.eof()) {
      st = absl::InternalError("无法读回工作簿 / cannot read the workbook back");
    }
  }
  std::remove(path.c_str());
  if (!st.ok()) {
    return st;
  }
  return bytes;
}

}  // namespace halfsky::views
