#include "common/xlsx/reader.h"

#include <expat.h>
#include <zip.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace halfsky::xlsx {

namespace {

constexpr int kMaxRow = 1048576;
constexpr int kMaxColumn = 16384;
constexpr size_t kMaxProblemsListed = 100;

constexpr char kNsSeparator = ' ';

bool IsMainNs(absl::string_view ns) {
  return ns == "http://schemas.openxmlformats.org/spreadsheetml/2006/main" ||
         ns == "http://purl.oclc.org/ooxml/spreadsheetml/main";
}
bool IsPackageRelsNs(absl::string_view ns) {
  return ns == "http://schemas.openxmlformats.org/package/2006/relationships";
}
bool IsOfficeRelsNs(absl::string_view ns) {
  return ns == "http://schemas.openxmlformats.org/officeDocument/2006/relationships" ||
         ns == "http://purl.oclc.org/ooxml/officeDocument/relationships";
}

// An expanded XML name "uri local" (expat's namespace processing) split.
struct Name {
  absl::string_view ns;
  absl::string_view local;
};
Name SplitName(const char* name) {
  absl::string_view s(name);
  const size_t sep = s.find(kNsSeparator);
  if (sep == absl::string_view::npos) {
    return {"", s};
  }
  return {s.substr(0, sep), s.substr(sep + 1)};
}

// The attribute `local` of `ns_pred`'s namespace (or without namespace
// when ns_pred is null); nullptr when absent.
const char* Attr(const char** attrs, absl::string_view local,
                 bool (*ns_pred)(absl::string_view) = nullptr) {
  for (int i = 0; attrs[i] != nullptr; i += 2) {
    const Name n = SplitName(attrs[i]);
    if (n.local == local && (ns_pred == nullptr ? n.ns.empty() : ns_pred(n.ns))) {
      return attrs[i + 1];
    }
  }
  return nullptr;
}

// SAX callbacks of one part.
class XmlHandler {
 public:
  virtual ~XmlHandler() = default;
  virtual void Start(Name name, const char** attrs) = 0;
  virtual void End(Name name) = 0;
  virtual void Text(absl::string_view text) {}
  // A fatal problem found by the handler ("" = none); stops the parse.
  std::string fatal;
};

struct ExpatState {
  XML_Parser parser;
  XmlHandler* handler;
  bool doctype = false;
};

void XMLCALL OnStart(void* data, const char* name, const char** attrs) {
  auto* st = static_cast<ExpatState*>(data);
  st->handler->Start(SplitName(name), attrs);
  if (!st->handler->fatal.empty()) {
    XML_StopParser(st->parser, XML_FALSE);
  }
}
void XMLCALL OnEnd(void* data, const char* name) {
  auto* st = static_cast<ExpatState*>(data);
  st->handler->End(SplitName(name));
  if (!st->handler->fatal.empty()) {
    XML_StopParser(st->parser, XML_FALSE);
  }
}
void XMLCALL OnText(void* data, const char* s, int len) {
  auto* st = static_cast<ExpatState*>(data);
  st->handler->Text(absl::string_view(s, static_cast<size_t>(len)));
  if (!st->handler->fatal.empty()) {
    XML_StopParser(st->parser, XML_FALSE);
  }
}
void XMLCALL OnDoctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  auto* st = static_cast<ExpatState*>(data);
  st->doctype = true;
  XML_StopParser(st->parser, XML_FALSE);
}

absl::Status Invalid(absl::string_view what) { return absl::InvalidArgumentError(what); }

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

// "xl/worksheets/../sharedStrings.xml" → "xl/sharedStrings.xml"; a leading
// "/" is the package root. nullopt when ".." climbs above the root.
std::optional<std::string> NormalizePath(absl::string_view path) {
  std::vector<std::string> parts;
  for (absl::string_view p : absl::StrSplit(path, '/')) {
    if (p.empty() || p == ".") {
      continue;
    }
    if (p == "..") {
      if (parts.empty()) {
        return std::nullopt;
      }
      parts.pop_back();
      continue;
    }
    parts.emplace_back(p);
  }
  if (parts.empty()) {
    return std::nullopt;
  }
  return absl::StrJoin(parts, "/");
}

