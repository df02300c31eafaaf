#include "services/evaluation/service/followup_tracker.h"

#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/roles.h"
#include "common/labels/labels.h"
#include "common/proto/timestamp.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "services/evaluation/service/request_checks.h"

namespace halfsky::evaluation {
namespace {

using ::halfsky::v1::FollowUp;
using ::halfsky::v1::FollowUpEvent;
using ::halfsky::v1::FollowUpStep;
using ::halfsky::v1::Principal;
using ::halfsky::v1::Warning;

constexpr char kSystem[] = "system";

std::string DateZh(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, DistrictTimeZone()); }
std::string MinuteZh(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M", t, DistrictTimeZone());
}

// "红色" from the contract's short label "红" (halfsky.v1.Severity).
std::string SeverityZh(halfsky::v1::Severity s) {
  const std::string& short_label = labels::ShortLabelZh(s);
  return short_label.empty() ? "未定级" : absl::StrCat(short_label, "色");
}

// "整改中 planned": the contract's label and token.
std::string StateName(halfsky::v1::FollowUpState s) {
  const std::string& label = labels::LabelZh(s);
  return label.empty() ? "UNSPECIFIED" : absl::StrCat(label, " ", labels::Token(s));
}

FollowUpStep MakeStep(halfsky::v1::FollowUpStepKind kind, const std::string& by, absl::Time now,
                      const FollowUp& record, const Warning& w, std::string text) {
  FollowUpStep s;
  s.set_kind(kind);
  s.set_by(by);
  *s.mutable_at() = ToTimestamp(now);
  s.set_text(std::move(text));
  s.set_episode(record.episode());
  s.set_severity(w.severity());
  return s;
}

halfsky::v1::FollowUpEventType EventTypeOf(const FollowUpStep& s) {
  switch (s.kind()) {
    case halfsky::v1::FOLLOW_UP_STEP_KIND_ESCALATED:
      return halfsky::v1::FOLLOW_UP_EVENT_TYPE_ESCALATED;
    case halfsky::v1::FOLLOW_UP_STEP_KIND_SEVERITY_CHANGED:
      return halfsky::v1::FOLLOW_UP_EVENT_TYPE_SEVERITY_CHANGED;
    default:
      return halfsky::v1::FOLLOW_UP_EVENT_TYPE_CHANGED;
  }
}

absl::Status NeedGroup(const Principal& who, absl::string_view what) {
  if (IsFollowUpGroup(who)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "仅评估组可以", what, " / only the assessment group (role assessment or admin) may ", what,
      " (principal \"", who.name(), "\")"));
}

bool Visible(const Principal& who, const FollowUp& f) {
  return MayReadAllFollowUps(who) || auth::IsUnit(who, f.owner_unit_code());
}

}  // namespace

bool IsFollowUpGroup(const Principal& who) {
  return auth::HasRole(who, halfsky::v1::ROLE_KIND_ASSESSMENT) ||
         auth::HasRole(who, halfsky::v1::ROLE_KIND_ADMIN);
}

bool MayReadAllFollowUps(const Principal& who) {
  return IsFollowUpGroup(who) || auth::HasRole(who, halfsky::v1::ROLE_KIND_STATISTICS) ||
         auth::HasRole(who, halfsky::v1::ROLE_KIND_SERVICE);
}

// Wakes the background thread whenever the engine publishes a change.
class FollowUpTracker::EngineWaker final : public WarningWatcher {
 public:
  explicit EngineWaker(FollowUpTracker* tracker) : tracker_(tracker) {}
  void OnEvent(const halfsky::v1::WarningEvent& event, const Warning*) override {
    if (event.type() == halfsky::v1::WARNING_EVENT_TYPE_CURRENT) {
      return;
    }
    absl::MutexLock lock(&tracker_->wake_mu_);
    tracker_->dirty_ = true;
  }
  void OnClose(const absl::Status&) override {}

 private:
  FollowUpTracker* const tracker_;
};

FollowUpTracker::FollowUpTracker(std::shared_ptr<const CatalogIndex> catalog, WarningEngine* engine,
                                 FollowUpStore* store, Clock* clock, EscalationSettings settings)
    : catalog_(std::move(catalog)),
      engine_(engine),
      store_(store),
      clock_(clock),
      settings_(settings) {}

