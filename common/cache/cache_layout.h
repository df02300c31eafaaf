#ifndef HALFSKY_COMMON_CACHE_CACHE_LAYOUT_H_
#define HALFSKY_COMMON_CACHE_CACHE_LAYOUT_H_

// The aggregate cache in Redis: a contract between its one writer
// (halfsky-aggregation) and every reader (halfsky-evaluation, tools). This
// library (halfsky_cache_layout) is the only definition of its key names,
// the sex / residence tokens, the value codec with its authentication tag,
// and the update message; common/cache/series_point.h turns a cached
// Aggregate into the SeriesPoint the gRPC API returns. Neither service
// defines any of it again. docs/ARCHITECTURE.md, section "Redis key layout",
// says the same in prose.
//
// All keys start with "halfsky:agg:v3:". Indicator ids and area codes are
// the catalog's (they never contain ':'); sex is "total" | "female" |
// "male"; residence is "all" | "urban" | "rural".
//
//   halfsky:agg:v3:s:{indicator}:{area}:{sex}:{residence}       STRING
//       One value per series (indicator × area × sex × residence): a
//       32-byte HMAC-SHA256 tag (SealSeriesValue / OpenSeriesValue below)
//       followed by the payload: every
//       year with a figure, in ascending year order, as a protobuf
//       DELIMITED STREAM of halfsky.v1.Aggregate (each message preceded by
//       its length as a varint, like Java's writeDelimitedTo). Each
//       Aggregate's `key` holds only `year`: the key name says the rest
//       (AppendStoredAggregate / ParseStoredSeries below). The key exists
//       only for a series with at least one figure. One GET gives a whole
//       series (GetSeries).
//   halfsky:agg:v3:idx:{indicator}                                HASH
//       The series present for an indicator: field =
//       "{area}:{sex}:{residence}", value = "" — so readers can enumerate
//       an indicator's series without SCAN.
//   halfsky:agg:v3:cursor                                         STRING
//       Decimal int64: every change-feed revision with sequence <= cursor
//       is reflected in the hashes above, and none later. Written in the
//       same MULTI/EXEC as the aggregates it covers. ABSENT means the cache
//       is not valid (empty, flushed, or being rebuilt): readers then fall
//       back to the aggregation service's gRPC API.
//   halfsky:agg:v3:form_cursor                                    STRING
//       Decimal int64: every review-form transition of the change feed
//       (ChangeEvent.form_change) with form_sequence <= form_cursor is
//       reflected in the series' approval counts (Aggregate.part_count,
//       approved_part_count), none later. Written in the same MULTI/EXEC as
//       the cursor, and deleted with it; the writer treats a cursor without
//       a form_cursor (a cache written before approval was tracked) as not
//       its own and rewrites everything.
//   halfsky:agg:v3:version                                        STRING
//       Integer, INCR'd in every committing MULTI/EXEC (never reset by the
//       writer): a cheap "has anything changed" check for pollers.
//
// Channel "halfsky:aggregates:updated": after each commit the writer
// PUBLISHes one message (ASCII, fields separated by single spaces, always in
// this order):
//
//   cursor=<int64> version=<int64> rebuild=<0|1> indicators=<id>[,<id>...]
//
// `cursor` is the new cursor, `version` the version after the commit,
// `indicators` the ids of the indicators with changed aggregates (sorted;
// may be empty: "indicators="). rebuild=1 means the whole cache was
// rewritten (indicators then lists every indicator with aggregates): re-read
// everything. Pub/sub loses messages while a subscriber is disconnected:
// readers re-read on (re)subscribe, or compare `version`.
//
// Authenticity (v3): every series value starts with
//   HMAC-SHA256(mac_key, "halfsky:agg:v3:mac\0" + key name + "\0" + payload)
// where mac_key is a secret only the writer and the readers hold
// (--cache_mac_key_file). A value written into Redis by anyone without the
// key (even with write rights on Redis) fails the check, and so does an
// authentic value copied to another key. NOT covered: replaying an older
// authentic value of the SAME key (docs/ARCHITECTURE.md, "Redis key
// layout", threat model). An empty mac_key gives a checksum, not
// authenticity.
//
// History: v2 (until 2026-12) had the same keys without the tag.
// v1 (until 2026-11) kept one HASH per series (field = year, value
// = the Aggregate with its full key) under "halfsky:agg:v1:". One string per
// series costs Redis far less to write (a full rewrite of 1 000 000 values:
// 92 000 SETs instead of 1 000 000 hash fields). The writer deletes leftover
// v1 keys when it rewrites the cache.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "halfsky/v1/aggregation.pb.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::cache {

