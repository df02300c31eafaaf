// The catalog validator on arbitrary text-format catalogs: never crashes,
// whatever the parser accepts.
#include <cstdint>
#include <string>

#include "common/catalog/validate.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "halfsky/v1/catalog.pb.h"

namespace {

class SilentErrors final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int, int, const std::string&) override {}
  void AddWarning(int, int, const std::string&) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  halfsky::v1::Catalog catalog;
  google::protobuf::TextFormat::Parser parser;
  parser.AllowPartialMessage(true);
  SilentErrors errors;
  parser.RecordErrorsTo(&errors);
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (!parser.ParseFromString(text, &catalog)) {
    return 0;
  }
  (void)halfsky::catalog_internal::ValidateCatalog(catalog, nullptr);
  return 0;
}
