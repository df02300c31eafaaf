#include "common/xlsx/writer.h"

#include <cmath>
#include <cstdio>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/text/formula.h"
#include "xlsxwriter.h"

namespace halfsky::xlsx {

namespace {

absl::Status LxwStatus(lxw_error e, absl::string_view what) {
  if (e == LXW_NO_ERROR) {
    return absl::OkStatus();
  }
  const std::string message = absl::StrCat("xlsx: ", what, ": ", lxw_strerror(e));
  switch (e) {
    case LXW_ERROR_CREATING_XLSX_FILE:
    case LXW_ERROR_CREATING_TMPFILE:
    case LXW_ERROR_READING_TMPFILE:
    case LXW_ERROR_ZIP_FILE_OPERATION:
    case LXW_ERROR_ZIP_PARAMETER_ERROR:
    case LXW_ERROR_ZIP_BAD_ZIP_FILE:
    case LXW_ERROR_ZIP_INTERNAL_ERROR:
    case LXW_ERROR_ZIP_FILE_ADD:
    case LXW_ERROR_ZIP_CLOSE:
      return absl::UnavailableError(message);
    case LXW_ERROR_MEMORY_MALLOC_FAILED:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InvalidArgumentError(message);
  }
}

// Characters (code points) of UTF-8 text.
size_t Utf8Length(absl::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    n += (c & 0xC0) != 0x80;
  }
  return n;
}

}  // namespace

bool Style::operator<(const Style& o) const {
  return std::tie(bold, wrap, border, unlocked, center, font_size, fill_rgb, number_format) <
         std::tie(o.bold, o.wrap, o.border, o.unlocked, o.center, o.font_size, o.fill_rgb,
                  o.number_format);
}

absl::StatusOr<std::unique_ptr<Workbook>> Workbook::Create(const std::string& path) {
  lxw_workbook_options options = {};
  options.constant_memory = LXW_FALSE;
  options.tmpdir = nullptr;
  options.use_zip64 = LXW_FALSE;
  lxw_workbook* book = workbook_new_opt(path.c_str(), &options);
  if (book == nullptr) {
    return absl::InternalError(
        absl::StrCat("xlsx: 无法创建工作簿 / cannot start a workbook for ", path));
  }
  return std::unique_ptr<Workbook>(new Workbook(book, path));
}

Workbook::~Workbook() {
  if (!closed_ && book_ != nullptr) {
    lxw_workbook_free(book_);
  }
}

absl::StatusOr<Sheet*> Workbook::AddSheet(absl::string_view name) {
  if (closed_) {
    return absl::FailedPreconditionError("xlsx: workbook already closed");
  }
  const std::string n(name);
  if (n.empty() || Utf8Length(n) > 31) {
    return absl::InvalidArgumentError(
        absl::StrCat("xlsx: 工作表名须为1—31个字符 / sheet name must have 1–31 characters: ", n));
  }
  if (lxw_error e = workbook_validate_sheet_name(book_, n.c_str()); e != LXW_NO_ERROR) {
    return LxwStatus(e, absl::StrCat("工作表名 / sheet name '", n, "'"));
  }
  lxw_worksheet* ws = workbook_add_worksheet(book_, n.c_str());
  if (ws == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("xlsx: cannot add sheet '", n, "'"));
  }
  sheets_.push_back(std::unique_ptr<Sheet>(new Sheet(this, ws, n)));
  return sheets_.back().get();
}

absl::Status Workbook::SetTitle(absl::string_view title, absl::string_view author) {
  if (closed_) {
    return absl::FailedPreconditionError("xlsx: workbook already closed");
  }
  kept_.push_back(std::make_unique<std::string>(title));
  const char* t = kept_.back()->c_str();
  kept_.push_back(std::make_unique<std::string>(author));
  const char* a = kept_.back()->c_str();
  lxw_doc_properties properties = {};
  properties.title = const_cast<char*>(t);
  properties.author = const_cast<char*>(a);
  return LxwStatus(workbook_set_properties(book_, &properties), "document properties");
}

absl::Status Workbook::Close() {
  if (closed_) {
    return absl::FailedPreconditionError("xlsx: workbook already closed");
  }
  closed_ = true;
  const lxw_error e = workbook_close(book_);  // frees the workbook in any case
  book_ = nullptr;
  if (e != LXW_NO_ERROR) {
    std::remove(path_.c_str());
    return LxwStatus(e, absl::StrCat("写入 / writing ", path_));
  }
  return absl::OkStatus();
}

lxw_format* Workbook::Format(const Style& style) {
  if (!style.bold && !style.wrap && !style.border && !style.unlocked && !style.center &&
      style.font_size == 0 && style.fill_rgb == 0 && style.number_format.empty()) {
    return nullptr;
  }
  auto it = formats_.find(style);
  if (it != formats_.end()) {
    return it->second;
  }
  lxw_format* f = workbook_add_format(book_);
  if (style.bold) {
    format_set_bold(f);
  }
  if (style.wrap) {
    format_set_text_wrap(f);
    format_set_align(f, LXW_ALIGN_VERTICAL_TOP);
  }
  if (style.border) {
    format_set_border(f, LXW_BORDER_THIN);
  }
  if (style.unlocked) {
    format_set_unlocked(f);
  }
  if (style.center) {
    format_set_align(f, LXW_ALIGN_CENTER);
    format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
  }
  if (style.font_size > 0) {
    format_set_font_size(f, style.font_size);
  }
  if (style.fill_rgb != 0) {
    format_set_bg_color(f, static_cast<lxw_color_t>(style.fill_rgb));
  }
  if (!style.number_format.empty()) {
    format_set_num_format(f, style.number_format.c_str());  // copied by libxlsxwriter
  }
  formats_.emplace(style, f);
  return f;
}