// Every key of the current layout starts with this.
inline constexpr char kKeyPrefix[] = "halfsky:agg:v3:";
inline constexpr char kSeriesKeyPrefix[] = "halfsky:agg:v3:s:";
inline constexpr char kIndexKeyPrefix[] = "halfsky:agg:v3:idx:";
inline constexpr char kCursorKey[] = "halfsky:agg:v3:cursor";
inline constexpr char kVersionKey[] = "halfsky:agg:v3:version";
inline constexpr char kFormCursorKey[] = "halfsky:agg:v3:form_cursor";
// SCAN/KEYS pattern of every key of this layout AND of the previous ones
// (v1, v2): what a full rewrite of the cache deletes (RedisWriter::RewriteAll)
// and what the writer's Redis ACL covers (deploy/redis/users.acl.in,
// deploy/k8s).
inline constexpr char kAnyLayoutKeyPattern[] = "halfsky:agg:*";
inline constexpr char kUpdatesChannel[] = "halfsky:aggregates:updated";
// The epoch of the aggregation leader that owns the cache (decimal), the
// fencing token of common/election/leader_elector.h: with several
// aggregation replicas every write is conditional on it
// (services/aggregation/redis_writer.h). Outside the versioned layout, so
// that a layout change keeps it; kept by RewriteAll.
inline constexpr char kLeaderEpochKey[] = "halfsky:agg:leader_epoch";

// Length of the tag in front of every series value.
inline constexpr size_t kSeriesMacSize = 32;

// Tokens: "total" / "female" / "male" and "all" / "urban" / "rural", the
// names of sex and residence in key names, index fields and the CSV export.
// UNSPECIFIED (or any unknown value) reads as TOTAL / ALL.
const char* SexToken(halfsky::v1::Sex sex);
const char* ResidenceToken(halfsky::v1::Residence residence);
// FEMALE and MALE stay; everything else (UNSPECIFIED, unknown values)
// becomes TOTAL. The series a key name or a token denotes.
halfsky::v1::Sex NormalizeSex(halfsky::v1::Sex sex);
// URBAN and RURAL stay; everything else becomes ALL.
halfsky::v1::Residence NormalizeResidence(halfsky::v1::Residence residence);

// "halfsky:agg:v3:s:HEALTH-01:610303:female:all". UNSPECIFIED sex/residence
// read as total/all.
std::string SeriesRedisKey(absl::string_view indicator_id, absl::string_view area_code,
                           halfsky::v1::Sex sex, halfsky::v1::Residence residence);
// "halfsky:agg:v3:idx:HEALTH-01".
std::string IndexRedisKey(absl::string_view indicator_id);
// "610303:female:all" (the field of the index hash).
std::string IndexField(absl::string_view area_code, halfsky::v1::Sex sex,
                       halfsky::v1::Residence residence);

// Appends one year of a series value to `*value`: `aggregate` with its key
// reduced to key.year, length-prefixed. Cheapest when the key already holds
// only the year (no copy). Callers append years in ascending order.
void AppendStoredAggregate(const halfsky::v1::Aggregate& aggregate, std::string* value);
// A whole series value back into full Aggregates (keys set to indicator_id,
// area_code, sex, residence — normalized — and each message's year), in
// stored order. An empty value is an empty series. INVALID_ARGUMENT if
// `value` is not a delimited stream of Aggregates.
absl::StatusOr<std::vector<halfsky::v1::Aggregate>> ParseStoredSeries(
    absl::string_view indicator_id, absl::string_view area_code, halfsky::v1::Sex sex,
    halfsky::v1::Residence residence, absl::string_view value);

// The stored value of series key `redis_key` (SeriesRedisKey) for
// `payload` (AppendStoredAggregate output): the tag, then the payload.
// Thread-safe; never fails.
std::string SealSeriesValue(absl::string_view mac_key, absl::string_view redis_key,
                            absl::string_view payload);
// The payload of a stored value (a view into `value`) if its tag is
// `mac_key`'s for `redis_key` and this payload (compared in constant time).
// PERMISSION_DENIED when the tag does not match (a forged, moved or
// corrupted value, or another key) or the value is shorter than a tag;
// INTERNAL if OpenSSL cannot compute the tag.
absl::StatusOr<absl::string_view> OpenSeriesValue(absl::string_view mac_key,
                                                  absl::string_view redis_key,
                                                  absl::string_view value);

// One message of kUpdatesChannel (format above).
struct UpdateMessage {
  int64_t cursor = 0;
  int64_t version = 0;
  bool rebuild = false;
  std::vector<std::string> indicator_ids;
};

std::string FormatUpdateMessage(const UpdateMessage& message);
// INVALID_ARGUMENT if `text` is not exactly the format above.
absl::StatusOr<UpdateMessage> ParseUpdateMessage(absl::string_view text);

}  // namespace halfsky::cache

#endif  // HALFSKY_COMMON_CACHE_CACHE_LAYOUT_H_
