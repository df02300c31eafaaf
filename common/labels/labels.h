#ifndef HALFSKY_COMMON_LABELS_LABELS_H_
#define HALFSKY_COMMON_LABELS_LABELS_H_

// The words of the contract's enum values: the (halfsky.v1.label_zh),
// (label_en), (short_label_zh) and (token) options that
// protos/halfsky/v1/options.proto defines and the .proto files set on each
// value. Every printed label and token of an enum comes from here, so the
// services, halfskyctl and reports say the same words (and any other client
// can read the same options from the descriptors).
//
// Read from the generated descriptors: no state, thread-safe. The strings
// returned live as long as the program (the descriptor pool); an unknown
// value or a value without that option gives "".

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace halfsky::labels {

// The options of value `number` of enum `type`.
const std::string& LabelZh(const google::protobuf::EnumDescriptor* type, int number);
const std::string& LabelEn(const google::protobuf::EnumDescriptor* type, int number);
const std::string& ShortLabelZh(const google::protobuf::EnumDescriptor* type, int number);
const std::string& Token(const google::protobuf::EnumDescriptor* type, int number);

// The value of `type` whose token equals `text` ignoring ASCII case, or whose
// label_zh or short_label_zh equals `text` exactly; values without a token
// (e.g. *_UNSPECIFIED) never match. std::nullopt when none does.
std::optional<int> Parse(const google::protobuf::EnumDescriptor* type, absl::string_view text);

// The same for a generated enum type, e.g. LabelZh(v1::SEVERITY_RED) is
// "红色预警" and Token(v1::PROGRESS_STATUS_ON_TRACK) is "on_track".
template <typename Enum>
const std::string& LabelZh(Enum value) {
  return LabelZh(google::protobuf::GetEnumDescriptor<Enum>(), static_cast<int>(value));
}
template <typename Enum>
const std::string& LabelEn(Enum value) {
  return LabelEn(google::protobuf::GetEnumDescriptor<Enum>(), static_cast<int>(value));
}
template <typename Enum>
const std::string& ShortLabelZh(Enum value) {
  return ShortLabelZh(google::protobuf::GetEnumDescriptor<Enum>(), static_cast<int>(value));
}
template <typename Enum>
const std::string& Token(Enum value) {
  return Token(google::protobuf::GetEnumDescriptor<Enum>(), static_cast<int>(value));
}
template <typename Enum>
std::optional<Enum> Parse(absl::string_view text) {
  std::optional<int> n = Parse(google::protobuf::GetEnumDescriptor<Enum>(), text);
  if (!n.has_value()) {
    return std::nullopt;
  }
  return static_cast<Enum>(*n);
}

}  // namespace halfsky::labels

#endif  // HALFSKY_COMMON_LABELS_LABELS_H_
