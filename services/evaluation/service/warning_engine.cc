#include "services/evaluation/service/warning_engine.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/labels/labels.h"
#include "common/proto/timestamp.h"
#include "common/status/status.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"

namespace halfsky::evaluation {
namespace {

using ::halfsky::v1::Warning;
using ::halfsky::v1::WarningEvent;

// The fields the evaluator computes; two warnings with equal content are
// "no change".
Warning Content(const Warning& w) {
  Warning c;
  c.set_severity(w.severity());
  c.set_status(w.status());
  *c.mutable_figures() = w.figures();
  *c.mutable_responsible_unit_codes() = w.responsible_unit_codes();
  c.set_explanation_zh(w.explanation_zh());
  c.set_explanation_en(w.explanation_en());
  c.set_domain_id(w.domain_id());
  c.set_indicator_name_zh(w.indicator_name_zh());
  c.set_data_year(w.data_year());
  *c.mutable_missing_indicator_ids() = w.missing_indicator_ids();
  c.set_days_overdue(w.days_overdue());
  return c;
}

bool SameContent(const Warning& a, const Warning& b) {
  return google::protobuf::util::MessageDifferencer::Equals(Content(a), Content(b));
}

using SortKey = std::tuple<int, std::string, std::string>;
SortKey KeyOf(const Warning& w) {
  return {-static_cast<int>(w.severity()), w.indicator_id(), w.id()};
}

// The List order without building keys (no allocation per comparison).
bool Before(const Warning& a, const Warning& b) {
  if (a.severity() != b.severity()) {
    return a.severity() > b.severity();
  }
  if (int c = a.indicator_id().compare(b.indicator_id()); c != 0) {
    return c < 0;
  }
  return a.id() < b.id();
}

// True when `w` sorts strictly after the key `k`.
bool After(const SortKey& k, const Warning& w) {
  const int sev = -static_cast<int>(w.severity());
  if (std::get<0>(k) != sev) {
    return std::get<0>(k) < sev;
  }
  if (int c = std::get<1>(k).compare(w.indicator_id()); c != 0) {
    return c < 0;
  }
  return std::get<2>(k) < w.id();
}

std::string EncodeToken(const SortKey& k) {
  return absl::StrCat(-std::get<0>(k), "|", std::get<1>(k), "|", std::get<2>(k));
}

absl::StatusOr<SortKey> DecodeToken(absl::string_view token) {
  std::vector<std::string> parts = absl::StrSplit(token, absl::MaxSplits('|', 2));
  int severity = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &severity)) {
    return InvalidArgumentError("分页令牌无效 / invalid page token",
                                {{"page_token", "无法识别的分页令牌 / unrecognized page token"}});
  }
  return SortKey{-severity, parts[1], parts[2]};
}

}  // namespace

const char* WarningKindName(halfsky::v1::WarningKind kind) {
  const std::string& token = labels::Token(kind);
  return token.empty() ? "unspecified" : token.c_str();
}

std::string WarningId(absl::string_view indicator_id, absl::string_view area_code,
                      halfsky::v1::WarningKind kind, int target_year) {
  return absl::StrCat(indicator_id, ":", area_code, ":", WarningKindName(kind), ":", target_year);
}

std::string LateDataWarningId(absl::string_view unit_code, absl::string_view area_code,
                              int data_year) {
  return absl::StrCat("unit.", unit_code, ":", area_code, ":",
                      WarningKindName(halfsky::v1::WARNING_KIND_LATE_DATA), ":", data_year);
}

std::string WarningIdOf(const Warning& w) {
  if (!w.unit_code().empty()) {
    return LateDataWarningId(w.unit_code(), w.area_code(), w.data_year());
  }
  return WarningId(w.indicator_id(), w.area_code(), w.kind(), w.target_year());
}

