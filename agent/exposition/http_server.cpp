#include "agent/exposition/http_server.h"

#include <fcntl.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <vector>
#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/log.h"

namespace opsm::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr size_t kMaxRequestBytes = 64 * 1024;

class Session;

// Bytes of replies written but not yet sent, for all connections (HttpServer::setReplyBudget).
struct ReplyBudget {
  std::atomic<size_t> per_reply{128u << 20};
  std::atomic<size_t> total{512u << 20};
  std::atomic<size_t> held{0};
  std::function<void()> on_refused;
  // Takes `n` bytes, or refuses (false).
  bool take(size_t n) {
    if (n > per_reply) return false;
    size_t now = held.load();
    do {
      if (now + n > total) return false;
    } while (!held.compare_exchange_weak(now, now + n));
    return true;
  }
};

// The sessions open, by client address; a session holds one slot until it is destroyed.
// When the server is full, a new connection takes the slot of the connection that has waited
// longest for a request among those of the address holding the most (an idle keep-alive, or a
// request trickling in): one client cannot lock the others out by holding connections open,
// and a scrape from a busy address still gets in. Only if no such connection exists (every
// one is being answered) is the newcomer refused.
struct Slots {
  std::atomic<size_t> open{0};
  std::mutex mu;
  std::map<std::string, std::map<const Session*, std::weak_ptr<Session>>> by_address;

  void add(const std::string& address, const std::shared_ptr<Session>& s) {
    std::lock_guard lock(mu);
    by_address[address][s.get()] = s;
  }
  void remove(const std::string& address, const Session* s) {
    std::lock_guard lock(mu);
    auto it = by_address.find(address);
    if (it == by_address.end()) return;
    it->second.erase(s);
    if (it->second.empty()) by_address.erase(it);
  }
  // The session to close for a newcomer, or null.
  std::shared_ptr<Session> victim();
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<AsyncHttpHandler> handler, std::shared_ptr<Slots> slots,
          std::shared_ptr<ReplyBudget> budget, std::string address)
      : stream_(std::move(socket)),
        handler_(std::move(handler)),
        slots_(std::move(slots)),
        budget_(std::move(budget)),
        address_(std::move(address)) {
    ++slots_->open;
  }
  ~Session() {
    slots_->remove(address_, this);
    --slots_->open;
  }

  // Since when it has waited for a request (steady clock, ns), or 0 while it is answered.
  int64_t waitingSince() const { return waiting_since_.load(); }

  // Closes the connection from any thread (a newcomer took its slot).
  void evict() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

  void start() { read(); }

 private:
  void read() {
    waiting_since_ = std::chrono::steady_clock::now().time_since_epoch().count();
    parser_.emplace();
    parser_->body_limit(kMaxRequestBytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->onRead(ec);
                     });
  }

  void onRead(beast::error_code ec) {
    waiting_since_ = 0;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted) {
      close();
      return;
    }
    if (ec) {
      // Oversized or malformed request: answer once and close (RFC 6585's 431 for headers).
      unsigned status = ec == http::error::header_limit ? 431
                        : ec == http::error::body_limit ? 413
                                                         : 400;
      HttpReply reply{status, "text/plain; charset=utf-8", std::string(ec.message()) + "\n"};
      send(std::move(reply), 11, false);
      return;
    }
    auto req = parser_->release();
    // RFC 9112 §6.1: a Transfer-Encoding other than exactly "chunked" (xchunked, identity,
    // gzip, "chunked, identity", or the field twice) leaves the body's length unknown. The
    // parser took such a request as bodiless, so its body would be read as the next request:
    // behind a proxy that frames it otherwise, a smuggled request. Refused, and the connection
    // closed with whatever follows unread.
    if (req.count(http::field::transfer_encoding) > 0) {
      std::string te(req[http::field::transfer_encoding]);
      while (!te.empty() && (te.back() == ' ' || te.back() == '\t')) te.pop_back();
      te.erase(0, te.find_first_not_of(" \t"));
      std::transform(te.begin(), te.end(), te.begin(), ::tolower);
      if (req.count(http::field::transfer_encoding) != 1 || te != "chunked") {
        send(HttpReply{400, "text/plain; charset=utf-8",
                       "unsupported Transfer-Encoding: only chunked is accepted\n"},
             req.version(), false);
        return;
      }
    }
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      request.headers[name] = std::string(field.value());
    }
    request.body = std::move(req.body());
    // The reply comes back on this connection's executor, at once or from another thread.
    auto answered = std::make_shared<std::atomic<bool>>(false);
    HttpResponder respond = [self = shared_from_this(), version = req.version(),
                             keep_alive = req.keep_alive(), head = req.method() == http::verb::head,
                             answered](HttpReply reply) {
      if (answered->exchange(true)) return;  // a second answer is a bug; the first one stands
      asio::dispatch(self->stream_.get_executor(),
                     [self, reply = std::move(reply), version, keep_alive, head]() mutable {
                       self->send(std::move(reply), version, keep_alive, head);
                     });
    };
    try {
      (*handler_)(request, respond);
    } catch (const std::exception& e) {
      logger("http")->error("handler failed for {}: {}", request.target, e.what());
      respond(HttpReply{500, "text/plain; charset=utf-8", "internal error\n"});
    }
  }

  // Takes the reply's body rather than copying it: /metrics of a large estate is tens of MB.
  void send(HttpReply&& reply, unsigned version, bool keep_alive, bool head = false) {
    size_t taken = head ? 0 : reply.body.size();
    if (taken && !budget_->take(taken)) {
      if (budget_->on_refused) budget_->on_refused();
      reply = HttpReply{503, "text/plain; charset=utf-8",
                        "too many bytes of answers are waiting to be read by slow clients; "
                        "retry, or ask for a smaller page (limit)\n",
                        {{"Retry-After", "5"}}};
      taken = reply.body.size();
      budget_->held += taken;  // a few bytes: always let through
    }
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), version);
    res->set(http::field::server, "opsmaturity");
    res->set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    const size_t length = reply.body.size();
    if (!head) res->body() = std::move(reply.body);
    res->prepare_payload();
    if (head) res->content_length(length);
    stream_.expires_after(kIdleTimeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive, taken](beast::error_code ec, size_t) {
                        self->budget_->held -= taken;
                        if (ec || !keep_alive) {
                          self->close();
                          return;
                        }
                        self->read();
                      });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<AsyncHttpHandler> handler_;
  std::shared_ptr<Slots> slots_;
  std::shared_ptr<ReplyBudget> budget_;
  std::string address_;
  std::atomic<int64_t> waiting_since_{0};
};

