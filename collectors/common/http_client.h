#pragma once

#include <map>
#include <string>

#include "common/duration.h"
#include "common/result.h"

namespace opsm::collectors {

struct HttpOptions {
  std::string bearer_token;  // sent as "Authorization: Bearer ..."; never logged
  std::string basic_username;
  std::string basic_password;
  std::string ca_file;                // extra CA bundle for TLS
  bool insecure_skip_verify = false;  // TLS verification is on unless this is set
  size_t max_body_bytes = 64u << 20;  // larger responses are an error, not an OOM
  std::string user_agent = "opsmaturity";
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

// A blocking HTTP(S) GET client on libcurl. Thread-compatible: one instance per collector.
// Non-2xx answers are errors carrying the status and the start of the body.
class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  Result<HttpResponse> get(const std::string& url, Duration timeout) const;
  // POSTs `body` with the given content type (used by tests and future write APIs).
  Result<HttpResponse> post(const std::string& url, const std::string& body,
                            const std::string& content_type, Duration timeout) const;

 private:
  Result<HttpResponse> request(const char* method, const std::string& url,
                               const std::string* body, const std::string& content_type,
                               Duration timeout) const;
  HttpOptions options_;
};

// The URL with any user:password@ part removed, for logs, errors and evidence.
std::string redactUrl(const std::string& url);

// Percent-encodes a query parameter value.
std::string urlEncode(const std::string& s);

}  // namespace opsm::collectors
