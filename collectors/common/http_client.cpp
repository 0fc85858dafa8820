#include "collectors/common/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <cctype>
#include <mutex>
#include <random>
#include <thread>

#include "common/log.h"
#include "common/regex.h"
#include "common/secrets.h"
#include "common/url.h"

namespace opsm::collectors {

void initCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

namespace {

std::atomic<size_t> g_budget{256u << 20};
std::atomic<size_t> g_held{0};

struct Sink {
  std::string* body;
  size_t max;
  BudgetLease* lease;
  bool overflow = false;
  bool over_budget = false;
};

size_t writeBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->max) {
    sink->overflow = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  if (!sink->lease->take(bytes)) {
    sink->over_budget = true;
    return 0;
  }
  sink->body->append(data, bytes);
  return bytes;
}

size_t writeHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = line.substr(colon + 1);
    auto b = value.find_first_not_of(" \t\r\n");
    auto e = value.find_last_not_of(" \t\r\n");
    (*headers)[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  }
  return size * n;
}

std::string snippet(const std::string& body) {
  std::string s = body.substr(0, 200);
  std::replace(s.begin(), s.end(), '\n', ' ');
  s = printable(s);  // no forged log lines or terminal escapes from a server
  return body.size() > 200 ? s + "..." : s;
}

}  // namespace

void setResponseBudget(size_t bytes) { g_budget = bytes; }
size_t responseBudget() { return g_budget.load(); }
size_t responseBytesHeld() { return g_held.load(); }

bool BudgetLease::take(size_t n) {
  const size_t budget = g_budget.load();
  size_t held = g_held.load();
  do {
    if (budget != 0 && held + n > budget) return false;
  } while (!g_held.compare_exchange_weak(held, held + n));
  bytes_ += n;
  return true;
}

BudgetLease& BudgetLease::operator=(BudgetLease&& o) noexcept {
  if (this != &o) {
    g_held -= bytes_;
    bytes_ = o.bytes_;
    o.bytes_ = 0;
  }
  return *this;
}

BudgetLease::~BudgetLease() { g_held -= bytes_; }

std::string redactUrl(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto host_start = scheme + 3;
  auto path_start = url.find('/', host_start);
  auto at = url.rfind('@', path_start == std::string::npos ? url.size() : path_start);
  if (at == std::string::npos || at < host_start) return url;
  return url.substr(0, host_start) + "REDACTED@" + url.substr(at + 1);
}

std::string urlEncode(const std::string& s) { return percentEncode(s); }

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) { initCurl(); }

std::optional<Duration> parseRetryAfter(const std::string& value, TimePoint now) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 9) return std::nullopt;
    return std::chrono::seconds(std::stol(value));
  }
  time_t t = curl_getdate(value.c_str(), nullptr);
  if (t < 0) return std::nullopt;
  auto d = std::chrono::duration_cast<Duration>(Clock::from_time_t(t) - now);
  return std::max(d, Duration(0));
}

Result<HttpResponse> HttpClient::get(const std::string& url, Duration timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
  };
  Duration backoff = options_.retry_backoff;
  static thread_local std::mt19937 rng(std::random_device{}());
  for (int attempt = 0;; ++attempt) {
    HttpResponse last;
    auto r = request("GET", url, nullptr, "", std::max(left(), Duration(1)), &last);
    if (r || r.error().code != ErrorCode::kUnavailable || attempt >= options_.max_retries) {
      return r;
    }
    Duration wait = backoff;
    backoff *= 2;
    std::uniform_int_distribution<long long> jitter(0, wait.count() / 2);
    wait += Duration(jitter(rng));
    if (auto it = last.headers.find("retry-after"); it != last.headers.end()) {
      auto ra = parseRetryAfter(it->second, Clock::now());
      if (ra && *ra >= left()) {
        return makeError(r.error().code, r.error().message + " (Retry-After " +
                                             formatDuration(*ra) +
                                             " is beyond this poll's deadline)");
      }
      if (ra) wait = *ra;
    }
    if (wait >= left()) return r;
    std::this_thread::sleep_for(wait);
  }
}

