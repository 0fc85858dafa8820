#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "collectors/common/http_client.h"
#include "collectors/config_schema.h"
#include "common/result.h"

namespace opsm::collectors {

// Reads the auth and TLS options shared by HTTP collectors, of a checked entry whose schema
// has httpKeys() or only tlsKey():
//   bearer_token_file: /etc/opsm/token   or   bearer_token_env: PROM_TOKEN
//   basic_auth: {username: u, password_file: f}  (or password_env)
//   tls: {ca_file: /etc/ssl/ca.pem, insecure_skip_verify: false}
// Secrets are read from files or environment variables only, never from the config itself.
Result<HttpOptions> parseHttpOptions(const ConfigReader& config);

}  // namespace opsm::collectors
