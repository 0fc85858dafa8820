#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/duration.h"
#include "common/result.h"

namespace opsm::collectors {

struct HttpOptions {
  std::string bearer_token;  // sent as "Authorization: <token_scheme> ..."; never logged
  std::string token_scheme = "Bearer";  // NetBox v1 tokens use "Token"
  std::string basic_username;
  std::string basic_password;
  std::string ca_file;                // extra CA bundle for TLS
  bool insecure_skip_verify = false;  // TLS verification is on unless this is set
  size_t max_body_bytes = 64u << 20;  // larger responses are an error, not an OOM
  std::string user_agent = "opsmaturity";
  // Further request headers (Loki's X-Scope-OrgID); never secrets (those go in bearer_token).
  std::map<std::string, std::string> extra_headers;
  // GETs that fail for a reason worth retrying (connection refused or reset, HTTP 429, 5xx)
  // are retried up to max_retries times, within the call's timeout: after Retry-After when
  // the server sends one (and it fits), else after retry_backoff, doubled each time, jittered.
  int max_retries = 2;
  Duration retry_backoff = std::chrono::milliseconds(250);
};

// A base URL without its trailing slashes, so that `base + "/api/..."` has one.
inline std::string withoutTrailingSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// `options` without its credentials (bearer token, basic auth): for a second server a
// collector reads besides its own (an Alertmanager's Prometheus), which must never be sent
// the first one's secrets. TLS settings and limits are kept.
inline HttpOptions withoutCredentials(HttpOptions options) {
  options.bearer_token.clear();
  options.basic_username.clear();
  options.basic_password.clear();
  return options;
}

// The memory every HTTP response being received or held may take together, across all
// collectors: the agent's max_inflight_response_bytes (default 256 MiB). Each response's
// body holds its share from its first byte until the response is destroyed (parsed and
// dropped); a response that would exceed it fails ("response budget exhausted", retried next
// poll) instead of the agent's memory growing with the number of sources (16 endless or
// gzip-bomb sources at the per-response cap used to take 1.4 GB). 0 means no budget.
void setResponseBudget(size_t bytes);
size_t responseBudget();
size_t responseBytesHeld();

// A share of the response budget, given back when destroyed. Copies hold no share.
class BudgetLease {
 public:
  BudgetLease() = default;
  BudgetLease(const BudgetLease&) {}
  BudgetLease& operator=(const BudgetLease&) { return *this; }
  BudgetLease(BudgetLease&& o) noexcept : bytes_(o.bytes_) { o.bytes_ = 0; }
  BudgetLease& operator=(BudgetLease&& o) noexcept;
  ~BudgetLease();
  // Takes `n` more bytes of the budget; false (taking nothing) if that would exceed it.
  bool take(size_t n);
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  BudgetLease lease;  // the body's share of the response budget
};

// A blocking HTTP(S) GET client on libcurl. Thread-compatible: one instance per collector.
// Non-2xx answers are errors carrying the status and the start of the body.
class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  // Retries as HttpOptions says; the whole call, retries and waits included, ends by `timeout`.
  Result<HttpResponse> get(const std::string& url, Duration timeout) const;
  // POSTs `body` with the given content type (used by tests and future write APIs).
  Result<HttpResponse> post(const std::string& url, const std::string& body,
                            const std::string& content_type, Duration timeout) const;

 private:
  Result<HttpResponse> request(const char* method, const std::string& url,
                               const std::string* body, const std::string& content_type,
                               Duration timeout, HttpResponse* failed) const;
  HttpOptions options_;
};

// How long to wait from a Retry-After header (delay-seconds or an HTTP date), if valid.
std::optional<Duration> parseRetryAfter(const std::string& value, TimePoint now);

// Initialises libcurl once for the process (thread-safe); every user of curl calls it first.
void initCurl();

// The URL with any user:password@ part removed, for logs, errors and evidence.
std::string redactUrl(const std::string& url);

// Percent-encodes a query parameter value.
std::string urlEncode(const std::string& s);

}  // namespace opsm::collectors
