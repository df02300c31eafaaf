#include "services/submission/store_factory.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/redis/secret_file.h"
#include "common/status/status.h"
#include "services/submission/postgres_review_store.h"
#include "services/submission/postgres_store.h"
#include "services/submission/sqlite_review_store.h"
#include "services/submission/sqlite_store.h"

namespace halfsky::submission {

absl::StatusOr<StoreConfig> ParseStoreFlag(absl::string_view store, absl::string_view legacy_db) {
  StoreConfig config;
  if (store.empty()) {
    config.backend = StoreConfig::Backend::kSqlite;
    config.target = std::string(legacy_db);
  } else if (absl::ConsumePrefix(&store, "sqlite:")) {
    config.backend = StoreConfig::Backend::kSqlite;
    config.target = std::string(store);
  } else if (absl::ConsumePrefix(&store, "postgres:")) {
    config.backend = StoreConfig::Backend::kPostgres;
    config.target = std::string(store);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--store 格式应为 sqlite:路径 或 postgres:URI / --store must be sqlite:PATH or "
        "postgres:URI (e.g. postgres:postgresql://halfsky@db:5432/halfsky), got '",
        store, "'"));
  }
  if (config.target.empty()) {
    return absl::InvalidArgumentError(
        "--store 缺少路径或地址 / --store names no SQLite path or PostgreSQL URI");
  }
  return config;
}

absl::StatusOr<Stores> OpenStores(const StoreConfig& config, const StoreOptions& options) {
  Stores out;
  if (config.backend == StoreConfig::Backend::kSqlite) {
    SqliteSubmissionStore::Options o;
    o.path = config.target;
    o.clock = options.clock;
    o.cache_mib = options.sqlite_cache_mib;
    std::error_code ec;
    const auto parent = std::filesystem::path(o.path).parent_path();
    if (!parent.empty()) {
      std::filesystem::create_directories(parent, ec);
    }
    HALFSKY_ASSIGN_OR_RETURN(out.submission, SqliteSubmissionStore::Open(o));
    HALFSKY_ASSIGN_OR_RETURN(out.review, SqliteReviewStore::Open(o.path));
    out.description = absl::StrCat("sqlite:", o.path);
    return out;
  }
  PostgresSubmissionStore::Options o;
  o.conninfo = config.target;
  o.clock = options.clock;
  o.on_approvals = options.on_approvals;
  if (!options.password_file.empty()) {
    HALFSKY_ASSIGN_OR_RETURN(o.password, ReadSecretFile(options.password_file));
  }
  HALFSKY_ASSIGN_OR_RETURN(out.submission, PostgresSubmissionStore::Open(o));
  postgres::Connection::Options review_options;
  review_options.conninfo = o.conninfo;
  review_options.password = o.password;
  review_options.application_name = "halfsky-submission-review";
  HALFSKY_ASSIGN_OR_RETURN(out.review, PostgresReviewStore::Open(review_options));
  out.description = "postgres";
  return out;
}

}  // namespace halfsky::submission
