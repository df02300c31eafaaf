#include "services/submission/review_service.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/roles.h"
#include "common/catalog/rules/rules.h"
#include "common/labels/labels.h"
#include "common/proto/timestamp.h"
#include "common/server/queued_write_reactor.h"
#include "common/server/unary_reply.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "services/submission/read_access.h"
#include "services/submission/reporting.h"
#include "services/submission/request_checks.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;

namespace {

// FAILED_PRECONDITION with reason and every violation as a BadRequest field
// violation (field = the violation's field, description = its sentence).
absl::Status ViolationsError(absl::string_view message, absl::string_view reason,
                             const std::vector<const v1::RuleViolation*>& violations) {
  std::vector<FieldViolation> fields;
  for (const v1::RuleViolation* v : violations) {
    fields.push_back({v->field(), v->message_zh()});
  }
  const absl::Status bad = InvalidArgumentError(message, fields);
  absl::Status status(absl::StatusCode::kFailedPrecondition, message);
  if (auto payload = bad.GetPayload(kBadRequestTypeUrl); payload.has_value()) {
    status.SetPayload(kBadRequestTypeUrl, *payload);
  }
  return WithReason(status, reason);
}

absl::Status StateError(v1::FormState state, v1::FormAction action) {
  return WithReason(
      absl::FailedPreconditionError(absl::StrCat(
          "报表当前状态为「", labels::LabelZh(state), "」，不能", labels::LabelZh(action),
          " / the form is ", labels::Token(state), "; cannot ", labels::Token(action))),
      "FORM_STATE");
}

bool Allowed(v1::FormAction action, v1::FormState from) {
  switch (action) {
    case v1::FORM_ACTION_SUBMIT:
      return from == v1::FORM_STATE_DRAFT || from == v1::FORM_STATE_RETURNED;
    case v1::FORM_ACTION_RETURN:
    case v1::FORM_ACTION_APPROVE:
      return from == v1::FORM_STATE_SUBMITTED;
    case v1::FORM_ACTION_UNLOCK:
      return from == v1::FORM_STATE_APPROVED;
    default:
      return false;
  }
}

v1::FormState Target(v1::FormAction action) {
  switch (action) {
    case v1::FORM_ACTION_SUBMIT:
      return v1::FORM_STATE_SUBMITTED;
    case v1::FORM_ACTION_RETURN:
      return v1::FORM_STATE_RETURNED;
    case v1::FORM_ACTION_APPROVE:
      return v1::FORM_STATE_APPROVED;
    default:
      return v1::FORM_STATE_DRAFT;
  }
}

}  // namespace

// ------------------------------------------------------------- ApprovedForms

void ApprovedForms::Set(const v1::FormKey& key, bool approved) {
  absl::MutexLock lock(&mu_);
  Key k{key.unit_code(), key.area_code(), key.year()};
  if (approved) {
    approved_.insert(std::move(k));
  } else {
    approved_.erase(k);
  }
}

void ApprovedForms::ReplaceAll(const std::vector<v1::FormKey>& approved) {
  absl::flat_hash_set<Key> next;
  for (const v1::FormKey& key : approved) {
    next.insert(Key{key.unit_code(), key.area_code(), key.year()});
  }
  absl::MutexLock lock(&mu_);
  approved_ = std::move(next);
}

bool ApprovedForms::IsApproved(const v1::FormKey& key) const {
  absl::MutexLock lock(&mu_);
  return approved_.contains(Key{key.unit_code(), key.area_code(), key.year()});
}

