#ifndef HALFSKY_COMMON_PROTO_TIMESTAMP_H_
#define HALFSKY_COMMON_PROTO_TIMESTAMP_H_

// google.protobuf.Timestamp <-> absl::Time, at microsecond precision (what
// halfsky stores: SQLite columns hold Unix microseconds). Pure functions;
// thread-safe.

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace halfsky {

// `t` truncated to whole microseconds. `t` must lie within Timestamp's
// range (years 0001-9999), as every clock reading does.
google::protobuf::Timestamp ToTimestamp(absl::Time t);
// The same, written into `*ts`.
void SetTimestamp(absl::Time t, google::protobuf::Timestamp* ts);
// `ts` truncated to whole microseconds (an unset Timestamp is the Unix epoch).
absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_PROTO_TIMESTAMP_H_
