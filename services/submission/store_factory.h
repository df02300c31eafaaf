#ifndef HALFSKY_SERVICES_SUBMISSION_STORE_FACTORY_H_
#define HALFSKY_SERVICES_SUBMISSION_STORE_FACTORY_H_

// Which backend the submission process keeps its record in, from its
// --store flag: "sqlite:PATH" (one process, an embedded file) or
// "postgres:URI" (a libpq URI or conninfo; several replicas may share the
// database). The password is never part of the URI (refused): it comes from
// a file (StoreOptions::password_file, --store_password_file) or libpq's
// environment (PGPASSWORD, PGPASSFILE).
//
// Thread-safety: pure functions.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/clock/clock.h"
#include "halfsky/v1/review.pb.h"
#include "services/submission/review_store.h"
#include "services/submission/store.h"

namespace halfsky::submission {

struct StoreConfig {
  enum class Backend { kSqlite, kPostgres };
  Backend backend = Backend::kSqlite;
  // The SQLite file path, or the PostgreSQL URI / conninfo.
  std::string target;
};

// Parses --store; an empty flag means "sqlite:" + `legacy_db` (the older
// --db flag keeps working). Errors: INVALID_ARGUMENT naming the accepted
// forms (unknown scheme, empty path or URI).
absl::StatusOr<StoreConfig> ParseStoreFlag(absl::string_view store, absl::string_view legacy_db);

struct StoreOptions {
  // Not owned; must outlive the stores.
  Clock* clock = nullptr;
  // SQLite only: the writer's page cache (MiB).
  int sqlite_cache_mib = 64;
  // PostgreSQL only: a file holding the password ("" = libpq environment).
  std::string password_file;
  // PostgreSQL only: see PostgresSubmissionStore::Options::on_approvals.
  std::function<void(const std::vector<halfsky::v1::FormKey>&)> on_approvals;
};

struct Stores {
  std::unique_ptr<SubmissionStore> submission;
  std::unique_ptr<ReviewStore> review;
  // For messages: "sqlite:PATH" or "postgres:host:port/db".
  std::string description;
};

// Opens (creating and migrating) both stores on the configured backend.
// For SQLite the file's parent directory is created. Errors: those of the
// store's Open; the password file's (common/redis/secret_file.h).
absl::StatusOr<Stores> OpenStores(const StoreConfig& config, const StoreOptions& options);

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_STORE_FACTORY_H_
