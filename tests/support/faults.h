#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "agent/exposition/http_server.h"
#include "collectors/collector.h"
#include "tests/support/collect.h"

namespace opsm::testing {

// Failure modes a fixture server can be switched into, to test a collector's error paths
// against what real APIs do: refuse credentials, rate-limit, fail, hang, or answer garbage.
enum class Fault {
  kNone,
  kUnauthorized,         // 401 with the vendor's error body
  kRateLimitedOnce,      // 429 Retry-After: 1 on the first request, then normal
  kRateLimitedLong,      // 429 Retry-After: 3600 on every request
  kServerError,          // 503 on every request
  kSlow,                 // answers after 3 s
  kTruncated,            // the normal body cut in half
  kWrongShape,           // valid JSON of another shape
};

class FaultInjector {
 public:
  void set(Fault f) {
    fault_ = f;
    hits_ = 0;
  }
  int hits() const { return hits_; }

  // Wraps the normal reply. `unauthorized_body` is the vendor's 401 body.
  agent::HttpReply apply(const std::function<agent::HttpReply()>& normal,
                         const std::string& unauthorized_body) {
    int hit = hits_++;
    switch (fault_.load()) {
      case Fault::kNone:
        return normal();
      case Fault::kUnauthorized:
        return {401, "application/json", unauthorized_body};
      case Fault::kRateLimitedOnce:
        if (hit == 0) return {429, "application/json", "{\"message\": \"rate limited\"}", {{"Retry-After", "1"}}};
        return normal();
      case Fault::kRateLimitedLong:
        return {429, "application/json", "{\"message\": \"rate limited\"}", {{"Retry-After", "3600"}}};
      case Fault::kServerError:
        return {503, "text/html", "<html><body>503 Service Unavailable</body></html>"};
      case Fault::kSlow:
        std::this_thread::sleep_for(std::chrono::seconds(3));
        return normal();
      case Fault::kTruncated: {
        auto r = normal();
        r.body = r.body.substr(0, r.body.size() / 2);
        return r;
      }
      case Fault::kWrongShape:
        return {200, "application/json", "{\"unexpected\": [1, 2, 3]}"};
    }
    return normal();
  }

 private:
  std::atomic<Fault> fault_{Fault::kNone};
  std::atomic<int> hits_{0};
};

// Polls `c` under every fault and checks each gives a clear error (or, for a single 429 with
// a short Retry-After, a retried success), and that `secret` appears in no message.
inline void expectFaultsHandled(collectors::Collector& c, FaultInjector& faults,
                                const std::string& secret) {
  struct Case {
    Fault fault;
    bool ok;
    ErrorCode code;
    std::string says;
  };
  const Case cases[] = {
      {Fault::kUnauthorized, false, ErrorCode::kUnauthenticated, "HTTP 401"},
      {Fault::kRateLimitedOnce, true, ErrorCode::kInternal, ""},
      {Fault::kRateLimitedLong, false, ErrorCode::kUnavailable, "Retry-After"},
      {Fault::kServerError, false, ErrorCode::kUnavailable, "HTTP 503"},
      {Fault::kSlow, false, ErrorCode::kTimeout, "no answer within"},
      {Fault::kTruncated, false, ErrorCode::kBadResponse, "JSON"},
      {Fault::kWrongShape, false, ErrorCode::kBadResponse, ""},
  };
  for (const auto& k : cases) {
    faults.set(k.fault);
    auto r = pollOnce(c, std::chrono::seconds(k.fault == Fault::kSlow ? 1 : 8));
    SCOPED_TRACE("fault " + std::to_string(static_cast<int>(k.fault)));
    if (k.ok) {
      EXPECT_TRUE(r) << r.error().message;
      EXPECT_GE(faults.hits(), 2);  // the 429 was retried
      continue;
    }
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, k.code) << r.error().message;
    EXPECT_NE(r.error().message.find(k.says), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find(secret), std::string::npos) << r.error().message;
    if (k.fault == Fault::kServerError) {
      EXPECT_EQ(faults.hits(), 3);  // 1 try + 2 retries
    }
  }
  faults.set(Fault::kNone);
}

}  // namespace opsm::testing