bool MatchesFilter(const Warning& w, const halfsky::v1::ListWarningsRequest& f, bool ignore_state) {
  if (!f.domain_id().empty() && w.domain_id() != f.domain_id()) {
    return false;
  }
  if (!f.indicator_id().empty() && w.indicator_id() != f.indicator_id() &&
      std::find(w.missing_indicator_ids().begin(), w.missing_indicator_ids().end(),
                f.indicator_id()) == w.missing_indicator_ids().end()) {
    return false;
  }
  if ((!f.area_code().empty() || !f.area_codes().empty()) && w.area_code() != f.area_code() &&
      !std::binary_search(f.area_codes().begin(), f.area_codes().end(), w.area_code())) {
    return false;
  }
  if (f.kind() != halfsky::v1::WARNING_KIND_UNSPECIFIED && w.kind() != f.kind()) {
    return false;
  }
  if (f.min_severity() != halfsky::v1::SEVERITY_UNSPECIFIED && w.severity() < f.min_severity()) {
    return false;
  }
  if (!ignore_state) {
    const halfsky::v1::WarningState want = f.state() == halfsky::v1::WARNING_STATE_UNSPECIFIED
                                               ? halfsky::v1::WARNING_STATE_FIRING
                                               : f.state();
    if (w.state() != want) {
      return false;
    }
  }
  if (!f.responsible_unit_code().empty() &&
      std::find(w.responsible_unit_codes().begin(), w.responsible_unit_codes().end(),
                f.responsible_unit_code()) == w.responsible_unit_codes().end()) {
    return false;
  }
  return true;
}

absl::StatusOr<std::unique_ptr<WarningEngine>> WarningEngine::Create(WarningStore* store,
                                                                     Clock* clock) {
  HALFSKY_ASSIGN_OR_RETURN(std::vector<Warning> stored, store->LoadAll());
  std::unique_ptr<WarningEngine> engine(new WarningEngine(store, clock));
  absl::MutexLock lock(&engine->mu_);
  for (Warning& w : stored) {
    std::string id = w.id();
    engine->warnings_.emplace(std::move(id), std::make_shared<const Warning>(std::move(w)));
  }
  engine->PublishLocked();
  return engine;
}

std::unique_ptr<WarningEngine> WarningEngine::CreateMirror(Clock* clock, absl::Status not_synced) {
  std::unique_ptr<WarningEngine> engine(new WarningEngine(nullptr, clock));
  absl::MutexLock lock(&engine->mu_);
  {
    absl::MutexLock set_lock(&engine->set_mu_);
    engine->suspended_ = std::move(not_synced);
  }
  engine->PublishLocked();
  return engine;
}

void WarningEngine::EmitLocked(halfsky::v1::WarningEventType type, const Warning& w,
                               const Warning* previous, absl::Time now) {
  if (watchers_.empty()) {
    return;
  }
  WarningEvent event;
  event.set_type(type);
  *event.mutable_warning() = w;
  *event.mutable_at() = ToTimestamp(now);
  DeliverLocked(event, previous);
}

void WarningEngine::DeliverLocked(const WarningEvent& event, const Warning* previous) {
  for (WarningWatcher* watcher : watchers_) {
    watcher->OnEvent(event, previous);
  }
}

void WarningEngine::Suspend(const absl::Status& status) {
  const absl::Status why = status.ok() ? absl::UnavailableError("suspended") : status;
  absl::MutexLock lock(&mu_);
  {
    absl::MutexLock set_lock(&set_mu_);
    suspended_ = why;
  }
  for (WarningWatcher* w : watchers_) {
    w->OnClose(why);
  }
  watchers_.clear();
}

absl::Status WarningEngine::Resume(std::vector<Warning> warnings) {
  absl::MutexLock lock(&mu_);
  if (store_ != nullptr) {
    return absl::FailedPreconditionError("Resume on a primary engine");
  }
  warnings_.clear();
  for (Warning& w : warnings) {
    std::string id = w.id();
    warnings_[std::move(id)] = std::make_shared<const Warning>(std::move(w));
  }
  ++version_;
  PublishLocked();
  absl::MutexLock set_lock(&set_mu_);
  suspended_ = absl::OkStatus();
  return absl::OkStatus();
}

absl::Status WarningEngine::ApplyEvent(const WarningEvent& event) {
  switch (event.type()) {
    case halfsky::v1::WARNING_EVENT_TYPE_FIRED:
    case halfsky::v1::WARNING_EVENT_TYPE_UPDATED:
    case halfsky::v1::WARNING_EVENT_TYPE_RESOLVED:
    case halfsky::v1::WARNING_EVENT_TYPE_ACKNOWLEDGED:
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("not a change event: ", halfsky::v1::WarningEventType_Name(event.type())));
  }
  if (event.warning().id().empty()) {
    return absl::InvalidArgumentError("change event without a warning id");
  }
  absl::MutexLock lock(&mu_);
  if (store_ != nullptr) {
    return absl::FailedPreconditionError("ApplyEvent on a primary engine");
  }
  if (absl::Status why = availability(); !why.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("mirror is suspended: ", why.message()));
  }
  auto next = std::make_shared<const Warning>(event.warning());
  WarningSet::Ptr& slot = warnings_[next->id()];
  const WarningSet::Ptr previous = slot;  // shared: valid after the swap
  slot = next;
  ++version_;
  PublishLocked();
  DeliverLocked(event, previous.get());
  return absl::OkStatus();
}

