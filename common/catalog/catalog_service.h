#ifndef HALFSKY_COMMON_CATALOG_CATALOG_SERVICE_H_
#define HALFSKY_COMMON_CATALOG_CATALOG_SERVICE_H_

// halfsky.v1.CatalogService: every halfsky service serves the catalog it
// loaded, so callers (halfskyctl, department systems, other services) can
// read it and compare fingerprints.

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/catalog/catalog.h"
#include "halfsky/v1/catalog.grpc.pb.h"

namespace halfsky {

// The catalog restricted to one domain: that domain, its objectives and its
// indicators; member units, areas, calendar and header fields are kept
// whole. An empty `domain_id` returns the whole catalog. NOT_FOUND (message
// in Chinese and English) for an unknown domain.
absl::StatusOr<halfsky::v1::Catalog> CatalogForDomain(const CatalogIndex& index,
                                                      absl::string_view domain_id);

// Answers GetCatalog from an immutable CatalogIndex. Thread-safe: holds
// only a shared pointer to const data. Errors: NOT_FOUND for an unknown
// domain_id; nothing else fails.
class CatalogServiceImpl final : public halfsky::v1::CatalogService::CallbackService {
 public:
  // `catalog` must not be null.
  explicit CatalogServiceImpl(std::shared_ptr<const CatalogIndex> catalog);

  grpc::ServerUnaryReactor* GetCatalog(grpc::CallbackServerContext* context,
                                       const halfsky::v1::GetCatalogRequest* request,
                                       halfsky::v1::GetCatalogResponse* response) override;

 private:
  const std::shared_ptr<const CatalogIndex> catalog_;
};

}  // namespace halfsky

#endif  // HALFSKY_COMMON_CATALOG_CATALOG_SERVICE_H_
