#include "services/submission/sqlite_schema.h"

#include <sqlite3.h>

#include <iterator>

#include "common/proto/serialize.h"
#include "common/proto/timestamp.h"
#include "common/sqlite/migrations.h"
#include "common/status/status.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;

namespace {

// Ordered schema migrations. Append only; never edit a released one.
const sqlite::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE data_keys(
  key_id INTEGER PRIMARY KEY,
  indicator_id TEXT NOT NULL,
  area_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  sex INTEGER NOT NULL,
  residence INTEGER NOT NULL,
  current_revision INTEGER NOT NULL,
  current_sequence INTEGER NOT NULL,
  current_unit_code TEXT NOT NULL,
  UNIQUE(indicator_id, area_code, year, sex, residence));
CREATE TABLE revisions(
  sequence INTEGER PRIMARY KEY,
  key_id INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  data_value BLOB NOT NULL,
  submitted_by TEXT NOT NULL,
  unit_code TEXT NOT NULL,
  committed_at_us INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  UNIQUE(key_id, revision));
CREATE TABLE requests(
  principal TEXT NOT NULL,
  request_id TEXT NOT NULL,
  payload_hash BLOB NOT NULL,
  reply BLOB NOT NULL,
  committed_at_us INTEGER NOT NULL,
  PRIMARY KEY(principal, request_id)) WITHOUT ROWID;
CREATE TABLE year_locks(
  year INTEGER PRIMARY KEY,
  locked INTEGER NOT NULL,
  changed_by TEXT NOT NULL,
  changed_at_us INTEGER NOT NULL,
  reason TEXT NOT NULL);
CREATE TABLE year_lock_history(
  id INTEGER PRIMARY KEY,
  year INTEGER NOT NULL,
  locked INTEGER NOT NULL,
  changed_by TEXT NOT NULL,
  changed_at_us INTEGER NOT NULL,
  reason TEXT NOT NULL);
CREATE TABLE reporting_times(
  year INTEGER NOT NULL,
  unit_code TEXT NOT NULL,
  indicator_id TEXT NOT NULL,
  first_at_us INTEGER NOT NULL,
  last_at_us INTEGER NOT NULL,
  PRIMARY KEY(year, unit_code, indicator_id)) WITHOUT ROWID;
)sql"},
    // data_keys becomes write-once: a key's current revision is its highest
    // revision in revisions' (key_id, revision) index, so a write no longer
    // rewrites the key's row (one B-tree write less per value).
    {2, R"sql(
CREATE TABLE data_keys_v2(
  key_id INTEGER PRIMARY KEY,
  indicator_id TEXT NOT NULL,
  area_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  sex INTEGER NOT NULL,
  residence INTEGER NOT NULL,
  UNIQUE(indicator_id, area_code, year, sex, residence));
INSERT INTO data_keys_v2(key_id, indicator_id, area_code, year, sex, residence)
  SELECT key_id, indicator_id, area_code, year, sex, residence FROM data_keys;
DROP TABLE data_keys;
ALTER TABLE data_keys_v2 RENAME TO data_keys;
)sql"},
    // A key's revisions become a chain (prev_sequence) and its current one
    // is kept in a narrow key_heads row, instead of the (key_id, revision)
    // index: that index placed each new revision after the key's earlier
    // ones, so a chunk of values dirtied one index page per key with a long
    // history (write amplification growing with history depth); a
    // key_heads row is rewritten in place, and revisions only append.
    {3, R"sql(
CREATE TABLE revisions_v3(
  sequence INTEGER PRIMARY KEY,
  key_id INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  prev_sequence INTEGER NOT NULL,
  data_value BLOB NOT NULL,
  submitted_by TEXT NOT NULL,
  unit_code TEXT NOT NULL,
  committed_at_us INTEGER NOT NULL,
  request_id TEXT NOT NULL);
INSERT INTO revisions_v3(sequence, key_id, revision, prev_sequence, data_value, submitted_by,
                         unit_code, committed_at_us, request_id)
  SELECT r.sequence, r.key_id, r.revision,
         COALESCE((SELECT p.sequence FROM revisions p
                   WHERE p.key_id = r.key_id AND p.revision = r.revision - 1), 0),
         r.data_value, r.submitted_by, r.unit_code, r.committed_at_us, r.request_id
  FROM revisions r;
CREATE TABLE key_heads(
  key_id INTEGER PRIMARY KEY,
  revision INTEGER NOT NULL,
  sequence INTEGER NOT NULL);
INSERT INTO key_heads(key_id, revision, sequence)
  SELECT r.key_id, r.revision, r.sequence FROM revisions r
  WHERE r.revision = (SELECT MAX(m.revision) FROM revisions m WHERE m.key_id = r.key_id);
DROP TABLE revisions;
ALTER TABLE revisions_v3 RENAME TO revisions;
)sql"},
    // A key names the unit whose narrative it is (DataKey.unit_code,
    // QUALITATIVE only; '' for every figure), and the unit is part of the
    // key's uniqueness, so each responsible unit of a qualitative objective
    // has its own narrative, revisions and history. Existing narrative keys
    // (their current revision's payload is a narrative, which only
    // QUALITATIVE indicators accept: halfsky_is_narrative, a function the
    // store registers on its writer) take the unit_code of their current
    // revision (the unit that wrote it; '' if statistics/admin did); figures
    // stay ''. Revisions are not rewritten: readers take a key's unit from
    // data_keys. key_ids are kept, so revisions and key_heads stay valid.
    {4, R"sql(
CREATE TABLE data_keys_v4(
  key_id INTEGER PRIMARY KEY,
  indicator_id TEXT NOT NULL,
  area_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  sex INTEGER NOT NULL,
  residence INTEGER NOT NULL,
  unit_code TEXT NOT NULL,
  UNIQUE(indicator_id, area_code, year, sex, residence, unit_code));
INSERT INTO data_keys_v4(key_id, indicator_id, area_code, year, sex, residence, unit_code)
  SELECT k.key_id, k.indicator_id, k.area_code, k.year, k.sex, k.residence,
         CASE WHEN halfsky_is_narrative(r.data_value) THEN r.unit_code ELSE '' END
  FROM data_keys k LEFT JOIN key_heads h ON h.key_id = k.key_id
  LEFT JOIN revisions r ON r.sequence = h.sequence;
DROP TABLE data_keys;
ALTER TABLE data_keys_v4 RENAME TO data_keys;
)sql"},
    // Withdrawals and reasons for change: a revision may withdraw its key's
    // value (withdrawn = 1; its data_value then holds only the key), and
    // every revision keeps the reason given for it ('' when none). Existing
    // revisions are values without a reason.
    {5, R"sql(
ALTER TABLE revisions ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE revisions ADD COLUMN change_reason TEXT NOT NULL DEFAULT '';
)sql"},
    // The review workflow (review_store.h): each form's current state and
    // every transition of it (who, when, why).
    {6, R"sql(
CREATE TABLE review_forms(
  unit_code TEXT NOT NULL,
  area_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  state INTEGER NOT NULL,
  explanation TEXT NOT NULL,
  reason TEXT NOT NULL,
  changed_by TEXT NOT NULL,
  changed_at_us INTEGER NOT NULL,
  PRIMARY KEY(unit_code, area_code, year));
CREATE TABLE review_events(
  event_id INTEGER PRIMARY KEY,
  unit_code TEXT NOT NULL,
  area_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  action INTEGER NOT NULL,
  from_state INTEGER NOT NULL,
  to_state INTEGER NOT NULL,
  actor TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  reason TEXT NOT NULL,
  explanation TEXT NOT NULL);
CREATE INDEX review_events_by_form ON review_events(unit_code, area_code, year, event_id);
)sql"},
};

