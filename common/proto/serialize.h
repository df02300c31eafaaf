#ifndef HALFSKY_COMMON_PROTO_SERIALIZE_H_
#define HALFSKY_COMMON_PROTO_SERIALIZE_H_

// Deterministic protobuf serialization: the bytes the submission store
// keeps and hashes (payload hashes, "same value" checks), so equal messages
// always give equal bytes within one build (map entries sorted). Pure;
// thread-safe.

#include <string>

#include "google/protobuf/message_lite.h"

namespace halfsky {

// `message` serialized with SetSerializationDeterministic(true).
std::string DeterministicBytes(const google::protobuf::MessageLite& message);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_PROTO_SERIALIZE_H_