absl::StatusOr<std::unique_ptr<FollowUpTracker>> FollowUpTracker::Create(
    std::shared_ptr<const CatalogIndex> catalog, WarningEngine* engine, FollowUpStore* store,
    Clock* clock, EscalationSettings settings) {
  std::unique_ptr<FollowUpTracker> t(
      new FollowUpTracker(std::move(catalog), engine, store, clock, settings));
  HALFSKY_ASSIGN_OR_RETURN(std::vector<FollowUp> records, store->LoadAll());
  absl::MutexLock lock(&t->mu_);
  for (FollowUp& f : records) {
    std::string id = f.warning_id();
    t->records_.emplace(std::move(id), std::move(f));
  }
  return t;
}

FollowUpTracker::~FollowUpTracker() { Stop(); }

void FollowUpTracker::Start(absl::Duration interval) {
  if (thread_.joinable()) {
    return;
  }
  waker_ = std::make_unique<EngineWaker>(this);
  halfsky::v1::ListWarningsRequest all;
  if (!engine_->Subscribe(waker_.get(), all, /*all_states=*/true).ok()) {
    waker_.reset();
  }
  {
    absl::MutexLock lock(&wake_mu_);
    stopping_ = false;
    dirty_ = true;
  }
  thread_ = std::thread([this, interval] {
    wake_mu_.Lock();
    while (!stopping_) {
      wake_mu_.AwaitWithTimeout(absl::Condition(
                                    +[](FollowUpTracker* t) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                      return t->dirty_ || t->stopping_;
                                    },
                                    this),
                                interval);
      if (stopping_) {
        break;
      }
      dirty_ = false;
      wake_mu_.Unlock();
      if (absl::Status st = Sync(); !st.ok()) {
        std::cerr << "halfsky-evaluation: 督办同步失败 / follow-up sync failed: " << st << "\n";
      }
      wake_mu_.Lock();
    }
    wake_mu_.Unlock();
  });
}

void FollowUpTracker::Stop() {
  if (waker_ != nullptr) {
    engine_->Unsubscribe(waker_.get());
  }
  if (thread_.joinable()) {
    {
      absl::MutexLock lock(&wake_mu_);
      stopping_ = true;
    }
    thread_.join();
  }
  waker_.reset();
}

std::string FollowUpTracker::DefaultOwner(const Warning& w) const {
  if (!w.unit_code().empty()) {
    return w.unit_code();
  }
  if (const halfsky::v1::Indicator* ind = catalog_->FindIndicator(w.indicator_id())) {
    return CatalogIndex::LeadUnit(*ind);
  }
  return w.responsible_unit_codes().empty() ? "" : w.responsible_unit_codes(0);
}

std::string FollowUpTracker::UnitName(const std::string& code) const {
  const halfsky::v1::MemberUnit* u = catalog_->FindMemberUnit(code);
  return u != nullptr ? absl::StrCat(u->name_zh(), "（", code, "）") : code;
}

absl::Status FollowUpTracker::Sync() {
  absl::MutexLock lock(&mu_);
  return SyncLocked(clock_->Now());
}

