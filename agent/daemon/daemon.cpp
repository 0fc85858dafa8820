#include "agent/daemon/daemon.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <functional>
#include <vector>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include "agent/daemon/daemon_clock.h"
#include "agent/exposition/routes.h"
#include "collectors/common/subprocess.h"
#include "common/log.h"

namespace opsm::agent {

namespace asio = boost::asio;

namespace {

// Whether `host` is a loopback address (127.0.0.0/8, ::1), or "localhost" as the listen
// address may say.
bool isLoopbackAddress(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto a = asio::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

}  // namespace

bool finishWithin(Duration timeout, std::function<void()> work) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto state = std::make_shared<State>();
  std::thread worker([state, work = std::move(work)] {
    work();
    std::lock_guard lock(state->mu);
    state->done = true;
    state->cv.notify_all();
  });
  std::unique_lock lock(state->mu);
  if (state->cv.wait_for(lock, timeout, [&] { return state->done; })) {
    lock.unlock();
    worker.join();
    return true;
  }
  worker.detach();
  return false;
}

struct Daemon::Impl {
  explicit Impl(Agent& a)
      : agent(a),
        pool(std::min<size_t>(static_cast<size_t>(a.config().max_concurrent_polls),
                              std::max<size_t>(1, a.config().collectors.size()))),
        suspect_pool(std::max<size_t>(1, static_cast<size_t>(a.config().max_concurrent_polls) / 4)),
        scorer(1),
        readers(1),
        server(io, AsyncHttpHandler([this](const HttpRequest& r, HttpResponder respond) {
                 serve(r, std::move(respond));
               })),
        score_timer(io),
        rescore_timer(io),
        reap_timer(io),
        document_timer(io) {}

  // Each request is answered where its route says (routes.cpp: Lane): the health endpoints
  // and /metrics here, at once; the API's and the console's pages on the reader thread, so
  // that no render holds those up; writes (attestations, waivers, decisions, POST /-/reload)
  // on the scorer thread, in turn with the scorings, answered once the scoring they cause is
  // published, while this thread keeps answering /-/healthy and /metrics.
  void serve(const HttpRequest& request, HttpResponder respond) {
    if (auto refused = checkHost(request)) {
      respond(std::move(*refused));
      return;
    }
    Routed routed = findRoute(request);
    if (!routed.route) {
      respond(std::move(*routed.refused));
      return;
    }
    const Lane lane = routed.route->lane;
    auto run = [this, request, routed = std::move(routed), respond = std::move(respond)] {
      respond(guarded(routed, request));
    };
    switch (lane) {
      case Lane::kIo:
        run();
        return;
      case Lane::kReader:
        asio::post(readers, std::move(run));
        return;
      case Lane::kScorer:
        asio::post(scorer, std::move(run));
        return;
    }
  }

  // route(), with what it throws answered: out of memory while rendering is a 503 (and
  // counted), never a crash; any other exception a 500.
  HttpReply guarded(const Routed& routed, const HttpRequest& request) {
    try {
      return serveRoute(agent, routed, request);
    } catch (const std::bad_alloc&) {
      agent.countHttpRefusal(Agent::Refusal::kMemory);
      logger("http")->warn("out of memory answering {}: 503", printable(request.target));
      return HttpReply{503, "text/plain; charset=utf-8",
                       "out of memory rendering this answer; ask for a smaller page (limit)\n",
                       {{"Retry-After", "10"}}};
    } catch (const std::exception& e) {
      logger("http")->error("handler failed for {}: {}", printable(request.target), e.what());
      return HttpReply{500, "text/plain; charset=utf-8", "internal error\n"};
    }
  }

