#include "common/proto/timestamp.h"

#include "google/protobuf/util/time_util.h"

namespace halfsky {

using ::google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* ts) { *ts = ToTimestamp(t); }

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(ts));
}

}  // namespace halfsky
