// halfsky-aggregation: the statistics bureau's aggregation service.
#include <string>

#include "absl/flags/flag.h"
#include "common/server/server.h"
#include "services/aggregation/aggregation_service.h"

ABSL_FLAG(std::string, submission, "127.0.0.1:7301", "Submission service address HOST:PORT.");
ABSL_FLAG(std::string, redis, "127.0.0.1:6379", "Redis address HOST:PORT (the aggregate cache).");

int main(int argc, char** argv) {
  halfsky::InitService(argc, argv, "halfsky-aggregation");
  const halfsky::ServerOptions options = halfsky::ServerOptionsFromFlags("halfsky-aggregation");
  auto catalog = halfsky::LoadCatalogFromFlags();
  halfsky::AggregationServiceImpl service(catalog);
  return halfsky::RunServer(options, catalog, {&service});
}