// A relationship target relative to the part `source` ("xl/workbook.xml").
std::optional<std::string> ResolveTarget(absl::string_view source, absl::string_view target) {
  if (absl::StartsWith(target, "/")) {
    return NormalizePath(target);
  }
  const size_t slash = source.rfind('/');
  const absl::string_view dir = slash == absl::string_view::npos ? "" : source.substr(0, slash);
  return NormalizePath(absl::StrCat(dir, "/", target));
}

// The .rels part of `part`: "xl/workbook.xml" → "xl/_rels/workbook.xml.rels".
std::string RelsPartOf(absl::string_view part) {
  const size_t slash = part.rfind('/');
  if (slash == absl::string_view::npos) {
    return absl::StrCat("_rels/", part, ".rels");
  }
  return absl::StrCat(part.substr(0, slash), "/_rels/", part.substr(slash + 1), ".rels");
}

// "_x000D_" escapes of ST_Xstring (control characters, and "_x005F_" for
// a literal underscore) decoded to UTF-8.
std::string DecodeXstring(absl::string_view s) {
  if (s.find("_x") == absl::string_view::npos) {
    return std::string(s);
  }
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '_' && i + 7 <= s.size() && s[i + 1] == 'x' && s[i + 6] == '_') {
      bool hex = true;
      uint32_t cp = 0;
      for (size_t k = i + 2; k < i + 6; ++k) {
        const char c = s[k];
        if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
          hex = false;
          break;
        }
        cp = cp * 16 + static_cast<uint32_t>(
                           c <= '9'
                               ? c - '0'
                               : (absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10));
      }
      if (hex && !(cp >= 0xD800 && cp <= 0xDFFF)) {
        if (cp < 0x80) {
          out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
          out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
          out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
          out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        i += 7;
        continue;
      }
    }
    out.push_back(s[i++]);
  }
  return out;
}

// "D7" → (7, 4). false when not a cell reference within Excel's range.
bool ParseCellName(absl::string_view s, int* row, int* column) {
  size_t i = 0;
  int64_t c = 0;
  while (i < s.size() && absl::ascii_isalpha(static_cast<unsigned char>(s[i]))) {
    c = c * 26 + (absl::ascii_toupper(static_cast<unsigned char>(s[i])) - 'A' + 1);
    if (c > kMaxColumn) {
      return false;
    }
    ++i;
  }
  if (i == 0 || i == s.size()) {
    return false;
  }
  int64_t r = 0;
  for (; i < s.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
    r = r * 10 + (s[i] - '0');
    if (r > kMaxRow) {
      return false;
    }
  }
  if (r < 1) {
    return false;
  }
  *row = static_cast<int>(r);
  *column = static_cast<int>(c);
  return true;
}

// Reads the zip's parts, within the limits.
class Package {
 public:
  Package(zip_t* zip, const ReadLimits& limits) : zip_(zip), limits_(limits) {}

  bool Has(const std::string& part) const {
    return zip_name_locate(zip_, part.c_str(), ZIP_FL_NOCASE) >= 0;
  }

