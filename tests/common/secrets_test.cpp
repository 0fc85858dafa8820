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

namespace opsm {
namespace {

// Echoed JSON-escaped (PHP's json_encode writes '/' as "\/" and non-ASCII as \uXXXX; Go's
// escapes <>&), or hex, or base64url, a secret used to pass redaction.
TEST_F(SecretsTest, EncodedFormsAServerMayEchoAreFound) {
  const std::string secret = "pa/ss<wörd>&😀1";
  registerSecret(secret);
  for (const std::string& echoed : std::vector<std::string>{
           std::string("pa\\/ss<w\\u00f6rd>&\\ud83d\\ude001"),          // PHP json_encode
           std::string("pa/ss\\u003cwörd\\u003e\\u0026😀1"),           // Go encoding/json
           std::string("pa/ss\\u003cw\\u00f6rd\\u003e\\u0026\\ud83d\\ude001"),
           std::string("pa\\/ss\\u003Cw\\u00F6rd\\u003E\\u0026\\uD83D\\uDE001"),  // upper hex
           std::string("70612f73733c77c3b672643e26f09f988031"),         // hex
           std::string("70612F73733C77C3B672643E26F09F988031"),
       }) {
    EXPECT_TRUE(holdsSecret("{\"error\":\"bad token " + echoed + "\"}")) << echoed;
    EXPECT_EQ(redactSecrets("x " + echoed + " y"), "x REDACTED y") << echoed;
  }
  // base64url: the same fragments with - and _ for + and /.
  const std::string token = "tok>>>en?secret~~~value";
  registerSecret(token);
  std::string b64 = testing::base64("user:" + token);
  std::string b64url = b64;
  for (auto& c : b64url) c = c == '+' ? '-' : c == '/' ? '_' : c;
  ASSERT_NE(b64url, b64);  // the token was chosen so that its base64 has + or /
  EXPECT_TRUE(holdsSecret(b64url)) << b64url;
  EXPECT_TRUE(holdsSecret(b64)) << b64;
}

}  // namespace
}  // namespace opsm