// halfsky_is_narrative(data_value): 1 when the blob is a DataValue whose
// payload is a narrative, else 0 (NULL and unparsable blobs included). Used
// by migration 4.
void IsNarrativeFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  int result = 0;
  if (argc == 1 && sqlite3_value_type(argv[0]) == SQLITE_BLOB) {
    v1::DataValue value;
    if (value.ParseFromArray(sqlite3_value_blob(argv[0]), sqlite3_value_bytes(argv[0])) &&
        value.payload_case() == v1::DataValue::kNarrative) {
      result = 1;
    }
  }
  sqlite3_result_int(ctx, result);
}

}  // namespace

int LatestSubmissionSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

absl::Status MigrateSubmissionSchema(sqlite::Database& db) {
  const int rc = sqlite3_create_function_v2(db.get(), "halfsky_is_narrative", 1,
                                            SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                            &IsNarrativeFunction, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return db.Error(rc, "register halfsky_is_narrative");
  }
  return sqlite::ApplyMigrations(db, kMigrations, "submission").status();
}

const char kCurrentRevisionJoin[] =
    " FROM data_keys k JOIN key_heads h ON h.key_id = k.key_id"
    " JOIN revisions r ON r.sequence = h.sequence";

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// Revision columns in the order every read query selects them.
const char kRevisionColumns[] =
    "r.data_value, r.revision, r.sequence, r.submitted_by, r.unit_code, r.committed_at_us, "
    "r.request_id, r.withdrawn, r.change_reason";

