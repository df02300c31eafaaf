#include "common/status/parse_error.h"

#include <deque>
#include <mutex>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "google/protobuf/stubs/logging.h"

namespace halfsky {
namespace {

namespace pb = ::google::protobuf;

thread_local std::optional<std::string> last_utf8_field;

pb::LogHandler* previous_handler = nullptr;

void RecordingLogHandler(pb::LogLevel level, const char* filename, int line,
                         const std::string& message) {
  // protobuf 3.21 (wire_format_lite.cc PrintUTF8ErrorLog): "String field
  // 'pkg.Message.field' contains invalid UTF-8 data when parsing a protocol
  // buffer. ..."
  static constexpr absl::string_view kPrefix = "String field '";
  if (absl::StartsWith(message, kPrefix) &&
      message.find("contains invalid UTF-8 data when parsing") != std::string::npos) {
    const size_t end = message.find('\'', kPrefix.size());
    if (end != std::string::npos) {
      last_utf8_field = message.substr(kPrefix.size(), end - kPrefix.size());
    }
  }
  if (previous_handler != nullptr) {
    previous_handler(level, filename, line, message);
  }
}

}  // namespace

void InstallUtf8FieldRecorder() {
  static std::once_flag once;
  std::call_once(once, [] { previous_handler = pb::SetLogHandler(&RecordingLogHandler); });
}

std::optional<std::string> TakeRefusedUtf8Field() {
  std::optional<std::string> out = std::move(last_utf8_field);
  last_utf8_field.reset();
  return out;
}

std::string FieldPathFrom(const pb::Descriptor* root, absl::string_view message_name,
                          absl::string_view field_name) {
  std::deque<std::pair<const pb::Descriptor*, std::string>> queue{{root, ""}};
  std::set<const pb::Descriptor*> seen{root};
  while (!queue.empty()) {
    auto [d, path] = queue.front();
    queue.pop_front();
    if (d->full_name() == message_name) {
      return path.empty() ? std::string(field_name) : absl::StrCat(path, ".", field_name);
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      if (f->message_type() == nullptr || !seen.insert(f->message_type()).second) {
        continue;
      }
      queue.emplace_back(f->message_type(), absl::StrCat(path, path.empty() ? "" : ".", f->name(),
                                                         f->is_repeated() ? "[]" : ""));
    }
  }
  return "";
}

absl::Status UnparseableRequestError(const pb::Descriptor* request,
                                     const std::optional<std::string>& utf8_field) {
  std::string path;
  if (utf8_field.has_value() && request != nullptr) {
    const size_t dot = utf8_field->rfind('.');
    if (dot != std::string::npos) {
      path = FieldPathFrom(request, absl::string_view(*utf8_field).substr(0, dot),
                           absl::string_view(*utf8_field).substr(dot + 1));
    }
  }
  if (!path.empty()) {
    return InvalidArgumentError(absl::StrCat("请求含有无效的UTF-8文本（", *utf8_field,
                                             "），未处理 / invalid UTF-8 in string field ",
                                             *utf8_field, "; the request was not processed"),
                                {{path, absl::StrCat("不是有效的UTF-8文本（", *utf8_field,
                                                     "） / not valid UTF-8 (", *utf8_field, ")")}});
  }
  const std::string type = request != nullptr ? request->full_name() : "request";
  return InvalidArgumentError(
      absl::StrCat("请求无法解析为", type, "，未处理 / the request is not a valid ", type,
                   "; it was not processed"),
      {{"", absl::StrCat("无法解析的请求 / unparseable ", type)}});
}

absl::Status ParseRequest(absl::string_view bytes, pb::Message* request) {
  InstallUtf8FieldRecorder();
  TakeRefusedUtf8Field();
  if (request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    TakeRefusedUtf8Field();
    return absl::OkStatus();
  }
  return UnparseableRequestError(request->GetDescriptor(), TakeRefusedUtf8Field());
}

}  // namespace halfsky