void FollowUpTracker::ReviewLocked(const Warning& w, absl::Time now, Change* change) {
  FollowUp& rec = change->next;
  FollowUpReview r = ReviewFollowUp(rec, w, now, settings_);
  if (r.silence_expired || r.silence_broken) {
    const std::string text =
        r.silence_expired
            ? absl::StrCat("暂缓督办已于", MinuteZh(FromTimestamp(rec.silence().until())),
                           "到期 / silence expired")
            : absl::StrCat("预警级别由", SeverityZh(rec.silence().severity()), "变为",
                           SeverityZh(w.severity()),
                           "，暂缓督办失效 / severity changed: silence ended");
    change->steps.push_back(
        MakeStep(halfsky::v1::FOLLOW_UP_STEP_KIND_SILENCE_ENDED, kSystem, now, rec, w, text));
    rec.clear_silence();
    r = ReviewFollowUp(rec, w, now, settings_);
  }
  const halfsky::v1::EscalationReason current =
      rec.has_escalation() ? rec.escalation().reason() : halfsky::v1::ESCALATION_REASON_UNSPECIFIED;
  if (r.escalation == current) {
    return;
  }
  if (r.escalation != halfsky::v1::ESCALATION_REASON_UNSPECIFIED) {
    halfsky::v1::Escalation* e = rec.mutable_escalation();
    e->set_reason(r.escalation);
    *e->mutable_since() = ToTimestamp(now);
    e->set_severity(w.severity());
    *e->mutable_deadline() = ToTimestamp(r.deadline);
    rec.set_escalation_count(rec.escalation_count() + 1);
    const std::string text =
        r.escalation == halfsky::v1::ESCALATION_REASON_NO_PLAN
            ? absl::StrCat(SeverityZh(w.severity()), "预警", settings_.PlanDays(w.severity()),
                           "天内未制定整改措施（应于", DateZh(r.deadline),
                           "前制定），升级督办 / no plan within ", settings_.PlanDays(w.severity()),
                           " days: escalated")
            : absl::StrCat("已超过整改时限", DateZh(r.deadline),
                           "，预警仍在触发，升级督办 / still firing past the plan's due date: "
                           "escalated");
    FollowUpStep step =
        MakeStep(halfsky::v1::FOLLOW_UP_STEP_KIND_ESCALATED, kSystem, now, rec, w, text);
    step.set_escalation(r.escalation);
    change->steps.push_back(std::move(step));
  } else {
    const std::string why =
        rec.state() == halfsky::v1::FOLLOW_UP_STATE_CLOSED ? "记录已销号 / closed"
        : w.state() != halfsky::v1::WARNING_STATE_FIRING   ? "预警已解除 / warning resolved"
        : r.silenced                                       ? "暂缓督办 / silenced"
                     : "已制定或调整整改措施 / plan in time";
    rec.clear_escalation();
    change->steps.push_back(MakeStep(halfsky::v1::FOLLOW_UP_STEP_KIND_ESCALATION_ENDED, kSystem,
                                     now, rec, w, absl::StrCat("督办解除：", why)));
  }
}