  // Streams `part` through expat into `handler`.
  absl::Status Parse(const std::string& part, XmlHandler* handler) {
    const zip_int64_t index = zip_name_locate(zip_, part.c_str(), ZIP_FL_NOCASE);
    if (index < 0) {
      return Invalid(absl::StrCat("缺少 ", part, " / missing part ", part));
    }
    std::unique_ptr<zip_file_t, ZipFileCloser> file(
        zip_fopen_index(zip_, static_cast<zip_uint64_t>(index), 0));
    if (file == nullptr) {
      // Copied at once: libzip rebuilds (and frees) the text on each call.
      const std::string why = zip_strerror(zip_);
      return Invalid(
          absl::StrCat(part, "：无法解压（", why, "） / cannot inflate ", part, ": ", why));
    }
    std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(
        XML_ParserCreateNS(nullptr, kNsSeparator), &XML_ParserFree);
    if (parser == nullptr) {
      return absl::ResourceExhaustedError("XML_ParserCreateNS failed");
    }
    ExpatState state{parser.get(), handler};
    XML_SetUserData(parser.get(), &state);
    XML_SetElementHandler(parser.get(), OnStart, OnEnd);
    XML_SetCharacterDataHandler(parser.get(), OnText);
    XML_SetStartDoctypeDeclHandler(parser.get(), OnDoctype);
    std::string buffer(64 * 1024, '\0');
    int64_t part_bytes = 0;
    while (true) {
      const zip_int64_t n = zip_fread(file.get(), buffer.data(), buffer.size());
      if (n < 0) {
        const std::string why = zip_file_strerror(file.get());
        return Invalid(
            absl::StrCat(part, "：解压出错（", why, "） / cannot inflate ", part, ": ", why));
      }
      part_bytes += n;
      total_bytes_ += n;
      if (part_bytes > limits_.max_part_bytes || total_bytes_ > limits_.max_total_bytes) {
        return Invalid(
            absl::StrCat(part, "：解压后超过 ",
                         (part_bytes > limits_.max_part_bytes ? limits_.max_part_bytes
                                                              : limits_.max_total_bytes) >>
                             20,
                         " MiB 上限（压缩炸弹？） / ", part, ": more than the ",
                         "uncompressed size limit (a zip bomb?)"));
      }
      const bool last = n == 0;
      if (XML_Parse(parser.get(), buffer.data(), static_cast<int>(n),
                    last ? XML_TRUE : XML_FALSE) != XML_STATUS_OK) {
        const auto line = XML_GetCurrentLineNumber(parser.get());
        if (!handler->fatal.empty()) {
          return Invalid(absl::StrCat(part, " 第", line, "行 / line ", line, ": ", handler->fatal));
        }
        if (state.doctype) {
          return Invalid(absl::StrCat(part, " 第", line,
                                      "行：不允许文档类型声明（DOCTYPE） / line ", line,
                                      ": a document type declaration is not allowed"));
        }
        return Invalid(absl::StrCat(part, " 第", line, "行：XML错误 / line ", line, ": XML error: ",
                                    XML_ErrorString(XML_GetErrorCode(parser.get()))));
      }
      if (last) {
        break;
      }
    }
    return absl::OkStatus();
  }

 private:
  zip_t* zip_;
  const ReadLimits& limits_;
  int64_t total_bytes_ = 0;
};

struct Relationship {
  std::string type;
  std::string target;
  bool external = false;
};

class RelsHandler : public XmlHandler {
 public:
  void Start(Name name, const char** attrs) override {
    if (!IsPackageRelsNs(name.ns) || name.local != "Relationship") {
      return;
    }
    const char* id = Attr(attrs, "Id");
    const char* type = Attr(attrs, "Type");
    const char* target = Attr(attrs, "Target");
    const char* mode = Attr(attrs, "TargetMode");
    if (id == nullptr || type == nullptr || target == nullptr) {
      return;
    }
    rels[id] = Relationship{type, target, mode != nullptr && absl::string_view(mode) == "External"};
  }
  void End(Name) override {}
  std::map<std::string, Relationship> rels;
};

bool TypeIs(const Relationship& r, absl::string_view kind) {
  return absl::EndsWith(r.type, absl::StrCat("/", kind));
}

struct SheetEntry {
  std::string name;
  std::string rel_id;
  bool hidden = false;
};

class WorkbookHandler : public XmlHandler {
 public:
  void Start(Name name, const char** attrs) override {
    if (!IsMainNs(name.ns) || name.local != "sheet") {
      return;
    }
    const char* n = Attr(attrs, "name");
    const char* id = Attr(attrs, "id", IsOfficeRelsNs);
    const char* state = Attr(attrs, "state");
    if (n == nullptr || id == nullptr) {
      fatal = "工作表缺少 name 或 r:id / a sheet without name or r:id";
      return;
    }
    sheets.push_back(SheetEntry{n, id, state != nullptr && absl::string_view(state) != "visible"});
  }
  void End(Name) override {}
  std::vector<SheetEntry> sheets;
};

// Problems of cells: every one collected, the first kMaxProblemsListed kept.
struct Problems {
  std::vector<std::string> listed;
  int64_t total = 0;
  void Add(std::string p) {
    ++total;
    if (listed.size() < kMaxProblemsListed) {
      listed.push_back(std::move(p));
    }
  }
};