Result<HttpResponse> HttpClient::post(const std::string& url, const std::string& body,
                                      const std::string& content_type, Duration timeout) const {
  return request("POST", url, &body, content_type, timeout, nullptr);
}

Result<HttpResponse> HttpClient::request(const char* method, const std::string& url,
                                         const std::string* body,
                                         const std::string& content_type,
                                         Duration timeout, HttpResponse* failed) const {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return makeError(ErrorCode::kInternal, "curl_easy_init failed");
  CURL* h = curl.get();
  HttpResponse resp;
  Sink sink{&resp.body, options_.max_body_bytes, &resp.lease};
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr,
                                                                      curl_slist_free_all);
  auto add_header = [&](const std::string& hdr) {
    headers.reset(curl_slist_append(headers.release(), hdr.c_str()));
  };
  add_header("Accept: application/json");
  if (body) add_header("Content-Type: " + content_type);
  if (!options_.bearer_token.empty()) {
    add_header("Authorization: " + options_.token_scheme + " " + options_.bearer_token);
  }
  for (const auto& [name, value] : options_.extra_headers) add_header(name + ": " + value);

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  if (body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // never resend credentials elsewhere
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<long long>(1, timeout.count())));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::max<long long>(1, timeout.count())));
  curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // gzip if the server offers it
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, writeBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, writeHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp.headers);
  if (!options_.basic_username.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, options_.basic_username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, options_.basic_password.c_str());
  }
  if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (options_.insecure_skip_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  const std::string shown = redactUrl(url);
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    if (sink.overflow) {
      return makeError(ErrorCode::kBadResponse,
                       std::string(method) + " " + shown + ": response larger than " +
                           std::to_string(options_.max_body_bytes) + " bytes");
    }
    if (sink.over_budget) {
      return makeError(ErrorCode::kUnavailable,
                       std::string(method) + " " + shown +
                           ": response budget exhausted: the responses of all sources in memory "
                           "would exceed max_inflight_response_bytes (" +
                           std::to_string(g_budget.load()) + " bytes)");
    }
    ErrorCode code = rc == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable;
    std::string what = rc == CURLE_OPERATION_TIMEDOUT
                           ? "no answer within " + formatDuration(timeout)
                           : curl_easy_strerror(rc);
    return makeError(code, std::string(method) + " " + shown + ": " + what);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
  if (resp.status >= 200 && resp.status < 300) return resp;

  std::string msg = std::string(method) + " " + shown + ": HTTP " + std::to_string(resp.status);
  // Redacted before it is cut: a cut must not leave a secret's prefix behind.
  if (!resp.body.empty()) msg += ": " + snippet(redactSecrets(resp.body.substr(0, 64 << 10)));
  ErrorCode code = ErrorCode::kBadResponse;
  if (resp.status == 401 || resp.status == 403) code = ErrorCode::kUnauthenticated;
  if (resp.status == 429 || resp.status >= 500) code = ErrorCode::kUnavailable;
  // Never echo a credential the server may have reflected: ours, or any Authorization value.
  for (const std::string* secret : {&options_.bearer_token, &options_.basic_password}) {
    for (size_t pos; !secret->empty() && (pos = msg.find(*secret)) != std::string::npos;) {
      msg.replace(pos, secret->size(), "REDACTED");
    }
  }
  static const Regex kAuthValue =
      *Regex::compile(R"((Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{4,})", Regex::Case::kInsensitive);
  kAuthValue.replaceAll(&msg, "\\1 REDACTED");
  msg = redactSecrets(std::move(msg));
  if (failed) *failed = std::move(resp);
  return makeError(code, msg);
}

}  // namespace opsm::collectors
