// The pure request checks of the submission and review services' read and
// review RPCs (services/submission/request_checks.h): each bad field is
// named; OK only when every field is good.
#include "services/submission/request_checks.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/catalog/catalog.h"
#include "common/status/status.h"
#include "gtest/gtest.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldViolation& v : BadRequestViolations(s)) out.push_back(v.field);
  return out;
}

TEST(SubmissionRequestChecksTest, HistoryNamesEveryBadPartOfTheKey) {
  v1::GetHistoryRequest r;
  r.mutable_key()->set_sex(static_cast<v1::Sex>(9));
  r.mutable_key()->set_residence(static_cast<v1::Residence>(9));
  r.mutable_key()->set_year(2019);
  const absl::Status s = CheckHistoryRequest(r, ValidationLimits());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Fields(s), (std::vector<std::string>{"key.indicator_id", "key.area_code", "key.sex",
                                                 "key.residence", "key.year"}));
  r.mutable_key()->set_indicator_id("HEALTH-01");
  r.mutable_key()->set_area_code("610303");
  r.mutable_key()->set_sex(v1::SEX_FEMALE);
  r.mutable_key()->set_residence(v1::RESIDENCE_RURAL);
  r.mutable_key()->set_year(2024);
  EXPECT_TRUE(CheckHistoryRequest(r, ValidationLimits()).ok());
}

TEST(SubmissionRequestChecksTest, WatchCursorIsNeitherNegativeNorBeyondTheHead) {
  EXPECT_TRUE(CheckWatchCursor(0, 0).ok());
  EXPECT_TRUE(CheckWatchCursor(7, 7).ok());
  EXPECT_EQ(CheckWatchCursor(-1, 7).code(), absl::StatusCode::kInvalidArgument);
  const absl::Status beyond = CheckWatchCursor(1000000000000000, 7);
  EXPECT_EQ(beyond.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Fields(beyond), std::vector<std::string>{"after_sequence"});
}

TEST(SubmissionRequestChecksTest, ReportingStatusYearAndTime) {
  v1::GetReportingStatusRequest r;
  r.set_year(2024);
  EXPECT_TRUE(CheckReportingStatusRequest(r, ValidationLimits()).ok());
  r.mutable_as_of()->set_seconds(int64_t{1} << 60);
  r.set_year(2031);
  EXPECT_EQ(Fields(CheckReportingStatusRequest(r, ValidationLimits())),
            (std::vector<std::string>{"year", "as_of"}));
  r.set_year(2024);
  r.mutable_as_of()->set_seconds(1780000000);
  r.mutable_as_of()->set_nanos(1000000000);
  EXPECT_EQ(Fields(CheckReportingStatusRequest(r, ValidationLimits())),
            std::vector<std::string>{"as_of"});
}

TEST(SubmissionRequestChecksTest, PageTokensRoundTripAndRefuseEverythingElse) {
  EXPECT_EQ(*DecodePageToken("", "f"), 0);
  EXPECT_EQ(*DecodePageToken(EncodePageToken(42, "f"), "f"), 42);
  for (const std::string& bad :
       {std::string("not base64!"), absl::WebSafeBase64Escape("v1:-5:f"),
        absl::WebSafeBase64Escape("v1:+5:f"), absl::WebSafeBase64Escape("v1::f"),
        absl::WebSafeBase64Escape("v2:5:f"), absl::WebSafeBase64Escape("v1:5:g"),
        absl::WebSafeBase64Escape("v1:99999999999999999999:f")}) {
    absl::StatusOr<int64_t> c = DecodePageToken(bad, "f");
    EXPECT_FALSE(c.ok()) << bad;
    EXPECT_EQ(Fields(c.status()), std::vector<std::string>{"page_token"}) << bad;
  }
  EXPECT_EQ(Fields(CheckPageSize(-1)), std::vector<std::string>{"page_size"});
  EXPECT_TRUE(CheckPageSize(0).ok());
}

TEST(SubmissionRequestChecksTest, FormTextsNeedAReasonAndNoControlCharacters) {
  EXPECT_EQ(Fields(CheckFormActionText(v1::FORM_ACTION_RETURN, " \t")),
            std::vector<std::string>{"reason"});
  EXPECT_EQ(Fields(CheckFormActionText(v1::FORM_ACTION_UNLOCK, "原因\r")),
            std::vector<std::string>{"reason"});
  EXPECT_EQ(Fields(CheckFormActionText(v1::FORM_ACTION_SUBMIT, "说明\x7f")),
            std::vector<std::string>{"explanation"});
  EXPECT_EQ(Fields(CheckFormActionText(v1::FORM_ACTION_SUBMIT, std::string(2001, 'x'))),
            std::vector<std::string>{"explanation"});
  EXPECT_TRUE(CheckFormActionText(v1::FORM_ACTION_SUBMIT, "").ok());
  EXPECT_TRUE(CheckFormActionText(v1::FORM_ACTION_RETURN, "第一段\n第二段\t完").ok());
}

TEST(SubmissionRequestChecksTest, FormKeysAndFiltersAgainstTheCatalog) {
  auto catalog = CatalogIndex::Load({HALFSKY_SOURCE_DIR "/deploy/catalog"});
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  v1::FormKey key;
  key.set_unit_code("NOPE");
  key.set_area_code("999999");
  key.set_year(2019);
  EXPECT_EQ(Fields(CheckFormKey(key, **catalog, "key").status()),
            (std::vector<std::string>{"key.unit_code", "key.area_code", "key.year"}));
  key.set_unit_code("HEALTH");
  key.set_area_code("");
  key.set_year(2024);
  absl::StatusOr<v1::FormKey> ok = CheckFormKey(key, **catalog, "key");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->area_code(), (*catalog)->RootArea().code());  // empty = the root area

  v1::ListFormsRequest list;
  list.set_state(static_cast<v1::FormState>(99));
  list.set_year(1999);
  EXPECT_EQ(Fields(CheckListFormsRequest(list, "NOPE", **catalog)),
            (std::vector<std::string>{"unit_code", "year", "state"}));
  list.set_state(v1::FORM_STATE_UNSPECIFIED);
  list.set_year(0);
  EXPECT_TRUE(CheckListFormsRequest(list, "", **catalog).ok());

  v1::ValidateDataRequest validate;
  validate.set_area_code("999999");
  validate.set_year(2024);
  EXPECT_EQ(Fields(CheckValidateDataRequest(validate, "", **catalog)),
            std::vector<std::string>{"area_code"});
}

}  // namespace
}  // namespace halfsky::submission