class SharedStringsHandler : public XmlHandler {
 public:
  explicit SharedStringsHandler(const ReadLimits& limits) : limits_(limits) {}
  void Start(Name name, const char** attrs) override {
    if (!IsMainNs(name.ns)) {
      return;
    }
    if (name.local == "si") {
      in_si_ = true;
      current_.clear();
      if (static_cast<int64_t>(strings.size()) >= limits_.max_shared_strings) {
        fatal = absl::StrCat("共享字符串超过 ", limits_.max_shared_strings,
                             " 项上限 / more shared strings than the limit");
      }
    } else if (name.local == "rPh") {
      ++in_phonetic_;
    } else if (name.local == "t" && in_si_ && in_phonetic_ == 0) {
      in_t_ = true;
    }
  }
  void End(Name name) override {
    if (!IsMainNs(name.ns)) {
      return;
    }
    if (name.local == "si") {
      in_si_ = false;
      if (too_long_) {
        fatal = absl::StrCat("第", strings.size() + 1, "个共享字符串超过 ",
                             limits_.max_string_bytes, " 字节上限 / shared string ",
                             strings.size() + 1, " is longer than the limit");
        return;
      }
      strings.push_back(DecodeXstring(current_));
    } else if (name.local == "rPh") {
      --in_phonetic_;
    } else if (name.local == "t") {
      in_t_ = false;
    }
  }
  void Text(absl::string_view text) override {
    if (!in_t_) {
      return;
    }
    if (static_cast<int64_t>(current_.size() + text.size()) > limits_.max_string_bytes) {
      too_long_ = true;
      return;
    }
    current_.append(text.data(), text.size());
  }
  std::vector<std::string> strings;

 private:
  const ReadLimits& limits_;
  bool in_si_ = false;
  bool in_t_ = false;
  int in_phonetic_ = 0;
  bool too_long_ = false;
  std::string current_;
};

class SheetHandler : public XmlHandler {
 public:
  SheetHandler(const std::string& sheet_name, const std::vector<std::string>& shared,
               const ReadLimits& limits, int64_t* cells_in_workbook, Problems* problems,
               std::vector<Cell>* cells)
      : sheet_(sheet_name),
        shared_(shared),
        limits_(limits),
        cells_in_workbook_(cells_in_workbook),
        problems_(problems),
        cells_(cells) {}

  void Start(Name name, const char** attrs) override {
    if (!IsMainNs(name.ns)) {
      return;
    }
    const absl::string_view n = name.local;
    if (n == "sheetData") {
      in_data_ = true;
    } else if (!in_data_) {
      return;
    } else if (n == "row") {
      const char* r = Attr(attrs, "r");
      int row = 0;
      if (r != nullptr && (!absl::SimpleAtoi(r, &row) || row < 1 || row > kMaxRow)) {
        problems_->Add(absl::StrCat(sheet_, "：行号“", r, "”无效 / ", sheet_,
                                    ": invalid row number '", r, "'"));
        row = 0;
      }
      row_ = row > 0 ? row : row_ + 1;
      column_ = 0;
    } else if (n == "c") {
      in_cell_ = true;
      cell_ = Cell();
      saw_v_ = false;
      v_.clear();
      inline_.clear();
      cell_bad_ = false;
      const char* r = Attr(attrs, "r");
      int row = 0, column = 0;
      if (r != nullptr) {
        if (!ParseCellName(r, &row, &column)) {
          problems_->Add(absl::StrCat(sheet_, "：单元格引用“", r, "”无效 / ", sheet_,
                                      ": invalid cell reference '", r, "'"));
          cell_bad_ = true;
        }
      } else {
        row = row_ > 0 ? row_ : 1;
        column = column_ + 1;
        if (column > kMaxColumn) {
          problems_->Add(absl::StrCat(sheet_, "：第", row, "行超过 ", kMaxColumn, " 列 / ", sheet_,
                                      ": row ", row, " has more than ", kMaxColumn, " columns"));
          cell_bad_ = true;
        }
      }
      cell_.row = row;
      cell_.column = column;
      if (!cell_bad_) {
        row_ = row;
        column_ = column;
      }
      const char* t = Attr(attrs, "t");
      type_ = t == nullptr ? "n" : t;
    } else if (!in_cell_) {
      return;
    } else if (n == "v") {
      in_v_ = true;
      saw_v_ = true;
    } else if (n == "f") {
      cell_.formula = true;
    } else if (n == "is") {
      in_is_ = true;
    } else if (n == "rPh") {
      ++in_phonetic_;
    } else if (n == "t" && in_is_ && in_phonetic_ == 0) {
      in_t_ = true;
    }
  }

