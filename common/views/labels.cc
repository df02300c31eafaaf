#include "common/views/labels.h"

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/labels/labels.h"

namespace halfsky::views {

namespace v1 = ::halfsky::v1;

const char* KindLabelZh(v1::WarningKind kind) { return labels::LabelZh(kind).c_str(); }

const char* KindToken(v1::WarningKind kind) { return labels::Token(kind).c_str(); }

const char* SeverityLabelZh(v1::Severity severity) { return labels::LabelZh(severity).c_str(); }

const char* SeverityShortZh(v1::Severity severity) {
  return labels::ShortLabelZh(severity).c_str();
}

const char* SeverityToken(v1::Severity severity) { return labels::Token(severity).c_str(); }

const char* StateLabelZh(v1::WarningState state) { return labels::LabelZh(state).c_str(); }

const char* StateToken(v1::WarningState state) { return labels::Token(state).c_str(); }

const char* StatusLabelZh(v1::ProgressStatus status) { return labels::LabelZh(status).c_str(); }

const char* StatusToken(v1::ProgressStatus status) { return labels::Token(status).c_str(); }

const char* StatusColour(v1::ProgressStatus status) {
  switch (status) {
    case v1::PROGRESS_STATUS_ACHIEVED:
      return "#1a7f37";
    case v1::PROGRESS_STATUS_ON_TRACK:
      return "#4ac26b";
    case v1::PROGRESS_STATUS_NEEDS_ACCELERATION:
      return "#d4a72c";
    case v1::PROGRESS_STATUS_AT_RISK:
      return "#e16f24";
    case v1::PROGRESS_STATUS_MOVING_AWAY:
      return "#cf222e";
    case v1::PROGRESS_STATUS_MISSED:
      return "#82071e";
    default:
      return "#8c959f";
  }
}

const char* SeverityColour(v1::Severity severity) {
  switch (severity) {
    case v1::SEVERITY_RED:
      return "#cf222e";
    case v1::SEVERITY_ORANGE:
      return "#e16f24";
    case v1::SEVERITY_YELLOW:
      return "#d4a72c";
    default:
      return "#8c959f";
  }
}

const char* ReportTitleZh(v1::ReportType type) {
  switch (type) {
    case v1::REPORT_TYPE_ANNUAL:
      return "年度监测评估报告";
    case v1::REPORT_TYPE_MIDTERM:
      return "中期评估报告";
    case v1::REPORT_TYPE_FINAL:
      return "终期评估报告";
    default:
      return "评估报告";
  }
}

const char* EventLabelZh(v1::WarningEventType type) { return labels::LabelZh(type).c_str(); }

const char* SexLabelZh(v1::Sex sex) {
  return labels::LabelZh(sex == v1::SEX_FEMALE || sex == v1::SEX_MALE ? sex : v1::SEX_TOTAL)
      .c_str();
}

const char* ResidenceLabelZh(v1::Residence residence) {
  return labels::LabelZh(residence == v1::RESIDENCE_URBAN || residence == v1::RESIDENCE_RURAL
                             ? residence
                             : v1::RESIDENCE_ALL)
      .c_str();
}

const char* ReportingStateLabelZh(v1::ReportingState state) {
  return labels::LabelZh(state).c_str();
}

std::optional<v1::WarningKind> ParseKind(absl::string_view text) {
  return labels::Parse<v1::WarningKind>(text);
}

std::optional<v1::Severity> ParseSeverity(absl::string_view text) {
  return labels::Parse<v1::Severity>(text);
}

std::optional<v1::WarningState> ParseState(absl::string_view text) {
  return labels::Parse<v1::WarningState>(text);
}

std::optional<v1::Sex> ParseSex(absl::string_view text) { return labels::Parse<v1::Sex>(text); }

std::optional<v1::Residence> ParseResidence(absl::string_view text) {
  return labels::Parse<v1::Residence>(text);
}

std::optional<v1::ReportType> ParseReportType(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "annual" || text == "年度") {
    return v1::REPORT_TYPE_ANNUAL;
  }
  if (lower == "midterm" || text == "中期") {
    return v1::REPORT_TYPE_MIDTERM;
  }
  if (lower == "final" || text == "终期") {
    return v1::REPORT_TYPE_FINAL;
  }
  return std::nullopt;
}

std::string FormatValue(double value, int decimals) {
  if (!std::isfinite(value)) {
    return "-";
  }
  std::string s = absl::StrFormat("%.*f", decimals, value);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') {
      s.pop_back();
    }
    if (!s.empty() && s.back() == '.') {
      s.pop_back();
    }
  }
  if (s == "-0") {
    s = "0";
  }
  return s;
}

std::string FormatRate(double fraction) {
  std::string s = absl::StrFormat("%+.1f%%", fraction * 100.0);
  if (s == "-0.0%" || s == "+0.0%") {
    s = "0.0%";
  }
  return s;
}

