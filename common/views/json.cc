#include "common/views/json.h"

#include "google/protobuf/util/json_util.h"

namespace halfsky::views {

std::string ProtoJson(const google::protobuf::Message& m, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  if (!pretty) {
    out += "\n";
  }
  return out;
}

}  // namespace halfsky::views