  void End(Name name) override {
    if (!IsMainNs(name.ns)) {
      return;
    }
    const absl::string_view n = name.local;
    if (n == "sheetData") {
      in_data_ = false;
    } else if (n == "v") {
      in_v_ = false;
    } else if (n == "is") {
      in_is_ = false;
    } else if (n == "rPh") {
      --in_phonetic_;
    } else if (n == "t") {
      in_t_ = false;
    } else if (n == "c" && in_cell_) {
      in_cell_ = false;
      FinishCell();
    }
  }

  void Text(absl::string_view text) override {
    std::string* into = in_v_ ? &v_ : (in_t_ ? &inline_ : nullptr);
    if (into == nullptr) {
      return;
    }
    if (static_cast<int64_t>(into->size() + text.size()) > limits_.max_string_bytes) {
      too_long_ = true;
      return;
    }
    into->append(text.data(), text.size());
  }

 private:
  std::string Here() const { return CellLabel(sheet_, cell_.row, cell_.column); }

  void FinishCell() {
    if (cell_bad_) {
      return;
    }
    if (too_long_) {
      too_long_ = false;
      problems_->Add(absl::StrCat(Here(), "：内容超过 ", limits_.max_string_bytes,
                                  " 字节上限 / longer than the limit"));
      return;
    }
    const bool has_value = type_ == "inlineStr" ? true : saw_v_;
    if (!has_value || (type_ != "inlineStr" && type_ != "str" && v_.empty())) {
      if (cell_.formula && !limits_.refuse_uncached_formulas) {
        cell_.type = CellType::kNoValue;
        Keep();
        return;
      }
      if (cell_.formula) {
        problems_->Add(absl::StrCat(
            Here(),
            "：公式没有缓存值（请在Excel中打开并保存，或填入数值） / the formula has no "
            "cached value (open and save the file in Excel, or type the number)"));
      }
      return;  // only a style
    }
    if (type_ == "n") {
      const absl::string_view v = absl::StripAsciiWhitespace(v_);
      double x = 0;
      if (!absl::SimpleAtod(v, &x) || !std::isfinite(x)) {
        problems_->Add(absl::StrCat(Here(), "：数字“", v, "”无效 / invalid number '", v, "'"));
        return;
      }
      cell_.type = CellType::kNumber;
      cell_.number = x;
      cell_.text = std::string(v);
    } else if (type_ == "s") {
      int64_t index = -1;
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(v_), &index) || index < 0 ||
          index >= static_cast<int64_t>(shared_.size())) {
        problems_->Add(absl::StrCat(Here(), "：共享字符串编号“", v_,
                                    "”无效 / shared string index '", v_, "' out of range"));
        return;
      }
      cell_.type = CellType::kText;
      cell_.text = shared_[static_cast<size_t>(index)];
    } else if (type_ == "str" || type_ == "d") {
      cell_.type = CellType::kText;
      cell_.text = DecodeXstring(v_);
    } else if (type_ == "inlineStr") {
      cell_.type = CellType::kText;
      cell_.text = DecodeXstring(inline_);
    } else if (type_ == "b") {
      const absl::string_view v = absl::StripAsciiWhitespace(v_);
      if (v != "0" && v != "1") {
        problems_->Add(absl::StrCat(Here(), "：逻辑值“", v, "”无效 / invalid boolean '", v, "'"));
        return;
      }
      cell_.type = CellType::kBool;
      cell_.number = v == "1" ? 1 : 0;
      cell_.text = v == "1" ? "TRUE" : "FALSE";
    } else if (type_ == "e") {
      cell_.type = CellType::kError;
      cell_.text = std::string(absl::StripAsciiWhitespace(v_));
    } else {
      problems_->Add(
          absl::StrCat(Here(), "：未知单元格类型“", type_, "” / unknown cell type '", type_, "'"));
      return;
    }
    if (cell_.type == CellType::kText && cell_.text.empty()) {
      return;
    }
    Keep();
  }

  void Keep() {
    if (++*cells_in_workbook_ > limits_.max_cells) {
      fatal = absl::StrCat("工作簿超过 ", limits_.max_cells, " 个单元格上限 / more than ",
                           limits_.max_cells, " cells in the workbook");
      return;
    }
    cells_->push_back(std::move(cell_));
  }

  const std::string& sheet_;
  const std::vector<std::string>& shared_;
  const ReadLimits& limits_;
  int64_t* cells_in_workbook_;
  Problems* problems_;
  std::vector<Cell>* cells_;

  bool in_data_ = false;
  bool in_cell_ = false;
  bool in_v_ = false;
  bool in_is_ = false;
  bool in_t_ = false;
  int in_phonetic_ = 0;
  bool saw_v_ = false;
  bool cell_bad_ = false;
  bool too_long_ = false;
  int row_ = 0;
  int column_ = 0;
  std::string type_;
  std::string v_;
  std::string inline_;
  Cell cell_;
};

}  // namespace

