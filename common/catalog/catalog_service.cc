#include "common/catalog/catalog_service.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace halfsky {

absl::StatusOr<v1::Catalog> CatalogForDomain(const CatalogIndex& index,
                                             absl::string_view domain_id) {
  const v1::Catalog& full = index.catalog();
  if (domain_id.empty()) {
    return full;
  }
  if (index.FindDomain(domain_id) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("未知领域 ", domain_id, " / unknown domain_id ", domain_id));
  }
  v1::Catalog out = full;
  out.clear_domains();
  out.clear_objectives();
  out.clear_indicators();
  for (const auto& d : full.domains()) {
    if (d.id() == domain_id) {
      *out.add_domains() = d;
    }
  }
  for (const auto& o : full.objectives()) {
    if (o.domain_id() == domain_id) {
      *out.add_objectives() = o;
    }
  }
  for (const auto& i : full.indicators()) {
    if (i.domain_id() == domain_id) {
      *out.add_indicators() = i;
    }
  }
  return out;
}

CatalogServiceImpl::CatalogServiceImpl(std::shared_ptr<const CatalogIndex> catalog)
    : catalog_(std::move(catalog)) {}

grpc::ServerUnaryReactor* CatalogServiceImpl::GetCatalog(grpc::CallbackServerContext* context,
                                                         const v1::GetCatalogRequest* request,
                                                         v1::GetCatalogResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<v1::Catalog> catalog = CatalogForDomain(*catalog_, request->domain_id());
  if (!catalog.ok()) {
    reactor->Finish(ToGrpcStatus(catalog.status()));
    return reactor;
  }
  *response->mutable_catalog() = *std::move(catalog);
  response->set_fingerprint(catalog_->fingerprint());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace halfsky