  // A web page a browser on the agent's host loads can reach a loopback agent by a name of
  // its own that resolves to 127.0.0.1 (DNS rebinding), and read what the agent serves: the
  // Host header gives it away. Listening on loopback, only loopback names are answered (and
  // allowed_hosts); elsewhere, allowed_hosts when set. 421, as for a request meant elsewhere.
  std::optional<HttpReply> checkHost(const HttpRequest& request) const {
    auto it = request.headers.find("host");
    if (it == request.headers.end()) return std::nullopt;  // HTTP/1.0: no name to check
    std::string host = it->second;
    for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!host.empty() && host.front() == '[') {
      host = host.substr(1, host.find(']') == std::string::npos ? 0 : host.find(']') - 1);
    } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
      host = host.substr(0, colon);
    }
    const auto& allowed = agent.config().allowed_hosts;
    if (std::find(allowed.begin(), allowed.end(), host) != allowed.end()) return std::nullopt;
    auto isLoopbackName = [](const std::string& h) {
      if (h.size() > 10 && h.compare(h.size() - 10, 10, ".localhost") == 0) return true;
      return isLoopbackAddress(h);
    };
    if (loopback_listen) {
      if (isLoopbackName(host)) return std::nullopt;
    } else if (allowed.empty()) {
      return std::nullopt;
    }
    return HttpReply{421, "text/plain; charset=utf-8",
                     "this agent does not answer for host '" + printable(host.substr(0, 100)) +
                         "' (add it to allowed_hosts)\n"};
  }

  struct Slot {
    std::unique_ptr<DaemonTimer> timer;
    bool in_flight = false;
    bool polled_once = false;
    bool suspect = false;  // its last poll timed out: polled on suspect_pool
  };

  void schedulePoll(size_t i, DaemonClock::duration delay) {
    Slot& slot = slots[i];
    slot.timer->expires_after(delay);
    slot.timer->async_wait([this, i](boost::system::error_code ec) {
      if (ec) return;
      startPoll(i);
    });
  }

  void startPoll(size_t i) {
    Slot& slot = slots[i];
    const auto& entry = agent.config().collectors[i];
    auto interval = entry.interval;
    schedulePoll(i, interval);  // the next poll is due one interval after this one starts
    if (slot.in_flight) {
      logger("scheduler")->warn("{}: previous poll still running, skipping this one", entry.name);
      return;
    }
    slot.in_flight = true;
    auto job = [this, i] {
      PollOutcome out = agent.poll(i);
      asio::post(io, [this, i, out] { finishPoll(i, out); });
    };
    // A source that timed out last time is likely to hang again: it waits for a thread of its
    // own small pool, so that hung sources cannot take every thread from the answering ones.
    if (slot.suspect) {
      asio::post(suspect_pool, job);
    } else {
      asio::post(pool, job);
    }
  }

  void finishPoll(size_t i, const PollOutcome& out) {
    slots[i].in_flight = false;
    slots[i].polled_once = true;
    slots[i].suspect = out.timed_out;
    bool all = std::all_of(slots.begin(), slots.end(), [](const Slot& s) { return s.polled_once; });
    if (all && !agent.ready() && !readiness_requested) {
      // Ready means the scores reflect a poll of every collector: once a scoring that started
      // after this poll has published its snapshot.
      readiness_requested = true;
      rescoreNow([this] {
        logger("agent")->info("first poll of every collector done; ready");
        agent.markReady();
      });
      return;
    }
    requestRescore();
  }

  // Polls that end close together share one rescore: it runs once the io thread has spent
  // three times the last rescore's cost on other work (serving, finishing polls), so that
  // with many sources rescoring takes at most a quarter of this thread and scrapes, the API
  // and finished polls are not queued behind a rescore per poll.
  void requestRescore() {
    if (rescore_pending) return;
    rescore_pending = true;
    auto earliest = last_rescore_end + 3 * last_rescore_cost;
    rescore_timer.expires_at(std::max(DaemonClock::now(), earliest));
    rescore_timer.async_wait([this, gen = ++rescore_generation](boost::system::error_code ec) {
      // a rescore that ran meanwhile (readiness, score_interval) served this request
      if (ec || gen != rescore_generation || !rescore_pending) return;
      rescoreNow();
    });
  }

  // Scores on the scorer thread, never on the I/O thread: scrapes, /-/healthy and the API are
  // answered from the last published snapshot while a scoring runs. One scoring at a time; one
  // asked for meanwhile runs once the current one ends (with `then` after it).
  void rescoreNow(std::function<void()> then = {}) {
    ++scorings_requested;
    rescore_pending = false;
    rescore_timer.cancel();
    if (then) after_rescore.push_back(std::move(then));
    if (rescore_running) {
      rescore_again = true;
      return;
    }
    rescore_running = true;
    auto done = std::move(after_rescore);
    after_rescore.clear();
    asio::post(scorer, [this, done = std::move(done)]() mutable {
      // The cost in real time (a test moving the daemon's clock meanwhile does not make the
      // scoring expensive), the end on the daemon's clock (timers are).
      const auto started = std::chrono::steady_clock::now();
      agent.rescore();
      const auto cost = std::chrono::steady_clock::now() - started;
      const auto ended = DaemonClock::now();
      asio::post(io, [this, cost, ended, done = std::move(done)] {
        last_rescore_end = ended;
        last_rescore_cost = cost;
        rescore_running = false;
        for (const auto& f : done) f();
        if (rescore_again) {
          rescore_again = false;
          rescoreNow();
        }
      });
    });
  }

  // Orphans reparented to the agent (it is their subreaper, or PID 1 in a container) are
  // reaped, and what finished plugins left behind is killed, off the I/O thread.
  void scheduleReap() {
    reap_timer.expires_after(std::chrono::seconds(2));
    reap_timer.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      asio::post(pool, [] { collectors::reapOrphans(); });
      scheduleReap();
    });
  }

  // The documents of attestations are fetched off the I/O thread: new ones within seconds,
  // the others every document_check_interval (Agent::checkDocuments decides which are due).
  void scheduleDocumentChecks() {
    document_timer.expires_after(std::chrono::seconds(5));
    document_timer.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      if (!documents_in_flight.exchange(true)) {
        asio::post(pool, [this] {
          size_t checked = agent.checkDocuments();
          documents_in_flight = false;
          if (checked) asio::post(io, [this] { requestRescore(); });
        });
      }
      scheduleDocumentChecks();
    });
  }

  void scheduleRescore() {
    score_timer.expires_after(agent.config().score_interval);
    score_timer.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      // The next one is armed first: a clock moved as soon as this scoring is counted (as
      // tests do) must find it armed, not arm it an interval after the move.
      scheduleRescore();
      rescoreNow();
    });
  }

  Agent& agent;
  asio::io_context io;
  asio::thread_pool pool;
  asio::thread_pool suspect_pool;
  asio::thread_pool scorer;  // one thread: scorings and reloads
  asio::thread_pool readers;  // one thread: the API's and the console's GETs
  HttpServer server;
  // Timers on the daemon's clock (tests move it: DaemonClock::advance).
  DaemonTimer score_timer;
  DaemonTimer rescore_timer;
  DaemonTimer reap_timer;
  DaemonTimer document_timer;
  std::atomic<bool> documents_in_flight{false};
  bool rescore_pending = false;
  bool rescore_running = false;      // a scoring is on the scorer thread
  bool rescore_again = false;        // asked for while one ran
  bool readiness_requested = false;
  std::vector<std::function<void()>> after_rescore;  // run on the I/O thread after the next
  uint64_t rescore_generation = 0;
  DaemonClock::time_point last_rescore_end{};
  DaemonClock::duration last_rescore_cost{};
  std::atomic<uint64_t> scorings_requested{0};  // rescoreNow() calls, for tests
  std::vector<Slot> slots;
  std::optional<asio::signal_set> signals;
  std::optional<asio::signal_set> hup;
  bool loopback_listen = false;  // set by start(): the listen address is a loopback one
};

