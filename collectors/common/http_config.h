#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "collectors/common/http_client.h"
#include "common/result.h"

namespace opsm::collectors {

// The config keys parseHttpOptions() reads, for a factory's allowed-key list.
inline constexpr std::string_view kHttpKeys[] = {"bearer_token_file", "bearer_token_env",
                                                 "basic_auth", "tls"};

// Reads auth and TLS options shared by HTTP collectors:
//   bearer_token_file: /etc/opsm/token   or   bearer_token_env: PROM_TOKEN
//   basic_auth: {username: u, password_file: f}  (or password_env)
//   tls: {ca_file: /etc/ssl/ca.pem, insecure_skip_verify: false}
// Secrets are read from files or environment variables only, never from the config itself.
Result<HttpOptions> parseHttpOptions(const std::string& file, const YAML::Node& node);

// Rejects keys of a collector entry not in `allowed`, listing the allowed ones.
Status checkAllowedKeys(const std::string& file, const YAML::Node& node,
                        const std::vector<std::string_view>& allowed, std::string_view what);

// Reads a required http:// or https:// URL.
Result<std::string> readHttpUrl(const std::string& file, const YAML::Node& node,
                                std::string_view key);

// Reads a secret from a file (trailing newline stripped) or an environment variable.
// Errors name the file or variable, never the secret.
Result<std::string> readSecretFile(const std::string& path);
Result<std::string> readSecretEnv(const std::string& name);

// Reads the secret named by "<prefix>_file" or "<prefix>_env" (not both) in `map`; *present
// tells whether either was set (the result is "" when neither was).
Result<std::string> readSecretField(const std::string& file, const YAML::Node& map,
                                    const std::string& prefix, bool* present);

}  // namespace opsm::collectors