absl::Status ApprovedForms::CheckWrite(const WriteRequest& request) const {
  absl::MutexLock lock(&mu_);
  if (approved_.empty()) {
    return absl::OkStatus();
  }
  std::vector<std::string> locked;
  for (const ValueToWrite& v : request.values) {
    const v1::DataKey& k = v.value.key();
    std::string unit;
    if (!k.unit_code().empty()) {
      if (approved_.contains(Key{k.unit_code(), k.area_code(), k.year()})) {
        unit = k.unit_code();
      }
    } else if (const v1::Indicator* ind = catalog_->FindIndicator(k.indicator_id());
               ind != nullptr) {
      for (const std::string& u : ind->responsible_unit_codes()) {
        if (approved_.contains(Key{u, k.area_code(), k.year()})) {
          unit = u;
          break;
        }
      }
    }
    if (!unit.empty()) {
      locked.push_back(
          absl::StrCat(k.indicator_id(), "/", k.area_code(), "/", k.year(), "（", unit, "）"));
    }
  }
  if (locked.empty()) {
    return absl::OkStatus();
  }
  const size_t n = locked.size();
  if (n > 10) {
    locked.resize(10);
    locked.push_back(absl::StrCat("等", n, "项"));
  }
  return WithReason(
      absl::FailedPreconditionError(absl::StrCat(
          "报表已审核，数据已锁定，须由统计局解锁后才能修改 / the values of an approved form are "
          "locked until it is unlocked: ",
          absl::StrJoin(locked, ", "))),
      "FORM_APPROVED");
}

// -------------------------------------------------------------- the service

ReviewServiceImpl::ReviewServiceImpl(std::shared_ptr<const CatalogIndex> catalog,
                                     SubmissionStore* store, ReviewStore* review_store,
                                     ApprovedForms* approved, Clock* clock,
                                     auth::AuthenticateFn authenticate, size_t max_watch_queue)
    : catalog_(std::move(catalog)),
      store_(store),
      review_store_(review_store),
      approved_(approved),
      clock_(clock),
      authenticate_(std::move(authenticate)),
      max_watch_queue_(max_watch_queue) {}

absl::StatusOr<std::unique_ptr<ReviewServiceImpl>> ReviewServiceImpl::Create(
    std::shared_ptr<const CatalogIndex> catalog, SubmissionStore* store, ReviewStore* review_store,
    ApprovedForms* approved, Clock* clock, auth::AuthenticateFn authenticate,
    size_t max_watch_queue) {
  absl::StatusOr<std::vector<v1::Form>> forms =
      review_store->ListForms(0, "", v1::FORM_STATE_APPROVED);
  if (!forms.ok()) {
    return forms.status();
  }
  for (const v1::Form& f : *forms) {
    approved->Set(f.key(), true);
  }
  return std::unique_ptr<ReviewServiceImpl>(
      new ReviewServiceImpl(std::move(catalog), store, review_store, approved, clock,
                            std::move(authenticate), max_watch_queue));
}

absl::StatusOr<v1::FormKey> ReviewServiceImpl::CheckKey(const v1::FormKey& key,
                                                        const std::string& field) const {
  return CheckFormKey(key, *catalog_, field);
}

namespace {

// Current values matching `filter` (every page) into `table`.
absl::Status LoadFigures(SubmissionStore* store, const CatalogIndex& catalog,
                         const CurrentFilter& filter, rules::FigureTable* table) {
  int64_t cursor = 0;
  do {
    absl::StatusOr<CurrentPage> page = store->ListCurrent(filter, cursor, 5000);
    if (!page.ok()) {
      return page.status();
    }
    for (const v1::Revision& r : page->revisions) {
      if (const v1::Indicator* ind = catalog.FindIndicator(r.data_value().key().indicator_id());
          ind != nullptr) {
        table->Add(r.data_value(), *ind);
      }
    }
    cursor = page->next_cursor;
  } while (cursor != 0);
  return absl::OkStatus();
}

v1::ValidateDataResponse Summarize(std::vector<v1::RuleViolation> violations, int checked) {
  v1::ValidateDataResponse out;
  for (auto& v : violations) {
    if (v.importance() == v1::RULE_IMPORTANCE_ERROR) {
      out.set_error_count(out.error_count() + 1);
    } else {
      out.set_warning_count(out.warning_count() + 1);
    }
    *out.add_violations() = std::move(v);
  }
  out.set_checked_count(checked);
  return out;
}

}  // namespace

