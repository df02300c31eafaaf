// common/labels: the words of the contract's enum values, read from the
// options in protos/halfsky/v1/*.proto.

#include "common/labels/labels.h"

#include <cctype>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/evaluation.pb.h"
#include "halfsky/v1/submission.pb.h"

namespace halfsky::labels {
namespace {

namespace v1 = ::halfsky::v1;

TEST(LabelsTest, ReadsTheOptionsOfEachValue) {
  EXPECT_EQ(LabelZh(v1::PROGRESS_STATUS_ON_TRACK), "进展良好");
  EXPECT_EQ(LabelEn(v1::PROGRESS_STATUS_NEEDS_ACCELERATION), "needs acceleration");
  EXPECT_EQ(Token(v1::PROGRESS_STATUS_DATA_INCOMPLETE), "data_incomplete");
  EXPECT_EQ(LabelZh(v1::SEVERITY_RED), "红色预警");
  EXPECT_EQ(ShortLabelZh(v1::SEVERITY_ORANGE), "橙");
  EXPECT_EQ(Token(v1::SEVERITY_YELLOW), "yellow");
  EXPECT_EQ(LabelZh(v1::WARNING_KIND_RULE_BROKEN), "年度要求未满足");
  EXPECT_EQ(Token(v1::WARNING_KIND_LATE_DATA), "late_data");
  EXPECT_EQ(LabelZh(v1::WARNING_STATE_RESOLVED), "已解除");
  EXPECT_EQ(LabelZh(v1::REPORTING_STATE_NOT_DUE), "未到期");
  EXPECT_EQ(LabelZh(v1::WARNING_EVENT_TYPE_ACKNOWLEDGED), "已确认");
  EXPECT_EQ(Token(v1::RESIDENCE_RURAL), "rural");
}

TEST(LabelsTest, UnspecifiedUnknownAndAbsentOptionsAreEmpty) {
  EXPECT_EQ(LabelZh(v1::PROGRESS_STATUS_UNSPECIFIED), "");
  EXPECT_EQ(Token(v1::WARNING_KIND_UNSPECIFIED), "");
  EXPECT_EQ(LabelZh(static_cast<v1::Severity>(99)), "");
  EXPECT_EQ(ShortLabelZh(v1::PROGRESS_STATUS_ON_TRACK), "");  // not set on statuses
  EXPECT_EQ(LabelZh(nullptr, 1), "");
}

// Every value but *_UNSPECIFIED of the enums halfskyctl prints and parses
// has a Chinese label and a token, tokens are unique, and Parse finds each
// value by its token (any case) and by its label.
template <typename Enum>
void ExpectComplete() {
  const google::protobuf::EnumDescriptor* type = google::protobuf::GetEnumDescriptor<Enum>();
  std::set<std::string> tokens;
  for (int i = 0; i < type->value_count(); ++i) {
    const int n = type->value(i)->number();
    if (n == 0) {
      continue;
    }
    SCOPED_TRACE(type->value(i)->name());
    EXPECT_FALSE(LabelZh(type, n).empty());
    ASSERT_FALSE(Token(type, n).empty());
    EXPECT_TRUE(tokens.insert(Token(type, n)).second) << "duplicate token " << Token(type, n);
    EXPECT_EQ(Parse<Enum>(Token(type, n)), static_cast<Enum>(n));
    std::string upper = Token(type, n);
    for (char& c : upper) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    EXPECT_EQ(Parse<Enum>(upper), static_cast<Enum>(n));
    EXPECT_EQ(Parse<Enum>(LabelZh(type, n)), static_cast<Enum>(n));
  }
  EXPECT_EQ(Parse<Enum>(""), std::nullopt);
  EXPECT_EQ(Parse<Enum>("no-such-token"), std::nullopt);
}

TEST(LabelsTest, LabelledEnumsAreComplete) {
  ExpectComplete<v1::WarningKind>();
  ExpectComplete<v1::Severity>();
  ExpectComplete<v1::ProgressStatus>();
  ExpectComplete<v1::WarningState>();
  ExpectComplete<v1::Sex>();
  ExpectComplete<v1::Residence>();
  ExpectComplete<v1::FollowUpState>();
  ExpectComplete<v1::FollowUpClosing>();
  ExpectComplete<v1::FollowUpStepKind>();
}

// The catalog's enums the indicator page and `catalog doc` print: every
// value but *_UNSPECIFIED has both words.
template <typename Enum>
void ExpectWords() {
  const google::protobuf::EnumDescriptor* type = google::protobuf::GetEnumDescriptor<Enum>();
  for (int i = 0; i < type->value_count(); ++i) {
    const int n = type->value(i)->number();
    if (n == 0) {
      continue;
    }
    SCOPED_TRACE(type->value(i)->name());
    EXPECT_FALSE(LabelZh(type, n).empty());
    EXPECT_FALSE(LabelEn(type, n).empty());
  }
}

TEST(LabelsTest, TheCatalogsEnumsHaveWords) {
  ExpectWords<v1::IndicatorKind>();
  ExpectWords<v1::Direction>();
  ExpectWords<v1::Disaggregation>();
  ExpectWords<v1::Comparator>();
  ExpectWords<v1::DataSource>();
  EXPECT_EQ(LabelZh(v1::COMPARATOR_AT_MOST), "≤ 以下");
  EXPECT_EQ(LabelEn(v1::DIRECTION_LOWER_IS_BETTER), "lower is better");
}

TEST(LabelsTest, ParseAcceptsShortLabels) {
  EXPECT_EQ(Parse<v1::Severity>("红"), v1::SEVERITY_RED);
  EXPECT_EQ(Parse<v1::Severity>("黄色预警"), v1::SEVERITY_YELLOW);
  EXPECT_EQ(Parse<v1::Severity>("Orange"), v1::SEVERITY_ORANGE);
  // Labels match exactly (no case folding, no trimming).
  EXPECT_EQ(Parse<v1::Severity>(" 红"), std::nullopt);
  // halfskyctl followup close --decision takes a token or either label.
  EXPECT_EQ(Parse<v1::FollowUpClosing>("false-alarm"), v1::FOLLOW_UP_CLOSING_FALSE_ALARM);
  EXPECT_EQ(Parse<v1::FollowUpClosing>("数据好转"), v1::FOLLOW_UP_CLOSING_RESOLVED_BY_DATA);
  EXPECT_EQ(Parse<v1::FollowUpClosing>("说明理由"), v1::FOLLOW_UP_CLOSING_CLOSED_WITH_REASON);
}

}  // namespace
}  // namespace halfsky::labels
