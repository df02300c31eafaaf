#include "common/labels/labels.h"

#include "absl/strings/match.h"
#include "halfsky/v1/options.pb.h"

namespace halfsky::labels {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;

template <typename Extension>
const std::string& Option(const EnumDescriptor* type, int number, const Extension& extension) {
  static const std::string* const kEmpty = new std::string();
  const EnumValueDescriptor* value = type != nullptr ? type->FindValueByNumber(number) : nullptr;
  if (value == nullptr) {
    return *kEmpty;
  }
  return value->options().GetExtension(extension);
}

}  // namespace

const std::string& LabelZh(const EnumDescriptor* type, int number) {
  return Option(type, number, halfsky::v1::label_zh);
}

const std::string& LabelEn(const EnumDescriptor* type, int number) {
  return Option(type, number, halfsky::v1::label_en);
}

const std::string& ShortLabelZh(const EnumDescriptor* type, int number) {
  return Option(type, number, halfsky::v1::short_label_zh);
}

const std::string& Token(const EnumDescriptor* type, int number) {
  return Option(type, number, halfsky::v1::token);
}

std::optional<int> Parse(const EnumDescriptor* type, absl::string_view text) {
  if (type == nullptr || text.empty()) {
    return std::nullopt;
  }
  for (int i = 0; i < type->value_count(); ++i) {
    const google::protobuf::EnumValueOptions& o = type->value(i)->options();
    const std::string& token = o.GetExtension(halfsky::v1::token);
    if (token.empty()) {
      continue;
    }
    const std::string& label = o.GetExtension(halfsky::v1::label_zh);
    const std::string& short_label = o.GetExtension(halfsky::v1::short_label_zh);
    if (absl::EqualsIgnoreCase(text, token) || (!label.empty() && text == label) ||
        (!short_label.empty() && text == short_label)) {
      return type->value(i)->number();
    }
  }
  return std::nullopt;
}

}  // namespace halfsky::labels
