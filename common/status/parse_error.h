#ifndef HALFSKY_COMMON_STATUS_PARSE_ERROR_H_
#define HALFSKY_COMMON_STATUS_PARSE_ERROR_H_

// INVALID_ARGUMENT for requests protobuf refuses to parse, naming the
// field where protobuf says which one.
//
// protobuf 3.21 refuses a proto3 `string` field holding invalid UTF-8 and
// names it only in a log line ("String field 'halfsky.v1.DataKey.area_code'
// contains invalid UTF-8 data when parsing ..."); a process-wide protobuf
// log handler (InstallUtf8FieldRecorder) records that name for the parsing
// thread, and every other log line still reaches protobuf's previous
// handler. Used by the server's request-parse interceptor
// (common/server/request_parse.h) and by services that parse request bytes
// themselves. Thread-safe.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace halfsky {

// Installs the log handler (once per process; later calls do nothing).
void InstallUtf8FieldRecorder();

// The full name of the last string field protobuf refused as invalid UTF-8
// on this thread since the last call ("halfsky.v1.DataKey.area_code"), and
// forgets it.
std::optional<std::string> TakeRefusedUtf8Field();

// INVALID_ARGUMENT for a request of type `request` (may be null) that did
// not parse. With `utf8_field` reachable from `request`: "invalid UTF-8 in
// string field <name>" and a BadRequest naming the path from the request
// type, e.g. "data_values[].key.area_code" (the element index is unknown:
// protobuf stops without saying which). Otherwise "the request is not a
// valid <type>", BadRequest field "".
absl::Status UnparseableRequestError(const google::protobuf::Descriptor* request,
                                     const std::optional<std::string>& utf8_field);

// The shortest path of field names from `root` to field `field_name` of
// message `message_name` ("data_values[].key.area_code"); "" when not
// reachable.
std::string FieldPathFrom(const google::protobuf::Descriptor* root, absl::string_view message_name,
                          absl::string_view field_name);

// Parses `bytes` into `request`; on failure UnparseableRequestError.
absl::Status ParseRequest(absl::string_view bytes, google::protobuf::Message* request);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_STATUS_PARSE_ERROR_H_
