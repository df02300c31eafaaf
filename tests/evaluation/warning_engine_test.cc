// The warning lifecycle and its store: real SQLite files, a fake clock.
#include "services/evaluation/service/warning_engine.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "services/evaluation/service/warning_store.h"
#include "tests/support/process.h"

namespace halfsky::evaluation {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::halfsky::v1::Warning;
using ::halfsky::v1::WarningEvent;
using ::testing::ElementsAre;
using ::testing::SizeIs;

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);  // 2026-01-01 UTC

Warning Candidate(const std::string& indicator, halfsky::v1::Severity severity,
                  const std::string& text = "x", int target_year = 2030,
                  halfsky::v1::WarningKind kind = halfsky::v1::WARNING_KIND_PROGRESS) {
  Warning w;
  w.set_indicator_id(indicator);
  w.set_area_code("610303");
  w.set_kind(kind);
  w.set_target_year(target_year);
  w.set_severity(severity);
  w.set_status(halfsky::v1::PROGRESS_STATUS_AT_RISK);
  w.set_domain_id(indicator.substr(0, indicator.find('-')));
  w.add_responsible_unit_codes("HEALTH_BUREAU");
  w.set_explanation_zh(text);
  w.mutable_figures()->set_progress(0.3);
  return w;
}

auto ScopeOf(const std::string& indicator) {
  return [indicator](const Warning& w) { return w.indicator_id() == indicator; };
}

class RecordingWatcher : public WarningWatcher {
 public:
  void OnEvent(const WarningEvent& event, const Warning*) override { events.push_back(event); }
  void OnClose(const absl::Status& status) override { closed = status; }
  std::vector<halfsky::v1::WarningEventType> Types() const {
    std::vector<halfsky::v1::WarningEventType> out;
    for (const auto& e : events) {
      out.push_back(e.type());
    }
    return out;
  }
  std::vector<WarningEvent> events;
  absl::Status closed;
};

class WarningEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::MakeTempDir("evaluation-engine") + "/evaluation.db";
    Reopen();
  }
  void Reopen() {
    engine_.reset();
    store_.reset();
    auto store = WarningStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto engine = WarningEngine::Create(store_.get(), &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
  }

  std::string path_;
  FakeClock clock_{kT0};
  std::unique_ptr<WarningStore> store_;
  std::unique_ptr<WarningEngine> engine_;
};

TEST(WarningIdTest, IsStableAndReadable) {
  EXPECT_EQ(WarningId("HEALTH-01", "610303", halfsky::v1::WARNING_KIND_PROGRESS, 2030),
            "HEALTH-01:610303:progress:2030");
  EXPECT_EQ(WarningId("HEALTH-01", "610303", halfsky::v1::WARNING_KIND_LATE_DATA, 0),
            "HEALTH-01:610303:late_data:0");
}

// Late data is one warning per unit and data year (issue #12): its
// identity is the unit and year, and the indicator filter matches any
// indicator it lists.
TEST(WarningIdTest, LateDataIsPerUnitAndYear) {
  halfsky::v1::Warning w;
  w.set_kind(halfsky::v1::WARNING_KIND_LATE_DATA);
  w.set_area_code("610303");
  w.set_unit_code("HEALTH");
  w.set_data_year(2024);
  w.add_missing_indicator_ids("HEALTH-01");
  w.add_missing_indicator_ids("HEALTH-04");
  w.set_state(halfsky::v1::WARNING_STATE_FIRING);
  EXPECT_EQ(WarningIdOf(w), "unit.HEALTH:610303:late_data:2024");
  EXPECT_EQ(LateDataWarningId("HEALTH", "610303", 2023), "unit.HEALTH:610303:late_data:2023");
  halfsky::v1::ListWarningsRequest f;
  f.set_indicator_id("HEALTH-04");
  EXPECT_TRUE(MatchesFilter(w, f, false));
  f.set_indicator_id("HEALTH-02");
  EXPECT_FALSE(MatchesFilter(w, f, false));
  w.clear_unit_code();
  w.set_indicator_id("HEALTH-01");
  EXPECT_EQ(WarningIdOf(w), "HEALTH-01:610303:late_data:0");
}

