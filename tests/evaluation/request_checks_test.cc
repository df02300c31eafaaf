// The pure request checks of EvaluationService and FollowUpService
// (services/evaluation/service/request_checks.h) against the plan's
// catalog: each bad field is named, OK only when every field is good.
#include "services/evaluation/service/request_checks.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "common/proto/timestamp.h"
#include "common/status/status.h"
#include "gtest/gtest.h"

namespace halfsky::evaluation {
namespace {

namespace v1 = ::halfsky::v1;

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldViolation& v : BadRequestViolations(s)) out.push_back(v.field);
  return out;
}

class EvaluationRequestChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = CatalogIndex::Load({HALFSKY_SOURCE_DIR "/deploy/catalog"});
    ASSERT_TRUE(c.ok()) << c.status();
    catalog_ = *c;
  }
  std::shared_ptr<const CatalogIndex> catalog_;
  const absl::Time now_ = absl::FromCivil(absl::CivilDay(2026, 6, 1), absl::UTCTimeZone());
};

TEST_F(EvaluationRequestChecksTest, WarningsFilterNamesEveryUnknownValue) {
  v1::ListWarningsRequest r;
  EXPECT_TRUE(CheckWarningsFilter(r, *catalog_).ok());
  r.set_domain_id("NOPE");
  r.set_indicator_id("NOPE-1");
  r.set_area_code("999999");
  r.set_responsible_unit_code("NOPE");
  r.set_kind(static_cast<v1::WarningKind>(77));
  r.set_min_severity(static_cast<v1::Severity>(77));
  r.set_state(static_cast<v1::WarningState>(9));
  r.set_page_size(-1);
  const absl::Status s = CheckWarningsFilter(r, *catalog_);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Fields(s), (std::vector<std::string>{"domain_id", "indicator_id", "area_code",
                                                 "responsible_unit_code", "kind", "min_severity",
                                                 "state", "page_size"}));
}

TEST_F(EvaluationRequestChecksTest, ASubtreeFilterNeedsAKnownAreaAndExpandsToItsSubtree) {
  v1::ListWarningsRequest r;
  r.set_include_subareas(true);
  EXPECT_EQ(Fields(CheckWarningsFilter(r, *catalog_)),
            std::vector<std::string>{"include_subareas"});
  r.set_area_code("610303");
  r.add_area_codes("610303100");
  r.add_area_codes("999999");
  EXPECT_EQ(Fields(CheckWarningsFilter(r, *catalog_)), std::vector<std::string>{"area_codes[1]"});
  r.clear_area_codes();
  ASSERT_TRUE(CheckWarningsFilter(r, *catalog_).ok());
  ExpandSubareas(*catalog_, &r);
  EXPECT_FALSE(r.include_subareas());
  EXPECT_EQ(r.area_code(), "610303");
  // Every town and subdistrict of the district (docs/CATALOG.md: 11).
  EXPECT_EQ(r.area_codes_size(), static_cast<int>(catalog_->Children("610303").size()));
  EXPECT_GT(r.area_codes_size(), 0);
}

// review-city findings 5 and 9: a city's subtree is every level (its
// districts and their towns), sorted and unique for MatchesFilter's binary
// search; a filter without include_subareas is sorted and deduped too.
TEST_F(EvaluationRequestChecksTest, ExpandingACityRootGivesEveryLevelSortedAndUnique) {
  auto city = CatalogIndex::Load({HALFSKY_SOURCE_DIR "/deploy/examples/city/catalog"});
  ASSERT_TRUE(city.ok()) << city.status();
  v1::ListWarningsRequest r;
  r.set_area_code("610300");
  r.set_include_subareas(true);
  r.add_area_codes("610303");  // also below: must not appear twice
  ASSERT_TRUE(CheckWarningsFilter(r, **city).ok());
  ExpandSubareas(**city, &r);
  const std::vector<std::string> codes(r.area_codes().begin(), r.area_codes().end());
  EXPECT_TRUE(std::is_sorted(codes.begin(), codes.end()));
  EXPECT_EQ(std::adjacent_find(codes.begin(), codes.end()), codes.end()) << "duplicates";
  EXPECT_TRUE(std::binary_search(codes.begin(), codes.end(), "610303"));     // a district
  EXPECT_TRUE(std::binary_search(codes.begin(), codes.end(), "610303100"));  // its town
  EXPECT_TRUE(std::binary_search(codes.begin(), codes.end(), "610302001"));  // 渭滨区's
  EXPECT_EQ(codes.size(), 6u);  // 2 districts + 4 towns (deploy/examples/city)

  v1::ListWarningsRequest plain;
  plain.add_area_codes("610303100");
  plain.add_area_codes("610302");
  plain.add_area_codes("610303100");
  ExpandSubareas(**city, &plain);
  EXPECT_EQ(std::vector<std::string>(plain.area_codes().begin(), plain.area_codes().end()),
            (std::vector<std::string>{"610302", "610303100"}));
}

