// The HTTP server's connection cap: idle connections past it cannot pile up (a client holding
// hundreds used to exhaust the descriptors, starving /metrics and every collector).
#include "agent/http_server.h"

#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "collectors/common/http_client.h"

namespace opsm::agent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

TEST(HttpServer, ConnectionsPastTheCapAreClosedAndServiceResumes) {
  asio::io_context io;
  HttpServer server(io, [](const HttpRequest&) { return HttpReply{200, "text/plain", "ok\n"}; }, 4);
  ASSERT_TRUE(server.listen("127.0.0.1", 0).ok());
  EXPECT_EQ(server.maxConnections(), 4u);
  std::thread runner([&] { io.run(); });
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), server.port());

  asio::io_context client;
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 4; ++i) {
    idle.emplace_back(client);
    idle.back().connect(ep);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // all four accepted
  tcp::socket extra(client);
  extra.connect(ep);  // the kernel accepts; the server closes it at once
  char byte;
  boost::system::error_code ec;
  asio::read(extra, asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof) << ec.message();

  for (auto& s : idle) s.close();
  collectors::HttpClient http{collectors::HttpOptions{}};
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    served = http.get("http://127.0.0.1:" + std::to_string(server.port()) + "/", std::chrono::seconds(1))
                 .ok();
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(served);
  server.stop();
  io.stop();
  runner.join();
}

TEST(HttpServer, TheDefaultCapFollowsTheDescriptorLimit) {
  asio::io_context io;
  HttpServer server(io, [](const HttpRequest&) { return HttpReply{}; });
  EXPECT_GE(server.maxConnections(), 8u);
  EXPECT_LE(server.maxConnections(), 512u);
}

}  // namespace
}  // namespace opsm::agent