TEST_F(WarningEngineTest, StoreMigratesToTheLatestSchema) {
  EXPECT_EQ(store_->schema_version(), WarningStore::LatestSchemaVersion());
  EXPECT_GE(WarningStore::LatestSchemaVersion(), 1);
}

TEST_F(WarningEngineTest, FiresOnceAndANoChangeReevaluationTouchesNothing) {
  RecordingWatcher watcher;
  ASSERT_TRUE(engine_->Subscribe(&watcher, {}).ok());
  auto r1 = engine_->Reconcile(ScopeOf("HEALTH-02"),
                               {Candidate("HEALTH-02", halfsky::v1::SEVERITY_ORANGE)});
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->fired, 1);
  auto first = engine_->Get("HEALTH-02:610303:progress:2030");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->state(), halfsky::v1::WARNING_STATE_FIRING);
  EXPECT_EQ(first->episode(), 1);
  EXPECT_EQ(TimeUtil::TimestampToSeconds(first->firing_since()), absl::ToUnixSeconds(kT0));

  clock_.Advance(absl::Hours(1));
  const int64_t version = engine_->version();
  auto r2 = engine_->Reconcile(ScopeOf("HEALTH-02"),
                               {Candidate("HEALTH-02", halfsky::v1::SEVERITY_ORANGE)});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->unchanged, 1);
  EXPECT_EQ(r2->fired + r2->updated + r2->resolved, 0);
  EXPECT_EQ(engine_->version(), version);
  auto second = engine_->Get(first->id());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->SerializeAsString(), first->SerializeAsString()) << "no timestamp touched";
  EXPECT_THAT(watcher.Types(), ElementsAre(halfsky::v1::WARNING_EVENT_TYPE_SYNCED,
                                           halfsky::v1::WARNING_EVENT_TYPE_FIRED));
  engine_->Unsubscribe(&watcher);
}

TEST_F(WarningEngineTest, ChangedFiguresUpdateKeepingFiringSince) {
  ASSERT_TRUE(engine_
                  ->Reconcile(ScopeOf("HEALTH-02"),
                              {Candidate("HEALTH-02", halfsky::v1::SEVERITY_YELLOW, "a")})
                  .ok());
  clock_.Advance(absl::Hours(2));
  RecordingWatcher watcher;
  ASSERT_TRUE(engine_->Subscribe(&watcher, {}).ok());
  auto r = engine_->Reconcile(ScopeOf("HEALTH-02"),
                              {Candidate("HEALTH-02", halfsky::v1::SEVERITY_RED, "b")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->updated, 1);
  auto w = engine_->Get("HEALTH-02:610303:progress:2030");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->severity(), halfsky::v1::SEVERITY_RED);
  EXPECT_EQ(w->explanation_zh(), "b");
  EXPECT_EQ(w->episode(), 1);
  EXPECT_EQ(TimeUtil::TimestampToSeconds(w->firing_since()), absl::ToUnixSeconds(kT0));
  EXPECT_EQ(TimeUtil::TimestampToSeconds(w->last_evaluated()),
            absl::ToUnixSeconds(kT0 + absl::Hours(2)));
  EXPECT_THAT(watcher.Types(), ElementsAre(halfsky::v1::WARNING_EVENT_TYPE_CURRENT,
                                           halfsky::v1::WARNING_EVENT_TYPE_SYNCED,
                                           halfsky::v1::WARNING_EVENT_TYPE_UPDATED));
  engine_->Unsubscribe(&watcher);
}

