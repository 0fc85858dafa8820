#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/result.h"

namespace opsm::agent {

struct HttpReply {
  HttpReply() = default;
  HttpReply(unsigned s, std::string type, std::string b,
            std::map<std::string, std::string> h = {})
      : status(s), content_type(std::move(type)), body(std::move(b)), headers(std::move(h)) {}

  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::map<std::string, std::string> headers;  // extra headers (Retry-After, Link, ...)
};

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/metrics?x=1"
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string path() const { return target.substr(0, target.find('?')); }
};

// Routes a request to a reply. Runs on the io_context's thread.
using HttpHandler = std::function<HttpReply(const HttpRequest& request)>;

// Sends the reply to a request, from any thread; call it exactly once.
using HttpResponder = std::function<void(HttpReply reply)>;
// Routes a request and answers it now or later, from another thread (work that must not hold
// up the io_context's thread). Called on the io_context's thread; the connection waits for
// its reply.
using AsyncHttpHandler = std::function<void(const HttpRequest& request, HttpResponder respond)>;

// A small HTTP/1.1 server on Boost.Beast: keep-alive, bounded request size, idle timeout, and
// at most `max_connections` open at once (default: 512, or a quarter of the process's file
// descriptor limit if that is lower, so that connections cannot take the descriptors the
// collectors need). Fair between clients: at the cap, a new connection takes the slot of the
// connection that has waited longest for a request among those of the client address holding
// the most, and is refused only when every connection is being answered. Headers over 16 KiB
// get 431, bodies over 64 KiB 413. An accept that fails (no descriptor left) is retried after
// a pause instead of spinning.
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpHandler handler, size_t max_connections = 0);
  HttpServer(boost::asio::io_context& io, AsyncHttpHandler handler, size_t max_connections = 0);
  // The cap in force.
  size_t maxConnections() const;
  // Bytes of replies written but not yet sent: at most `per_reply` for one and `total` for all
  // connections together (slow readers cannot make the agent hold their answers without
  // bound). A reply past either is answered 503 (Retry-After) instead, and `on_refused`
  // called. Defaults: 128 MiB and 512 MiB. Call before listen().
  void setReplyBudget(size_t per_reply, size_t total, std::function<void()> on_refused);
  // Bytes of replies held now (tests).
  size_t replyBytesHeld() const;
  ~HttpServer();

  // Binds and starts accepting; port 0 picks a free port (see port()).
  Status listen(const std::string& host, unsigned short port);
  unsigned short port() const;
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace opsm::agent