absl::Status Sheet::Text(int row, int col, absl::string_view text, const Style& style) {
  if (book_->closed_) {
    return absl::FailedPreconditionError("xlsx: workbook already closed");
  }
  if (Utf8Length(text) > 32767) {
    return absl::InvalidArgumentError(absl::StrCat(
        "xlsx: ", name_, " 单元格文字超过32767个字符 / cell text over 32767 characters"));
  }
  Style s = style;
  if (LooksLikeFormula(text)) {
    s.number_format = "@";  // Text: retyped, it stays text
  }
  const std::string t(text);
  return LxwStatus(
      worksheet_write_string(sheet_, row, static_cast<lxw_col_t>(col), t.c_str(), book_->Format(s)),
      absl::StrCat(name_, " text cell"));
}

absl::Status Sheet::Number(int row, int col, double value, const Style& style) {
  if (book_->closed_) {
    return absl::FailedPreconditionError("xlsx: workbook already closed");
  }
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat("xlsx: ", name_, ": not a finite number"));
  }
  return LxwStatus(
      worksheet_write_number(sheet_, row, static_cast<lxw_col_t>(col), value, book_->Format(style)),
      absl::StrCat(name_, " number cell"));
}

absl::Status Sheet::Blank(int row, int col, const Style& style) {
  if (book_->closed_) {
    return absl::FailedPreconditionError("xlsx: workbook already closed");
  }
  return LxwStatus(
      worksheet_write_blank(sheet_, row, static_cast<lxw_col_t>(col), book_->Format(style)),
      absl::StrCat(name_, " blank cell"));
}

absl::Status Sheet::MergedText(int first_row, int first_col, int last_row, int last_col,
                               absl::string_view text, const Style& style) {
  if (book_->closed_) {
    return absl::FailedPreconditionError("xlsx: workbook already closed");
  }
  Style s = style;
  if (LooksLikeFormula(text)) {
    s.number_format = "@";
  }
  lxw_format* f = book_->Format(s);
  // worksheet_merge_range writes the text as a string cell.
  const std::string t(text);
  absl::Status st =
      LxwStatus(worksheet_merge_range(sheet_, first_row, static_cast<lxw_col_t>(first_col),
                                      last_row, static_cast<lxw_col_t>(last_col), "", f),
                absl::StrCat(name_, " merged cells"));
  if (!st.ok()) {
    return st;
  }
  return LxwStatus(
      worksheet_write_string(sheet_, first_row, static_cast<lxw_col_t>(first_col), t.c_str(), f),
      absl::StrCat(name_, " merged text"));
}

absl::Status Sheet::ColumnWidth(int first_col, int last_col, double width) {
  return LxwStatus(worksheet_set_column(sheet_, static_cast<lxw_col_t>(first_col),
                                        static_cast<lxw_col_t>(last_col), width, nullptr),
                   absl::StrCat(name_, " column width"));
}

void Sheet::Freeze(int row, int col) {
  worksheet_freeze_panes(sheet_, row, static_cast<lxw_col_t>(col));
}

void Sheet::Protect() {
  lxw_protection options = {};
  options.format_columns = 1;
  options.format_rows = 1;
  options.autofilter = 1;
  worksheet_protect(sheet_, nullptr, &options);
}

absl::Status Sheet::DecimalAtLeast(int first_row, int first_col, int last_row, int last_col,
                                   double min, absl::string_view input_title,
                                   absl::string_view input_message, absl::string_view error_title,
                                   absl::string_view error_message) {
  if (book_->closed_) {
    return absl::FailedPreconditionError("xlsx: workbook already closed");
  }
  if (Utf8Length(input_title) > 32 || Utf8Length(error_title) > 32 ||
      Utf8Length(input_message) > 255 || Utf8Length(error_message) > 255) {
    return absl::InvalidArgumentError(
        "xlsx: 数据验证提示过长 / validation title over 32 or message over 255 characters");
  }
  auto keep = [this](absl::string_view s) {
    book_->kept_.push_back(std::make_unique<std::string>(s));
    return const_cast<char*>(book_->kept_.back()->c_str());
  };
  lxw_data_validation v = {};
  v.validate = LXW_VALIDATION_TYPE_DECIMAL;
  v.criteria = LXW_VALIDATION_CRITERIA_GREATER_THAN_OR_EQUAL_TO;
  v.value_number = min;
  v.ignore_blank = LXW_VALIDATION_ON;
  v.show_input = LXW_VALIDATION_ON;
  v.show_error = LXW_VALIDATION_ON;
  v.error_type = LXW_VALIDATION_ERROR_TYPE_STOP;
  v.input_title = keep(input_title);
  v.input_message = keep(input_message);
  v.error_title = keep(error_title);
  v.error_message = keep(error_message);
  return LxwStatus(
      worksheet_data_validation_range(sheet_, first_row, static_cast<lxw_col_t>(first_col),
                                      last_row, static_cast<lxw_col_t>(last_col), &v),
      absl::StrCat(name_, " data validation"));
}

}  // namespace halfsky::xlsx
