// The review workflow on a real halfsky-submission process (its
// SubmissionService and ReviewService over one SQLite file): rule analysis,
// 报送 → 退回 → 更正 → 再报送 → 审核 → 写入被拒 → 解锁 → 更正, the WARNING
// explanation, parent after children, and the lock surviving a restart.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/token_store.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/review.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky {
namespace {

namespace v1 = ::halfsky::v1;
namespace ht = ::halfsky::testing;

constexpr char kHealth[] = "review-health";
constexpr char kEdu[] = "review-edu";
constexpr char kStats[] = "review-stats";
constexpr char kDistrict[] = "610303";
constexpr char kTown[] = "610303100";

std::string CatalogPath() {
  return std::string(HALFSKY_SOURCE_DIR) + "/tests/review/testdata/catalog.textproto";
}

struct Details {
  std::string reason;
  std::vector<std::string> fields;
  std::vector<std::string> descriptions;
};

Details DetailsOf(const grpc::Status& s) {
  Details d;
  google::rpc::Status st;
  if (!st.ParseFromString(s.error_details())) return d;
  for (const auto& any : st.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad;
    if (absl::EndsWith(any.type_url(), "ErrorInfo") && info.ParseFromString(any.value())) {
      d.reason = info.reason();
    } else if (absl::EndsWith(any.type_url(), "BadRequest") && bad.ParseFromString(any.value())) {
      for (const auto& v : bad.field_violations()) {
        d.fields.push_back(v.field());
        d.descriptions.push_back(v.description());
      }
    }
  }
  return d;
}

class ReviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ht::MakeTempDir("review");
    tokens_ = dir_ + "/tokens";
    ASSERT_TRUE(
        ht::WriteTextFile(
            tokens_, absl::StrCat(auth::HashToken(kHealth), " health-system unit:HEALTH_BUREAU\n",
                                  auth::HashToken(kEdu), " edu-system unit:EDU_BUREAU\n",
                                  auth::HashToken(kStats), " stats-bureau statistics\n"))
            .ok());
    Start();
  }
  void TearDown() override { EXPECT_TRUE(submission_.Stop().ok()); }

  void Start() {
    const bool restart = submission_.running();
    if (restart) {
      ASSERT_TRUE(submission_.Stop().ok());
    }
    absl::Status st = restart
                          ? submission_.Restart()
                          : submission_.Start(dir_, "submission", ht::ServiceBinary("submission"),
                                              CatalogPath(), tokens_, {"--db=" + dir_ + "/sub.db"});
    ASSERT_TRUE(st.ok()) << st;
    auto channel = grpc::CreateChannel(submission_.address(), grpc::InsecureChannelCredentials());
    data_ = v1::SubmissionService::NewStub(channel);
    review_ = v1::ReviewService::NewStub(channel);
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }

  static v1::DataValue Count(const std::string& id, int year, double value,
                             v1::Sex sex = v1::SEX_TOTAL, v1::Residence res = v1::RESIDENCE_ALL,
                             const std::string& area = kDistrict) {
    v1::DataValue v;
    v.mutable_key()->set_indicator_id(id);
    v.mutable_key()->set_area_code(area);
    v.mutable_key()->set_year(year);
    v.mutable_key()->set_sex(sex);
    v.mutable_key()->set_residence(res);
    v.set_value(value);
    v.set_source("妇幼卫生年报");
    return v;
  }

  grpc::Status Write(std::vector<v1::DataValue> values, const std::string& token = kHealth) {
    v1::SubmitBatchRequest req;
    req.set_request_id(absl::StrCat("req-", ++request_));
    for (auto& v : values) *req.add_data_values() = std::move(v);
    v1::SubmitBatchResponse resp;
    return data_->SubmitBatch(Ctx(token).get(), req, &resp);
  }

  // HEALTH-07 of `year`: total, female, male.
  grpc::Status WriteSex(int year, double total, double female, double male,
                        const std::string& area = kDistrict) {
    return Write({Count("HEALTH-07", year, total, v1::SEX_TOTAL, v1::RESIDENCE_ALL, area),
                  Count("HEALTH-07", year, female, v1::SEX_FEMALE, v1::RESIDENCE_ALL, area),
                  Count("HEALTH-07", year, male, v1::SEX_MALE, v1::RESIDENCE_ALL, area)});
  }

  static v1::FormKey Key(int year, const std::string& area = "",
                         const std::string& unit = "HEALTH_BUREAU") {
    v1::FormKey k;
    k.set_unit_code(unit);
    k.set_area_code(area);
    k.set_year(year);
    return k;
  }

  grpc::Status Validate(const std::string& token, const std::string& unit, int year,
                        v1::ValidateDataResponse* out, const std::string& area = "") {
    v1::ValidateDataRequest req;
    req.set_unit_code(unit);
    req.set_area_code(area);
    req.set_year(year);
    return review_->ValidateData(Ctx(token).get(), req, out);
  }

  grpc::Status Submit(const v1::FormKey& key, const std::string& explanation = "",
                      const std::string& token = kHealth, v1::Form* out = nullptr) {
    v1::SubmitFormRequest req;
    *req.mutable_key() = key;
    req.set_explanation(explanation);
    v1::Form form;
    return review_->SubmitForm(Ctx(token).get(), req, out ? out : &form);
  }
  grpc::Status Return(const v1::FormKey& key, const std::string& reason,
                      const std::string& token = kStats) {
    v1::ReturnFormRequest req;
    *req.mutable_key() = key;
    req.set_reason(reason);
    v1::Form form;
    return review_->ReturnForm(Ctx(token).get(), req, &form);
  }
  grpc::Status Approve(const v1::FormKey& key, const std::string& token = kStats) {
    v1::ApproveFormRequest req;
    *req.mutable_key() = key;
    v1::Form form;
    return review_->ApproveForm(Ctx(token).get(), req, &form);
  }
  grpc::Status Unlock(const v1::FormKey& key, const std::string& reason,
                      const std::string& token = kStats) {
    v1::UnlockFormRequest req;
    *req.mutable_key() = key;
    req.set_reason(reason);
    v1::Form form;
    return review_->UnlockForm(Ctx(token).get(), req, &form);
  }
  // The form's state as ListForms tells the unit (DRAFT when not listed).
  v1::Form FormOf(const v1::FormKey& key, const std::string& token = kHealth) {
    v1::ListFormsRequest req;
    req.set_year(key.year());
    v1::ListFormsResponse resp;
    grpc::Status s = review_->ListForms(Ctx(token).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    const std::string area = key.area_code().empty() ? kDistrict : key.area_code();
    for (const auto& f : resp.forms()) {
      if (f.key().unit_code() == key.unit_code() && f.key().area_code() == area) return f;
    }
    v1::Form draft;
    draft.set_state(v1::FORM_STATE_DRAFT);
    return draft;
  }
  double CurrentFemale(int year) {
    v1::GetHistoryRequest req;
    *req.mutable_key() = Count("HEALTH-07", year, 0, v1::SEX_FEMALE).key();
    v1::GetHistoryResponse resp;
    grpc::Status s = data_->GetHistory(Ctx(kStats).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.revisions().empty() ? -1 : resp.revisions().rbegin()->data_value().value();
  }

  std::string dir_, tokens_;
  int request_ = 0;
  ht::ServiceProcess submission_;
  std::unique_ptr<v1::SubmissionService::Stub> data_;
  std::unique_ptr<v1::ReviewService::Stub> review_;
};

std::vector<std::string> RuleIds(const v1::ValidateDataResponse& r) {
  std::vector<std::string> out;
  for (const auto& v : r.violations()) out.push_back(v.rule_id());
  return out;
}

TEST_F(ReviewTest, ValidateDataListsEveryViolationOfEachFamily) {
  // 2021: consistent; 2022: female 40 + male 70 vs total 100 and urban 40 +
  // rural 70 vs all 100; 2023: a part above the total; 2024: the catalog's
  // ERROR rule.
  ASSERT_TRUE(WriteSex(2021, 100, 40, 60).ok());
  ASSERT_TRUE(Write({Count("HEALTH-07", 2021, 70, v1::SEX_TOTAL, v1::RESIDENCE_URBAN),
                     Count("HEALTH-07", 2021, 30, v1::SEX_TOTAL, v1::RESIDENCE_RURAL),
                     Count("HEALTH-03", 2021, 5)})
                  .ok());
  ASSERT_TRUE(WriteSex(2022, 100, 40, 70).ok());
  ASSERT_TRUE(Write({Count("HEALTH-07", 2022, 40, v1::SEX_TOTAL, v1::RESIDENCE_URBAN),
                     Count("HEALTH-07", 2022, 70, v1::SEX_TOTAL, v1::RESIDENCE_RURAL)})
                  .ok());
  ASSERT_TRUE(
      Write({Count("HEALTH-07", 2023, 100), Count("HEALTH-07", 2023, 120, v1::SEX_FEMALE)}).ok());
  ASSERT_TRUE(Write({Count("HEALTH-07", 2024, 100), Count("HEALTH-03", 2024, 200)}).ok());

  v1::ValidateDataResponse r;
  ASSERT_TRUE(Validate(kHealth, "HEALTH_BUREAU", 2021, &r).ok());
  EXPECT_EQ(r.violations_size(), 0);
  EXPECT_GT(r.checked_count(), 0);

  ASSERT_TRUE(Validate(kHealth, "HEALTH_BUREAU", 2022, &r).ok());
  EXPECT_EQ(RuleIds(r), (std::vector<std::string>{"builtin.sex_sum.HEALTH-07",
                                                  "builtin.residence_sum.HEALTH-07"}));
  EXPECT_EQ(r.error_count(), 2);
  EXPECT_EQ(r.violations(0).left_value(), 110);
  EXPECT_EQ(r.violations(0).right_value(), 100);
  EXPECT_TRUE(
      absl::StrContains(r.violations(0).message_zh(), "女 40 + 男 70 = 110，不等于合计 100"))
      << r.violations(0).message_zh();

  r.Clear();
  ASSERT_TRUE(Validate(kHealth, "", 2023, &r).ok());  // a unit's own by default
  EXPECT_EQ(RuleIds(r), std::vector<std::string>{"builtin.sex_part.HEALTH-07.female"});
  r.Clear();
  ASSERT_TRUE(Validate(kStats, "", 2024, &r).ok());  // the whole year
  EXPECT_EQ(RuleIds(r), std::vector<std::string>{"HEALTH-03.within_screened"});

  // Another unit's figures: PERMISSION_DENIED; a bad year: INVALID_ARGUMENT.
  EXPECT_EQ(Validate(kEdu, "HEALTH_BUREAU", 2022, &r).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Validate(kStats, "HEALTH_BUREAU", 1999, &r).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReviewTest, ErrorRuleBlocksSubmissionWithEveryViolation) {
  ASSERT_TRUE(WriteSex(2022, 100, 40, 70).ok());
  ASSERT_TRUE(Write({Count("HEALTH-07", 2022, 40, v1::SEX_TOTAL, v1::RESIDENCE_URBAN),
                     Count("HEALTH-07", 2022, 70, v1::SEX_TOTAL, v1::RESIDENCE_RURAL)})
                  .ok());
  grpc::Status s = Submit(Key(2022), "说明也不行");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  Details d = DetailsOf(s);
  EXPECT_EQ(d.reason, "VALIDATION_FAILED");
  EXPECT_EQ(d.fields, (std::vector<std::string>{"HEALTH-07/610303/2022: female+male == total",
                                                "HEALTH-07/610303/2022: urban+rural == total"}));
  EXPECT_EQ(FormOf(Key(2022)).state(), v1::FORM_STATE_DRAFT);
}

TEST_F(ReviewTest, WarningNeedsAnExplanationKeptWithTheForm) {
  ASSERT_TRUE(WriteSex(2024, 6000, 3000, 3000).ok());  // above the plausible 5000
  grpc::Status s = Submit(Key(2024));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(DetailsOf(s).reason, "EXPLANATION_REQUIRED");
  EXPECT_EQ(DetailsOf(s).fields.size(), 1u);
  EXPECT_EQ(FormOf(Key(2024)).state(), v1::FORM_STATE_DRAFT);
  v1::Form form;
  s = Submit(Key(2024), "今年开展全区免费筛查，人数增加", kHealth, &form);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(form.state(), v1::FORM_STATE_SUBMITTED);
  EXPECT_EQ(FormOf(Key(2024)).explanation(), "今年开展全区免费筛查，人数增加");
}

TEST_F(ReviewTest, SubmitReturnResubmitApproveLockUnlockCorrect) {
  const v1::FormKey key = Key(2024);
  ASSERT_TRUE(WriteSex(2024, 100, 40, 60).ok());
  EXPECT_EQ(FormOf(key).state(), v1::FORM_STATE_DRAFT);
  // Not allowed from DRAFT; only statistics returns; only the unit submits.
  grpc::Status s = Approve(key);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "填报中")) << s.error_message();
  EXPECT_EQ(DetailsOf(s).reason, "FORM_STATE");
  EXPECT_EQ(Submit(key, "", kEdu).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  ASSERT_TRUE(Submit(key).ok());
  EXPECT_EQ(FormOf(key).state(), v1::FORM_STATE_SUBMITTED);
  s = Submit(key);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "已报送")) << s.error_message();
  EXPECT_EQ(Return(key, "女性人数与妇幼年报不符", kHealth).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Return(key, " ").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Return(key, "女性人数与妇幼年报不符").ok());
  // The unit sees its returned form and the reason.
  EXPECT_EQ(FormOf(key).state(), v1::FORM_STATE_RETURNED);
  EXPECT_EQ(FormOf(key).reason(), "女性人数与妇幼年报不符");

  ASSERT_TRUE(WriteSex(2024, 100, 45, 55).ok());  // the correction
  ASSERT_TRUE(Submit(key).ok());
  ASSERT_TRUE(Approve(key).ok());
  EXPECT_EQ(FormOf(key).state(), v1::FORM_STATE_APPROVED);

  // Approved: its values are locked (writes and withdrawals), others not.
  s = WriteSex(2024, 100, 50, 50);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_EQ(DetailsOf(s).reason, "FORM_APPROVED");
  EXPECT_EQ(CurrentFemale(2024), 45);
  v1::WithdrawValuesRequest wd;
  wd.set_request_id("withdraw-1");
  wd.set_reason("错填");
  *wd.add_keys() = Count("HEALTH-07", 2024, 0, v1::SEX_FEMALE).key();
  v1::WithdrawValuesResponse wr;
  EXPECT_EQ(data_->WithdrawValues(Ctx(kHealth).get(), wd, &wr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(WriteSex(2023, 100, 50, 50).ok());
  EXPECT_TRUE(WriteSex(2024, 10, 5, 5, kTown).ok());

  // The lock survives a restart.
  Start();
  EXPECT_EQ(WriteSex(2024, 100, 50, 50).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  EXPECT_EQ(Unlock(key, "更正", kHealth).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Unlock(key, "").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Unlock(key, "卫健局申请更正女性人数").ok());
  EXPECT_EQ(FormOf(key).state(), v1::FORM_STATE_DRAFT);
  ASSERT_TRUE(WriteSex(2024, 100, 50, 50).ok());
  EXPECT_EQ(CurrentFemale(2024), 50);
  ASSERT_TRUE(Submit(key).ok());

  v1::GetFormHistoryRequest hr;
  *hr.mutable_key() = key;
  v1::GetFormHistoryResponse history;
  ASSERT_TRUE(review_->GetFormHistory(Ctx(kHealth).get(), hr, &history).ok());
  ASSERT_EQ(history.events_size(), 6);
  const std::vector<v1::FormAction> actions = {v1::FORM_ACTION_SUBMIT, v1::FORM_ACTION_RETURN,
                                               v1::FORM_ACTION_SUBMIT, v1::FORM_ACTION_APPROVE,
                                               v1::FORM_ACTION_UNLOCK, v1::FORM_ACTION_SUBMIT};
  const std::vector<std::string> actors = {"health-system", "stats-bureau", "health-system",
                                           "stats-bureau",  "stats-bureau", "health-system"};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(history.events(i).action(), actions[i]) << i;
    EXPECT_EQ(history.events(i).actor(), actors[i]) << i;
    EXPECT_GT(history.events(i).at().seconds(), 0) << i;
  }
  EXPECT_EQ(history.events(1).reason(), "女性人数与妇幼年报不符");
  EXPECT_EQ(history.events(3).from_state(), v1::FORM_STATE_SUBMITTED);
  EXPECT_EQ(history.events(3).to_state(), v1::FORM_STATE_APPROVED);
  EXPECT_EQ(history.events(4).reason(), "卫健局申请更正女性人数");
  EXPECT_EQ(history.events(4).to_state(), v1::FORM_STATE_DRAFT);
  // Another unit cannot read it.
  EXPECT_EQ(review_->GetFormHistory(Ctx(kEdu).get(), hr, &history).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ReviewTest, TownFormApprovedBeforeTheDistricts) {
  ASSERT_TRUE(WriteSex(2024, 10, 4, 6, kTown).ok());
  ASSERT_TRUE(WriteSex(2024, 100, 40, 60).ok());
  ASSERT_TRUE(Submit(Key(2024, kTown)).ok());
  ASSERT_TRUE(Submit(Key(2024)).ok());
  grpc::Status s = Approve(Key(2024));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(DetailsOf(s).reason, "CHILDREN_NOT_APPROVED");
  EXPECT_TRUE(absl::StrContains(s.error_message(), kTown)) << s.error_message();
  ASSERT_TRUE(Approve(Key(2024, kTown)).ok());
  ASSERT_TRUE(Approve(Key(2024)).ok());
  // The town cannot be unlocked under an approved district.
  s = Unlock(Key(2024, kTown), "更正");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(DetailsOf(s).reason, "PARENT_APPROVED");
  ASSERT_TRUE(Unlock(Key(2024), "更正").ok());
  ASSERT_TRUE(Unlock(Key(2024, kTown), "更正").ok());
}

}  // namespace
}  // namespace halfsky