absl::StatusOr<v1::ValidateDataResponse> ReviewServiceImpl::Validate(
    const v1::Principal& principal, const v1::ValidateDataRequest& request) {
  std::string unit = request.unit_code();
  if (absl::Status st = ScopeListToOwnUnit(principal, &unit); !st.ok()) {
    return st;
  }
  if (unit.empty() && !ReadsEverything(principal)) {
    return auth::RequireRole(
        principal, {v1::ROLE_KIND_STATISTICS, v1::ROLE_KIND_ASSESSMENT, v1::ROLE_KIND_ADMIN});
  }
  const auto& c = catalog_->catalog();
  HALFSKY_RETURN_IF_ERROR(CheckValidateDataRequest(request, unit, *catalog_));
  std::vector<v1::ValidationRule> rules = rules::RulesInForce(c);
  CurrentFilter filter;
  filter.years = {request.year(), request.year() - 1};
  if (!request.area_code().empty()) {
    // The area's own figures, and its children's for the children-sum rules.
    filter.area_codes = {request.area_code()};
    for (const v1::Area* child : catalog_->Children(request.area_code())) {
      filter.area_codes.push_back(child->code());
    }
  }
  if (!unit.empty()) {
    absl::flat_hash_set<std::string> own;
    for (const v1::Indicator* ind : catalog_->IndicatorsOfUnit(unit)) {
      own.insert(ind->id());
    }
    rules = rules::RulesTouching(rules, own);
    absl::flat_hash_set<std::string> used;
    for (const auto& r : rules) {
      for (const auto& t : r.left()) used.insert(t.indicator_id());
      for (const auto& t : r.right()) used.insert(t.indicator_id());
    }
    if (used.empty()) {
      return v1::ValidateDataResponse();
    }
    filter.indicator_ids.assign(used.begin(), used.end());
    std::sort(filter.indicator_ids.begin(), filter.indicator_ids.end());
  }
  rules::FigureTable table;
  if (absl::Status st = LoadFigures(store_, *catalog_, filter, &table); !st.ok()) {
    return st;
  }
  std::vector<std::pair<std::string, int>> scope;
  for (auto& ay : table.AreaYears()) {
    if (ay.second == request.year() &&
        (request.area_code().empty() || ay.first == request.area_code())) {
      scope.push_back(std::move(ay));
    }
  }
  int checked = 0;
  std::vector<v1::RuleViolation> violations = rules::Evaluate(rules, c, table, scope, &checked);
  return Summarize(std::move(violations), checked);
}

absl::StatusOr<v1::ValidateDataResponse> ReviewServiceImpl::ValidateForm(const v1::FormKey& key) {
  v1::Principal system;
  system.set_name("review");
  system.add_roles()->set_kind(v1::ROLE_KIND_ADMIN);
  v1::ValidateDataRequest request;
  request.set_unit_code(key.unit_code());
  request.set_area_code(key.area_code());
  request.set_year(key.year());
  return Validate(system, request);
}

