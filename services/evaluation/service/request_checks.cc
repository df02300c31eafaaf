#include "services/evaluation/service/request_checks.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock/clock.h"
#include "common/proto/timestamp.h"
#include "common/text/utf8.h"
#include "google/protobuf/util/time_util.h"

namespace halfsky::evaluation {

namespace v1 = ::halfsky::v1;

namespace {

// The first code point of `text` that is a control character other than
// tab and newline, with its byte offset; -1 when none.
int32_t FirstControl(absl::string_view text, size_t* at) {
  for (size_t i = 0; i < text.size();) {
    const size_t start = i;
    const int32_t cp = NextCodePoint(text, &i);
    if (cp == '\t' || cp == '\n') {
      continue;
    }
    if ((cp >= 0 && cp < 0x20) || (cp >= 0x7F && cp <= 0x9F)) {
      *at = start;
      return cp;
    }
  }
  return -1;
}

std::string MinuteZh(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M", t, DistrictTimeZone());
}

bool ValidTimestamp(const google::protobuf::Timestamp& t) {
  return t.seconds() >= google::protobuf::util::TimeUtil::kTimestampMinSeconds &&
         t.seconds() <= google::protobuf::util::TimeUtil::kTimestampMaxSeconds && t.nanos() >= 0 &&
         t.nanos() <= 999999999;
}

// `t` (field `field`, `has` whether set) must be set, a valid timestamp,
// later than `now` and at most `horizon` (said as `horizon_zh`) ahead.
void CheckFutureTime(bool has, const google::protobuf::Timestamp& t, absl::Time now,
                     absl::Duration horizon, const char* field, const char* label_zh,
                     const char* horizon_zh, std::vector<FieldViolation>* violations) {
  if (!has) {
    violations->push_back({field, absl::StrCat(label_zh, "不能为空 / ", field, " is required")});
  } else if (!ValidTimestamp(t)) {
    violations->push_back(
        {field, absl::StrCat(label_zh, "不是有效时间 / ", field, " is not a valid timestamp")});
  } else if (FromTimestamp(t) <= now) {
    violations->push_back({field, absl::StrCat(label_zh, "须晚于现在（", MinuteZh(now), "） / ",
                                               field, " must be in the future")});
  } else if (FromTimestamp(t) > now + horizon) {
    violations->push_back(
        {field, absl::StrCat(label_zh, "不超过", horizon_zh, " / ", field, " too far ahead")});
  }
}

void NeedWarningId(const std::string& id, std::vector<FieldViolation>* violations) {
  if (id.empty()) {
    violations->push_back({"warning_id", "缺少预警编号 / warning_id is required"});
  }
}

absl::Status Refuse(absl::string_view message, const std::vector<FieldViolation>& violations) {
  if (violations.empty()) {
    return absl::OkStatus();
  }
  return InvalidArgumentError(message, violations);
}

}  // namespace

void CheckText(absl::string_view text, const char* field, const char* label_zh,
               std::vector<FieldViolation>* violations) {
  size_t at = 0;
  if (text.empty()) {
    violations->push_back({field, absl::StrCat(label_zh, "不能为空 / ", field, " is required")});
  } else if (text.size() > kMaxNoteBytes) {
    violations->push_back({field, absl::StrCat(label_zh, "不超过", kMaxNoteBytes, "字节 / ", field,
                                               " exceeds ", kMaxNoteBytes, " bytes")});
  } else if (const int32_t cp = FirstControl(text, &at); cp >= 0) {
    const std::string where = absl::StrFormat("U+%04X at byte %d", cp, at);
    violations->push_back({field, absl::StrCat(label_zh, "含控制字符（", where, "） / ", field,
                                               " contains a control character (", where, ")")});
  }
}

absl::Status CheckWarningsFilter(const v1::ListWarningsRequest& f, const CatalogIndex& catalog) {
  std::vector<FieldViolation> violations;
  if (!f.domain_id().empty() && catalog.FindDomain(f.domain_id()) == nullptr) {
    violations.push_back(
        {"domain_id", absl::StrCat("未知领域 / unknown domain \"", f.domain_id(), "\"")});
  }
  if (!f.indicator_id().empty() && catalog.FindIndicator(f.indicator_id()) == nullptr) {
    violations.push_back(
        {"indicator_id", absl::StrCat("未知指标 / unknown indicator \"", f.indicator_id(), "\"")});
  }
  if (!f.area_code().empty() && catalog.FindArea(f.area_code()) == nullptr) {
    violations.push_back(
        {"area_code", absl::StrCat("未知区域 / unknown area \"", f.area_code(), "\"")});
  }
  if (f.include_subareas() && f.area_code().empty()) {
    violations.push_back({"include_subareas",
                          "须同时指定区域 area_code / needs area_code (the root of the subtree)"});
  }
  if (f.area_codes_size() > kMaxFilterAreas) {
    violations.push_back({"area_codes", absl::StrCat("最多", kMaxFilterAreas, "个区域 / at most ",
                                                     kMaxFilterAreas, " areas")});
  } else {
    for (int i = 0; i < f.area_codes_size(); ++i) {
      if (catalog.FindArea(f.area_codes(i)) == nullptr) {
        violations.push_back({absl::StrCat("area_codes[", i, "]"),
                              absl::StrCat("未知区域 / unknown area \"", f.area_codes(i), "\"")});
      }
    }
  }
  if (!f.responsible_unit_code().empty() &&
      catalog.FindMemberUnit(f.responsible_unit_code()) == nullptr) {
    violations.push_back(
        {"responsible_unit_code",
         absl::StrCat("未知成员单位 / unknown member unit \"", f.responsible_unit_code(), "\"")});
  }
  if (!v1::WarningKind_IsValid(f.kind())) {
    violations.push_back({"kind", "未知预警类型 / unknown warning kind"});
  }
  if (!v1::Severity_IsValid(f.min_severity())) {
    violations.push_back({"min_severity", "未知预警级别 / unknown severity"});
  }
  if (!v1::WarningState_IsValid(f.state())) {
    violations.push_back({"state", "未知状态 / unknown state"});
  }
  if (f.page_size() < 0) {
    violations.push_back({"page_size", "不能为负数 / must not be negative"});
  }
  return Refuse("筛选条件无效 / invalid filter", violations);
}

void ExpandSubareas(const CatalogIndex& catalog, v1::ListWarningsRequest* filter) {
  if (filter->include_subareas() && !filter->area_code().empty()) {
    filter->set_include_subareas(false);
    std::vector<std::string> pending = {filter->area_code()};
    while (!pending.empty()) {
      const std::string code = std::move(pending.back());
      pending.pop_back();
      for (const v1::Area* child : catalog.Children(code)) {
        filter->add_area_codes(child->code());
        pending.push_back(child->code());
      }
    }
  }
  // Sorted and unique, so that MatchesFilter can binary-search them.
  auto* codes = filter->mutable_area_codes();
  std::sort(codes->begin(), codes->end());
  codes->erase(std::unique(codes->begin(), codes->end()), codes->end());
}

absl::Status CheckAcknowledgement(const v1::AcknowledgeWarningRequest& request) {
  std::vector<FieldViolation> violations;
  if (request.warning_id().empty()) {
    violations.push_back({"warning_id", "不能为空 / required"});
  }
  if (request.note().empty()) {
    violations.push_back({"note", "确认预警须填写对策建议 / a note (对策建议) is required"});
  } else {
    CheckText(request.note(), "note", "对策建议", &violations);
  }
  return Refuse("确认请求无效 / invalid acknowledgement", violations);
}

absl::Status CheckFollowUpFilter(const v1::ListFollowUpsRequest& request,
                                 const CatalogIndex& catalog) {
  std::vector<FieldViolation> violations;
  if (!request.owner_unit_code().empty() &&
      catalog.FindMemberUnit(request.owner_unit_code()) == nullptr) {
    violations.push_back({"owner_unit_code", absl::StrCat("未知成员单位 / unknown member unit \"",
                                                          request.owner_unit_code(), "\"")});
  }
  if (!v1::FollowUpState_IsValid(request.state())) {
    violations.push_back({"state", "未知状态 / unknown state"});
  }
  return Refuse("筛选条件无效 / invalid filter", violations);
}

absl::Status CheckAssign(const v1::AssignFollowUpRequest& req, const CatalogIndex& catalog) {
  std::vector<FieldViolation> violations;
  NeedWarningId(req.warning_id(), &violations);
  if (req.unit_code().empty()) {
    violations.push_back({"unit_code", "责任单位不能为空 / unit_code is required"});
  } else if (catalog.FindMemberUnit(req.unit_code()) == nullptr) {
    violations.push_back({"unit_code", absl::StrCat("未知成员单位 / unknown member unit \"",
                                                    req.unit_code(), "\"")});
  }
  CheckText(req.reason(), "reason", "调整理由", &violations);
  return Refuse("调整责任单位的请求无效 / invalid assignment", violations);
}

absl::Status CheckPlan(const v1::PlanFollowUpRequest& req, absl::Time now) {
  std::vector<FieldViolation> violations;
  NeedWarningId(req.warning_id(), &violations);
  CheckText(req.measures(), "measures", "整改措施", &violations);
  CheckFutureTime(req.has_due(), req.due(), now, kMaxPlanAhead, "due", "整改时限", "三年",
                  &violations);
  return Refuse("整改措施无效 / invalid plan", violations);
}

absl::Status CheckNote(const v1::AddFollowUpNoteRequest& req) {
  std::vector<FieldViolation> violations;
  NeedWarningId(req.warning_id(), &violations);
  CheckText(req.note(), "note", "整改进展", &violations);
  return Refuse("整改进展无效 / invalid note", violations);
}

absl::Status CheckClose(const v1::CloseFollowUpRequest& req) {
  std::vector<FieldViolation> violations;
  NeedWarningId(req.warning_id(), &violations);
  const bool by_data = req.closing() == v1::FOLLOW_UP_CLOSING_RESOLVED_BY_DATA;
  if (req.closing() == v1::FOLLOW_UP_CLOSING_UNSPECIFIED ||
      !v1::FollowUpClosing_IsValid(req.closing())) {
    violations.push_back({"closing",
                          "须为 RESOLVED_BY_DATA、CLOSED_WITH_REASON 或 FALSE_ALARM / closing "
                          "decision is required"});
  } else if (!by_data || !req.reason().empty()) {
    CheckText(req.reason(), "reason", "销号理由", &violations);
  }
  return Refuse("销号请求无效 / invalid closing", violations);
}

absl::Status CheckSilence(const v1::SilenceFollowUpRequest& req, absl::Time now) {
  std::vector<FieldViolation> violations;
  NeedWarningId(req.warning_id(), &violations);
  CheckText(req.reason(), "reason", "暂缓理由", &violations);
  CheckFutureTime(req.has_until(), req.until(), now, kMaxSilenceAhead, "until", "暂缓截止时间",
                  "366天", &violations);
  return Refuse("暂缓督办请求无效 / invalid silence", violations);
}

}  // namespace halfsky::evaluation
