#include "collectors/common/http_config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/secrets.h"
#include "common/yaml_util.h"

namespace opsm::collectors {

Result<HttpOptions> parseHttpOptions(const ConfigReader& config) {
  return parseHttpOptions(config.file(), config.entry());
}

Result<HttpOptions> parseHttpOptions(const std::string& file, const YAML::Node& node) {
  HttpOptions opts;
  bool has_token = false;
  auto token = readSecretField(file, node, "bearer_token", &has_token);
  if (!token) return token.error();
  opts.bearer_token = *token;

  if (YAML::Node basic = node["basic_auth"]) {
    if (has_token) return fieldError(file, basic, "basic_auth", "use bearer_token or basic_auth, not both");
    if (auto st = checkKeys(file, basic, {"username", "password_file", "password_env"}, "basic_auth");
        !st) {
      return st.error();
    }
    auto user = readString(file, basic, "username");
    if (!user) return user.error();
    if (user->empty()) return fieldError(file, basic, "basic_auth.username", "is required");
    bool has_password = false;
    auto password = readSecretField(file, basic, "password", &has_password);
    if (!password) return password.error();
    if (!has_password) {
      return fieldError(file, basic, "basic_auth", "needs password_file or password_env");
    }
    opts.basic_username = *user;
    opts.basic_password = *password;
  }
  if (YAML::Node tls = node["tls"]) {
    if (auto st = checkKeys(file, tls, {"ca_file", "insecure_skip_verify"}, "tls"); !st) {
      return st.error();
    }
    auto ca = readString(file, tls, "ca_file");
    if (!ca) return ca.error();
    opts.ca_file = *ca;
    auto skip = readBool(file, tls, "insecure_skip_verify", false);
    if (!skip) return skip.error();
    opts.insecure_skip_verify = *skip;
  }
  return opts;
}

}  // namespace opsm::collectors