absl::Status FollowUpTracker::SyncLocked(absl::Time now) {
  const std::shared_ptr<const WarningSet> set = engine_->Current();
  std::vector<Change> changes;
  for (const WarningSet::Ptr& wp : set->all()) {
    const Warning& w = *wp;
    auto it = records_.find(w.id());
    Change change;
    FollowUp& rec = change.next;
    if (it == records_.end()) {
      if (w.state() != halfsky::v1::WARNING_STATE_FIRING) {
        continue;  // resolved before follow-up existed: nothing to follow
      }
      rec.set_warning_id(w.id());
      rec.set_episode(w.episode());
      rec.set_state(halfsky::v1::FOLLOW_UP_STATE_OPEN);
      rec.set_owner_unit_code(DefaultOwner(w));
      rec.set_owner_is_default(true);
      *rec.mutable_opened_at() = ToTimestamp(now);
      FollowUpStep step = MakeStep(
          halfsky::v1::FOLLOW_UP_STEP_KIND_OPENED, kSystem, now, rec, w,
          absl::StrCat(SeverityZh(w.severity()), "预警触发，建立督办记录，责任单位（牵头单位）：",
                       UnitName(rec.owner_unit_code()), " / warning fired: record opened"));
      step.set_unit_code(rec.owner_unit_code());
      change.steps.push_back(std::move(step));
    } else {
      // Most records do not change in a sync: decide that on the record as
      // it is, before copying it (a copy of every record of the whole set on
      // every change of it was a third of a pass's CPU with 5·10^4 warnings,
      // docs/BENCHMARKS.md "Province-size instance").
      const FollowUp& cur = it->second;
      const Warning& was = cur.warning();
      const bool fired = was.state() == halfsky::v1::WARNING_STATE_FIRING;
      const bool episode_step =
          (w.episode() > cur.episode() && w.state() == halfsky::v1::WARNING_STATE_FIRING) ||
          (w.episode() == cur.episode() && fired &&
           (w.state() == halfsky::v1::WARNING_STATE_RESOLVED ||
            (w.state() == halfsky::v1::WARNING_STATE_FIRING && was.severity() != w.severity())));
      if (!episode_step) {
        const FollowUpReview r = ReviewFollowUp(cur, w, now, settings_);
        const halfsky::v1::EscalationReason escalation =
            cur.has_escalation() ? cur.escalation().reason()
                                 : halfsky::v1::ESCALATION_REASON_UNSPECIFIED;
        if (!r.silence_expired && !r.silence_broken && r.escalation == escalation) {
          continue;  // no step: ReviewLocked would add none either
        }
      }
      change.had_previous = true;
      change.previous = it->second;
      rec = it->second;
      const Warning& seen = rec.warning();
      if (w.episode() > rec.episode() && w.state() == halfsky::v1::WARNING_STATE_FIRING) {
        rec.set_episode(w.episode());
        if (rec.state() == halfsky::v1::FOLLOW_UP_STATE_CLOSED) {
          rec.set_state(halfsky::v1::FOLLOW_UP_STATE_OPEN);
          rec.clear_plan();
          rec.clear_closing();
          rec.clear_closing_reason();
          rec.clear_closed_by();
          rec.clear_closed_at();
          rec.clear_escalation();
          rec.clear_silence();
          rec.clear_last_note();
          rec.clear_last_note_by();
          rec.clear_last_note_at();
          rec.set_reopen_count(rec.reopen_count() + 1);
          *rec.mutable_opened_at() = ToTimestamp(now);
          change.steps.push_back(MakeStep(
              halfsky::v1::FOLLOW_UP_STEP_KIND_REOPENED, kSystem, now, rec, w,
              absl::StrCat("销号后再次预警（第", w.episode(), "轮，", SeverityZh(w.severity()),
                           "），督办记录重新打开，需重新制定整改措施 / fired again after "
                           "closing: record reopened")));
        } else {
          change.steps.push_back(MakeStep(
              halfsky::v1::FOLLOW_UP_STEP_KIND_FIRED_AGAIN, kSystem, now, rec, w,
              absl::StrCat("预警再次触发（第", w.episode(), "轮，", SeverityZh(w.severity()),
                           "），记录尚未销号，整改措施继续有效 / fired again; record still open")));
        }
      } else if (w.episode() == rec.episode()) {
        if (seen.state() == halfsky::v1::WARNING_STATE_FIRING &&
            w.state() == halfsky::v1::WARNING_STATE_RESOLVED) {
          change.steps.push_back(MakeStep(
              halfsky::v1::FOLLOW_UP_STEP_KIND_WARNING_RESOLVED, kSystem, now, rec, w,
              rec.state() == halfsky::v1::FOLLOW_UP_STATE_CLOSED
                  ? "预警已因新数据解除 / warning resolved by new data"
                  : "预警已因新数据解除，待评估组销号 / warning resolved by new data; awaiting "
                    "the group's closing decision"));
        } else if (seen.state() == halfsky::v1::WARNING_STATE_FIRING &&
                   w.state() == halfsky::v1::WARNING_STATE_FIRING &&
                   seen.severity() != w.severity()) {
          change.steps.push_back(
              MakeStep(halfsky::v1::FOLLOW_UP_STEP_KIND_SEVERITY_CHANGED, kSystem, now, rec, w,
                       absl::StrCat("预警级别由", SeverityZh(seen.severity()), "变为",
                                    SeverityZh(w.severity()), " / severity changed")));
        }
      }
    }
    *rec.mutable_warning() = w;
    ReviewLocked(w, now, &change);
    if (!change.steps.empty()) {
      *rec.mutable_updated_at() = ToTimestamp(now);
      changes.push_back(std::move(change));
    }
  }
  return CommitLocked(std::move(changes), now);
}

