// halfsky-submission: member units' data intake, the system of record.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "common/auth/authenticator.h"
#include "common/clock/clock.h"
#include "common/server/server.h"
#include "services/submission/review_service.h"
#include "services/submission/service.h"
#include "services/submission/store_factory.h"

// --listen, --metrics_listen, --catalog, --address_file come from common/server,
// --fake_now from common/clock, --tokens_file from common/auth.
ABSL_FLAG(std::string, store, "",
          "Where the record is kept: sqlite:PATH (one process) or postgres:URI (a libpq URI or "
          "conninfo without password; several replicas may share the database). Empty: "
          "sqlite:--db.");
ABSL_FLAG(std::string, store_password_file, "",
          "PostgreSQL: file holding the password (mode 600/640). Empty: libpq's environment "
          "(PGPASSWORD, PGPASSFILE). Never put the password in --store.");
ABSL_FLAG(std::string, db, "var/submission.db",
          "SQLite database file (created if missing) when --store is empty.");
ABSL_FLAG(int, max_batch_values, 10000, "Most values accepted in one SubmitBatch / stream chunk.");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(5),
          "WatchChanges heartbeat period while idle.");
ABSL_FLAG(int, max_watchers, 64, "Most concurrent WatchChanges streams.");
ABSL_FLAG(int, sqlite_cache_mib, 64,
          "Page cache of the database's writer connection, MiB (the process grows by the pages "
          "written until this bound, then stays flat).");

int main(int argc, char** argv) {
  halfsky::InitService(argc, argv, "halfsky-submission");
  const halfsky::ServerOptions options = halfsky::ServerOptionsFromFlags("halfsky-submission");
  auto catalog = halfsky::LoadCatalogFromFlags();
  halfsky::Clock* clock = halfsky::ClockFromFlags();

  auto authenticator = halfsky::auth::AuthenticatorFromFlags();  // --tokens_file
  if (!authenticator.ok()) {
    std::cerr << "halfsky-submission: " << authenticator.status() << "\n";
    return 2;
  }
  const absl::Status units_ok = (*authenticator)->CheckUnitCodes([&](absl::string_view code) {
    return catalog->FindMemberUnit(code) != nullptr;
  });
  if (!units_ok.ok()) {
    std::cerr << "halfsky-submission: " << units_ok << "\n";
    return 2;
  }

  auto store_config =
      halfsky::submission::ParseStoreFlag(absl::GetFlag(FLAGS_store), absl::GetFlag(FLAGS_db));
  if (!store_config.ok()) {
    std::cerr << "halfsky-submission: " << store_config.status() << "\n";
    return 2;
  }
  // The review workflow's approved forms lock their values in every write's
  // precondition; on PostgreSQL the committer refreshes them from the
  // database whenever any replica changed a form.
  halfsky::submission::ApprovedForms approved_forms(catalog);
  halfsky::submission::StoreOptions open_options;
  open_options.clock = clock;
  open_options.sqlite_cache_mib = absl::GetFlag(FLAGS_sqlite_cache_mib);
  open_options.password_file = absl::GetFlag(FLAGS_store_password_file);
  open_options.on_approvals = [&approved_forms](const std::vector<halfsky::v1::FormKey>& keys) {
    approved_forms.ReplaceAll(keys);
  };
  auto stores = halfsky::submission::OpenStores(*store_config, open_options);
  if (!stores.ok()) {
    std::cerr << "halfsky-submission: cannot open the store (--store): " << stores.status() << "\n";
    return 1;
  }

  halfsky::submission::SubmissionServiceOptions service_options;
  service_options.limits.max_batch_values = absl::GetFlag(FLAGS_max_batch_values);
  service_options.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  service_options.max_watchers = absl::GetFlag(FLAGS_max_watchers);
  service_options.metrics = &halfsky::ServiceMetrics();
  auto authenticate = (*authenticator)->AsFunction();
  auto review = halfsky::submission::ReviewServiceImpl::Create(
      catalog, stores->submission.get(), stores->review.get(), &approved_forms, clock,
      authenticate);
  if (!review.ok()) {
    std::cerr << "halfsky-submission: cannot load the review forms: " << review.status() << "\n";
    return 1;
  }
  service_options.write_precondition =
      [&approved_forms](const halfsky::submission::WriteRequest& request) {
        return approved_forms.CheckWrite(request);
      };
  // The change feed carries the forms' transitions (approval of values).
  service_options.review_store = stores->review.get();
  halfsky::submission::SubmissionServiceImpl service(catalog, stores->submission.get(), clock,
                                                     authenticate, service_options);
  halfsky::RunHooks hooks;
  hooks.before_shutdown = [&service, &review] {
    service.Shutdown();
    (*review)->Shutdown();
  };
  // Writes failing for lack of space turn the write service's health
  // NOT_SERVING (the process's overall health "" stays SERVING: reads work).
  hooks.after_start = [&service](halfsky::RunningServer& server) {
    server.server()->GetHealthCheckService()->SetServingStatus(
        halfsky::v1::SubmissionService::service_full_name(), true);
    service.SetWritableListener([&server](bool writable) {
      server.server()->GetHealthCheckService()->SetServingStatus(
          halfsky::v1::SubmissionService::service_full_name(), writable);
    });
  };
  const int rc = halfsky::RunServer(options, catalog, {&service, review->get()}, hooks);
  return rc;
}
