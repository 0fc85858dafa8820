#include "collectors/common/http_config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/secrets.h"
#include "common/yaml_util.h"

namespace opsm::collectors {

Result<std::string> readSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(ErrorCode::kNotFound, "cannot read secret file " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) return makeError(ErrorCode::kInvalidArgument, "secret file " + path + " is empty");
  registerSecret(s);
  return s;
}

Result<std::string> readSecretEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v || !*v) {
    return makeError(ErrorCode::kInvalidArgument,
                     "environment variable " + name + " is not set or empty");
  }
  registerSecret(v);
  return std::string(v);
}

Result<std::string> readSecretField(const std::string& file, const YAML::Node& map,
                                    const std::string& prefix, bool* present) {
  auto f = readString(file, map, prefix + "_file");
  if (!f) return f.error();
  auto e = readString(file, map, prefix + "_env");
  if (!e) return e.error();
  *present = !f->empty() || !e->empty();
  if (!f->empty() && !e->empty()) {
    return fieldError(file, map[prefix + "_file"], prefix + "_file",
                      "set either " + prefix + "_file or " + prefix + "_env, not both");
  }
  if (!f->empty()) {
    auto s = readSecretFile(*f);
    if (!s) return fieldError(file, map[prefix + "_file"], prefix + "_file", s.error().message);
    return s;
  }
  if (!e->empty()) {
    auto s = readSecretEnv(*e);
    if (!s) return fieldError(file, map[prefix + "_env"], prefix + "_env", s.error().message);
    return s;
  }
  return std::string();
}

Status checkAllowedKeys(const std::string& file, const YAML::Node& node,
                        const std::vector<std::string_view>& allowed, std::string_view what) {
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return fieldError(file, kv.first, key,
                      "unknown key for " + std::string(what) + " (allowed: " + list + ")");
  }
  return Status::success();
}

Result<std::string> readHttpUrl(const std::string& file, const YAML::Node& node,
                                std::string_view key) {
  auto url = readString(file, node, key);
  if (!url) return url.error();
  if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
    YAML::Node n = node[std::string(key)];
    return fieldError(file, n.IsDefined() ? n : node, key, "must be an http:// or https:// URL");
  }
  return url;
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