absl::Status WarningEngine::availability() const {
  absl::MutexLock lock(&set_mu_);
  return suspended_;
}

absl::StatusOr<WarningEngine::ReconcileResult> WarningEngine::Reconcile(
    const std::function<bool(const Warning&)>& in_scope, std::vector<Warning> candidates) {
  if (store_ == nullptr) {
    return absl::FailedPreconditionError("a mirror engine does not evaluate");
  }
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  const google::protobuf::Timestamp now_proto = ToTimestamp(now);

  // Deduplicate by identity: the more severe candidate wins.
  absl::flat_hash_map<std::string, Warning> wanted;
  std::vector<std::string> order;
  for (Warning& c : candidates) {
    c.set_id(WarningIdOf(c));
    auto it = wanted.find(c.id());
    if (it == wanted.end()) {
      order.push_back(c.id());
      std::string id = c.id();
      wanted.emplace(std::move(id), std::move(c));
    } else if (c.severity() > it->second.severity()) {
      it->second = std::move(c);
    }
  }

  struct Change {
    halfsky::v1::WarningEventType type;
    Warning next;
    WarningSet::Ptr previous;  // shared: stays valid when warnings_ changes
  };
  std::vector<Change> changes;
  ReconcileResult result;
  for (const std::string& id : order) {
    Warning& c = wanted[id];
    auto it = warnings_.find(id);
    if (it == warnings_.end() || it->second->state() != halfsky::v1::WARNING_STATE_FIRING) {
      Warning next = std::move(c);
      next.set_state(halfsky::v1::WARNING_STATE_FIRING);
      next.set_episode(it == warnings_.end() ? 1 : it->second->episode() + 1);
      *next.mutable_firing_since() = now_proto;
      *next.mutable_last_evaluated() = now_proto;
      next.clear_resolved_at();
      next.clear_acknowledgement();
      changes.push_back({halfsky::v1::WARNING_EVENT_TYPE_FIRED, std::move(next),
                         it == warnings_.end() ? nullptr : it->second});
      ++result.fired;
    } else if (!SameContent(*it->second, c)) {
      Warning next = *it->second;
      const Warning content = Content(c);
      next.set_severity(content.severity());
      next.set_status(content.status());
      *next.mutable_figures() = content.figures();
      *next.mutable_responsible_unit_codes() = content.responsible_unit_codes();
      next.set_explanation_zh(content.explanation_zh());
      next.set_explanation_en(content.explanation_en());
      next.set_domain_id(content.domain_id());
      next.set_indicator_name_zh(content.indicator_name_zh());
      next.set_data_year(content.data_year());
      *next.mutable_missing_indicator_ids() = content.missing_indicator_ids();
      next.set_days_overdue(content.days_overdue());
      *next.mutable_last_evaluated() = now_proto;
      changes.push_back({halfsky::v1::WARNING_EVENT_TYPE_UPDATED, std::move(next), it->second});
      ++result.updated;
    } else {
      ++result.unchanged;
    }
  }
  for (auto& [id, w] : warnings_) {
    if (w->state() == halfsky::v1::WARNING_STATE_FIRING && !wanted.contains(id) && in_scope(*w)) {
      Warning next = *w;
      next.set_state(halfsky::v1::WARNING_STATE_RESOLVED);
      *next.mutable_resolved_at() = now_proto;
      *next.mutable_last_evaluated() = now_proto;
      changes.push_back({halfsky::v1::WARNING_EVENT_TYPE_RESOLVED, std::move(next), w});
      ++result.resolved;
    }
  }
  if (changes.empty()) {
    return result;
  }
  std::vector<Warning> rows;
  rows.reserve(changes.size());
  for (const Change& ch : changes) {
    rows.push_back(ch.next);
  }
  HALFSKY_RETURN_IF_ERROR(store_->Upsert(rows));
  std::vector<WarningSet::Ptr> published;
  published.reserve(changes.size());
  for (Change& ch : changes) {
    auto next = std::make_shared<const Warning>(std::move(ch.next));
    warnings_[next->id()] = next;
    published.push_back(std::move(next));
  }
  // The set first, then the events: a watcher that reads ListWarnings on an
  // event sees at least that change (never the state before it).
  version_ += static_cast<int64_t>(changes.size());
  PublishLocked();
  for (size_t i = 0; i < changes.size(); ++i) {
    EmitLocked(changes[i].type, *published[i], changes[i].previous.get(), now);
  }
  return result;
}