TEST_F(EvaluationRequestChecksTest, AcknowledgementNeedsAnIdAndAClearNote) {
  v1::AcknowledgeWarningRequest r;
  EXPECT_EQ(Fields(CheckAcknowledgement(r)), (std::vector<std::string>{"warning_id", "note"}));
  r.set_warning_id("w");
  r.set_note("对策\x1b建议");
  EXPECT_EQ(Fields(CheckAcknowledgement(r)), std::vector<std::string>{"note"});
  r.set_note(std::string(4001, 'x'));
  EXPECT_EQ(Fields(CheckAcknowledgement(r)), std::vector<std::string>{"note"});
  r.set_note("第一条\n第二条\t完");
  EXPECT_TRUE(CheckAcknowledgement(r).ok());
}

TEST_F(EvaluationRequestChecksTest, FollowUpTextsRefuseControlCharactersAndNeedAWarningId) {
  v1::AddFollowUpNoteRequest note;
  note.set_note("进展\r");
  EXPECT_EQ(Fields(CheckNote(note)), (std::vector<std::string>{"warning_id", "note"}));
  note.set_warning_id("w");
  note.set_note("进展\u0085");  // C1 NEL
  EXPECT_EQ(Fields(CheckNote(note)), std::vector<std::string>{"note"});
  note.set_note("进展\n下一步");
  EXPECT_TRUE(CheckNote(note).ok());

  v1::AssignFollowUpRequest assign;
  assign.set_warning_id("w");
  assign.set_unit_code("NOPE");
  assign.set_reason("");
  EXPECT_EQ(Fields(CheckAssign(assign, *catalog_)),
            (std::vector<std::string>{"unit_code", "reason"}));
  assign.set_unit_code("HEALTH");
  assign.set_reason("调整");
  EXPECT_TRUE(CheckAssign(assign, *catalog_).ok());

  v1::CloseFollowUpRequest close;
  close.set_warning_id("w");
  close.set_closing(static_cast<v1::FollowUpClosing>(42));
  EXPECT_EQ(Fields(CheckClose(close)), std::vector<std::string>{"closing"});
  close.set_closing(v1::FOLLOW_UP_CLOSING_RESOLVED_BY_DATA);
  EXPECT_TRUE(CheckClose(close).ok());  // no reason needed when the data resolved it
  close.set_closing(v1::FOLLOW_UP_CLOSING_FALSE_ALARM);
  EXPECT_EQ(Fields(CheckClose(close)), std::vector<std::string>{"reason"});

  v1::ListFollowUpsRequest list;
  list.set_owner_unit_code("NOPE");
  list.set_state(static_cast<v1::FollowUpState>(99));
  EXPECT_EQ(Fields(CheckFollowUpFilter(list, *catalog_)),
            (std::vector<std::string>{"owner_unit_code", "state"}));
}

TEST_F(EvaluationRequestChecksTest, DueDatesMustBeValidTimestampsInTheirWindow) {
  v1::PlanFollowUpRequest plan;
  plan.set_warning_id("w");
  plan.set_measures("措施");
  EXPECT_EQ(Fields(CheckPlan(plan, now_)), std::vector<std::string>{"due"});  // missing
  // Far outside google.protobuf.Timestamp's range: refused, not overflowed.
  plan.mutable_due()->set_seconds(int64_t{1} << 62);
  EXPECT_EQ(Fields(CheckPlan(plan, now_)), std::vector<std::string>{"due"});
  plan.mutable_due()->set_seconds(absl::ToUnixSeconds(now_) + 3600);
  plan.mutable_due()->set_nanos(-1);
  EXPECT_EQ(Fields(CheckPlan(plan, now_)), std::vector<std::string>{"due"});
  plan.mutable_due()->set_nanos(0);
  EXPECT_TRUE(CheckPlan(plan, now_).ok());
  *plan.mutable_due() = ToTimestamp(now_ - absl::Hours(1));  // the past
  EXPECT_EQ(Fields(CheckPlan(plan, now_)), std::vector<std::string>{"due"});
  *plan.mutable_due() = ToTimestamp(now_ + kMaxPlanAhead + absl::Hours(1));  // too far
  EXPECT_EQ(Fields(CheckPlan(plan, now_)), std::vector<std::string>{"due"});

  v1::SilenceFollowUpRequest silence;
  silence.set_warning_id("w");
  silence.set_reason("理由");
  *silence.mutable_until() = ToTimestamp(now_ + kMaxSilenceAhead + absl::Hours(1));
  EXPECT_EQ(Fields(CheckSilence(silence, now_)), std::vector<std::string>{"until"});
  *silence.mutable_until() = ToTimestamp(now_ + absl::Hours(24));
  EXPECT_TRUE(CheckSilence(silence, now_).ok());
}

}  // namespace
}  // namespace halfsky::evaluation
