// A hostile HTTP source, written with raw sockets because it breaks HTTP on purpose: bodies
// that never end, gzip bombs, and many of them at once. The client stops each response at
// its cap (counted after decompression) and all of them together at the response budget, and
// gives the budget back when the responses are gone.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "collectors/common/http_client.h"
#include "collectors/common/subprocess.h"

namespace opsm::collectors {
namespace {

// Accepts connections on 127.0.0.1, reads each request's headers and hands the socket to
// `respond`, which writes whatever it likes until the client goes away.
class RawServer {
 public:
  explicit RawServer(std::function<void(int)> respond) : respond_(std::move(respond)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listener_, 64), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] {
      for (;;) {
        int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;
        std::lock_guard lock(mu_);
        workers_.emplace_back([this, fd] {
          std::string head;
          char c;
          while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) head += c;
          respond_(fd);
          ::close(fd);
        });
      }
    });
  }
  ~RawServer() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    std::lock_guard lock(mu_);
    for (auto& w : workers_) w.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  std::function<void(int)> respond_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
};

bool sendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// A chunked body that never ends (until the client hangs up).
void endless(int fd) {
  if (!sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n")) {
    return;
  }
  const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
  for (int i = 0; i < 100000 && sendAll(fd, chunk); ++i) {
  }
}

struct BudgetGuard {
  explicit BudgetGuard(size_t bytes) : saved(responseBudget()) { setResponseBudget(bytes); }
  ~BudgetGuard() { setResponseBudget(saved); }
  size_t saved;
};

TEST(HostileSource, AnEndlessBodyStopsAtTheResponseCap) {
  RawServer server(endless);
  HttpOptions options;
  options.max_body_bytes = 1u << 20;
  options.max_retries = 0;
  auto r = HttpClient(options).get(server.url(), std::chrono::seconds(10));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("response larger than 1048576 bytes"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(responseBytesHeld(), 0u);
}

TEST(HostileSource, AGzipBombStopsAtTheCapCountedAfterDecompression) {
  // 256 MiB of zeros, gzip-compressed to ~250 KB.
  CommandOptions gzip;
  gzip.max_output = 4u << 20;
  auto bomb = runCommand({"sh", "-c", "head -c 268435456 /dev/zero | gzip -c"}, gzip);
  ASSERT_TRUE(bomb && bomb->exit_code == 0);
  ASSERT_LT(bomb->out.size(), 1u << 20);
  RawServer server([&](int fd) {
    sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                "Content-Length: " + std::to_string(bomb->out.size()) + "\r\n\r\n" + bomb->out);
  });
  HttpOptions options;
  options.max_body_bytes = 8u << 20;
  options.max_retries = 0;
  auto r = HttpClient(options).get(server.url(), std::chrono::seconds(10));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("response larger than 8388608 bytes"), std::string::npos)
      << r.error().message;
}

TEST(HostileSource, ManyEndlessSourcesTogetherStopAtTheResponseBudget) {
  BudgetGuard budget(8u << 20);
  RawServer server(endless);
  std::atomic<size_t> peak{0};
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      size_t held = responseBytesHeld();
      if (held > peak) peak = held;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  std::atomic<int> over_budget{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      HttpOptions options;  // each at the default 64 MiB cap
      options.max_retries = 0;
      auto r = HttpClient(options).get(server.url(), std::chrono::seconds(20));
      if (!r) ++failed;
      if (!r && r.error().message.find("response budget exhausted") != std::string::npos) {
        ++over_budget;
      }
    });
  }
  for (auto& c : clients) c.join();
  done = true;
  sampler.join();
  EXPECT_EQ(failed, 8);
  EXPECT_GT(over_budget, 0);
  EXPECT_LE(peak.load(), 8u << 20) << "more than the budget was held at once";
  EXPECT_EQ(responseBytesHeld(), 0u) << "the budget was not given back";
}

TEST(HostileSource, AResponseHoldsItsShareUntilItIsDestroyed) {
  BudgetGuard budget(3u << 20);
  const std::string body(2u << 20, 'x');
  RawServer server([&](int fd) {
    sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body);
  });
  HttpOptions options;
  options.max_retries = 0;
  HttpClient http(options);
  {
    auto first = http.get(server.url(), std::chrono::seconds(10));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(responseBytesHeld(), body.size());
    auto second = http.get(server.url(), std::chrono::seconds(10));
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find("response budget exhausted"), std::string::npos);
  }
  EXPECT_EQ(responseBytesHeld(), 0u);
  EXPECT_TRUE(http.get(server.url(), std::chrono::seconds(10)));
}

}  // namespace
}  // namespace opsm::collectors
