// common/server/response_cache.h: entries live for one version only, an
// older version never replaces a newer one, and the size stays bounded.
#include "common/server/response_cache.h"

#include <string>

#include "gtest/gtest.h"

namespace halfsky::server {
namespace {

std::string Text(const std::optional<grpc::Slice>& s) {
  return s ? std::string(reinterpret_cast<const char*>(s->begin()), s->size()) : "<none>";
}

TEST(VersionedResponseCacheTest, HitsOnlyAtTheVersionItWasBuiltFrom) {
  VersionedResponseCache cache(8);
  EXPECT_EQ(Text(cache.Find(1, "a")), "<none>");
  cache.Insert(1, "a", grpc::Slice(std::string("A1")));
  EXPECT_EQ(Text(cache.Find(1, "a")), "A1");
  EXPECT_EQ(Text(cache.Find(1, "b")), "<none>");
  EXPECT_EQ(Text(cache.Find(2, "a")), "<none>");  // the state changed since
  EXPECT_EQ(Text(cache.Find(0, "a")), "<none>");
}

TEST(VersionedResponseCacheTest, ANewerVersionEmptiesItAndAnOlderOneIsIgnored) {
  VersionedResponseCache cache(8);
  cache.Insert(5, "a", grpc::Slice(std::string("A5")));
  cache.Insert(5, "b", grpc::Slice(std::string("B5")));
  cache.Insert(6, "a", grpc::Slice(std::string("A6")));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(Text(cache.Find(6, "a")), "A6");
  EXPECT_EQ(Text(cache.Find(6, "b")), "<none>");
  // Built from version 5 by a reader that started before the change.
  cache.Insert(5, "b", grpc::Slice(std::string("B5")));
  EXPECT_EQ(Text(cache.Find(5, "b")), "<none>");
  EXPECT_EQ(Text(cache.Find(6, "b")), "<none>");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(VersionedResponseCacheTest, StaysBoundedAndZeroEntriesKeepsNothing) {
  VersionedResponseCache cache(3);
  for (int i = 0; i < 10; ++i) {
    cache.Insert(1, std::to_string(i), grpc::Slice(std::to_string(i)));
    EXPECT_LE(cache.size(), 3u);
  }
  EXPECT_EQ(Text(cache.Find(1, "9")), "9");

  const std::string padded(VersionedResponseCache::kMaxRequestBytes + 1, 'x');
  cache.Insert(1, padded, grpc::Slice(std::string("P")));
  EXPECT_EQ(Text(cache.Find(1, padded)), "<none>");  // too long to keep

  VersionedResponseCache off(0);
  off.Insert(1, "a", grpc::Slice(std::string("A")));
  EXPECT_EQ(off.size(), 0u);
  EXPECT_EQ(Text(off.Find(1, "a")), "<none>");
}

}  // namespace
}  // namespace halfsky::server