absl::StatusOr<Warning> WarningEngine::Acknowledge(const std::string& id, const std::string& by,
                                                   const std::string& note) {
  if (by.empty()) {
    return absl::InvalidArgumentError("确认人不能为空 / acknowledgement needs who");
  }
  if (note.empty()) {
    return InvalidArgumentError("确认预警需要填写对策建议 / acknowledging needs a note",
                                {{"note", "对策建议不能为空 / note (对策建议) is required"}});
  }
  if (store_ == nullptr) {
    return absl::FailedPreconditionError("a mirror engine stores no acknowledgement");
  }
  absl::MutexLock lock(&mu_);
  auto it = warnings_.find(id);
  if (it == warnings_.end()) {
    return absl::NotFoundError(absl::StrCat("预警不存在 / no warning with id \"", id, "\""));
  }
  const absl::Time now = clock_->Now();
  halfsky::v1::Acknowledgement ack;
  ack.set_by(by);
  ack.set_note(note);
  *ack.mutable_at() = ToTimestamp(now);
  HALFSKY_RETURN_IF_ERROR(store_->Acknowledge(id, it->second->episode(), ack));
  const WarningSet::Ptr previous = it->second;
  auto next = std::make_shared<Warning>(*previous);
  *next->mutable_acknowledgement() = ack;
  it->second = next;
  ++version_;
  PublishLocked();
  EmitLocked(halfsky::v1::WARNING_EVENT_TYPE_ACKNOWLEDGED, *next, previous.get(), now);
  return *next;
}

WarningSet::WarningSet(int64_t version, std::vector<Ptr> warnings)
    : version_(version), all_(std::move(warnings)) {
  std::sort(all_.begin(), all_.end(), [](const Ptr& a, const Ptr& b) { return Before(*a, *b); });
  by_id_.reserve(all_.size());
  for (const Ptr& w : all_) {
    by_id_.emplace(w->id(), w);
    if (w->state() == halfsky::v1::WARNING_STATE_FIRING) {
      firing_.push_back(w);
    } else if (w->state() == halfsky::v1::WARNING_STATE_RESOLVED) {
      resolved_.push_back(w);
    }
  }
}

const std::vector<WarningSet::Ptr>& WarningSet::in_state(halfsky::v1::WarningState state) const {
  switch (state) {
    case halfsky::v1::WARNING_STATE_FIRING:
      return firing_;
    case halfsky::v1::WARNING_STATE_RESOLVED:
      return resolved_;
    default:
      return none_;
  }
}

WarningSet::Ptr WarningSet::Find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<WarningSet::Ptr> WarningSet::Matching(
    const halfsky::v1::ListWarningsRequest& filter) const {
  const halfsky::v1::WarningState state = filter.state() == halfsky::v1::WARNING_STATE_UNSPECIFIED
                                              ? halfsky::v1::WARNING_STATE_FIRING
                                              : filter.state();
  std::vector<Ptr> out;
  for (const Ptr& w : in_state(state)) {
    if (MatchesFilter(*w, filter, /*ignore_state=*/true)) {
      out.push_back(w);
    }
  }
  return out;
}

absl::StatusOr<halfsky::v1::ListWarningsResponse> WarningSet::List(
    const halfsky::v1::ListWarningsRequest& request) const {
  if (request.page_size() < 0) {
    return InvalidArgumentError("分页大小无效 / invalid page size",
                                {{"page_size", "不能为负数 / must not be negative"}});
  }
  const size_t page_size =
      request.page_size() == 0 ? 100 : static_cast<size_t>(std::min(request.page_size(), 1000));
  std::optional<SortKey> after;
  if (!request.page_token().empty()) {
    HALFSKY_ASSIGN_OR_RETURN(after, DecodeToken(request.page_token()));
  }
  const halfsky::v1::WarningState state = request.state() == halfsky::v1::WARNING_STATE_UNSPECIFIED
                                              ? halfsky::v1::WARNING_STATE_FIRING
                                              : request.state();
  const std::vector<Ptr>& index = in_state(state);
  // The index is sorted: the page starts after the token's key.
  auto begin = index.begin();
  if (after.has_value()) {
    begin = std::partition_point(index.begin(), index.end(),
                                 [&](const Ptr& w) { return !After(*after, *w); });
  }
  const bool state_only = request.domain_id().empty() && request.indicator_id().empty() &&
                          request.area_code().empty() && request.area_codes().empty() &&
                          request.kind() == halfsky::v1::WARNING_KIND_UNSPECIFIED &&
                          request.min_severity() == halfsky::v1::SEVERITY_UNSPECIFIED &&
                          request.responsible_unit_code().empty();
  halfsky::v1::ListWarningsResponse response;
  std::vector<const Warning*> page;
  bool more = false;
  if (state_only) {
    response.set_total_count(static_cast<int>(index.size()));
    const size_t available = static_cast<size_t>(index.end() - begin);
    for (auto it = begin; it != begin + std::min(available, page_size); ++it) {
      page.push_back(it->get());
    }
    more = available > page_size;
  } else {
    int total = 0;
    for (auto it = index.begin(); it != index.end(); ++it) {
      if (!MatchesFilter(**it, request, /*ignore_state=*/true)) {
        continue;
      }
      ++total;
      if (it >= begin) {
        if (page.size() < page_size) {
          page.push_back(it->get());
        } else {
          more = true;
        }
      }
    }
    response.set_total_count(total);
  }
  response.mutable_warnings()->Reserve(static_cast<int>(page.size()));
  for (const Warning* w : page) {
    *response.add_warnings() = *w;
  }
  if (more && !page.empty()) {
    response.set_next_page_token(EncodeToken(KeyOf(*page.back())));
  }
  return response;
}

