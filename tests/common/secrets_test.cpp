#include "common/secrets.h"

#include <gtest/gtest.h>

#include "tests/support/base64.h"

namespace opsm {
namespace {

using testing::base64;

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override { clearSecretsForTesting(); }
  void TearDown() override { clearSecretsForTesting(); }
};

TEST_F(SecretsTest, ARegisteredSecretIsRedactedAsIsAndPercentEncoded) {
  registerSecret("p@ss w0rd!");
  EXPECT_EQ(redactSecrets("the password is p@ss w0rd! ok"), "the password is REDACTED ok");
  EXPECT_EQ(redactSecrets("?pw=p%40ss%20w0rd%21&x=1"), "?pw=REDACTED&x=1");
  EXPECT_TRUE(holdsSecret("xx p@ss w0rd! yy"));
  EXPECT_FALSE(holdsSecret("nothing here"));
}

TEST_F(SecretsTest, Base64OfTheSecretInsideAnyLongerTextIsFound) {
  const std::string secret = "S3CRET-jira-password-3";
  registerSecret(secret);
  // Whatever precedes it, at each of the three alignments, and whatever follows it.
  for (std::string user : {"", "a", "ab", "ops@example.com:", "x:"}) {
    for (std::string tail : {"", "z", "!!"}) {
      const std::string encoded = base64(user + secret + tail);
      EXPECT_TRUE(holdsSecret("echo: " + encoded)) << user << " | " << tail << " -> " << encoded;
      EXPECT_NE(redactSecrets(encoded), encoded);
    }
  }
}

TEST_F(SecretsTest, ShortSecretsAreNotRegistered) {
  registerSecret("abc");
  EXPECT_TRUE(secretForms("abc").empty());
  EXPECT_EQ(redactSecrets("abcdef"), "abcdef");
}

TEST_F(SecretsTest, UrlUserinfoIsRedactedWithoutAnyRegisteredSecret) {
  EXPECT_EQ(redactSecrets("GET http://admin:pw@host:9090/api failed"),
            "GET http://REDACTED@host:9090/api failed");
  EXPECT_EQ(redactSecrets("mail ops@example.com"), "mail ops@example.com");
}

TEST_F(SecretsTest, TheLongestFormWinsAndRedactionIsIdempotent) {
  registerSecret("token-1234");
  registerSecret("token-1234-and-more");
  EXPECT_EQ(redactSecrets("a token-1234-and-more b token-1234 c"), "a REDACTED b REDACTED c");
  EXPECT_EQ(redactSecrets(redactSecrets("x token-1234")), "x REDACTED");
}

}  // namespace
}  // namespace opsm