absl::StatusOr<v1::Form> ReviewServiceImpl::Act(const v1::Principal& principal,
                                                v1::FormAction action, const v1::FormKey& raw,
                                                const std::string& text) {
  absl::StatusOr<v1::FormKey> key = CheckKey(raw, "key");
  if (!key.ok()) {
    return key.status();
  }
  if (action == v1::FORM_ACTION_SUBMIT) {
    if (!auth::IsUnit(principal, key->unit_code()) &&
        !auth::HasRole(principal, v1::ROLE_KIND_ADMIN)) {
      return WithReason(
          absl::PermissionDeniedError(absl::StrCat(
              "只有成员单位「", key->unit_code(), "」本身可以报送其报表 / only unit ",
              key->unit_code(), " may submit its form (principal \"", principal.name(), "\")")),
          "NOT_OWN_FORM");
    }
  } else if (absl::Status st =
                 auth::RequireRole(principal, {v1::ROLE_KIND_STATISTICS, v1::ROLE_KIND_ADMIN});
             !st.ok()) {
    return st;
  }
  const bool needs_reason = action == v1::FORM_ACTION_RETURN || action == v1::FORM_ACTION_UNLOCK;
  HALFSKY_RETURN_IF_ERROR(CheckFormActionText(action, text));

  absl::MutexLock lock(&act_mu_);
  absl::StatusOr<v1::Form> current = review_store_->GetForm(*key);
  if (!current.ok()) {
    return current.status();
  }
  if (!Allowed(action, current->state())) {
    return StateError(current->state(), action);
  }
  v1::FormEvent event;
  *event.mutable_key() = *key;
  event.set_action(action);
  event.set_from_state(current->state());
  event.set_to_state(Target(action));
  event.set_actor(principal.name());
  SetTimestamp(clock_->Now(), event.mutable_at());
  if (needs_reason) {
    event.set_reason(text);
  } else if (action == v1::FORM_ACTION_SUBMIT) {
    event.set_explanation(text);
  }

  if (action == v1::FORM_ACTION_SUBMIT) {
    absl::StatusOr<v1::ValidateDataResponse> v = ValidateForm(*key);
    if (!v.ok()) {
      return v.status();
    }
    std::vector<const v1::RuleViolation*> errors, warnings;
    for (const auto& viol : v->violations()) {
      (viol.importance() == v1::RULE_IMPORTANCE_ERROR ? errors : warnings).push_back(&viol);
    }
    if (!errors.empty()) {
      return ViolationsError(
          absl::StrCat("逻辑审核未通过，", errors.size(), "条错误规则不满足，不能报送 / ",
                       errors.size(), " ERROR rule(s) broken; the form cannot be submitted"),
          "VALIDATION_FAILED", errors);
    }
    if (!warnings.empty() && text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return ViolationsError(
          absl::StrCat(warnings.size(),
                       "条提示规则不满足，须填写情况说明后报送 / an explanation is required for ",
                       warnings.size(), " broken WARNING rule(s)"),
          "EXPLANATION_REQUIRED", warnings);
    }
  }

  if (action == v1::FORM_ACTION_APPROVE) {
    // Parent after children: every child area the unit reported for (or
    // whose form moved) must be approved first.
    std::vector<std::string> own;
    for (const v1::Indicator* ind : catalog_->IndicatorsOfUnit(key->unit_code())) {
      own.push_back(ind->id());
    }
    std::vector<std::string> pending;
    for (const v1::Area* child : catalog_->Children(key->area_code())) {
      v1::FormKey ck = *key;
      ck.set_area_code(child->code());
      absl::StatusOr<v1::Form> cf = review_store_->GetForm(ck);
      if (!cf.ok()) {
        return cf.status();
      }
      if (cf->state() == v1::FORM_STATE_APPROVED) {
        continue;
      }
      bool reported = cf->state() != v1::FORM_STATE_DRAFT || cf->has_changed_at();
      if (!reported && !own.empty()) {
        CurrentFilter f;
        f.indicator_ids = own;
        f.area_codes = {child->code()};
        f.years = {key->year()};
        absl::StatusOr<CurrentPage> page = store_->ListCurrent(f, 0, 1);
        if (!page.ok()) {
          return page.status();
        }
        reported = !page->revisions.empty();
      }
      if (reported) {
        pending.push_back(absl::StrCat(child->code(), " ", child->name_zh(), "（",
                                       labels::LabelZh(cf->state()), "）"));
      }
    }
    if (!pending.empty()) {
      return WithReason(absl::FailedPreconditionError(absl::StrCat(
                            "下级区域的报表须先审核通过：", absl::StrJoin(pending, "、"),
                            " / the forms of the child areas must be approved first")),
                        "CHILDREN_NOT_APPROVED");
    }
    // Lock first, then check the figures the lock now protects: a write
    // the committer applies after this point is refused.
    approved_->Set(*key, true);
    absl::StatusOr<v1::ValidateDataResponse> v = ValidateForm(*key);
    if (!v.ok()) {
      approved_->Set(*key, false);
      return v.status();
    }
    std::vector<const v1::RuleViolation*> errors;
    for (const auto& viol : v->violations()) {
      if (viol.importance() == v1::RULE_IMPORTANCE_ERROR) {
        errors.push_back(&viol);
      }
    }
    if (!errors.empty()) {
      approved_->Set(*key, false);
      return ViolationsError(
          absl::StrCat("报送后数据已改动，", errors.size(), "条错误规则不满足，不能审核通过 / ",
                       errors.size(), " ERROR rule(s) broken; the form cannot be approved"),
          "VALIDATION_FAILED", errors);
    }
  }

  if (action == v1::FORM_ACTION_UNLOCK) {
    const v1::Area* area = catalog_->FindArea(key->area_code());
    if (area != nullptr && !area->parent_code().empty()) {
      v1::FormKey pk = *key;
      pk.set_area_code(area->parent_code());
      if (approved_->IsApproved(pk)) {
        return WithReason(absl::FailedPreconditionError(absl::StrCat(
                              "上级区域 ", area->parent_code(),
                              " 的报表已审核，须先解锁上级 / the parent area's form is approved; "
                              "unlock it first")),
                          "PARENT_APPROVED");
      }
    }
  }

  absl::StatusOr<v1::Form> form = review_store_->Transition(event);
  if (!form.ok()) {
    if (action == v1::FORM_ACTION_APPROVE) {
      approved_->Set(*key, false);
    }
    return form.status();
  }
  if (action == v1::FORM_ACTION_UNLOCK) {
    approved_->Set(*key, false);
  }
  Publish(*form, event);
  return form;
}

