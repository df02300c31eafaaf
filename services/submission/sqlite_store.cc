#include "services/submission/sqlite_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/sqlite/sqlite.h"
#include "common/status/status.h"
#include "services/submission/group_committer.h"
#include "services/submission/sqlite_readers.h"
#include "services/submission/sqlite_schema.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;

int SqliteSubmissionStore::LatestSchemaVersion() { return LatestSubmissionSchemaVersion(); }

absl::StatusOr<std::unique_ptr<SqliteSubmissionStore>> SqliteSubmissionStore::Open(
    const Options& options) {
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("SqliteSubmissionStore: clock is required");
  }
  sqlite::Database::Options writer_options;
  writer_options.busy_timeout = absl::Seconds(10);
  HALFSKY_ASSIGN_OR_RETURN(sqlite::Database writer,
                           sqlite::Database::Open(options.path, writer_options));
  HALFSKY_RETURN_IF_ERROR(writer.Exec("PRAGMA journal_mode=WAL"));
  HALFSKY_RETURN_IF_ERROR(writer.Exec("PRAGMA synchronous=FULL"));
  if (options.cache_mib < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("页缓存至少1 MiB / cache_mib must be at least 1, got ", options.cache_mib));
  }
  // The page cache (cache_size in KiB when negative). No automatic
  // checkpoints on the writer: the WAL hook hands them to the checkpointer
  // thread (see group_committer.h).
  HALFSKY_RETURN_IF_ERROR(
      writer.Exec(absl::StrCat("PRAGMA cache_size=-", int64_t{options.cache_mib} * 1024)));
  HALFSKY_RETURN_IF_ERROR(writer.Exec("PRAGMA temp_store=MEMORY"));
  HALFSKY_RETURN_IF_ERROR(MigrateSubmissionSchema(writer));

  std::unique_ptr<SqliteSubmissionStore> store(new SqliteSubmissionStore());
  HALFSKY_ASSIGN_OR_RETURN(store->readers_,
                           SqliteReaders::Open(options.path, options.read_connections));
  GroupCommitter::Options committer_options;
  committer_options.clock = options.clock;
  committer_options.max_group_values = options.max_group_values;
  committer_options.checkpoint_pages = options.checkpoint_pages;
  committer_options.max_wal_pages = options.max_wal_pages;
  committer_options.inline_completion_values = options.inline_completion_values;
  HALFSKY_ASSIGN_OR_RETURN(store->committer_,
                           GroupCommitter::Start(std::move(writer), committer_options));
  return store;
}

SqliteSubmissionStore::~SqliteSubmissionStore() {
  committer_.reset();
  readers_.reset();
}

void SqliteSubmissionStore::Write(WriteRequest request, WriteCallback done) {
  committer_->Write(std::move(request), std::move(done));
}

absl::StatusOr<v1::YearLock> SqliteSubmissionStore::SetYearLock(int year, bool locked,
                                                                const std::string& principal,
                                                                const std::string& reason) {
  return committer_->SetYearLock(year, locked, principal, reason);
}

int64_t SqliteSubmissionStore::HeadSequence() const { return committer_->HeadSequence(); }

int64_t SqliteSubmissionStore::commit_count() const { return committer_->commit_count(); }

void SqliteSubmissionStore::SetCommitListener(std::function<void(int64_t head)> listener) {
  committer_->SetCommitListener(std::move(listener));
}

absl::StatusOr<YearLocks> SqliteSubmissionStore::ListYearLocks() {
  return readers_->ListYearLocks();
}

absl::StatusOr<CurrentPage> SqliteSubmissionStore::ListCurrent(const CurrentFilter& filter,
                                                               int64_t cursor, int limit) {
  return readers_->ListCurrent(filter, cursor, limit);
}

absl::StatusOr<std::vector<v1::Revision>> SqliteSubmissionStore::History(const v1::DataKey& key) {
  return readers_->History(key);
}

absl::StatusOr<std::vector<v1::Revision>> SqliteSubmissionStore::ReadChanges(int64_t after_sequence,
                                                                             int limit) {
  return readers_->ReadChanges(after_sequence, limit);
}

absl::StatusOr<std::vector<v1::Revision*>> SqliteSubmissionStore::ReadChangesOnArena(
    int64_t after_sequence, int limit, size_t max_bytes, google::protobuf::Arena* arena) {
  return readers_->ReadChangesOnArena(after_sequence, limit, max_bytes, arena);
}

absl::StatusOr<std::vector<ReportingTimes>> SqliteSubmissionStore::ListReportingTimes(int year) {
  return readers_->ListReportingTimes(year);
}

}  // namespace halfsky::submission
