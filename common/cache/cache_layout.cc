#include "common/cache/cache_layout.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/io/coded_stream.h"
#include "openssl/crypto.h"
#include "openssl/evp.h"
#include "openssl/params.h"

namespace halfsky::cache {
namespace {

// One keyed HMAC context per thread, set up once per MAC key (OpenSSL 3's
// one-shot HMAC() fetches the digest and builds a context on every call,
// which cost more than the hashing itself: docs/BENCHMARKS.md, "Cache MAC").
class ThreadMac {
 public:
  ~ThreadMac() {
    EVP_MAC_CTX_free(ctx_);
    EVP_MAC_free(mac_);
  }
  // Resets the context to `key` (re-keying only when it changed). False if
  // OpenSSL failed.
  bool Start(absl::string_view key) {
    if (mac_ == nullptr) {
      mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
      if (mac_ == nullptr) {
        return false;
      }
    }
    if (ctx_ == nullptr || key != key_) {
      EVP_MAC_CTX_free(ctx_);
      ctx_ = EVP_MAC_CTX_new(mac_);
      if (ctx_ == nullptr) {
        return false;
      }
      key_ = std::string(key);
      char digest[] = "SHA256";
      const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                                   OSSL_PARAM_construct_end()};
      static const unsigned char kNoKey = 0;
      const auto* k = key.empty() ? &kNoKey : reinterpret_cast<const unsigned char*>(key.data());
      if (EVP_MAC_init(ctx_, k, key.size(), params) != 1) {
        EVP_MAC_CTX_free(ctx_);
        ctx_ = nullptr;
        return false;
      }
      return true;
    }
    // Same key: restart the computation.
    return EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1;
  }
  bool Update(absl::string_view data) {
    return EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(data.data()), data.size()) ==
           1;
  }
  bool Final(unsigned char out[kSeriesMacSize]) {
    size_t len = 0;
    return EVP_MAC_final(ctx_, out, &len, kSeriesMacSize) == 1 && len == kSeriesMacSize;
  }

 private:
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* ctx_ = nullptr;
  std::string key_;
};

// HMAC-SHA256(mac_key, domain \0 key \0 payload) into `out`. False if
// OpenSSL failed (`out` is then not a tag: the writer stores zeros, which
// no reader accepts since a reader whose HMAC fails refuses every value).
bool SeriesMac(absl::string_view mac_key, absl::string_view redis_key, absl::string_view payload,
               unsigned char out[kSeriesMacSize]) {
  static constexpr char kDomain[] = "halfsky:agg:v3:mac";  // sizeof counts its \0
  thread_local ThreadMac mac;
  return mac.Start(mac_key) && mac.Update(absl::string_view(kDomain, sizeof(kDomain))) &&
         mac.Update(redis_key) && mac.Update(absl::string_view("\0", 1)) && mac.Update(payload) &&
         mac.Final(out);
}

}  // namespace

const char* SexToken(halfsky::v1::Sex sex) {
  switch (sex) {
    case halfsky::v1::SEX_FEMALE:
      return "female";
    case halfsky::v1::SEX_MALE:
      return "male";
    default:
      return "total";
  }
}

const char* ResidenceToken(halfsky::v1::Residence residence) {
  switch (residence) {
    case halfsky::v1::RESIDENCE_URBAN:
      return "urban";
    case halfsky::v1::RESIDENCE_RURAL:
      return "rural";
    default:
      return "all";
  }
}

halfsky::v1::Sex NormalizeSex(halfsky::v1::Sex sex) {
  return (sex == halfsky::v1::SEX_FEMALE || sex == halfsky::v1::SEX_MALE) ? sex
                                                                          : halfsky::v1::SEX_TOTAL;
}

halfsky::v1::Residence NormalizeResidence(halfsky::v1::Residence residence) {
  return (residence == halfsky::v1::RESIDENCE_URBAN || residence == halfsky::v1::RESIDENCE_RURAL)
             ? residence
             : halfsky::v1::RESIDENCE_ALL;
}

std::string SealSeriesValue(absl::string_view mac_key, absl::string_view redis_key,
                            absl::string_view payload) {
  std::string value(kSeriesMacSize + payload.size(), '\0');
  if (!SeriesMac(mac_key, redis_key, payload, reinterpret_cast<unsigned char*>(&value[0]))) {
    std::fill(value.begin(), value.begin() + kSeriesMacSize, '\0');
  }
  if (!payload.empty()) {
    value.replace(kSeriesMacSize, payload.size(), payload.data(), payload.size());
  }
  return value;
}

absl::StatusOr<absl::string_view> OpenSeriesValue(absl::string_view mac_key,
                                                  absl::string_view redis_key,
                                                  absl::string_view value) {
  if (value.size() < kSeriesMacSize) {
    return absl::PermissionDeniedError(
        absl::StrCat("cached value of ", redis_key, " has no authentication tag"));
  }
  const absl::string_view payload = value.substr(kSeriesMacSize);
  unsigned char expected[kSeriesMacSize];
  if (!SeriesMac(mac_key, redis_key, payload, expected)) {
    return absl::InternalError(absl::StrCat("cannot compute the tag of ", redis_key));
  }
  if (CRYPTO_memcmp(expected, value.data(), kSeriesMacSize) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cached value of ", redis_key, " fails its authentication tag"));
  }
  return payload;
}