// ------------------------------------------------------------------- RPCs

grpc::ServerUnaryReactor* ReviewServiceImpl::ValidateData(grpc::CallbackServerContext* ctx,
                                                          const v1::ValidateDataRequest* request,
                                                          v1::ValidateDataResponse* response) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  absl::StatusOr<v1::ValidateDataResponse> out = Validate(*principal, *request);
  if (out.ok()) {
    *response = *std::move(out);
  }
  return server::FinishUnary(ctx, out.status());
}

#define HALFSKY_REVIEW_ACTION(Method, Request, action, text)                              \
  grpc::ServerUnaryReactor* ReviewServiceImpl::Method(                                    \
      grpc::CallbackServerContext* ctx, const v1::Request* request, v1::Form* response) { \
    absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);                        \
    if (!principal.ok()) {                                                                \
      return server::FinishUnary(ctx, principal.status());                                \
    }                                                                                     \
    absl::StatusOr<v1::Form> form = Act(*principal, action, request->key(), text);        \
    if (form.ok()) {                                                                      \
      *response = *std::move(form);                                                       \
    }                                                                                     \
    return server::FinishUnary(ctx, form.status());                                       \
  }

HALFSKY_REVIEW_ACTION(SubmitForm, SubmitFormRequest, v1::FORM_ACTION_SUBMIT, request->explanation())
HALFSKY_REVIEW_ACTION(ReturnForm, ReturnFormRequest, v1::FORM_ACTION_RETURN, request->reason())
HALFSKY_REVIEW_ACTION(ApproveForm, ApproveFormRequest, v1::FORM_ACTION_APPROVE, std::string())
HALFSKY_REVIEW_ACTION(UnlockForm, UnlockFormRequest, v1::FORM_ACTION_UNLOCK, request->reason())

#undef HALFSKY_REVIEW_ACTION