void WarningEngine::PublishLocked() {
  std::vector<WarningSet::Ptr> all;
  all.reserve(warnings_.size());
  for (const auto& [id, w] : warnings_) {
    all.push_back(w);
  }
  auto set = std::make_shared<const WarningSet>(version_, std::move(all));
  {
    absl::MutexLock lock(&set_mu_);
    set_ = set;
  }
  if (observer_) {
    observer_(*set);
  }
}

std::shared_ptr<const WarningSet> WarningEngine::Current() const {
  absl::MutexLock lock(&set_mu_);
  return set_;
}

void WarningEngine::SetObserver(std::function<void(const WarningSet&)> observer) {
  absl::MutexLock lock(&mu_);
  observer_ = std::move(observer);
  if (observer_) {
    std::shared_ptr<const WarningSet> set = Current();
    observer_(*set);
  }
}

absl::StatusOr<halfsky::v1::ListWarningsResponse> WarningEngine::List(
    const halfsky::v1::ListWarningsRequest& request) const {
  return Current()->List(request);
}

absl::StatusOr<Warning> WarningEngine::Get(const std::string& id) const {
  WarningSet::Ptr w = Current()->Find(id);
  if (w == nullptr) {
    return absl::NotFoundError(absl::StrCat("预警不存在 / no warning with id \"", id, "\""));
  }
  return *w;
}

std::vector<Warning> WarningEngine::Snapshot(const halfsky::v1::ListWarningsRequest& filter) const {
  std::vector<Warning> out;
  for (const WarningSet::Ptr& w : Current()->Matching(filter)) {
    out.push_back(*w);
  }
  return out;
}

absl::Status WarningEngine::Subscribe(WarningWatcher* watcher,
                                      const halfsky::v1::ListWarningsRequest& filter,
                                      bool all_states) {
  absl::MutexLock lock(&mu_);
  if (closed_) {
    return absl::UnavailableError("服务正在停止 / shutting down");
  }
  if (absl::Status why = availability(); !why.ok()) {
    return why;
  }
  const google::protobuf::Timestamp now = ToTimestamp(clock_->Now());
  WarningEvent event;
  *event.mutable_at() = now;
  event.set_type(halfsky::v1::WARNING_EVENT_TYPE_CURRENT);
  // Under mu_ no change can be published: Current() is this moment's set.
  const std::shared_ptr<const WarningSet> set = Current();
  for (const WarningSet::Ptr& w : all_states ? set->all() : set->Matching(filter)) {
    if (all_states && !MatchesFilter(*w, filter, /*ignore_state=*/true)) {
      continue;
    }
    *event.mutable_warning() = *w;
    watcher->OnEvent(event, nullptr);
  }
  event.clear_warning();
  event.set_type(halfsky::v1::WARNING_EVENT_TYPE_SYNCED);
  watcher->OnEvent(event, nullptr);
  watchers_.insert(watcher);
  return absl::OkStatus();
}

void WarningEngine::Unsubscribe(WarningWatcher* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(watcher);
}

void WarningEngine::CloseWatchers(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  for (WarningWatcher* w : watchers_) {
    w->OnClose(status);
  }
  watchers_.clear();
}

int WarningEngine::watcher_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return static_cast<int>(watchers_.size());
}

int64_t WarningEngine::version() const {
  absl::ReaderMutexLock lock(&mu_);
  return version_;
}

}  // namespace halfsky::evaluation
