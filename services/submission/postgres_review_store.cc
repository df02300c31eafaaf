#include "services/submission/postgres_review_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/labels/labels.h"
#include "common/proto/timestamp.h"
#include "common/status/status.h"
#include "services/submission/postgres_store.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;
using postgres::Param;
using postgres::Result;

namespace {

constexpr char kFormColumns[] =
    "unit_code, area_code, year, state, explanation, reason, changed_by, changed_at_us";

v1::Form FormFromRow(const Result& r, int i) {
  v1::Form f;
  f.mutable_key()->set_unit_code(r.Text(i, 0));
  f.mutable_key()->set_area_code(r.Text(i, 1));
  f.mutable_key()->set_year(static_cast<int>(r.Int(i, 2)));
  f.set_state(static_cast<v1::FormState>(r.Int(i, 3)));
  f.set_explanation(r.Text(i, 4));
  f.set_reason(r.Text(i, 5));
  f.set_changed_by(r.Text(i, 6));
  SetTimestamp(absl::FromUnixMicros(r.Int(i, 7)), f.mutable_changed_at());
  return f;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresReviewStore>> PostgresReviewStore::Open(
    const postgres::Connection::Options& options) {
  HALFSKY_ASSIGN_OR_RETURN(postgres::Connection conn, postgres::Connection::Open(options));
  return std::unique_ptr<PostgresReviewStore>(new PostgresReviewStore(options, std::move(conn)));
}

absl::Status PostgresReviewStore::EnsureConnected() {
  if (conn_.ok()) return absl::OkStatus();
  HALFSKY_ASSIGN_OR_RETURN(conn_, postgres::Connection::Open(options_));
  return absl::OkStatus();
}

absl::StatusOr<v1::Form> PostgresReviewStore::GetLocked(const v1::FormKey& key) {
  HALFSKY_RETURN_IF_ERROR(EnsureConnected());
  HALFSKY_ASSIGN_OR_RETURN(
      Result r, conn_.Query(absl::StrCat("SELECT ", kFormColumns,
                                         " FROM review_forms WHERE unit_code = $1 AND area_code = "
                                         "$2 AND year = $3"),
                            {Param::Text(key.unit_code()), Param::Text(key.area_code()),
                             Param::Int(key.year())}));
  if (r.rows() > 0) {
    return FormFromRow(r, 0);
  }
  v1::Form f;
  *f.mutable_key() = key;
  f.set_state(v1::FORM_STATE_DRAFT);
  return f;
}

absl::StatusOr<v1::Form> PostgresReviewStore::GetForm(const v1::FormKey& key) {
  absl::MutexLock lock(&mu_);
  return GetLocked(key);
}

absl::StatusOr<v1::Form> PostgresReviewStore::Transition(const v1::FormEvent& event) {
  absl::MutexLock lock(&mu_);
  HALFSKY_RETURN_IF_ERROR(EnsureConnected());
  v1::Form result;
  absl::Status st = postgres::InTransaction(conn_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    HALFSKY_RETURN_IF_ERROR(
        conn_.Query("SELECT pg_advisory_xact_lock($1)", {Param::Int(kSubmissionWriteLockKey)})
            .status());
    HALFSKY_ASSIGN_OR_RETURN(v1::Form current, GetLocked(event.key()));
    if (current.state() != event.from_state()) {
      return WithReason(
          absl::FailedPreconditionError(absl::StrCat(
              "报表当前状态为「", labels::LabelZh(current.state()), "」，不能",
              labels::LabelZh(event.action()), " / the form is ", labels::Token(current.state()),
              "; cannot ", labels::Token(event.action()))),
          "FORM_STATE");
    }
    result = current;
    result.set_state(event.to_state());
    result.set_changed_by(event.actor());
    *result.mutable_changed_at() = event.at();
    if (event.action() == v1::FORM_ACTION_SUBMIT) {
      result.set_explanation(event.explanation());
    }
    if (event.action() == v1::FORM_ACTION_RETURN || event.action() == v1::FORM_ACTION_UNLOCK) {
      result.set_reason(event.reason());
    }
    const int64_t at_us = absl::ToUnixMicros(FromTimestamp(event.at()));
    HALFSKY_RETURN_IF_ERROR(
        conn_
            .Query(absl::StrCat("INSERT INTO review_forms(", kFormColumns,
                                ") VALUES($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT(unit_code, "
                                "area_code, year) DO UPDATE SET state = excluded.state, "
                                "explanation = excluded.explanation, reason = excluded.reason, "
                                "changed_by = excluded.changed_by, changed_at_us = "
                                "excluded.changed_at_us"),
                   {Param::Text(result.key().unit_code()), Param::Text(result.key().area_code()),
                    Param::Int(result.key().year()), Param::Int(result.state()),
                    Param::Text(result.explanation()), Param::Text(result.reason()),
                    Param::Text(result.changed_by()), Param::Int(at_us)})
            .status());
    return conn_
        .Query(
            "INSERT INTO review_events(unit_code, area_code, year, action, from_state, "
            "to_state, actor, at_us, reason, explanation) VALUES($1, $2, $3, $4, $5, $6, $7, "
            "$8, $9, $10)",
            {Param::Text(event.key().unit_code()), Param::Text(event.key().area_code()),
             Param::Int(event.key().year()), Param::Int(event.action()),
             Param::Int(event.from_state()), Param::Int(event.to_state()),
             Param::Text(event.actor()), Param::Int(at_us), Param::Text(event.reason()),
             Param::Text(event.explanation())})
        .status();
  });
  if (!st.ok()) {
    return st;
  }
  return result;
}

absl::StatusOr<std::vector<v1::Form>> PostgresReviewStore::ListForms(int year,
                                                                     const std::string& unit_code,
                                                                     v1::FormState state) {
  absl::MutexLock lock(&mu_);
  HALFSKY_RETURN_IF_ERROR(EnsureConnected());
  HALFSKY_ASSIGN_OR_RETURN(
      Result r, conn_.Query(absl::StrCat("SELECT ", kFormColumns,
                                         " FROM review_forms WHERE ($1 = 0 OR year = $1) AND ($2 = "
                                         "'' OR unit_code = $2) AND ($3 = 0 OR state = $3) ORDER "
                                         "BY year, unit_code, area_code"),
                            {Param::Int(year), Param::Text(unit_code), Param::Int(state)}));
  std::vector<v1::Form> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(FormFromRow(r, i));
  return out;
}

absl::StatusOr<std::vector<v1::FormEvent>> PostgresReviewStore::History(const v1::FormKey& key) {
  absl::MutexLock lock(&mu_);
  HALFSKY_RETURN_IF_ERROR(EnsureConnected());
  HALFSKY_ASSIGN_OR_RETURN(
      Result r,
      conn_.Query(
          "SELECT action, from_state, to_state, actor, at_us, reason, explanation FROM "
          "review_events WHERE unit_code = $1 AND area_code = $2 AND year = $3 ORDER BY "
          "event_id",
          {Param::Text(key.unit_code()), Param::Text(key.area_code()), Param::Int(key.year())}));
  std::vector<v1::FormEvent> out;
  for (int i = 0; i < r.rows(); ++i) {
    v1::FormEvent e;
    *e.mutable_key() = key;
    e.set_action(static_cast<v1::FormAction>(r.Int(i, 0)));
    e.set_from_state(static_cast<v1::FormState>(r.Int(i, 1)));
    e.set_to_state(static_cast<v1::FormState>(r.Int(i, 2)));
    e.set_actor(r.Text(i, 3));
    SetTimestamp(absl::FromUnixMicros(r.Int(i, 4)), e.mutable_at());
    e.set_reason(r.Text(i, 5));
    e.set_explanation(r.Text(i, 6));
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::vector<halfsky::v1::FormChange>> PostgresReviewStore::ReadFormChanges(
    int64_t /*after_sequence*/, int /*limit*/) {
  return absl::UnimplementedError(
      "PostgreSQL 审核存储尚不支持表单变更流 / the PostgreSQL review store has no form-change "
      "feed yet");
}

absl::StatusOr<int64_t> PostgresReviewStore::HeadFormSequence() {
  return absl::UnimplementedError(
      "PostgreSQL 审核存储尚不支持表单变更流 / the PostgreSQL review store has no form-change "
      "feed yet");
}

void PostgresReviewStore::SetTransitionListener(std::function<void(int64_t head)> /*listener*/) {}

}  // namespace halfsky::submission