grpc::ServerUnaryReactor* ReviewServiceImpl::ListForms(grpc::CallbackServerContext* ctx,
                                                       const v1::ListFormsRequest* request,
                                                       v1::ListFormsResponse* response) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  std::string unit = request->unit_code();
  if (absl::Status st = ScopeListToOwnUnit(*principal, &unit); !st.ok()) {
    return server::FinishUnary(ctx, st);
  }
  if (unit.empty() && !ReadsEverything(*principal)) {
    return server::FinishUnary(
        ctx, auth::RequireRole(*principal, {v1::ROLE_KIND_STATISTICS, v1::ROLE_KIND_ASSESSMENT,
                                            v1::ROLE_KIND_ADMIN}));
  }
  if (absl::Status st = CheckListFormsRequest(*request, unit, *catalog_); !st.ok()) {
    return server::FinishUnary(ctx, st);
  }
  absl::StatusOr<std::vector<v1::Form>> forms =
      review_store_->ListForms(request->year(), unit, request->state());
  if (!forms.ok()) {
    return server::FinishUnary(ctx, forms.status());
  }
  for (auto& f : *forms) {
    *response->add_forms() = std::move(f);
  }
  return server::FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* ReviewServiceImpl::GetFormHistory(
    grpc::CallbackServerContext* ctx, const v1::GetFormHistoryRequest* request,
    v1::GetFormHistoryResponse* response) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  absl::StatusOr<v1::FormKey> key = CheckKey(request->key(), "key");
  if (!key.ok()) {
    return server::FinishUnary(ctx, key.status());
  }
  std::string unit = key->unit_code();
  if (absl::Status st = ScopeListToOwnUnit(*principal, &unit); !st.ok()) {
    return server::FinishUnary(ctx, st);
  }
  if (!auth::IsUnit(*principal, unit) && !ReadsEverything(*principal)) {
    return server::FinishUnary(
        ctx, auth::RequireRole(*principal, {v1::ROLE_KIND_STATISTICS, v1::ROLE_KIND_ASSESSMENT,
                                            v1::ROLE_KIND_ADMIN}));
  }
  absl::StatusOr<std::vector<v1::FormEvent>> events = review_store_->History(*key);
  if (!events.ok()) {
    return server::FinishUnary(ctx, events.status());
  }
  for (auto& e : *events) {
    *response->add_events() = std::move(e);
  }
  return server::FinishUnary(ctx, absl::OkStatus());
}

}  // namespace halfsky::submission

