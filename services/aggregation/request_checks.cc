#include "services/aggregation/request_checks.h"

#include <vector>

#include "absl/strings/str_format.h"
#include "common/status/status.h"

namespace halfsky::aggregation {

absl::Status CheckSeriesRequest(const halfsky::v1::GetSeriesRequest& request, int first, int last,
                                YearRange* range) {
  const int from = request.from_year() == 0 ? first : request.from_year();
  const int to = request.to_year() == 0 ? last : request.to_year();
  std::vector<FieldViolation> violations;
  if (from < first || from > last) {
    violations.push_back({"from_year", absl::StrFormat("年份 %d 超出 %d—%d / year %d outside %d–%d",
                                                       from, first, last, from, first, last)});
  }
  if (to < first || to > last) {
    violations.push_back({"to_year", absl::StrFormat("年份 %d 超出 %d—%d / year %d outside %d–%d",
                                                     to, first, last, to, first, last)});
  }
  if (violations.empty() && from > to) {
    violations.push_back({"from_year", "起始年份晚于截止年份 / from_year is after to_year"});
  }
  if (!halfsky::v1::Sex_IsValid(request.sex())) {
    violations.push_back(
        {"sex", absl::StrFormat("性别取值%d无效 / invalid sex %d", static_cast<int>(request.sex()),
                                static_cast<int>(request.sex()))});
  }
  if (!halfsky::v1::Residence_IsValid(request.residence())) {
    violations.push_back({"residence", absl::StrFormat("城乡取值%d无效 / invalid residence %d",
                                                       static_cast<int>(request.residence()),
                                                       static_cast<int>(request.residence()))});
  }
  if (!violations.empty()) {
    return InvalidArgumentError("请求参数无效 / invalid request", violations);
  }
  if (range != nullptr) {
    range->from = from;
    range->to = to;
  }
  return absl::OkStatus();
}

}  // namespace halfsky::aggregation
