// HTTP requests as the agent's server reads them: Beast's parser with the server's limits
// (16 KiB of headers, 64 KiB of body), fed in pieces, then routed through the agent's API
// (paths, queries, the bearer token, content types, attestation bodies) of a real agent on
// the shipped rule pack.
#include <cstdint>
#include <string>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdlib>
#include <fstream>

#include "agent/core/agent.h"
#include "agent/exposition/api.h"
#include "agent/exposition/routes.h"
#include "agent/exposition/http_server.h"
#include "collectors/collector.h"

namespace http = boost::beast::http;

namespace {

opsm::agent::Agent* agent() {
  static std::unique_ptr<opsm::agent::Agent> a = [] {
    char dir[] = "/tmp/opsm-fuzz-XXXXXX";
    if (!mkdtemp(dir)) std::abort();
    const std::string d(dir);
    std::ofstream(d + "/facts.yaml")
        << "facts:\n  - {system: payments, key: file.cmdb.tier, value: gold}\n";
    std::ofstream(d + "/agent.yml") << "rules_dir: " OPSM_SOURCE_DIR "/rules\n"
                                       "systems: [payments, billing]\n"
                                       "api_token_env: OPSM_FUZZ_TOKEN\n"
                                       "collectors:\n"
                                       "  - {name: cmdb, type: file, path: " + d + "/facts.yaml}\n";
    setenv("OPSM_FUZZ_TOKEN", "fuzz-token-123456", 1);
    static opsm::collectors::Registry registry;
    if (!opsm::collectors::registerAll(registry).ok()) std::abort();
    auto config = opsm::agent::loadConfig(d + "/agent.yml", registry);
    if (!config) std::abort();
    auto made = opsm::agent::Agent::create(std::move(*config));
    if (!made) std::abort();
    (*made)->pollAll();
    (*made)->rescore();
    return std::move(*made);
  }();
  return a.get();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  parser.header_limit(16 * 1024);
  boost::beast::error_code ec;
  size_t at = 0;
  // In pieces of up to 7 bytes, as a slow client would send it.
  while (at < size && !parser.is_done()) {
    size_t piece = std::min<size_t>(7, size - at);
    size_t used = parser.put(boost::asio::buffer(data + at, piece), ec);
    if (ec == http::error::need_more) {
      ec = {};
      if (used == 0) {
        piece = size - at;  // the parser wants the whole header: give it all that is left
        used = parser.put(boost::asio::buffer(data + at, piece), ec);
        if (ec == http::error::need_more) break;
      }
    }
    if (ec) return 0;
    at += used;
    if (used == 0) break;
  }
  if (!parser.is_done()) return 0;
  auto req = parser.release();
  opsm::agent::HttpRequest request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers[name] = std::string(field.value());
  }
  request.body = std::move(req.body());
  (void)opsm::agent::route(*agent(), request);
  return 0;
}
