// ReadSecretFile (common/redis/secret_file.h): the secrets of
// --redis_password_file and --cache_mac_key_file.

#include "common/redis/secret_file.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace halfsky {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Write(const std::string& dir, const std::string& name, const std::string& content,
                  mode_t mode) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << content;
  chmod(path.c_str(), mode);
  return path;
}

TEST(SecretFileTest, ReadsAPrivateFileWithoutSurroundingWhitespace) {
  const std::string dir = testing::MakeTempDir("secret-file");
  auto secret = ReadSecretFile(Write(dir, "pw", "  s3cret-value\n", 0600));
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, "s3cret-value");
  // Group read is allowed (Kubernetes Secret volumes with fsGroup, 0440).
  EXPECT_TRUE(ReadSecretFile(Write(dir, "group", "x", 0440)).ok());
}

TEST(SecretFileTest, RefusesWhatOthersMayReadEmptyAndMissingFiles) {
  const std::string dir = testing::MakeTempDir("secret-file");
  auto open = ReadSecretFile(Write(dir, "open", "s3cret-value", 0644));
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(open.status().message(), HasSubstr("0644"));
  EXPECT_THAT(open.status().message(), Not(HasSubstr("s3cret-value")));
  EXPECT_EQ(ReadSecretFile(Write(dir, "empty", " \n", 0600)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadSecretFile(dir + "/missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadSecretFile(dir).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace halfsky
