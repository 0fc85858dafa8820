#include "collectors/common/http_config.h"

namespace opsm::collectors {

Result<HttpOptions> parseHttpOptions(const ConfigReader& config) {
  // The schema (httpKeys(), tlsKey()) has checked the keys, their types and what is required.
  HttpOptions opts;
  if (config.declares("bearer_token")) {
    auto token = config.secret("bearer_token");
    if (!token) return token.error();
    opts.bearer_token = *token;
  }
  if (config.declares("basic_auth") && config.has("basic_auth")) {
    if (config.has("bearer_token")) {
      return config.error("basic_auth", "use bearer_token or basic_auth, not both");
    }
    const ConfigReader basic = config.section("basic_auth");
    auto password = basic.secret("password");
    if (!password) return password.error();
    opts.basic_username = basic.string("username");
    opts.basic_password = *password;
  }
  if (config.declares("tls")) {
    const ConfigReader tls = config.section("tls");
    opts.ca_file = tls.string("ca_file");
    opts.insecure_skip_verify = tls.flag("insecure_skip_verify");
  }
  return opts;
}

}  // namespace opsm::collectors