std::string TargetShortZh(const v1::Target& t, absl::string_view unit) {
  const std::string value = t.has_value() ? absl::StrCat(FormatValue(t.value(), 4), unit) : "";
  std::string s;
  switch (t.comparator()) {
    case v1::COMPARATOR_AT_LEAST:
      s = absl::StrCat("≥", value);
      break;
    case v1::COMPARATOR_AT_MOST:
      s = absl::StrCat("≤", value);
      break;
    case v1::COMPARATOR_BELOW:
      s = absl::StrCat("<", value);
      break;
    case v1::COMPARATOR_ABOUT:
      s = absl::StrCat(value, "±", FormatValue(t.tolerance() > 0 ? t.tolerance() : 2.0, 4));
      break;
    case v1::COMPARATOR_MAINTAIN_AT_LEAST:
      s = absl::StrCat("保持≥", value);
      break;
    case v1::COMPARATOR_MAINTAIN_AT_MOST:
      s = absl::StrCat("保持≤", value);
      break;
    case v1::COMPARATOR_INCREASE:
      s = value.empty() ? "逐步提高" : absl::StrCat("提高至", value);
      break;
    case v1::COMPARATOR_DECREASE:
      s = value.empty() ? "逐步降低" : absl::StrCat("降低至", value);
      break;
    case v1::COMPARATOR_DECREASE_EACH_YEAR:
      s = "逐年降低";
      break;
    case v1::COMPARATOR_NARROW_GAP:
      s = t.gap_dimension() == v1::GAP_DIMENSION_RESIDENCE ? "城乡差距缩小"
          : t.gap_dimension() == v1::GAP_DIMENSION_SEX     ? "性别差距缩小"
                                                           : "差距缩小";
      break;
    default:
      s = value;
      break;
  }
  if (t.sex() == v1::SEX_FEMALE || t.sex() == v1::SEX_MALE) {
    s = absl::StrCat(SexLabelZh(t.sex()), " ", s);
  }
  if (t.residence() == v1::RESIDENCE_URBAN || t.residence() == v1::RESIDENCE_RURAL) {
    s = absl::StrCat(ResidenceLabelZh(t.residence()), " ", s);
  }
  if (t.every_year()) {
    return absl::StrCat(s, " 每年");
  }
  if (t.year() != 0) {
    return absl::StrCat(s, " (", t.year(), ")");
  }
  return s;
}

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) {
    return "";
  }
  static const absl::TimeZone kDistrict = absl::FixedTimeZone(8 * 3600);
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(ts.seconds()), kDistrict);
}

bool IsUnitWarning(const v1::Warning& w) {
  return w.kind() == v1::WARNING_KIND_LATE_DATA && !w.unit_code().empty();
}

std::string WarningSubjectZh(const v1::Warning& w,
                             const std::map<std::string, std::string>& unit_names,
                             const std::map<std::string, std::string>& indicator_names,
                             int max_listed) {
  if (!IsUnitWarning(w)) {
    return w.indicator_name_zh().empty()
               ? w.indicator_id()
               : absl::StrCat(w.indicator_id(), " ", w.indicator_name_zh());
  }
  auto unit = unit_names.find(w.unit_code());
  std::string out = absl::StrCat(unit != unit_names.end() ? unit->second : w.unit_code(), " 未报",
                                 w.missing_indicator_ids_size(), "项");
  std::vector<std::string> items;
  for (const std::string& id : w.missing_indicator_ids()) {
    if (static_cast<int>(items.size()) >= max_listed) {
      break;
    }
    auto name = indicator_names.find(id);
    items.push_back(name != indicator_names.end() ? absl::StrCat(id, " ", name->second) : id);
  }
  if (!items.empty()) {
    absl::StrAppend(&out, "：", absl::StrJoin(items, "、"));
    if (w.missing_indicator_ids_size() > static_cast<int>(items.size())) {
      absl::StrAppend(&out, "等", w.missing_indicator_ids_size(), "项");
    }
  }
  return out;
}

std::string OverdueZh(const v1::Warning& w) {
  return IsUnitWarning(w) ? absl::StrCat("逾期", w.days_overdue(), "天") : std::string();
}

bool WarningBefore(const v1::Warning& a, const v1::Warning& b) {
  auto key = [](const v1::Warning& w) {
    const bool unit = IsUnitWarning(w);
    return std::make_tuple(-static_cast<int>(w.severity()), unit, w.indicator_id(), w.area_code(),
                           unit ? -w.days_overdue() : 0, w.unit_code(), unit ? w.data_year() : 0,
                           static_cast<int>(w.kind()), w.target_year(), w.id());
  };
  return key(a) < key(b);
}

}  // namespace halfsky::views
