// halfsky-evaluation: the assessment group's evaluation service.
#include <string>

#include "absl/flags/flag.h"
#include "common/server/server.h"
#include "services/evaluation/service/evaluation_service.h"

ABSL_FLAG(std::string, submission, "127.0.0.1:7301", "Submission service address HOST:PORT.");
ABSL_FLAG(std::string, aggregation, "127.0.0.1:7302", "Aggregation service address HOST:PORT.");
ABSL_FLAG(std::string, redis, "127.0.0.1:6379", "Redis address HOST:PORT (the aggregate cache).");
ABSL_FLAG(std::string, db, "var/evaluation.db",
          "SQLite file for warning lifecycle and acknowledgements.");

int main(int argc, char** argv) {
  halfsky::InitService(argc, argv, "halfsky-evaluation");
  const halfsky::ServerOptions options = halfsky::ServerOptionsFromFlags("halfsky-evaluation");
  auto catalog = halfsky::LoadCatalogFromFlags();
  halfsky::EvaluationServiceImpl service(catalog);
  return halfsky::RunServer(options, catalog, {&service});
}