std::string SeriesRedisKey(absl::string_view indicator_id, absl::string_view area_code,
                           halfsky::v1::Sex sex, halfsky::v1::Residence residence) {
  return absl::StrCat(kSeriesKeyPrefix, indicator_id, ":", area_code, ":", SexToken(sex), ":",
                      ResidenceToken(residence));
}

std::string IndexRedisKey(absl::string_view indicator_id) {
  return absl::StrCat(kIndexKeyPrefix, indicator_id);
}

std::string IndexField(absl::string_view area_code, halfsky::v1::Sex sex,
                       halfsky::v1::Residence residence) {
  return absl::StrCat(area_code, ":", SexToken(sex), ":", ResidenceToken(residence));
}

void AppendStoredAggregate(const halfsky::v1::Aggregate& aggregate, std::string* value) {
  const halfsky::v1::Aggregate* a = &aggregate;
  halfsky::v1::Aggregate reduced;
  const halfsky::v1::DataKey& k = aggregate.key();
  if (!k.indicator_id().empty() || !k.area_code().empty() || k.sex() != 0 || k.residence() != 0) {
    reduced = aggregate;
    reduced.clear_key();
    reduced.mutable_key()->set_year(k.year());
    a = &reduced;
  }
  const size_t size = a->ByteSizeLong();
  uint8_t prefix[5];  // a varint32 takes at most 5 bytes
  uint8_t* const prefix_end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(size), prefix);
  value->append(reinterpret_cast<const char*>(prefix), prefix_end - prefix);
  const size_t at = value->size();
  value->resize(at + size);
  a->SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(&(*value)[at]));
}

absl::StatusOr<std::vector<halfsky::v1::Aggregate>> ParseStoredSeries(
    absl::string_view indicator_id, absl::string_view area_code, halfsky::v1::Sex sex,
    halfsky::v1::Residence residence, absl::string_view value) {
  std::vector<halfsky::v1::Aggregate> out;
  const auto* data = reinterpret_cast<const uint8_t*>(value.data());
  const int size = static_cast<int>(value.size());
  google::protobuf::io::CodedInputStream in(data, size);
  while (in.CurrentPosition() < size) {
    uint32_t length = 0;
    if (!in.ReadVarint32(&length)) {
      return absl::InvalidArgumentError(
          absl::StrCat("truncated aggregate series ", indicator_id, " ", area_code));
    }
    const int at = in.CurrentPosition();
    if (length > static_cast<uint32_t>(size - at)) {
      return absl::InvalidArgumentError(
          absl::StrCat("truncated aggregate series ", indicator_id, " ", area_code));
    }
    halfsky::v1::Aggregate& a = out.emplace_back();
    if (!a.ParseFromArray(data + at, static_cast<int>(length))) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot parse an aggregate of ", indicator_id, " ", area_code));
    }
    in.Skip(static_cast<int>(length));
    halfsky::v1::DataKey* k = a.mutable_key();
    k->set_indicator_id(std::string(indicator_id));
    k->set_area_code(std::string(area_code));
    k->set_sex(NormalizeSex(sex));
    k->set_residence(NormalizeResidence(residence));
  }
  return out;
}

std::string FormatUpdateMessage(const UpdateMessage& m) {
  return absl::StrCat("cursor=", m.cursor, " version=", m.version,
                      " rebuild=", m.rebuild ? "1" : "0",
                      " indicators=", absl::StrJoin(m.indicator_ids, ","));
}

absl::StatusOr<UpdateMessage> ParseUpdateMessage(absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ' ');
  auto bad = [&]() {
    return absl::InvalidArgumentError(
        absl::StrCat("not an aggregates-updated message: \"", text, "\""));
  };
  if (parts.size() != 4) {
    return bad();
  }
  UpdateMessage m;
  absl::string_view c = parts[0];
  if (!absl::ConsumePrefix(&c, "cursor=") || !absl::SimpleAtoi(c, &m.cursor)) {
    return bad();
  }
  absl::string_view v = parts[1];
  if (!absl::ConsumePrefix(&v, "version=") || !absl::SimpleAtoi(v, &m.version)) {
    return bad();
  }
  absl::string_view r = parts[2];
  if (r == "rebuild=1") {
    m.rebuild = true;
  } else if (r != "rebuild=0") {
    return bad();
  }
  absl::string_view ids = parts[3];
  if (!absl::ConsumePrefix(&ids, "indicators=")) {
    return bad();
  }
  if (!ids.empty()) {
    for (absl::string_view id : absl::StrSplit(ids, ',')) {
      if (id.empty()) {
        return bad();
      }
      m.indicator_ids.emplace_back(id);
    }
  }
  return m;
}

}  // namespace halfsky::cache
