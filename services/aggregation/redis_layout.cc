#include "services/aggregation/redis_layout.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace halfsky::aggregation {
namespace {

const char* Sex3(halfsky::v1::Sex sex) {
  switch (sex) {
    case halfsky::v1::SEX_FEMALE:
      return "female";
    case halfsky::v1::SEX_MALE:
      return "male";
    default:
      return "total";
  }
}

const char* Res3(halfsky::v1::Residence r) {
  switch (r) {
    case halfsky::v1::RESIDENCE_URBAN:
      return "urban";
    case halfsky::v1::RESIDENCE_RURAL:
      return "rural";
    default:
      return "all";
  }
}

}  // namespace

std::string SeriesRedisKey(absl::string_view indicator_id, absl::string_view area_code,
                           halfsky::v1::Sex sex, halfsky::v1::Residence residence) {
  return absl::StrCat(kSeriesKeyPrefix, indicator_id, ":", area_code, ":", Sex3(sex), ":",
                      Res3(residence));
}

std::string IndexRedisKey(absl::string_view indicator_id) {
  return absl::StrCat(kIndexKeyPrefix, indicator_id);
}

std::string IndexField(absl::string_view area_code, halfsky::v1::Sex sex,
                       halfsky::v1::Residence residence) {
  return absl::StrCat(area_code, ":", Sex3(sex), ":", Res3(residence));
}

std::string FormatUpdateMessage(const UpdateMessage& m) {
  return absl::StrCat("cursor=", m.cursor, " version=", m.version,
                      " rebuild=", m.rebuild ? "1" : "0", " indicators=",
                      absl::StrJoin(m.indicator_ids, ","));
}

absl::StatusOr<UpdateMessage> ParseUpdateMessage(absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ' ');
  auto bad = [&]() {
    return absl::InvalidArgumentError(
        absl::StrCat("not an aggregates-updated message: \"", text, "\""));
  };
  if (parts.size() != 4) {
    return bad();
  }
  UpdateMessage m;
  absl::string_view c = parts[0];
  if (!absl::ConsumePrefix(&c, "cursor=") || !absl::SimpleAtoi(c, &m.cursor)) {
    return bad();
  }
  absl::string_view v = parts[1];
  if (!absl::ConsumePrefix(&v, "version=") || !absl::SimpleAtoi(v, &m.version)) {
    return bad();
  }
  absl::string_view r = parts[2];
  if (r == "rebuild=1") {
    m.rebuild = true;
  } else if (r != "rebuild=0") {
    return bad();
  }
  absl::string_view ids = parts[3];
  if (!absl::ConsumePrefix(&ids, "indicators=")) {
    return bad();
  }
  if (!ids.empty()) {
    for (absl::string_view id : absl::StrSplit(ids, ',')) {
      if (id.empty()) {
        return bad();
      }
      m.indicator_ids.emplace_back(id);
    }
  }
  return m;
}

}  // namespace halfsky::aggregation