std::string ColumnName(int column) {
  std::string out;
  while (column > 0) {
    const int rem = (column - 1) % 26;
    out.insert(out.begin(), static_cast<char>('A' + rem));
    column = (column - 1) / 26;
  }
  return out;
}

std::string CellName(int row, int column) { return absl::StrCat(ColumnName(column), row); }

std::string CellLabel(absl::string_view sheet, int row, int column) {
  bool quote = sheet.empty() || absl::ascii_isdigit(static_cast<unsigned char>(sheet[0]));
  for (char c : sheet) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !absl::ascii_isalnum(u) && c != '_' && c != '.') {
      quote = true;
    }
  }
  int r = 0, col = 0;
  if (ParseCellName(sheet, &r, &col)) {
    quote = true;  // "A1" as a sheet name
  }
  std::string name(sheet);
  if (quote) {
    std::string escaped;
    for (char c : sheet) {
      escaped.push_back(c);
      if (c == '\'') {
        escaped.push_back('\'');
      }
    }
    name = absl::StrCat("'", escaped, "'");
  }
  return absl::StrCat(name, "!", CellName(row, column));
}

bool LooksLikeZip(absl::string_view bytes) {
  return absl::StartsWith(bytes, absl::string_view("PK\x03\x04", 4)) ||
         absl::StartsWith(bytes, absl::string_view("PK\x05\x06", 4));
}

