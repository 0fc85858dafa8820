#include "tests/support/fixture_server.h"

#include <stdexcept>

#include <boost/asio/executor_work_guard.hpp>

namespace opsm::testing {

FixtureServer::FixtureServer(agent::HttpHandler handler)
    : server_(io_,
              [this](const agent::HttpRequest& r) {
                {
                  std::lock_guard lock(mu_);
                  requests_.push_back(r);
                }
                return handler_(r);
              }),
      handler_(std::move(handler)) {
  if (!server_.listen("127.0.0.1", 0).ok()) throw std::runtime_error("fixture listen failed");
  thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
  });
}

FixtureServer::~FixtureServer() {
  io_.stop();
  thread_.join();
}

std::string FixtureServer::url() const {
  return "http://127.0.0.1:" + std::to_string(server_.port());
}

std::vector<agent::HttpRequest> FixtureServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

}  // namespace opsm::testing