TEST_F(WarningEngineTest, ResolvesOnlyInScopeAndAResolvedWarningFiresAsANewEpisode) {
  ASSERT_TRUE(engine_
                  ->Reconcile([](const Warning&) { return true; },
                              {Candidate("HEALTH-02", halfsky::v1::SEVERITY_ORANGE),
                               Candidate("EDU-01", halfsky::v1::SEVERITY_YELLOW)})
                  .ok());
  ASSERT_TRUE(engine_->Acknowledge("HEALTH-02:610303:progress:2030", "alice", "加强筛查").ok());
  clock_.Advance(absl::Minutes(10));
  auto r = engine_->Reconcile(ScopeOf("HEALTH-02"), {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->resolved, 1);
  auto resolved = engine_->Get("HEALTH-02:610303:progress:2030");
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->state(), halfsky::v1::WARNING_STATE_RESOLVED);
  EXPECT_EQ(TimeUtil::TimestampToSeconds(resolved->resolved_at()),
            absl::ToUnixSeconds(kT0 + absl::Minutes(10)));
  EXPECT_EQ(engine_->Get("EDU-01:610303:progress:2030")->state(), halfsky::v1::WARNING_STATE_FIRING)
      << "out of scope: untouched";

  clock_.Advance(absl::Minutes(10));
  ASSERT_TRUE(
      engine_
          ->Reconcile(ScopeOf("HEALTH-02"), {Candidate("HEALTH-02", halfsky::v1::SEVERITY_ORANGE)})
          .ok());
  auto again = engine_->Get("HEALTH-02:610303:progress:2030");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state(), halfsky::v1::WARNING_STATE_FIRING);
  EXPECT_EQ(again->episode(), 2);
  EXPECT_FALSE(again->has_resolved_at());
  EXPECT_FALSE(again->has_acknowledgement()) << "a new episode starts unacknowledged";
  EXPECT_EQ(TimeUtil::TimestampToSeconds(again->firing_since()),
            absl::ToUnixSeconds(kT0 + absl::Minutes(20)));
}

// A watcher that reads the published set on each event (as a client reading
// ListWarnings right after a watch event does) sees that event's change
// there: the set is published before the event is delivered. (Seen under
// AddressSanitizer: a RESOLVED event, then ListWarnings still FIRING.)
class ReadingWatcher : public WarningWatcher {
 public:
  explicit ReadingWatcher(const WarningEngine* engine) : engine_(engine) {}
  void OnEvent(const WarningEvent& event, const Warning*) override {
    if (event.warning().id().empty()) {
      return;  // SYNCED: the end of the initial set, no change
    }
    auto seen = engine_->Get(event.warning().id());
    if (!seen.ok() || seen->state() != event.warning().state() ||
        seen->has_acknowledgement() != event.warning().has_acknowledgement()) {
      stale.push_back(absl::StrCat(halfsky::v1::WarningEventType_Name(event.type()), " ",
                                   event.warning().id(), ": the set shows ",
                                   seen.ok() ? halfsky::v1::WarningState_Name(seen->state())
                                             : std::string(seen.status().message())));
    }
    ++events;
  }
  void OnClose(const absl::Status&) override {}
  const WarningEngine* const engine_;
  std::vector<std::string> stale;
  int events = 0;
};

TEST_F(WarningEngineTest, TheListShowsAChangeByTheTimeItsEventArrives) {
  ReadingWatcher watcher(engine_.get());
  ASSERT_TRUE(engine_->Subscribe(&watcher, halfsky::v1::ListWarningsRequest(), true).ok());
  ASSERT_TRUE(engine_
                  ->Reconcile([](const Warning&) { return true; },
                              {Candidate("HEALTH-02", halfsky::v1::SEVERITY_ORANGE)})
                  .ok());  // FIRED
  ASSERT_TRUE(engine_->Acknowledge("HEALTH-02:610303:progress:2030", "alice", "加强筛查").ok());
  ASSERT_TRUE(engine_->Reconcile(ScopeOf("HEALTH-02"), {}).ok());  // RESOLVED
  engine_->Unsubscribe(&watcher);
  EXPECT_EQ(watcher.events, 3);
  EXPECT_THAT(watcher.stale, ::testing::IsEmpty());
}