absl::Status FollowUpTracker::CommitLocked(std::vector<Change> changes, absl::Time now) {
  if (changes.empty()) {
    return absl::OkStatus();
  }
  std::vector<FollowUp> rows;
  std::vector<std::pair<std::string, FollowUpStep>> steps;
  for (const Change& c : changes) {
    rows.push_back(c.next);
    for (const FollowUpStep& s : c.steps) {
      steps.emplace_back(c.next.warning_id(), s);
    }
  }
  HALFSKY_RETURN_IF_ERROR(store_->Write(rows, steps));
  for (Change& c : changes) {
    records_[c.next.warning_id()] = c.next;
    if (watchers_.empty()) {
      continue;
    }
    FollowUpEvent event;
    *event.mutable_follow_up() = ViewLocked(c.next);
    *event.mutable_at() = ToTimestamp(now);
    for (const FollowUpStep& s : c.steps) {
      event.set_type(EventTypeOf(s));
      *event.mutable_step() = s;
      for (auto& [watcher, reg] : watchers_) {
        if (!Visible(reg.who, c.next) && !(c.had_previous && Visible(reg.who, c.previous))) {
          continue;
        }
        if (reg.escalations_only && event.type() == halfsky::v1::FOLLOW_UP_EVENT_TYPE_CHANGED) {
          continue;
        }
        watcher->OnEvent(event);
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<FollowUp> FollowUpTracker::CommitOneLocked(Change change, absl::Time now) {
  *change.next.mutable_updated_at() = ToTimestamp(now);
  const std::string id = change.next.warning_id();
  std::vector<Change> changes;
  changes.push_back(std::move(change));
  HALFSKY_RETURN_IF_ERROR(CommitLocked(std::move(changes), now));
  return ViewLocked(records_[id]);
}

FollowUp FollowUpTracker::ViewLocked(const FollowUp& record) const {
  FollowUp v = record;
  if (WarningSet::Ptr w = engine_->Current()->Find(record.warning_id()); w != nullptr) {
    *v.mutable_warning() = *w;
  }
  if (!v.has_plan() && v.state() != halfsky::v1::FOLLOW_UP_STATE_CLOSED) {
    *v.mutable_plan_required_by() =
        ToTimestamp(PlanRequiredBy(v, v.warning().severity(), settings_));
  }
  return v;
}

absl::StatusOr<FollowUp> FollowUpTracker::FindLocked(const std::string& warning_id) const {
  auto it = records_.find(warning_id);
  if (it == records_.end()) {
    return absl::NotFoundError(
        absl::StrCat("该预警没有督办记录 / no follow-up record for warning \"", warning_id, "\""));
  }
  return it->second;
}

absl::StatusOr<FollowUpTracker::Change> FollowUpTracker::BeginWriteLocked(
    const std::string& warning_id, absl::Time now) {
  if (warning_id.empty()) {
    return InvalidArgumentError("缺少预警编号 / warning_id is required",
                                {{"warning_id", "不能为空 / required"}});
  }
  HALFSKY_RETURN_IF_ERROR(SyncLocked(now));
  HALFSKY_ASSIGN_OR_RETURN(FollowUp rec, FindLocked(warning_id));
  Change change;
  change.had_previous = true;
  change.previous = rec;
  change.next = std::move(rec);
  return change;
}

namespace {
absl::Status RefuseClosed(const FollowUp& rec) {
  if (rec.state() == halfsky::v1::FOLLOW_UP_STATE_CLOSED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "督办记录已销号（", StateName(rec.state()), "），预警再次触发时会重新打开 / the record of ",
        rec.warning_id(), " is CLOSED; it reopens when the warning fires again"));
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<halfsky::v1::ListFollowUpsResponse> FollowUpTracker::List(
    const Principal& who, const halfsky::v1::ListFollowUpsRequest& request) {
  if (!MayReadAllFollowUps(who) && !auth::HasRole(who, halfsky::v1::ROLE_KIND_UNIT)) {
    return absl::PermissionDeniedError(
        absl::StrCat("无权查看督办记录 / principal \"", who.name(), "\" may read no follow-up"));
  }
  HALFSKY_RETURN_IF_ERROR(CheckFollowUpFilter(request, *catalog_));
  if (!request.owner_unit_code().empty() && !MayReadAllFollowUps(who) &&
      !auth::IsUnit(who, request.owner_unit_code())) {
    return absl::PermissionDeniedError(
        absl::StrCat("成员单位只能查看本单位的督办记录 / a member unit sees only its own records "
                     "(principal \"",
                     who.name(), "\", unit ", request.owner_unit_code(), ")"));
  }
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  HALFSKY_RETURN_IF_ERROR(SyncLocked(now));
  std::vector<FollowUp> out;
  for (const auto& [id, rec] : records_) {
    if (!Visible(who, rec)) {
      continue;
    }
    if (!request.owner_unit_code().empty() && rec.owner_unit_code() != request.owner_unit_code()) {
      continue;
    }
    if (!request.warning_id().empty() && id != request.warning_id()) {
      continue;
    }
    if (request.state() != halfsky::v1::FOLLOW_UP_STATE_UNSPECIFIED) {
      if (rec.state() != request.state()) {
        continue;
      }
    } else if (!request.include_closed() && rec.state() == halfsky::v1::FOLLOW_UP_STATE_CLOSED) {
      continue;
    }
    if (request.escalated_only() && !rec.has_escalation()) {
      continue;
    }
    out.push_back(ViewLocked(rec));
  }
  std::sort(out.begin(), out.end(), [](const FollowUp& a, const FollowUp& b) {
    if (a.warning().severity() != b.warning().severity()) {
      return a.warning().severity() > b.warning().severity();
    }
    if (a.has_escalation() != b.has_escalation()) {
      return a.has_escalation();
    }
    return a.warning_id() < b.warning_id();
  });
  halfsky::v1::ListFollowUpsResponse response;
  *response.mutable_summary() = SummarizeFollowUps(out, now);
  const std::string whose = !request.owner_unit_code().empty() ? UnitName(request.owner_unit_code())
                            : MayReadAllFollowUps(who)         ? std::string("全部成员单位")
                                                               : std::string("本单位");
  const std::string which = request.escalated_only() ? "升级督办的"
                            : request.state() != halfsky::v1::FOLLOW_UP_STATE_UNSPECIFIED
                                ? absl::StrCat(StateName(request.state()), "的")
                            : request.include_closed() ? "全部（含已销号）"
                                                       : "未销号的";
  response.mutable_summary()->set_covers_zh(absl::StrCat(
      "截至", MinuteZh(now), "（北京时间），", whose, which, "督办记录共", out.size(), "条"));
  *response.mutable_summary()->mutable_as_of() = ToTimestamp(now);
  for (FollowUp& f : out) {
    *response.add_follow_ups() = std::move(f);
  }
  return response;
}

absl::StatusOr<FollowUp> FollowUpTracker::Get(const Principal& who, const std::string& warning_id) {
  absl::MutexLock lock(&mu_);
  HALFSKY_RETURN_IF_ERROR(SyncLocked(clock_->Now()));
  HALFSKY_ASSIGN_OR_RETURN(FollowUp rec, FindLocked(warning_id));
  if (!Visible(who, rec)) {
    return absl::PermissionDeniedError(absl::StrCat("该督办记录不属于本单位 / the record of ",
                                                    warning_id, " is not your unit's (principal \"",
                                                    who.name(), "\")"));
  }
  FollowUp v = ViewLocked(rec);
  HALFSKY_ASSIGN_OR_RETURN(std::vector<FollowUpStep> steps, store_->Steps(warning_id));
  for (FollowUpStep& s : steps) {
    *v.add_steps() = std::move(s);
  }
  return v;
}

absl::StatusOr<FollowUp> FollowUpTracker::Assign(const Principal& who,
                                                 const halfsky::v1::AssignFollowUpRequest& req) {
  HALFSKY_RETURN_IF_ERROR(NeedGroup(who, "调整责任单位 / assign"));
  HALFSKY_RETURN_IF_ERROR(CheckAssign(req, *catalog_));
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  HALFSKY_ASSIGN_OR_RETURN(Change change, BeginWriteLocked(req.warning_id(), now));
  FollowUp& rec = change.next;
  HALFSKY_RETURN_IF_ERROR(RefuseClosed(rec));
  if (rec.owner_unit_code() == req.unit_code()) {
    return absl::FailedPreconditionError(absl::StrCat("已由", UnitName(req.unit_code()),
                                                      "负责 / already owned by ", req.unit_code()));
  }
  const std::string from = rec.owner_unit_code();
  rec.set_owner_unit_code(req.unit_code());
  rec.set_owner_is_default(false);
  FollowUpStep step =
      MakeStep(halfsky::v1::FOLLOW_UP_STEP_KIND_ASSIGNED, who.name(), now, rec, rec.warning(),
               absl::StrCat("责任单位由", UnitName(from), "调整为", UnitName(req.unit_code()), "：",
                            req.reason()));
  step.set_unit_code(req.unit_code());
  change.steps.push_back(std::move(step));
  return CommitOneLocked(std::move(change), now);
}

absl::StatusOr<FollowUp> FollowUpTracker::Plan(const Principal& who,
                                               const halfsky::v1::PlanFollowUpRequest& req) {
  HALFSKY_RETURN_IF_ERROR(NeedGroup(who, "制定整改措施 / plan"));
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  HALFSKY_RETURN_IF_ERROR(CheckPlan(req, now));
  HALFSKY_ASSIGN_OR_RETURN(Change change, BeginWriteLocked(req.warning_id(), now));
  FollowUp& rec = change.next;
  HALFSKY_RETURN_IF_ERROR(RefuseClosed(rec));
  const bool replacing = rec.has_plan();
  halfsky::v1::FollowUpPlan* plan = rec.mutable_plan();
  plan->set_measures(req.measures());
  *plan->mutable_due() = req.due();
  plan->set_by(who.name());
  *plan->mutable_at() = ToTimestamp(now);
  rec.set_state(halfsky::v1::FOLLOW_UP_STATE_PLANNED);
  FollowUpStep step =
      MakeStep(halfsky::v1::FOLLOW_UP_STEP_KIND_PLANNED, who.name(), now, rec, rec.warning(),
               absl::StrCat(replacing ? "调整整改措施" : "制定整改措施", "，时限",
                            DateZh(FromTimestamp(req.due())), "：", req.measures()));
  *step.mutable_plan() = *plan;
  change.steps.push_back(std::move(step));
  ReviewLocked(rec.warning(), now, &change);
  return CommitOneLocked(std::move(change), now);
}

absl::StatusOr<FollowUp> FollowUpTracker::Note(const Principal& who,
                                               const halfsky::v1::AddFollowUpNoteRequest& req) {
  HALFSKY_RETURN_IF_ERROR(CheckNote(req));
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  HALFSKY_ASSIGN_OR_RETURN(Change change, BeginWriteLocked(req.warning_id(), now));
  FollowUp& rec = change.next;
  if (!IsFollowUpGroup(who) && !auth::IsUnit(who, rec.owner_unit_code())) {
    return absl::PermissionDeniedError(absl::StrCat(
        "只有责任单位或评估组可以填写整改进展 / only the owning unit (", rec.owner_unit_code(),
        ") or the assessment group may add notes (principal \"", who.name(), "\")"));
  }
  HALFSKY_RETURN_IF_ERROR(RefuseClosed(rec));
  rec.set_last_note(req.note());
  rec.set_last_note_by(who.name());
  *rec.mutable_last_note_at() = ToTimestamp(now);
  change.steps.push_back(MakeStep(halfsky::v1::FOLLOW_UP_STEP_KIND_NOTE, who.name(), now, rec,
                                  rec.warning(), req.note()));
  return CommitOneLocked(std::move(change), now);
}

absl::StatusOr<FollowUp> FollowUpTracker::Close(const Principal& who,
                                                const halfsky::v1::CloseFollowUpRequest& req) {
  HALFSKY_RETURN_IF_ERROR(NeedGroup(who, "销号 / close"));
  HALFSKY_RETURN_IF_ERROR(CheckClose(req));
  const bool by_data = req.closing() == halfsky::v1::FOLLOW_UP_CLOSING_RESOLVED_BY_DATA;
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  HALFSKY_ASSIGN_OR_RETURN(Change change, BeginWriteLocked(req.warning_id(), now));
  FollowUp& rec = change.next;
  HALFSKY_RETURN_IF_ERROR(RefuseClosed(rec));
  if (by_data && rec.warning().state() != halfsky::v1::WARNING_STATE_RESOLVED) {
    return absl::FailedPreconditionError(
        absl::StrCat("预警仍在触发（", halfsky::v1::WarningState_Name(rec.warning().state()),
                     "），不能以“数据已好转”销号 / the warning is still ",
                     halfsky::v1::WarningState_Name(rec.warning().state()),
                     ": RESOLVED_BY_DATA needs it RESOLVED"));
  }
  rec.set_state(halfsky::v1::FOLLOW_UP_STATE_CLOSED);
  rec.set_closing(req.closing());
  rec.set_closing_reason(req.reason());
  rec.set_closed_by(who.name());
  *rec.mutable_closed_at() = ToTimestamp(now);
  rec.clear_silence();
  const std::string& label = labels::LabelZh(req.closing());
  FollowUpStep step =
      MakeStep(halfsky::v1::FOLLOW_UP_STEP_KIND_CLOSED, who.name(), now, rec, rec.warning(),
               absl::StrCat("销号（", label, "）", req.reason().empty() ? "" : "：", req.reason()));
  step.set_closing(req.closing());
  change.steps.push_back(std::move(step));
  ReviewLocked(rec.warning(), now, &change);
  return CommitOneLocked(std::move(change), now);
}

absl::StatusOr<FollowUp> FollowUpTracker::Silence(const Principal& who,
                                                  const halfsky::v1::SilenceFollowUpRequest& req) {
  HALFSKY_RETURN_IF_ERROR(NeedGroup(who, "暂缓督办 / silence"));
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  HALFSKY_RETURN_IF_ERROR(CheckSilence(req, now));
  HALFSKY_ASSIGN_OR_RETURN(Change change, BeginWriteLocked(req.warning_id(), now));
  FollowUp& rec = change.next;
  HALFSKY_RETURN_IF_ERROR(RefuseClosed(rec));
  if (rec.warning().state() != halfsky::v1::WARNING_STATE_FIRING) {
    return absl::FailedPreconditionError(
        absl::StrCat("预警未在触发（", halfsky::v1::WarningState_Name(rec.warning().state()),
                     "），无需暂缓 / the warning is not FIRING: nothing to silence"));
  }
  halfsky::v1::FollowUpSilence* s = rec.mutable_silence();
  s->set_reason(req.reason());
  *s->mutable_until() = req.until();
  s->set_severity(rec.warning().severity());
  s->set_by(who.name());
  *s->mutable_at() = ToTimestamp(now);
  FollowUpStep step = MakeStep(
      halfsky::v1::FOLLOW_UP_STEP_KIND_SILENCED, who.name(), now, rec, rec.warning(),
      absl::StrCat("暂缓督办至", MinuteZh(FromTimestamp(req.until())), "（仅限",
                   SeverityZh(rec.warning().severity()), "，级别变化即失效）：", req.reason()));
  *step.mutable_until() = req.until();
  change.steps.push_back(std::move(step));
  ReviewLocked(rec.warning(), now, &change);
  return CommitOneLocked(std::move(change), now);
}

absl::Status FollowUpTracker::Subscribe(FollowUpWatcher* watcher, const Principal& who,
                                        bool escalations_only) {
  if (!MayReadAllFollowUps(who) && !auth::HasRole(who, halfsky::v1::ROLE_KIND_UNIT)) {
    return absl::PermissionDeniedError(
        absl::StrCat("无权查看督办记录 / principal \"", who.name(), "\" may read no follow-up"));
  }
  absl::MutexLock lock(&mu_);
  if (closed_) {
    return absl::UnavailableError("服务正在停止 / shutting down");
  }
  const absl::Time now = clock_->Now();
  HALFSKY_RETURN_IF_ERROR(SyncLocked(now));
  std::vector<const FollowUp*> visible;
  for (const auto& [id, rec] : records_) {
    if (Visible(who, rec)) {
      visible.push_back(&rec);
    }
  }
  std::sort(visible.begin(), visible.end(),
            [](const FollowUp* a, const FollowUp* b) { return a->warning_id() < b->warning_id(); });
  FollowUpEvent event;
  *event.mutable_at() = ToTimestamp(now);
  event.set_type(halfsky::v1::FOLLOW_UP_EVENT_TYPE_CURRENT);
  for (const FollowUp* rec : visible) {
    *event.mutable_follow_up() = ViewLocked(*rec);
    watcher->OnEvent(event);
  }
  event.clear_follow_up();
  event.set_type(halfsky::v1::FOLLOW_UP_EVENT_TYPE_SYNCED);
  watcher->OnEvent(event);
  watchers_[watcher] = Registration{who, escalations_only};
  return absl::OkStatus();
}

void FollowUpTracker::Unsubscribe(FollowUpWatcher* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(watcher);
}

void FollowUpTracker::CloseWatchers(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  for (auto& [watcher, reg] : watchers_) {
    watcher->OnClose(status);
  }
  watchers_.clear();
}

absl::Status FollowUpTracker::AnnotateReport(halfsky::v1::EvaluationReport* report) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  HALFSKY_RETURN_IF_ERROR(SyncLocked(now));
  std::vector<FollowUp> covered;
  for (const Warning& w : report->warnings()) {
    auto it = records_.find(w.id());
    if (it == records_.end()) {
      continue;
    }
    covered.push_back(ViewLocked(it->second));
  }
  halfsky::v1::FollowUpSummary summary = SummarizeFollowUps(covered, now);
  summary.set_covers_zh(absl::StrCat("截至", MinuteZh(now), "（北京时间），本报告所列",
                                     report->warnings_size(), "条预警中有督办记录的",
                                     covered.size(), "条"));
  *summary.mutable_as_of() = ToTimestamp(now);
  *report->mutable_follow_up_summary() = std::move(summary);
  for (FollowUp& f : covered) {
    *report->add_follow_ups() = std::move(f);
  }
  return absl::OkStatus();
}

}  // namespace halfsky::evaluation