std::shared_ptr<Session> Slots::victim() {
  std::lock_guard lock(mu);
  std::vector<std::pair<size_t, const std::string*>> order;
  for (const auto& [address, sessions] : by_address) order.emplace_back(sessions.size(), &address);
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [count, address] : order) {
    std::shared_ptr<Session> oldest;
    for (const auto& [raw, weak] : by_address[*address]) {
      auto s = weak.lock();
      if (!s || s->waitingSince() == 0) continue;
      if (!oldest || s->waitingSince() < oldest->waitingSince()) oldest = std::move(s);
    }
    if (oldest) return oldest;
  }
  return nullptr;
}

size_t defaultMaxConnections() {
  size_t cap = 512;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    cap = std::min<size_t>(cap, std::max<size_t>(8, static_cast<size_t>(limit.rlim_cur) / 4));
  }
  return cap;
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, AsyncHttpHandler h, size_t max)
      : io(io),
        acceptor(io),
        retry(io),
        handler(std::make_shared<AsyncHttpHandler>(std::move(h))),
        max_connections(max ? max : defaultMaxConnections()) {}

  void accept() {
    acceptor.async_accept(
        asio::make_strand(io), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
          if (ec) {
            // Out of descriptors (EMFILE) or similar: pause instead of spinning on the error.
            logger("http")->warn("accept failed, retrying in 100ms: {}", ec.message());
            self->retry.expires_after(std::chrono::milliseconds(100));
            self->retry.async_wait([self](beast::error_code wait_ec) {
              if (!wait_ec && self->acceptor.is_open()) self->accept();
            });
            return;
          }
          beast::error_code addr_ec;
          auto remote = socket.remote_endpoint(addr_ec);
          const std::string address = addr_ec ? "" : remote.address().to_string();
          std::shared_ptr<Session> victim;
          if (self->slots->open.load() >= self->max_connections) {
            victim = self->slots->victim();
            if (!self->warned_full.exchange(true)) {
              logger("http")->warn(
                  "{} connections open: new ones take the slot of the longest-waiting "
                  "connection of the client holding the most",
                  self->max_connections);
            }
          } else {
            self->warned_full = false;
          }
          if (self->slots->open.load() >= self->max_connections && !victim) {
            // Full, and every connection is being answered: refuse this one at once.
            beast::error_code ignored;
            socket.close(ignored);
          } else {
            if (victim) victim->evict();
            ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
            auto session = std::make_shared<Session>(std::move(socket), self->handler,
                                                     self->slots, self->budget, address);
            self->slots->add(address, session);
            session->start();
          }
          self->accept();
        });
  }

  asio::io_context& io;
  tcp::acceptor acceptor;
  asio::steady_timer retry;
  std::shared_ptr<AsyncHttpHandler> handler;
  std::shared_ptr<Slots> slots = std::make_shared<Slots>();
  std::shared_ptr<ReplyBudget> budget = std::make_shared<ReplyBudget>();
  size_t max_connections;
  std::atomic<bool> warned_full{false};
};

HttpServer::HttpServer(asio::io_context& io, HttpHandler handler, size_t max_connections)
    : HttpServer(
          io,
          AsyncHttpHandler([handler = std::move(handler)](const HttpRequest& request,
                                                          HttpResponder respond) {
            respond(handler(request));
          }),
          max_connections) {}

HttpServer::HttpServer(asio::io_context& io, AsyncHttpHandler handler, size_t max_connections)
    : impl_(std::make_shared<Impl>(io, std::move(handler), max_connections)) {}

size_t HttpServer::maxConnections() const { return impl_->max_connections; }

void HttpServer::setReplyBudget(size_t per_reply, size_t total, std::function<void()> on_refused) {
  impl_->budget->per_reply = per_reply;
  impl_->budget->total = total;
  impl_->budget->on_refused = std::move(on_refused);  // before listen(), or as a test does
}

size_t HttpServer::replyBytesHeld() const { return impl_->budget->held.load(); }

HttpServer::~HttpServer() { stop(); }

Status HttpServer::listen(const std::string& host, unsigned short port) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) {
    return makeError(ErrorCode::kInvalidArgument,
                     "listen address host '" + host + "' is not an IP address");
  }
  tcp::endpoint endpoint(address, port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  // Programs the agent runs (exec plugins, restic, borg, pgbackrest) must not inherit the
  // listening socket: one still running would hold the agent's port after it exits.
  if (!ec) ::fcntl(a.native_handle(), F_SETFD, FD_CLOEXEC);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return makeError(ErrorCode::kUnavailable, "cannot listen on " + host + ":" +
                                                  std::to_string(port) + ": " + ec.message());
  }
  impl_->accept();
  return Status::success();
}

unsigned short HttpServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::stop() {
  beast::error_code ec;
  impl_->acceptor.close(ec);
  impl_->retry.cancel();
}

}  // namespace opsm::agent