namespace halfsky {
namespace {

// Bad review requests (issue #13 item 7, docs/BAD_INPUT.md): each answers
// INVALID_ARGUMENT naming its field and changes nothing (the form keeps its
// state, no event is recorded).
TEST_F(ReviewTest, BadReviewRequestsAreRefusedNamingTheFieldAndChangeNothing) {
  const v1::FormKey key = Key(2024);
  ASSERT_TRUE(WriteSex(2024, 100, 40, 60).ok());
  ASSERT_TRUE(Submit(key).ok());
  ASSERT_EQ(FormOf(key).state(), v1::FORM_STATE_SUBMITTED);

  // A carriage return (or any control character but tab / newline) in a reason.
  grpc::Status s = Return(key, "女性人数\r与年报不符");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(DetailsOf(s).fields, std::vector<std::string>{"reason"});
  // An explanation over 2 000 bytes.
  s = Submit(Key(2023), std::string(2001, 'x'));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(DetailsOf(s).fields, std::vector<std::string>{"explanation"});
  // An unknown unit, an unknown area and a year outside the plan, together.
  s = Approve(Key(2019, "999999", "NO_SUCH_UNIT"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(DetailsOf(s).fields,
            (std::vector<std::string>{"key.unit_code", "key.area_code", "key.year"}));
  EXPECT_EQ(FormOf(key).state(), v1::FORM_STATE_SUBMITTED);  // still, after all of the above

  // ListForms with a state the proto does not define (was: OK, an empty list).
  v1::ListFormsRequest req;
  req.set_year(2024);
  req.set_state(static_cast<v1::FormState>(99));
  v1::ListFormsResponse resp;
  s = review_->ListForms(Ctx(kStats).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(DetailsOf(s).fields, std::vector<std::string>{"state"});
  req.set_state(v1::FORM_STATE_UNSPECIFIED);
  req.set_year(1999);
  s = review_->ListForms(Ctx(kStats).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(DetailsOf(s).fields, std::vector<std::string>{"year"});

  // ValidateData of an unknown area.
  v1::ValidateDataResponse r;
  s = Validate(kStats, "", 2024, &r, "999999");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(DetailsOf(s).fields, std::vector<std::string>{"area_code"});
}

}  // namespace
}  // namespace halfsky
