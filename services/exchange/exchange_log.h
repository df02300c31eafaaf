#ifndef HALFSKY_SERVICES_EXCHANGE_EXCHANGE_LOG_H_
#define HALFSKY_SERVICES_EXCHANGE_EXCHANGE_LOG_H_

// The exchange's durable log (common/sqlite): one row per batch sent upward
// (ExchangeBatch: when, which figures, what the upper instance answered),
// kept for the operators and the ExchangeService. It is a record, not the
// exchange's state: what to send is always recomputed from both sides
// (reconcile.h), so losing the log loses history, never a figure. The one
// thing read back is the retry schedule of refused batches, so that a
// restart does not hammer the upper instance with a batch it refused.
// At the upper end the same file keeps the lower areas' evaluation reports
// (one per area and year, the latest).
//
// Thread-safe (one connection behind a mutex).

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite/sqlite.h"
#include "halfsky/v1/exchange.pb.h"

namespace halfsky::exchange {

class ExchangeLog {
 public:
  // Opens (creating, migrating) the database at `path`. Errors: the mapped
  // SQLite status (common/sqlite).
  static absl::StatusOr<std::unique_ptr<ExchangeLog>> Open(const std::string& path);

  // Appends `batch` (its id is ignored); returns the assigned id.
  absl::StatusOr<int64_t> Append(const halfsky::v1::ExchangeBatch& batch);

  // Newest first: at most `limit` entries with id < `before_id` (0: all).
  absl::StatusOr<std::vector<halfsky::v1::ExchangeBatch>> List(int64_t before_id, int limit);

  // For each request id whose latest entry is REFUSED or FAILED: that entry
  // (attempt and next_attempt_at tell the retry schedule).
  absl::StatusOr<std::vector<halfsky::v1::ExchangeBatch>> LatestUnsent();

  // How many entries were committed by the upper instance (SENT or
  // REPLAYED) under `base_request_id` or one of its successors
  // (`base_request_id` + "-" + n): the exchanger's salt for a batch whose
  // content it committed before and must send again (see
  // Exchanger::RunLocked).
  absl::StatusOr<int64_t> CountCommitted(const std::string& base_request_id);

  // The upper end: stores `report` as the report of (area_code, year),
  // replacing an earlier one; returns true when the stored one had the same
  // fingerprint (then nothing is written).
  absl::StatusOr<bool> PutAreaReport(const halfsky::v1::AreaReport& report);
  // Stored reports (of `area_code`, all when empty), newest year first.
  absl::StatusOr<std::vector<halfsky::v1::AreaReport>> ListAreaReports(
      const std::string& area_code);

 private:
  explicit ExchangeLog(sqlite::Database db) : db_(std::move(db)) {}
  absl::Mutex mu_;
  sqlite::Database db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace halfsky::exchange

#endif  // HALFSKY_SERVICES_EXCHANGE_EXCHANGE_LOG_H_