TEST_F(WarningEngineTest, AcknowledgementNeedsANoteAndSurvivesARestart) {
  ASSERT_TRUE(
      engine_
          ->Reconcile(ScopeOf("HEALTH-02"), {Candidate("HEALTH-02", halfsky::v1::SEVERITY_ORANGE)})
          .ok());
  const std::string id = "HEALTH-02:610303:progress:2030";
  auto no_note = engine_->Acknowledge(id, "alice", "");
  EXPECT_EQ(no_note.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(BadRequestViolations(no_note.status()), SizeIs(1));
  EXPECT_EQ(engine_->Acknowledge("nope", "alice", "n").status().code(),
            absl::StatusCode::kNotFound);
  RecordingWatcher watcher;
  ASSERT_TRUE(engine_->Subscribe(&watcher, {}).ok());
  auto acked = engine_->Acknowledge(id, "alice", "加强宣传，扩大筛查覆盖面");
  ASSERT_TRUE(acked.ok()) << acked.status();
  EXPECT_EQ(acked->acknowledgement().by(), "alice");
  EXPECT_EQ(watcher.events.back().type(), halfsky::v1::WARNING_EVENT_TYPE_ACKNOWLEDGED);
  engine_->Unsubscribe(&watcher);

  Reopen();
  auto w = engine_->Get(id);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->has_acknowledgement());
  EXPECT_EQ(w->acknowledgement().by(), "alice");
  EXPECT_EQ(w->acknowledgement().note(), "加强宣传，扩大筛查覆盖面");
  EXPECT_EQ(w->state(), halfsky::v1::WARNING_STATE_FIRING);
  // After the restart a no-change evaluation still changes nothing.
  auto r = engine_->Reconcile(ScopeOf("HEALTH-02"),
                              {Candidate("HEALTH-02", halfsky::v1::SEVERITY_ORANGE)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->unchanged, 1);
  auto history = store_->AcknowledgementHistory(id);
  ASSERT_TRUE(history.ok());
  EXPECT_THAT(*history, SizeIs(1));
}

TEST_F(WarningEngineTest, ListSortsBySeverityThenIndicatorFiltersAndPaginates) {
  ASSERT_TRUE(engine_
                  ->Reconcile([](const Warning&) { return true; },
                              {Candidate("HEALTH-02", halfsky::v1::SEVERITY_YELLOW),
                               Candidate("HEALTH-01", halfsky::v1::SEVERITY_YELLOW),
                               Candidate("EDU-01", halfsky::v1::SEVERITY_RED),
                               Candidate("HEALTH-01", halfsky::v1::SEVERITY_ORANGE, "f", 0,
                                         halfsky::v1::WARNING_KIND_FLUCTUATION)})
                  .ok());
  halfsky::v1::ListWarningsRequest request;
  request.set_page_size(3);
  auto page1 = engine_->List(request);
  ASSERT_TRUE(page1.ok());
  EXPECT_EQ(page1->total_count(), 4);
  std::vector<std::string> ids;
  for (const auto& w : page1->warnings()) {
    ids.push_back(w.id());
  }
  EXPECT_THAT(ids, ElementsAre("EDU-01:610303:progress:2030", "HEALTH-01:610303:fluctuation:0",
                               "HEALTH-01:610303:progress:2030"));
  ASSERT_FALSE(page1->next_page_token().empty());
  request.set_page_token(page1->next_page_token());
  auto page2 = engine_->List(request);
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->warnings_size(), 1);
  EXPECT_EQ(page2->warnings(0).id(), "HEALTH-02:610303:progress:2030");
  EXPECT_TRUE(page2->next_page_token().empty());

  halfsky::v1::ListWarningsRequest filtered;
  filtered.set_min_severity(halfsky::v1::SEVERITY_ORANGE);
  filtered.set_domain_id("HEALTH");
  auto f = engine_->List(filtered);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->warnings_size(), 1);
  EXPECT_EQ(f->warnings(0).kind(), halfsky::v1::WARNING_KIND_FLUCTUATION);

  halfsky::v1::ListWarningsRequest resolved;
  resolved.set_state(halfsky::v1::WARNING_STATE_RESOLVED);
  EXPECT_EQ(engine_->List(resolved)->total_count(), 0);

  halfsky::v1::ListWarningsRequest bad;
  bad.set_page_token("garbage");
  EXPECT_EQ(engine_->List(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(WarningEngineTest, CloseWatchersClosesAndRefusesNewOnes) {
  RecordingWatcher watcher;
  ASSERT_TRUE(engine_->Subscribe(&watcher, {}).ok());
  engine_->CloseWatchers(absl::UnavailableError("bye"));
  EXPECT_EQ(watcher.closed.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(engine_->watcher_count(), 0);
  RecordingWatcher late;
  EXPECT_EQ(engine_->Subscribe(&late, {}).code(), absl::StatusCode::kUnavailable);
}

// Mirror mode (read replicas): the set is replaced by Resume and changed
// by ApplyEvent; watchers and reads work as on a primary.
Warning Mirrored(const std::string& indicator, halfsky::v1::WarningState state, int episode = 1) {
  Warning w = Candidate(indicator, halfsky::v1::SEVERITY_ORANGE);
  w.set_id(WarningId(w.indicator_id(), w.area_code(), w.kind(), w.target_year()));
  w.set_state(state);
  w.set_episode(episode);
  return w;
}

WarningEvent Event(halfsky::v1::WarningEventType type, const Warning& w) {
  WarningEvent e;
  e.set_type(type);
  *e.mutable_warning() = w;
  return e;
}

TEST(WarningEngineMirrorTest, SuspendedUntilResumedThenFollowsEvents) {
  FakeClock clock(kT0);
  std::unique_ptr<WarningEngine> mirror =
      WarningEngine::CreateMirror(&clock, absl::UnavailableError("not synced"));
  EXPECT_EQ(mirror->availability().code(), absl::StatusCode::kUnavailable);
  RecordingWatcher early;
  EXPECT_EQ(mirror->Subscribe(&early, {}).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(mirror
                ->ApplyEvent(Event(halfsky::v1::WARNING_EVENT_TYPE_FIRED,
                                   Mirrored("HEALTH-01", halfsky::v1::WARNING_STATE_FIRING)))
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mirror->Acknowledge("x", "alice", "note").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mirror->Reconcile(ScopeOf("HEALTH-01"), {}).status().code(),
            absl::StatusCode::kFailedPrecondition);

  const int64_t v0 = mirror->Current()->version();
  ASSERT_TRUE(mirror
                  ->Resume({Mirrored("HEALTH-01", halfsky::v1::WARNING_STATE_FIRING),
                            Mirrored("HEALTH-02", halfsky::v1::WARNING_STATE_RESOLVED)})
                  .ok());
  EXPECT_TRUE(mirror->availability().ok());
  EXPECT_GT(mirror->Current()->version(), v0);
  EXPECT_THAT(mirror->Snapshot({}), SizeIs(1));  // firing only, as List
  RecordingWatcher watcher;
  ASSERT_TRUE(mirror->Subscribe(&watcher, {}).ok());
  EXPECT_THAT(watcher.Types(), ElementsAre(halfsky::v1::WARNING_EVENT_TYPE_CURRENT,
                                           halfsky::v1::WARNING_EVENT_TYPE_SYNCED));
  RecordingWatcher all;
  ASSERT_TRUE(mirror->Subscribe(&all, {}, /*all_states=*/true).ok());
  EXPECT_THAT(all.Types(), ElementsAre(halfsky::v1::WARNING_EVENT_TYPE_CURRENT,
                                       halfsky::v1::WARNING_EVENT_TYPE_CURRENT,
                                       halfsky::v1::WARNING_EVENT_TYPE_SYNCED));

  // A change event replaces the warning and reaches the watchers as it came.
  ASSERT_TRUE(mirror
                  ->ApplyEvent(Event(halfsky::v1::WARNING_EVENT_TYPE_RESOLVED,
                                     Mirrored("HEALTH-01", halfsky::v1::WARNING_STATE_RESOLVED)))
                  .ok());
  EXPECT_THAT(mirror->Snapshot({}), SizeIs(0));
  ASSERT_THAT(watcher.events, SizeIs(3));
  EXPECT_EQ(watcher.events[2].type(), halfsky::v1::WARNING_EVENT_TYPE_RESOLVED);
  EXPECT_EQ(mirror
                ->ApplyEvent(Event(halfsky::v1::WARNING_EVENT_TYPE_CURRENT,
                                   Mirrored("HEALTH-01", halfsky::v1::WARNING_STATE_FIRING)))
                .code(),
            absl::StatusCode::kInvalidArgument);

  // Suspend ends the watchers; a Resume replaces the whole set (a warning
  // absent from the new snapshot is gone).
  mirror->Suspend(absl::UnavailableError("primary away"));
  EXPECT_EQ(watcher.closed.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(mirror->availability().message(), "primary away");
  ASSERT_TRUE(mirror->Resume({Mirrored("HEALTH-03", halfsky::v1::WARNING_STATE_FIRING)}).ok());
  EXPECT_FALSE(
      mirror->Get(WarningId("HEALTH-01", "610303", halfsky::v1::WARNING_KIND_PROGRESS, 2030)).ok());
  EXPECT_THAT(mirror->Snapshot({}), SizeIs(1));
  mirror->Unsubscribe(&all);
}

}  // namespace
}  // namespace halfsky::evaluation
