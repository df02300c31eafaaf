#include "services/submission/request_checks.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/labels/labels.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;

namespace {

constexpr size_t kMaxFormTextBytes = 2000;

std::vector<FieldViolation> YearViolations(int year, const ValidationLimits& limits,
                                           absl::string_view field) {
  if (year >= limits.min_year && year <= limits.max_year) {
    return {};
  }
  return {{std::string(field),
           absl::StrCat("年份", year, "超出", limits.min_year, "—", limits.max_year, " / year ",
                        year, " outside ", limits.min_year, "–", limits.max_year)}};
}

void CatalogYear(int year, const CatalogIndex& catalog, const std::string& field,
                 std::vector<FieldViolation>* bad) {
  const auto& c = catalog.catalog();
  if (year < c.base_year() || year > c.final_year()) {
    bad->push_back(
        {field, absl::StrCat("年份须在", c.base_year(), "—", c.final_year(), "之间 / year outside ",
                             c.base_year(), "–", c.final_year())});
  }
}

}  // namespace

absl::Status YearInRange(int year, const ValidationLimits& limits, absl::string_view field) {
  std::vector<FieldViolation> bad = YearViolations(year, limits, field);
  if (!bad.empty()) {
    return InvalidArgumentError("年份无效 / invalid year", bad);
  }
  return absl::OkStatus();
}

absl::Status CheckHistoryRequest(const v1::GetHistoryRequest& request,
                                 const ValidationLimits& limits) {
  const v1::DataKey& key = request.key();
  std::vector<FieldViolation> bad;
  if (key.indicator_id().empty()) {
    bad.push_back({"key.indicator_id", "缺少指标代码 / indicator_id is required"});
  }
  if (key.area_code().empty()) {
    bad.push_back({"key.area_code", "缺少区域代码 / area_code is required"});
  }
  if (!v1::Sex_IsValid(key.sex())) {
    bad.push_back({"key.sex", absl::StrCat("性别取值", static_cast<int>(key.sex()),
                                           "无效 / invalid sex ", static_cast<int>(key.sex()))});
  }
  if (!v1::Residence_IsValid(key.residence())) {
    bad.push_back({"key.residence",
                   absl::StrCat("城乡取值", static_cast<int>(key.residence()),
                                "无效 / invalid residence ", static_cast<int>(key.residence()))});
  }
  const std::vector<FieldViolation> year = YearViolations(key.year(), limits, "key.year");
  bad.insert(bad.end(), year.begin(), year.end());
  if (!bad.empty()) {
    return InvalidArgumentError("键不完整 / incomplete key", bad);
  }
  return absl::OkStatus();
}

