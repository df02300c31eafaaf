#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_EVALUATION_SERVICE_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_EVALUATION_SERVICE_H_

#include <memory>

#include "common/catalog/catalog.h"
#include "halfsky/v1/evaluation.grpc.pb.h"

namespace halfsky {

// halfsky.v1.EvaluationService. Until the evaluation issue lands every
// method answers UNIMPLEMENTED (the base class's behaviour).
class EvaluationServiceImpl final : public halfsky::v1::EvaluationService::CallbackService {
 public:
  explicit EvaluationServiceImpl(std::shared_ptr<const CatalogIndex> catalog)
      : catalog_(std::move(catalog)) {}

 private:
  std::shared_ptr<const CatalogIndex> catalog_;
};

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_EVALUATION_SERVICE_H_
