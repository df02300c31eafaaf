// The engine's published WarningSet: the pre-sorted per-state index that
// List slices, pagination on both the slice path (state filter only) and the
// scan path (other filters) against a brute-force reference, immutability
// of a published set, and the observer. Real SQLite file, fake clock.
#include <algorithm>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/evaluation/service/warning_engine.h"
#include "services/evaluation/service/warning_store.h"
#include "tests/support/process.h"

namespace halfsky::evaluation {
namespace {

using ::halfsky::v1::ListWarningsRequest;
using ::halfsky::v1::Warning;
using ::testing::ElementsAreArray;

Warning Candidate(const std::string& indicator, halfsky::v1::Severity severity, int target_year,
                  halfsky::v1::WarningKind kind = halfsky::v1::WARNING_KIND_PROGRESS,
                  const std::string& unit = "HEALTH_BUREAU") {
  Warning w;
  w.set_indicator_id(indicator);
  w.set_area_code("610303");
  w.set_kind(kind);
  w.set_target_year(target_year);
  w.set_severity(severity);
  w.set_status(halfsky::v1::PROGRESS_STATUS_AT_RISK);
  w.set_domain_id(indicator.substr(0, indicator.find('-')));
  w.add_responsible_unit_codes(unit);
  w.set_explanation_zh("预计达标困难");
  return w;
}

bool All(const Warning&) { return true; }

class WarningSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = WarningStore::Open(halfsky::testing::MakeTempDir("evaluation-set") + "/e.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto engine = WarningEngine::Create(store_.get(), &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    // 11 firing warnings over three severities, two domains, two kinds,
    // two units; inserted in an order unrelated to the List order.
    const halfsky::v1::Severity sev[] = {halfsky::v1::SEVERITY_YELLOW, halfsky::v1::SEVERITY_RED,
                                         halfsky::v1::SEVERITY_ORANGE};
    const char* ind[] = {"HEALTH-02", "EDU-01", "HEALTH-01", "EDU-03"};
    for (int i = 0; i < 11; ++i) {
      candidates_.push_back(Candidate(
          ind[(i * 3) % 4], sev[i % 3], 2020 + i,
          i % 4 == 0 ? halfsky::v1::WARNING_KIND_FLUCTUATION : halfsky::v1::WARNING_KIND_PROGRESS,
          i % 2 == 0 ? "HEALTH_BUREAU" : "EDU_BUREAU"));
    }
    ASSERT_TRUE(engine_->Reconcile(All, candidates_).ok());
  }

  // Every id matching `filter`, in the List order, computed independently.
  std::vector<std::string> Reference(const ListWarningsRequest& filter) {
    std::vector<Warning> all;
    for (halfsky::v1::WarningState s :
         {halfsky::v1::WARNING_STATE_FIRING, halfsky::v1::WARNING_STATE_RESOLVED}) {
      auto page = engine_->List([&] {
        ListWarningsRequest r;
        r.set_state(s);
        r.set_page_size(1000);
        return r;
      }());
      EXPECT_TRUE(page.ok());
      for (const Warning& w : page->warnings()) {
        if (MatchesFilter(w, filter, /*ignore_state=*/false)) {
          all.push_back(w);
        }
      }
    }
    std::sort(all.begin(), all.end(), [](const Warning& a, const Warning& b) {
      return std::make_tuple(-static_cast<int>(a.severity()), a.indicator_id(), a.id()) <
             std::make_tuple(-static_cast<int>(b.severity()), b.indicator_id(), b.id());
    });
    std::vector<std::string> ids;
    for (const Warning& w : all) {
      ids.push_back(w.id());
    }
    return ids;
  }

  // Pages through `filter` with `page_size`; checks total_count on every page.
  std::vector<std::string> PageThrough(ListWarningsRequest filter, int page_size) {
    filter.set_page_size(page_size);
    std::vector<std::string> ids;
    const size_t expected_total = Reference(filter).size();
    for (int guard = 0; guard < 100; ++guard) {
      auto page = engine_->List(filter);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) {
        break;
      }
      EXPECT_EQ(page->total_count(), static_cast<int>(expected_total));
      EXPECT_LE(page->warnings_size(), page_size);
      for (const Warning& w : page->warnings()) {
        ids.push_back(w.id());
      }
      if (page->next_page_token().empty()) {
        break;
      }
      filter.set_page_token(page->next_page_token());
    }
    return ids;
  }

  FakeClock clock_{absl::FromUnixSeconds(1767225600)};
  std::unique_ptr<WarningStore> store_;
  std::unique_ptr<WarningEngine> engine_;
  std::vector<Warning> candidates_;
};

TEST_F(WarningSetTest, StateOnlyRequestsPageThroughTheSortedIndex) {
  ListWarningsRequest firing;
  const std::vector<std::string> expected = Reference(firing);
  ASSERT_EQ(expected.size(), 11u);
  for (int page_size : {1, 2, 3, 4, 10, 11, 12}) {
    EXPECT_THAT(PageThrough(firing, page_size), ElementsAreArray(expected))
        << "page_size " << page_size;
  }
  // The index really is in List order: red first.
  auto first = engine_->List(firing);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->warnings(0).severity(), halfsky::v1::SEVERITY_RED);
  EXPECT_EQ(first->warnings(10).severity(), halfsky::v1::SEVERITY_YELLOW);
}