namespace {

// A feed cursor: not negative, not beyond the committed head (the caller's
// cursor comes from a different or newer database; never echo it as the
// head). `what_zh`/`what_en` name the sequence in the messages.
absl::Status CheckCursor(const std::string& field, int64_t after, int64_t head,
                         absl::string_view what_zh, absl::string_view what_en) {
  if (after < 0) {
    return InvalidArgumentError(absl::StrCat(field, " 不能为负 / ", field, " must be >= 0"),
                                {{field, "不能为负 / must be >= 0"}});
  }
  if (after > head) {
    const absl::Status beyond = InvalidArgumentError(
        "", {{field, absl::StrCat("超出已提交的最大", what_zh, head,
                                  " / beyond the committed head ", what_en, " ", head)}});
    absl::Status error(absl::StatusCode::kOutOfRange,
                       absl::StrCat(field, " ", after, " 超出", what_zh, "末尾 / is beyond the ",
                                    what_en, " head ", head));
    beyond.ForEachPayload(
        [&](absl::string_view url, const absl::Cord& payload) { error.SetPayload(url, payload); });
    return error;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckWatchCursor(int64_t after_sequence, int64_t head) {
  return CheckCursor("after_sequence", after_sequence, head, "序号", "sequence");
}

absl::Status CheckWatchFormCursor(int64_t after_form_sequence, int64_t form_head) {
  return CheckCursor("after_form_sequence", after_form_sequence, form_head, "报表序号",
                     "form sequence");
}

absl::Status CheckReportingStatusRequest(const v1::GetReportingStatusRequest& request,
                                         const ValidationLimits& limits) {
  std::vector<FieldViolation> bad = YearViolations(request.year(), limits, "year");
  if (request.has_as_of() &&
      (request.as_of().seconds() < google::protobuf::util::TimeUtil::kTimestampMinSeconds ||
       request.as_of().seconds() > google::protobuf::util::TimeUtil::kTimestampMaxSeconds ||
       request.as_of().nanos() < 0 || request.as_of().nanos() > 999999999)) {
    bad.push_back(
        {"as_of", absl::StrCat("时间超出0001-01-01至9999-12-31或纳秒无效（seconds=",
                               request.as_of().seconds(), ", nanos=", request.as_of().nanos(),
                               "） / outside 0001-01-01..9999-12-31 or invalid nanos")});
  }
  if (!bad.empty()) {
    return InvalidArgumentError(bad.size() == 1 && bad[0].field == "year"
                                    ? "年份无效 / invalid year"
                                    : "请求参数无效 / invalid request",
                                bad);
  }
  return absl::OkStatus();
}

std::string EncodePageToken(int64_t cursor, absl::string_view fingerprint) {
  return absl::WebSafeBase64Escape(absl::StrCat("v1:", cursor, ":", fingerprint));
}

absl::StatusOr<int64_t> DecodePageToken(absl::string_view token, absl::string_view fingerprint) {
  if (token.empty()) {
    return 0;
  }
  std::string decoded;
  std::vector<absl::string_view> parts;
  if (absl::WebSafeBase64Unescape(token, &decoded)) {
    parts = absl::StrSplit(decoded, ':');
  }
  int64_t cursor = 0;
  if (parts.size() != 3 || parts[0] != "v1" || parts[1].empty() ||
      parts[1].find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(parts[1], &cursor) || parts[2] != fingerprint) {
    return InvalidArgumentError("分页标记无效 / invalid page_token",
                                {{"page_token",
                                  "分页标记无效或与筛选条件不符 / page_token is invalid or belongs "
                                  "to a different filter"}});
  }
  return cursor;
}

absl::Status CheckPageSize(int32_t page_size) {
  if (page_size < 0) {
    return InvalidArgumentError("page_size 不能为负 / page_size must be >= 0",
                                {{"page_size", "不能为负 / must be >= 0"}});
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::FormKey> CheckFormKey(const v1::FormKey& key, const CatalogIndex& catalog,
                                         absl::string_view field) {
  const std::string prefix(field);
  std::vector<FieldViolation> bad;
  if (catalog.FindMemberUnit(key.unit_code()) == nullptr) {
    bad.push_back({prefix + ".unit_code",
                   absl::StrCat("未知成员单位「", key.unit_code(), "」 / unknown member unit")});
  }
  if (!key.area_code().empty() && catalog.FindArea(key.area_code()) == nullptr) {
    bad.push_back(
        {prefix + ".area_code", absl::StrCat("未知区域「", key.area_code(), "」 / unknown area")});
  }
  CatalogYear(key.year(), catalog, prefix + ".year", &bad);
  if (!bad.empty()) {
    return InvalidArgumentError("报表标识无效 / invalid form key", bad);
  }
  v1::FormKey out = key;
  if (out.area_code().empty()) {
    out.set_area_code(catalog.RootArea().code());
  }
  return out;
}

absl::Status CheckValidateDataRequest(const v1::ValidateDataRequest& request,
                                      absl::string_view unit_code, const CatalogIndex& catalog) {
  std::vector<FieldViolation> bad;
  if (!unit_code.empty() && catalog.FindMemberUnit(unit_code) == nullptr) {
    bad.push_back(
        {"unit_code", absl::StrCat("未知成员单位「", unit_code, "」 / unknown member unit")});
  }
  if (!request.area_code().empty() && catalog.FindArea(request.area_code()) == nullptr) {
    bad.push_back({"area_code", "未知区域 / unknown area"});
  }
  CatalogYear(request.year(), catalog, "year", &bad);
  if (!bad.empty()) {
    return InvalidArgumentError("校验请求无效 / invalid validation request", bad);
  }
  return absl::OkStatus();
}

absl::Status CheckListFormsRequest(const v1::ListFormsRequest& request, absl::string_view unit_code,
                                   const CatalogIndex& catalog) {
  std::vector<FieldViolation> bad;
  if (!unit_code.empty() && catalog.FindMemberUnit(unit_code) == nullptr) {
    bad.push_back(
        {"unit_code", absl::StrCat("未知成员单位「", unit_code, "」 / unknown member unit")});
  }
  if (request.year() != 0) {
    CatalogYear(request.year(), catalog, "year", &bad);
  }
  if (!v1::FormState_IsValid(request.state())) {
    bad.push_back(
        {"state", absl::StrCat("报表状态取值", static_cast<int>(request.state()),
                               "无效 / invalid state ", static_cast<int>(request.state()))});
  }
  if (!bad.empty()) {
    return InvalidArgumentError("筛选条件无效 / invalid filter", bad);
  }
  return absl::OkStatus();
}

absl::Status CheckFormActionText(v1::FormAction action, absl::string_view text) {
  const bool needs_reason = action == v1::FORM_ACTION_RETURN || action == v1::FORM_ACTION_UNLOCK;
  const std::string field = needs_reason ? "reason" : "explanation";
  if (needs_reason && text.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    return InvalidArgumentError(
        "缺少原因 / a reason is required",
        {{"reason", absl::StrCat(labels::LabelZh(action), "须说明原因 / ", labels::Token(action),
                                 " needs a reason")}});
  }
  if (text.size() > kMaxFormTextBytes) {
    return InvalidArgumentError("文字过长 / text too long",
                                {{field, "最多2000字节 / at most 2000 bytes"}});
  }
  if (std::vector<FieldViolation> bad =
          ValidateFreeText(field, text, kMaxFormTextBytes, false, needs_reason ? "原因" : "说明",
                           needs_reason ? "reason" : "explanation");
      !bad.empty()) {
    return InvalidArgumentError("文字无效 / invalid text", bad);
  }
  return absl::OkStatus();
}

}  // namespace halfsky::submission