namespace halfsky::submission {

// ---------------------------------------------------------------- WatchForms

// One WatchForms stream; owned by gRPC, deletes itself in OnDone. The
// service queues to it under its own locks (common/server's reactor only
// queues there).
class ReviewServiceImpl::WatchReactor final
    : public server::QueuedWriteReactor<v1::FormWatchEvent> {
 public:
  WatchReactor(ReviewServiceImpl* service, int year, std::string unit_code)
      : QueuedWriteReactor(
            "报表订阅积压过多，请重新订阅 / watcher fell behind; watch again to resync"),
        service_(service),
        year_(year),
        unit_code_(std::move(unit_code)) {}

  void Begin() {
    absl::Status st = service_->Subscribe(this);
    if (!st.ok()) {
      Close(st);
      return;
    }
    StartWriting(service_->max_watch_queue_);
  }

  bool Matches(const v1::FormKey& key) const {
    return (year_ == 0 || key.year() == year_) &&
           (unit_code_.empty() || key.unit_code() == unit_code_);
  }
  int year() const { return year_; }
  const std::string& unit_code() const { return unit_code_; }

  void Queue(const v1::FormWatchEvent& event) { Enqueue(event); }
  void End(const absl::Status& status) { Close(status); }

  void OnDone() override {
    service_->Unsubscribe(this);
    delete this;
  }

 private:
  ReviewServiceImpl* const service_;
  const int year_;
  const std::string unit_code_;
};

absl::Status ReviewServiceImpl::Subscribe(WatchReactor* watcher) {
  absl::MutexLock act(&act_mu_);
  {
    absl::MutexLock lock(&watch_mu_);
    if (shutting_down_) {
      return absl::UnavailableError("服务正在停止 / server shutting down");
    }
  }
  absl::StatusOr<std::vector<v1::Form>> forms =
      review_store_->ListForms(watcher->year(), watcher->unit_code(), v1::FORM_STATE_UNSPECIFIED);
  if (!forms.ok()) {
    return forms.status();
  }
  for (v1::Form& f : *forms) {
    v1::FormWatchEvent e;
    e.set_type(v1::FORM_WATCH_EVENT_TYPE_CURRENT);
    *e.mutable_form() = std::move(f);
    watcher->Queue(e);
  }
  v1::FormWatchEvent synced;
  synced.set_type(v1::FORM_WATCH_EVENT_TYPE_SYNCED);
  watcher->Queue(synced);
  absl::MutexLock lock(&watch_mu_);
  watchers_.insert(watcher);
  return absl::OkStatus();
}

void ReviewServiceImpl::Unsubscribe(WatchReactor* watcher) {
  absl::MutexLock lock(&watch_mu_);
  watchers_.erase(watcher);
}

void ReviewServiceImpl::Publish(const v1::Form& form, const v1::FormEvent& event) {
  v1::FormWatchEvent e;
  e.set_type(v1::FORM_WATCH_EVENT_TYPE_CHANGED);
  *e.mutable_form() = form;
  *e.mutable_event() = event;
  absl::MutexLock lock(&watch_mu_);
  for (WatchReactor* w : watchers_) {
    if (w->Matches(form.key())) {
      w->Queue(e);
    }
  }
}

void ReviewServiceImpl::Shutdown() {
  absl::MutexLock lock(&watch_mu_);
  shutting_down_ = true;
  for (WatchReactor* w : watchers_) {
    w->End(absl::UnavailableError("服务正在停止 / server shutting down"));
  }
}

grpc::ServerWriteReactor<v1::FormWatchEvent>* ReviewServiceImpl::WatchForms(
    grpc::CallbackServerContext* ctx, const v1::WatchFormsRequest* request) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  std::string unit = request->unit_code();
  absl::Status allowed = principal.status();
  if (allowed.ok()) {
    allowed = ScopeListToOwnUnit(*principal, &unit);
  }
  if (allowed.ok() && unit.empty() && !ReadsEverything(*principal)) {
    allowed = auth::RequireRole(
        *principal, {v1::ROLE_KIND_STATISTICS, v1::ROLE_KIND_ASSESSMENT, v1::ROLE_KIND_ADMIN});
  }
  if (allowed.ok() && !unit.empty() && catalog_->FindMemberUnit(unit) == nullptr) {
    allowed = InvalidArgumentError(
        "未知成员单位 / unknown member unit",
        {{"unit_code", absl::StrCat("未知成员单位「", unit, "」 / unknown member unit")}});
  }
  auto* reactor = new WatchReactor(this, request->year(), unit);
  if (!allowed.ok()) {
    reactor->End(allowed);
    return reactor;
  }
  reactor->Begin();
  return reactor;
}

// ------------------------------------------------------------ GetReviewBoard

