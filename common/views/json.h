#ifndef HALFSKY_COMMON_VIEWS_JSON_H_
#define HALFSKY_COMMON_VIEWS_JSON_H_

// The JSON form of every halfskyctl view: the message's proto3 JSON with the
// proto field names. Pure; thread-safe.

#include <string>

#include "google/protobuf/message.h"

namespace halfsky::views {

// `pretty`: indented, for one document; otherwise one line ending in "\n"
// (a stream of events, one per line).
std::string ProtoJson(const google::protobuf::Message& m, bool pretty);

}  // namespace halfsky::views

#endif  // HALFSKY_COMMON_VIEWS_JSON_H_