absl::StatusOr<Workbook> ReadWorkbook(absl::string_view bytes, const ReadLimits& limits) {
  if (static_cast<int64_t>(bytes.size()) > limits.max_file_bytes) {
    return Invalid(absl::StrCat("文件超过 ", limits.max_file_bytes >> 20,
                                " MiB 上限 / the file is ", "larger than ",
                                limits.max_file_bytes >> 20, " MiB"));
  }
  if (!LooksLikeZip(bytes)) {
    return Invalid("不是 .xlsx 文件（不是zip压缩包） / not an .xlsx file (not a zip archive)");
  }
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source == nullptr) {
    const std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    return absl::ResourceExhaustedError(why);
  }
  zip_t* raw = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (raw == nullptr) {
    const std::string why = zip_error_strerror(&error);
    zip_source_free(source);
    zip_error_fini(&error);
    return Invalid(absl::StrCat("不是有效的 .xlsx 文件（zip：", why,
                                "） / not a valid .xlsx file (", "zip: ", why, ")"));
  }
  zip_error_fini(&error);
  std::unique_ptr<zip_t, ZipCloser> zip(raw);
  const zip_int64_t entries = zip_get_num_entries(zip.get(), 0);
  if (entries > limits.max_entries) {
    return Invalid(absl::StrCat("压缩包有 ", entries, " 个文件，超过 ", limits.max_entries,
                                " 个上限 / the archive has more than ", limits.max_entries,
                                " entries"));
  }
  Package package(zip.get(), limits);

  // The workbook part, from the package relationships.
  std::string workbook_part = "xl/workbook.xml";
  if (package.Has("_rels/.rels")) {
    RelsHandler root;
    if (absl::Status st = package.Parse("_rels/.rels", &root); !st.ok()) {
      return st;
    }
    for (const auto& [id, rel] : root.rels) {
      if (TypeIs(rel, "officeDocument") && !rel.external) {
        std::optional<std::string> p = ResolveTarget("", rel.target);
        if (!p) {
          return Invalid(absl::StrCat("_rels/.rels：工作簿路径“", rel.target,
                                      "”无效 / invalid workbook target"));
        }
        workbook_part = *p;
        break;
      }
    }
  }
  if (!package.Has(workbook_part)) {
    return Invalid(absl::StrCat("不是Excel工作簿（缺少 ", workbook_part,
                                "） / not an Excel workbook (no ", workbook_part, ")"));
  }
  WorkbookHandler wb;
  if (absl::Status st = package.Parse(workbook_part, &wb); !st.ok()) {
    return st;
  }
  if (static_cast<int>(wb.sheets.size()) > limits.max_sheets) {
    return Invalid(absl::StrCat("工作表超过 ", limits.max_sheets, " 个上限 / more than ",
                                limits.max_sheets, " sheets"));
  }
  RelsHandler wb_rels;
  const std::string wb_rels_part = RelsPartOf(workbook_part);
  if (package.Has(wb_rels_part)) {
    if (absl::Status st = package.Parse(wb_rels_part, &wb_rels); !st.ok()) {
      return st;
    }
  }

  SharedStringsHandler shared(limits);
  for (const auto& [id, rel] : wb_rels.rels) {
    if (TypeIs(rel, "sharedStrings") && !rel.external) {
      std::optional<std::string> p = ResolveTarget(workbook_part, rel.target);
      if (!p) {
        return Invalid(absl::StrCat(wb_rels_part, "：共享字符串路径“", rel.target,
                                    "”无效 / invalid sharedStrings target"));
      }
      if (absl::Status st = package.Parse(*p, &shared); !st.ok()) {
        return st;
      }
      break;
    }
  }

  Workbook out;
  Problems problems;
  int64_t cells = 0;
  for (const SheetEntry& entry : wb.sheets) {
    auto it = wb_rels.rels.find(entry.rel_id);
    if (it == wb_rels.rels.end()) {
      return Invalid(absl::StrCat(workbook_part, "：工作表“", entry.name, "”的关系 ", entry.rel_id,
                                  " 不存在 / sheet '", entry.name, "' has no relationship ",
                                  entry.rel_id));
    }
    if (!TypeIs(it->second, "worksheet") || it->second.external) {
      continue;  // a chartsheet, a dialog sheet, a macro sheet
    }
    std::optional<std::string> part = ResolveTarget(workbook_part, it->second.target);
    if (!part) {
      return Invalid(absl::StrCat(wb_rels_part, "：工作表路径“", it->second.target,
                                  "”无效 / invalid worksheet target"));
    }
    Sheet sheet;
    sheet.name = entry.name;
    sheet.hidden = entry.hidden;
    sheet.part = *part;
    SheetHandler handler(sheet.name, shared.strings, limits, &cells, &problems, &sheet.cells);
    if (absl::Status st = package.Parse(*part, &handler); !st.ok()) {
      return Invalid(
          absl::StrCat("工作表“", sheet.name, "” / sheet '", sheet.name, "': ", st.message()));
    }
    std::stable_sort(sheet.cells.begin(), sheet.cells.end(), [](const Cell& a, const Cell& b) {
      return std::pair(a.row, a.column) < std::pair(b.row, b.column);
    });
    for (size_t i = 1; i < sheet.cells.size(); ++i) {
      if (sheet.cells[i].row == sheet.cells[i - 1].row &&
          sheet.cells[i].column == sheet.cells[i - 1].column) {
        problems.Add(absl::StrCat(CellLabel(sheet.name, sheet.cells[i].row, sheet.cells[i].column),
                                  "：单元格出现两次 / the cell appears twice"));
      }
    }
    out.sheets.push_back(std::move(sheet));
  }
  if (problems.total > 0) {
    std::string message = absl::StrJoin(problems.listed, "\n");
    if (problems.total > static_cast<int64_t>(problems.listed.size())) {
      absl::StrAppend(&message, "\n……共 ", problems.total, " 处问题，只列出前 ",
                      problems.listed.size(), " 处 / ", problems.total, " problems, the first ",
                      problems.listed.size(), " listed");
    }
    return Invalid(message);
  }
  return out;
}

}  // namespace halfsky::xlsx