absl::Status FillRevisionFromRow(sqlite::Statement& s, int first_col, v1::Revision* rev) {
  // Views, not Text: on an arena every field is built in place, without a
  // temporary string.
  const absl::string_view value = s.View(first_col);
  if (!rev->mutable_data_value()->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError("sqlite: stored data value does not parse");
  }
  absl::string_view text;
  rev->set_revision(s.Int(first_col + 1));
  rev->set_sequence(s.Int(first_col + 2));
  text = s.View(first_col + 3);
  rev->set_submitted_by(text.data(), text.size());
  text = s.View(first_col + 4);
  rev->set_unit_code(text.data(), text.size());
  SetTimestamp(FromMicros(s.Int(first_col + 5)), rev->mutable_committed_at());
  text = s.View(first_col + 6);
  rev->set_request_id(text.data(), text.size());
  rev->set_withdrawn(s.Int(first_col + 7) != 0);
  text = s.View(first_col + 8);
  rev->set_change_reason(text.data(), text.size());
  return absl::OkStatus();
}

absl::StatusOr<v1::Revision> RevisionFromRow(sqlite::Statement& s, int first_col) {
  v1::Revision rev;
  HALFSKY_RETURN_IF_ERROR(FillRevisionFromRow(s, first_col, &rev));
  return rev;
}

// A key's unit comes from data_keys (migration 4 did not rewrite the
// DataValues stored before it, whose keys carry no unit_code).
void SetKeyUnit(absl::string_view unit_code, v1::Revision* rev) {
  if (!unit_code.empty()) {
    rev->mutable_data_value()->mutable_key()->set_unit_code(std::string(unit_code));
  }
}

// The stored encoding of a key's current value as a new write of it would
// encode it: a narrative stored before migration 4 lacks its key's
// unit_code, so it is re-encoded with it (only narrative keys pay this, at
// load), and an identical resubmission stays UNCHANGED.
std::string EncodedWithUnit(std::string encoded, absl::string_view unit_code) {
  if (unit_code.empty()) {
    return encoded;
  }
  v1::DataValue value;
  if (!value.ParseFromString(encoded) || value.key().unit_code() == unit_code) {
    return encoded;
  }
  value.mutable_key()->set_unit_code(std::string(unit_code));
  return DeterministicBytes(value);
}

v1::YearLock LockFromRow(sqlite::Statement& s) {
  v1::YearLock lock;
  lock.set_year(static_cast<int>(s.Int(0)));
  lock.set_locked(s.Int(1) != 0);
  lock.set_changed_by(s.Text(2));
  SetTimestamp(FromMicros(s.Int(3)), lock.mutable_changed_at());
  lock.set_reason(s.Text(4));
  return lock;
}

}  // namespace halfsky::submission
