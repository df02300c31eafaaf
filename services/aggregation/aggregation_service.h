#ifndef HALFSKY_SERVICES_AGGREGATION_AGGREGATION_SERVICE_H_
#define HALFSKY_SERVICES_AGGREGATION_AGGREGATION_SERVICE_H_

#include <memory>

#include "common/catalog/catalog.h"
#include "halfsky/v1/aggregation.grpc.pb.h"

namespace halfsky {

// halfsky.v1.AggregationService. Until the aggregation issue lands every
// method answers UNIMPLEMENTED (the base class's behaviour).
class AggregationServiceImpl final : public halfsky::v1::AggregationService::CallbackService {
 public:
  explicit AggregationServiceImpl(std::shared_ptr<const CatalogIndex> catalog)
      : catalog_(std::move(catalog)) {}

 private:
  std::shared_ptr<const CatalogIndex> catalog_;
};

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_AGGREGATION_AGGREGATION_SERVICE_H_