Daemon::Daemon(Agent& agent) : impl_(std::make_unique<Impl>(agent)) {}

Daemon::~Daemon() {
  stop();
  impl_->pool.join();
  impl_->suspect_pool.join();
  impl_->scorer.join();
  impl_->readers.join();
}

Status Daemon::start() {
  auto addr = parseListenAddress(impl_->agent.config().listen_address);
  if (!addr) return addr.error();
  const size_t replies = impl_->agent.config().max_inflight_reply_bytes;
  impl_->server.setReplyBudget(replies / 4, replies,
                               [agent = &impl_->agent] { agent->countHttpRefusal(Agent::Refusal::kReplyBudget); });
  if (auto st = impl_->server.listen(addr->first, addr->second); !st) return st;
  impl_->loopback_listen = isLoopbackAddress(addr->first);
  logger("agent")->info("listening on http://{}:{}/metrics", addr->first, impl_->server.port());
  impl_->slots.resize(impl_->agent.config().collectors.size());
  for (size_t i = 0; i < impl_->slots.size(); ++i) {
    impl_->slots[i].timer = std::make_unique<DaemonTimer>(impl_->io);
    impl_->schedulePoll(i, std::chrono::seconds(0));
  }
  impl_->scheduleRescore();
  impl_->scheduleDocumentChecks();
  if (collectors::reapsOrphans()) impl_->scheduleReap();
  return Status::success();
}

void Daemon::run(bool handle_signals) {
  if (handle_signals) {
    impl_->signals.emplace(impl_->io, SIGINT, SIGTERM);
    impl_->signals->async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      logger("agent")->info("signal {} received, shutting down", sig);
      stop();
    });
    impl_->hup.emplace(impl_->io, SIGHUP);
    waitForHup();
  }
  impl_->io.run();
}

void Daemon::waitForHup() {
  impl_->hup->async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    logger("agent")->info("SIGHUP received, reloading");
    // On the scorer thread: a reload rescores, which must not hold up the I/O thread.
    asio::post(impl_->scorer, [agent = &impl_->agent] {
      if (auto st = agent->reload(); !st) {
        logger("agent")->error("reload failed, keeping the running rules: {}", st.error().message);
      }
    });
    waitForHup();
  });
}

void Daemon::stop() {
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->server.stop();
    impl->score_timer.cancel();
    impl->rescore_timer.cancel();
    impl->reap_timer.cancel();
    impl->document_timer.cancel();
    for (auto& s : impl->slots) {
      if (s.timer) s.timer->cancel();
    }
    if (impl->signals) impl->signals->cancel();
    if (impl->hup) impl->hup->cancel();
    impl->io.stop();
  });
}

unsigned short Daemon::port() const { return impl_->server.port(); }

uint64_t Daemon::scoringsRequested() const { return impl_->scorings_requested.load(); }

void Daemon::advanceClock(std::chrono::steady_clock::duration d) {
  DaemonClock::advance(d);
  // A handler posted wakes the reactor, which then waits for its timers a few milliseconds at
  // a time (DaemonWaitTraits) instead of the whole wait it started with.
  asio::post(impl_->io, [] {});
}

}  // namespace opsm::agent
