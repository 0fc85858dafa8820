#pragma once

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "agent/exposition/http_server.h"

namespace opsm::testing {

// An HTTP fixture server on 127.0.0.1 (free port) running `handler` on its own thread, for
// collectors of APIs we cannot run here, and for error cases of those we can. It records
// every request it receives.
class FixtureServer {
 public:
  explicit FixtureServer(agent::HttpHandler handler);
  ~FixtureServer();

  std::string url() const;  // http://127.0.0.1:PORT
  std::vector<agent::HttpRequest> requests() const;

 private:
  boost::asio::io_context io_;
  agent::HttpServer server_;
  mutable std::mutex mu_;
  std::vector<agent::HttpRequest> requests_;
  agent::HttpHandler handler_;
  std::thread thread_;
};

}  // namespace opsm::testing
