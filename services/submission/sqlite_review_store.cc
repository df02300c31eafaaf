#include "services/submission/sqlite_review_store.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "common/labels/labels.h"
#include "common/proto/timestamp.h"
#include "common/sqlite/sqlite.h"
#include "common/status/status.h"
#include "services/submission/sqlite_schema.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;

namespace {

constexpr char kFormColumns[] =
    "unit_code, area_code, year, state, explanation, reason, changed_by, changed_at_us";

v1::Form FormFromRow(sqlite::Statement& s) {
  v1::Form f;
  f.mutable_key()->set_unit_code(s.Text(0));
  f.mutable_key()->set_area_code(s.Text(1));
  f.mutable_key()->set_year(static_cast<int>(s.Int(2)));
  f.set_state(static_cast<v1::FormState>(s.Int(3)));
  f.set_explanation(s.Text(4));
  f.set_reason(s.Text(5));
  f.set_changed_by(s.Text(6));
  SetTimestamp(FromMicros(s.Int(7)), f.mutable_changed_at());
  return f;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteReviewStore>> SqliteReviewStore::Open(
    const std::string& path) {
  absl::StatusOr<sqlite::Database> db = sqlite::Database::Open(path);
  if (!db.ok()) {
    return db.status();
  }
  if (absl::Status st = db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"); !st.ok()) {
    return st;
  }
  if (absl::Status st = MigrateSubmissionSchema(*db); !st.ok()) {
    return st;
  }
  return std::unique_ptr<SqliteReviewStore>(new SqliteReviewStore(*std::move(db)));
}

absl::StatusOr<v1::Form> SqliteReviewStore::GetLocked(const v1::FormKey& key) {
  sqlite::Statement s;
  if (absl::Status st = s.Prepare(
          db_, absl::StrCat("SELECT ", kFormColumns,
                            " FROM review_forms WHERE unit_code = ?1 AND area_code = ?2 AND "
                            "year = ?3"));
      !st.ok()) {
    return st;
  }
  s.Bind(1, key.unit_code());
  s.Bind(2, key.area_code());
  s.Bind(3, int64_t{key.year()});
  absl::StatusOr<int> rc = s.Step();
  if (!rc.ok()) {
    return rc.status();
  }
  if (*rc == SQLITE_ROW) {
    return FormFromRow(s);
  }
  v1::Form f;
  *f.mutable_key() = key;
  f.set_state(v1::FORM_STATE_DRAFT);
  return f;
}

absl::StatusOr<v1::Form> SqliteReviewStore::GetForm(const v1::FormKey& key) {
  absl::MutexLock lock(&mu_);
  return GetLocked(key);
}

absl::StatusOr<v1::Form> SqliteReviewStore::Transition(const v1::FormEvent& event) {
  absl::MutexLock lock(&mu_);
  v1::Form result;
  int64_t event_id = 0;
  absl::Status st = sqlite::InTransaction(db_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::StatusOr<v1::Form> current = GetLocked(event.key());
    if (!current.ok()) {
      return current.status();
    }
    if (current->state() != event.from_state()) {
      return WithReason(
          absl::FailedPreconditionError(absl::StrCat(
              "报表当前状态为「", labels::LabelZh(current->state()), "」，不能",
              labels::LabelZh(event.action()), " / the form is ", labels::Token(current->state()),
              "; cannot ", labels::Token(event.action()))),
          "FORM_STATE");
    }
    result = *current;
    result.set_state(event.to_state());
    result.set_changed_by(event.actor());
    *result.mutable_changed_at() = event.at();
    if (event.action() == v1::FORM_ACTION_SUBMIT) {
      result.set_explanation(event.explanation());
    }
    if (event.action() == v1::FORM_ACTION_RETURN || event.action() == v1::FORM_ACTION_UNLOCK) {
      result.set_reason(event.reason());
    }
    const int64_t at_us = ToMicros(FromTimestamp(event.at()));
    sqlite::Statement up;
    if (absl::Status s =
            up.Prepare(db_, absl::StrCat("INSERT OR REPLACE INTO review_forms(", kFormColumns,
                                         ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
        !s.ok()) {
      return s;
    }
    up.Bind(1, result.key().unit_code());
    up.Bind(2, result.key().area_code());
    up.Bind(3, int64_t{result.key().year()});
    up.Bind(4, int64_t{result.state()});
    up.Bind(5, result.explanation());
    up.Bind(6, result.reason());
    up.Bind(7, result.changed_by());
    up.Bind(8, at_us);
    if (absl::Status s = up.Run(); !s.ok()) {
      return s;
    }
    sqlite::Statement ev;
    if (absl::Status s = ev.Prepare(
            db_,
            "INSERT INTO review_events(unit_code, area_code, year, action, from_state, to_state, "
            "actor, at_us, reason, explanation) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
        !s.ok()) {
      return s;
    }
    ev.Bind(1, event.key().unit_code());
    ev.Bind(2, event.key().area_code());
    ev.Bind(3, int64_t{event.key().year()});
    ev.Bind(4, int64_t{event.action()});
    ev.Bind(5, int64_t{event.from_state()});
    ev.Bind(6, int64_t{event.to_state()});
    ev.Bind(7, event.actor());
    ev.Bind(8, at_us);
    ev.Bind(9, event.reason());
    ev.Bind(10, event.explanation());
    if (absl::Status s = ev.Run(); !s.ok()) {
      return s;
    }
    event_id = sqlite3_last_insert_rowid(db_.get());
    return absl::OkStatus();
  });
  if (!st.ok()) {
    return st;
  }
  {
    absl::MutexLock l(&listener_mu_);
    if (listener_) {
      listener_(event_id);
    }
  }
  return result;
}

absl::StatusOr<std::vector<v1::FormChange>> SqliteReviewStore::ReadFormChanges(
    int64_t after_sequence, int limit) {
  absl::MutexLock lock(&mu_);
  sqlite::Statement s;
  if (absl::Status st = s.Prepare(db_,
                                  "SELECT event_id, unit_code, area_code, year, action, to_state, "
                                  "at_us FROM review_events WHERE event_id > ?1 ORDER BY event_id "
                                  "LIMIT ?2");
      !st.ok()) {
    return st;
  }
  s.Bind(1, after_sequence);
  s.Bind(2, int64_t{limit});
  std::vector<v1::FormChange> out;
  while (true) {
    absl::StatusOr<int> rc = s.Step();
    if (!rc.ok()) {
      return rc.status();
    }
    if (*rc != SQLITE_ROW) {
      break;
    }
    v1::FormChange c;
    c.set_form_sequence(s.Int(0));
    c.mutable_key()->set_unit_code(s.Text(1));
    c.mutable_key()->set_area_code(s.Text(2));
    c.mutable_key()->set_year(static_cast<int>(s.Int(3)));
    c.set_action(static_cast<v1::FormAction>(s.Int(4)));
    c.set_state(static_cast<v1::FormState>(s.Int(5)));
    SetTimestamp(FromMicros(s.Int(6)), c.mutable_at());
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<int64_t> SqliteReviewStore::HeadFormSequence() {
  absl::MutexLock lock(&mu_);
  sqlite::Statement s;
  if (absl::Status st = s.Prepare(db_, "SELECT COALESCE(MAX(event_id), 0) FROM review_events");
      !st.ok()) {
    return st;
  }
  absl::StatusOr<int> rc = s.Step();
  if (!rc.ok()) {
    return rc.status();
  }
  return *rc == SQLITE_ROW ? s.Int(0) : 0;
}

void SqliteReviewStore::SetTransitionListener(std::function<void(int64_t head)> listener) {
  absl::MutexLock l(&listener_mu_);
  listener_ = std::move(listener);
}

absl::StatusOr<std::vector<v1::Form>> SqliteReviewStore::ListForms(int year,
                                                                   const std::string& unit_code,
                                                                   v1::FormState state) {
  absl::MutexLock lock(&mu_);
  sqlite::Statement s;
  if (absl::Status st = s.Prepare(
          db_, absl::StrCat("SELECT ", kFormColumns,
                            " FROM review_forms WHERE (?1 = 0 OR year = ?1) AND (?2 = '' OR "
                            "unit_code = ?2) AND (?3 = 0 OR state = ?3) ORDER BY year, "
                            "unit_code, area_code"));
      !st.ok()) {
    return st;
  }
  s.Bind(1, int64_t{year});
  s.Bind(2, unit_code);
  s.Bind(3, int64_t{state});
  std::vector<v1::Form> out;
  while (true) {
    absl::StatusOr<int> rc = s.Step();
    if (!rc.ok()) {
      return rc.status();
    }
    if (*rc != SQLITE_ROW) {
      break;
    }
    out.push_back(FormFromRow(s));
  }
  return out;
}

absl::StatusOr<std::vector<v1::FormEvent>> SqliteReviewStore::History(const v1::FormKey& key) {
  absl::MutexLock lock(&mu_);
  sqlite::Statement s;
  if (absl::Status st =
          s.Prepare(db_,
                    "SELECT action, from_state, to_state, actor, at_us, reason, explanation FROM "
                    "review_events WHERE unit_code = ?1 AND area_code = ?2 AND year = ?3 ORDER BY "
                    "event_id");
      !st.ok()) {
    return st;
  }
  s.Bind(1, key.unit_code());
  s.Bind(2, key.area_code());
  s.Bind(3, int64_t{key.year()});
  std::vector<v1::FormEvent> out;
  while (true) {
    absl::StatusOr<int> rc = s.Step();
    if (!rc.ok()) {
      return rc.status();
    }
    if (*rc != SQLITE_ROW) {
      break;
    }
    v1::FormEvent e;
    *e.mutable_key() = key;
    e.set_action(static_cast<v1::FormAction>(s.Int(0)));
    e.set_from_state(static_cast<v1::FormState>(s.Int(1)));
    e.set_to_state(static_cast<v1::FormState>(s.Int(2)));
    e.set_actor(s.Text(3));
    SetTimestamp(FromMicros(s.Int(4)), e.mutable_at());
    e.set_reason(s.Text(5));
    e.set_explanation(s.Text(6));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace halfsky::submission