absl::StatusOr<v1::GetReviewBoardResponse> ReviewServiceImpl::Board(
    const v1::Principal& principal, const v1::GetReviewBoardRequest& request) {
  std::vector<std::string> units(request.unit_codes().begin(), request.unit_codes().end());
  if (absl::Status st = ScopeReportingToOwnUnits(principal, &units); !st.ok()) {
    return st;
  }
  if (units.empty() && !ReadsEverything(principal)) {
    return auth::RequireRole(
        principal, {v1::ROLE_KIND_STATISTICS, v1::ROLE_KIND_ASSESSMENT, v1::ROLE_KIND_ADMIN});
  }
  const auto& c = catalog_->catalog();
  if (request.year() < c.base_year() || request.year() > c.final_year()) {
    return InvalidArgumentError(
        "年份无效 / invalid year",
        {{"year", absl::StrCat("年份须在", c.base_year(), "—", c.final_year(),
                               "之间 / year outside ", c.base_year(), "–", c.final_year())}});
  }
  if (request.has_as_of() &&
      (request.as_of().seconds() < google::protobuf::util::TimeUtil::kTimestampMinSeconds ||
       request.as_of().seconds() > google::protobuf::util::TimeUtil::kTimestampMaxSeconds ||
       request.as_of().nanos() < 0 || request.as_of().nanos() > 999999999)) {
    return InvalidArgumentError(
        "as_of 不是有效时间 / as_of is not a valid timestamp",
        {{"as_of",
          "时间超出0001-01-01至9999-12-31或纳秒无效 / outside 0001-01-01..9999-12-31 "
          "or invalid nanos"}});
  }
  const absl::Time as_of = request.has_as_of() ? FromTimestamp(request.as_of()) : clock_->Now();
  absl::StatusOr<std::vector<ReportingTimes>> times = store_->ListReportingTimes(request.year());
  if (!times.ok()) {
    return times.status();
  }
  absl::StatusOr<v1::GetReportingStatusResponse> status =
      ComputeReportingStatus(*catalog_, request.year(), units, as_of, *times);
  if (!status.ok()) {
    return status.status();
  }
  absl::StatusOr<std::vector<v1::Form>> forms =
      review_store_->ListForms(request.year(), "", v1::FORM_STATE_UNSPECIFIED);
  if (!forms.ok()) {
    return forms.status();
  }
  const std::string root = catalog_->RootArea().code();
  v1::GetReviewBoardResponse out;
  for (const v1::ReportingSummary& summary : status->units()) {
    v1::ReviewBoardRow* row = out.add_rows();
    row->set_unit_code(summary.unit_code());
    row->set_year(request.year());
    row->mutable_form()->mutable_key()->set_unit_code(summary.unit_code());
    row->mutable_form()->mutable_key()->set_area_code(root);
    row->mutable_form()->mutable_key()->set_year(request.year());
    row->mutable_form()->set_state(v1::FORM_STATE_DRAFT);
    absl::Time due = absl::InfinitePast();
    for (const v1::ReportingStatusEntry& e : status->entries()) {
      if (e.unit_code() != summary.unit_code()) {
        continue;
      }
      row->set_expected_count(row->expected_count() + 1);
      if (e.state() == v1::REPORTING_STATE_ON_TIME || e.state() == v1::REPORTING_STATE_LATE) {
        row->set_reported_count(row->reported_count() + 1);
      }
      due = std::max(due, FromTimestamp(e.due_at()));
    }
    for (const v1::Form& f : *forms) {
      if (f.key().unit_code() != summary.unit_code()) {
        continue;
      }
      if (f.key().area_code() == root) {
        *row->mutable_form() = f;
      } else {
        *row->add_area_forms() = f;
      }
    }
    if (due != absl::InfinitePast()) {
      SetTimestamp(due, row->mutable_due_at());
      const v1::FormState state = row->form().state();
      row->set_overdue(as_of > due &&
                       (state == v1::FORM_STATE_DRAFT || state == v1::FORM_STATE_RETURNED));
    }
  }
  return out;
}

grpc::ServerUnaryReactor* ReviewServiceImpl::GetReviewBoard(
    grpc::CallbackServerContext* ctx, const v1::GetReviewBoardRequest* request,
    v1::GetReviewBoardResponse* response) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  absl::StatusOr<v1::GetReviewBoardResponse> board = Board(*principal, *request);
  if (board.ok()) {
    *response = *std::move(board);
  }
  return server::FinishUnary(ctx, board.status());
}

}  // namespace halfsky::submission