TEST_F(WarningSetTest, FilteredRequestsPageLikeTheReference) {
  std::vector<ListWarningsRequest> filters(5);
  filters[0].set_domain_id("HEALTH");
  filters[1].set_min_severity(halfsky::v1::SEVERITY_ORANGE);
  filters[2].set_kind(halfsky::v1::WARNING_KIND_FLUCTUATION);
  filters[3].set_responsible_unit_code("EDU_BUREAU");
  filters[4].set_indicator_id("EDU-01");
  filters[4].set_min_severity(halfsky::v1::SEVERITY_YELLOW);
  for (const ListWarningsRequest& f : filters) {
    const std::vector<std::string> expected = Reference(f);
    ASSERT_FALSE(expected.empty()) << f.ShortDebugString();
    ASSERT_LT(expected.size(), 11u) << f.ShortDebugString();
    for (int page_size : {1, 2, 5, 100}) {
      EXPECT_THAT(PageThrough(f, page_size), ElementsAreArray(expected))
          << f.ShortDebugString() << " page_size " << page_size;
    }
  }
}

TEST_F(WarningSetTest, ResolvedWarningsAreInTheirOwnIndex) {
  // Resolve every HEALTH warning.
  std::vector<Warning> edu;
  for (const Warning& c : candidates_) {
    if (c.domain_id() == "EDU") {
      edu.push_back(c);
    }
  }
  auto result = engine_->Reconcile(All, edu);
  ASSERT_TRUE(result.ok());
  ASSERT_GT(result->resolved, 0);
  ListWarningsRequest resolved;
  resolved.set_state(halfsky::v1::WARNING_STATE_RESOLVED);
  const std::vector<std::string> expected = Reference(resolved);
  EXPECT_EQ(static_cast<int>(expected.size()), result->resolved);
  EXPECT_THAT(PageThrough(resolved, 2), ElementsAreArray(expected));
  EXPECT_EQ(engine_->List({})->total_count(), static_cast<int>(edu.size()));
  for (const std::string& id : expected) {
    EXPECT_EQ(id.rfind("HEALTH-", 0), 0u) << id;
  }
}

TEST_F(WarningSetTest, APageTokenSurvivesAChangeBetweenPages) {
  ListWarningsRequest request;
  request.set_page_size(4);
  auto page1 = engine_->List(request);
  ASSERT_TRUE(page1.ok());
  ASSERT_FALSE(page1->next_page_token().empty());
  // Resolve the first warning of page 1 between the two pages: page 2 still
  // starts right after the last warning of page 1.
  std::vector<Warning> keep;
  for (const Warning& c : candidates_) {
    if (WarningId(c.indicator_id(), c.area_code(), c.kind(), c.target_year()) !=
        page1->warnings(0).id()) {
      keep.push_back(c);
    }
  }
  ASSERT_EQ(engine_->Reconcile(All, keep)->resolved, 1);
  const std::vector<std::string> now = Reference(ListWarningsRequest());
  auto last = std::find(now.begin(), now.end(), page1->warnings(3).id());
  ASSERT_NE(last, now.end());
  request.set_page_token(page1->next_page_token());
  auto page2 = engine_->List(request);
  ASSERT_TRUE(page2.ok());
  ASSERT_GT(page2->warnings_size(), 0);
  EXPECT_EQ(page2->warnings(0).id(), *(last + 1));
  EXPECT_EQ(page2->total_count(), 10);
}

TEST_F(WarningSetTest, APublishedSetNeverChangesAndEveryChangePublishesANewOne) {
  std::shared_ptr<const WarningSet> before = engine_->Current();
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(before->version(), engine_->version());
  EXPECT_EQ(before->in_state(halfsky::v1::WARNING_STATE_FIRING).size(), 11u);

  const std::string id = before->in_state(halfsky::v1::WARNING_STATE_FIRING)[0]->id();
  ASSERT_TRUE(engine_->Acknowledge(id, "alice", "已督办卫健局").ok());
  std::shared_ptr<const WarningSet> after = engine_->Current();
  EXPECT_GT(after->version(), before->version());
  EXPECT_FALSE(before->Find(id)->has_acknowledgement()) << "the old set is immutable";
  EXPECT_EQ(after->Find(id)->acknowledgement().note(), "已督办卫健局");
  EXPECT_EQ(engine_->Get(id)->acknowledgement().by(), "alice");
  // Unchanged warnings are shared, not copied.
  const std::string other = before->in_state(halfsky::v1::WARNING_STATE_FIRING)[1]->id();
  EXPECT_EQ(before->Find(other).get(), after->Find(other).get());

  // A re-evaluation that changes nothing publishes nothing.
  ASSERT_TRUE(engine_->Reconcile(All, candidates_).ok());
  EXPECT_EQ(engine_->Current(), after);
}

TEST_F(WarningSetTest, TheObserverSeesTheCurrentSetThenEveryPublishedOne) {
  std::vector<int64_t> versions;
  std::vector<size_t> firing;
  engine_->SetObserver([&](const WarningSet& set) {
    versions.push_back(set.version());
    firing.push_back(set.in_state(halfsky::v1::WARNING_STATE_FIRING).size());
  });
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0], engine_->version());
  ASSERT_TRUE(engine_->Reconcile(All, {candidates_[0]}).ok());
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_GT(versions[1], versions[0]);
  EXPECT_EQ(firing[1], 1u);
  engine_->SetObserver(nullptr);
  ASSERT_TRUE(engine_->Reconcile(All, {}).ok());
  EXPECT_EQ(versions.size(), 2u);
}

}  // namespace
}  // namespace halfsky::evaluation
