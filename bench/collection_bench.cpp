// Collection at estate scale: the real agent binary (`opsmaturity run`) polling N HTTP sources
// served by fixture servers on 127.0.0.1 in this process, among them one slow source and some
// hung ones (they accept the connection and never answer). Reports how long the first poll
// round took for the healthy sources, what the slow and hung ones did to it, and the agent's
// peak resident memory. Run: build/bench/collection_bench (see bench/README.md).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "agent/exposition/http_server.h"
#include "collectors/common/http_client.h"

extern char** environ;

namespace {

namespace asio = boost::asio;
using opsm::agent::HttpReply;
using opsm::agent::HttpRequest;
using opsm::agent::HttpServer;
using Clock = std::chrono::steady_clock;

struct Options {
  int sources = 1000;
  int hung = 1;
  int slow = 1;
  int slow_ms = 2000;
  int timeout_s = 5;
  int concurrency = 0;  // 0: the agent's default
  std::string agent = OPSM_BINARY_DIR "/agent/opsmaturity";
  std::string wrapper;  // e.g. "valgrind --tool=massif": words put before the agent's argv
  bool storage = false;  // storage_path: evidence written to SQLite as it arrives
  bool keep = false;
};

void usage() {
  std::fprintf(stderr,
               "usage: collection_bench [--sources N] [--hung N] [--slow N] [--slow-ms MS]\n"
               "                        [--timeout S] [--concurrency N] [--agent PATH] [--storage]\n"
               "                        [--keep] [--wrapper 'valgrind --tool=massif']\n");
}

bool parse(int argc, char** argv, Options* o) {
  const std::map<std::string, int*> ints = {
      {"--sources", &o->sources}, {"--hung", &o->hung},         {"--slow", &o->slow},
      {"--slow-ms", &o->slow_ms}, {"--timeout", &o->timeout_s}, {"--concurrency", &o->concurrency}};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (auto it = ints.find(a); it != ints.end() && i + 1 < argc) {
      *it->second = std::atoi(argv[++i]);
    } else if (a == "--agent" && i + 1 < argc) {
      o->agent = argv[++i];
    } else if (a == "--wrapper" && i + 1 < argc) {
      o->wrapper = argv[++i];
    } else if (a == "--storage") {
      o->storage = true;
    } else if (a == "--keep") {
      o->keep = true;
    } else {
      return false;
    }
  }
  return o->sources > 0 && o->hung >= 0 && o->slow >= 0 && o->hung + o->slow < o->sources &&
         o->timeout_s > 0;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string systemName(int i, int systems) { return "sys-" + std::to_string(i % systems); }

// A Prometheus server's HTTP API (the requests of one `prometheus` poll, docs/collectors/
// prometheus.md): recorded answers of a real server from tests/fixtures, targets generated
// for two systems of the estate.
struct PrometheusSource {
  PrometheusSource(int i, int systems) {
    const std::string dir = OPSM_SOURCE_DIR "/tests/fixtures/prometheus/";
    for (const char* f : {"alertmanagers", "config", "query_node", "query_signals", "rules",
                          "runtimeinfo", "tsdb"}) {
      files[f] = readFile(dir + f + ".json");
    }
    std::string t = R"({"status":"success","data":{"activeTargets":[)";
    for (int k = 0; k < 4; ++k) {
      std::string sys = systemName(i + k / 2, systems);
      std::string inst = "10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + "." +
                         std::to_string(k + 1) + ":9100";
      if (k) t += ",";
      t += R"({"labels":{"instance":")" + inst + R"(","job":"node","system":")" + sys +
           R"("},"scrapePool":"node","scrapeUrl":"http://)" + inst +
           R"(/metrics","lastError":"","health":")" + (k == 3 ? "down" : "up") + R"("})";
    }
    files["targets"] = t + "]}}";
  }
  HttpReply serve(const HttpRequest& r) const {
    const std::string p = r.path();
    auto json = [&](const char* f) { return HttpReply{200, "application/json", files.at(f)}; };
    if (p == "/api/v1/targets") return json("targets");
    if (p == "/api/v1/query") {
      return json(r.target.find("__name__") != std::string::npos ? "query_signals" : "query_node");
    }
    if (p == "/api/v1/rules") return json("rules");
    if (p == "/api/v1/alertmanagers") return json("alertmanagers");
    if (p == "/api/v1/status/tsdb") return json("tsdb");
    if (p == "/api/v1/status/config") return json("config");
    if (p == "/api/v1/status/runtimeinfo") return json("runtimeinfo");
    return {404, "application/json", R"({"status":"error","errorType":"not_found","error":"not found"})"};
  }
  std::map<std::string, std::string> files;
};

// An in-house CMDB API of two pages ({"data": [...], "links": {"next": ...}}).
struct CmdbSource {
  CmdbSource(int i, int systems) {
    for (int page = 0; page < 2; ++page) {
      std::string body = R"({"data":[)";
      for (int k = 0; k < 10; ++k) {
        if (k) body += ",";
        body += R"({"app":{"code":")" + systemName(i + k % 2, systems) + R"("},"owner":")" +
                (k % 3 ? "ops" : "") + R"(","ip":"10.1.)" + std::to_string(page) + "." +
                std::to_string(k) + R"(","depends_on":[)" + (k % 2 ? R"("db-1")" : "") + "]}";
      }
      body += std::string(R"(],"links":{"next":)") + (page == 0 ? R"("/api/cis?page=2")" : "null") +
              "}}";
      pages.push_back(body);
    }
  }
  HttpReply serve(const HttpRequest& r) const {
    if (r.target == "/api/cis") return {200, "application/json", pages[0]};
    if (r.target == "/api/cis?page=2") return {200, "application/json", pages[1]};
    return {404, "application/json", R"({"error":"not found"})"};
  }
  std::vector<std::string> pages;
};

unsigned short freePort() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

long statusField(int pid, const std::string& field) {  // kB
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

// value of `family{collector="name"}` for every collector in an exposition
std::map<std::string, double> byCollector(const std::string& text, const std::string& family) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  const std::string prefix = family + "{collector=\"";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    auto end = line.find('"', prefix.size());
    auto space = line.rfind(' ');
    if (end == std::string::npos || space == std::string::npos) continue;
    out[line.substr(prefix.size(), end - prefix.size())] = std::atof(line.c_str() + space + 1);
  }
  return out;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse(argc, argv, &opt)) {
    usage();
    return 2;
  }
  const int systems = opt.sources;
  auto dir = std::filesystem::temp_directory_path() /
             ("opsm-collection-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);

  // The healthy sources share one io_context and thread; each slow source has its own thread
  // (its handler sleeps); the hung ones are listening sockets that are never accepted from.
  asio::io_context io;
  std::vector<std::unique_ptr<PrometheusSource>> proms;
  std::vector<std::unique_ptr<CmdbSource>> cmdbs;
  std::vector<std::unique_ptr<HttpServer>> servers;
  std::vector<std::unique_ptr<asio::io_context>> slow_ios;
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> hung;
  std::ostringstream cfg;
  cfg << "rules_dir: " << OPSM_SOURCE_DIR << "/rules\n"
      << "score_interval: 1h\n";
  if (opt.storage) cfg << "storage_path: " << (dir / "opsmaturity.db").string() << "\n";
  if (opt.concurrency > 0) cfg << "max_concurrent_polls: " << opt.concurrency << "\n";
  cfg << "collectors:\n";
  std::vector<std::string> healthy_names, slow_names, hung_names;
  for (int i = 0; i < opt.sources; ++i) {
    std::string name = "src-" + std::to_string(i);
    unsigned short port = 0;
    bool is_hung = i < opt.hung;
    bool is_slow = !is_hung && i < opt.hung + opt.slow;
    bool prom = !is_hung && !is_slow && i % 2 == 0;
    if (is_hung) {
      auto a = std::make_unique<asio::ip::tcp::acceptor>(io);
      asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
      a->open(ep.protocol());
      a->bind(ep);
      a->listen(64);
      port = a->local_endpoint().port();
      hung.push_back(std::move(a));
      hung_names.push_back(name);
    } else if (prom) {
      proms.push_back(std::make_unique<PrometheusSource>(i, systems));
      auto* src = proms.back().get();
      servers.push_back(std::make_unique<HttpServer>(io, [src](const HttpRequest& r) { return src->serve(r); }));
    } else {
      cmdbs.push_back(std::make_unique<CmdbSource>(i, systems));
      auto* src = cmdbs.back().get();
      asio::io_context* ctx = &io;
      if (is_slow) {
        slow_ios.push_back(std::make_unique<asio::io_context>());
        ctx = slow_ios.back().get();
      }
      int delay = is_slow ? opt.slow_ms : 0;
      servers.push_back(std::make_unique<HttpServer>(*ctx, [src, delay](const HttpRequest& r) {
        if (delay) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        return src->serve(r);
      }));
      (is_slow ? slow_names : healthy_names).push_back(name);
    }
    if (!is_hung) {
      if (prom) healthy_names.push_back(name);
      if (auto st = servers.back()->listen("127.0.0.1", 0); !st) {
        std::fprintf(stderr, "fixture listen failed: %s\n", st.error().message.c_str());
        return 1;
      }
      port = servers.back()->port();
    }
    std::string url = "http://127.0.0.1:" + std::to_string(port);
    cfg << "  - {name: " << name << ", interval: 1h, timeout: " << opt.timeout_s << "s, ";
    if (prom) {
      cfg << "type: prometheus, url: \"" << url << "\"}\n";
    } else {
      cfg << "type: rest_cmdb, url: \"" << url << "/api/cis\", items: /data, next: /links/next, "
          << "system: /app/code, required: [/owner, /ip], related: [/depends_on]}\n";
    }
  }
  threads.emplace_back([&io] {
    auto guard = asio::make_work_guard(io);
    io.run();
  });
  for (auto& ctx : slow_ios) {
    threads.emplace_back([c = ctx.get()] {
      auto guard = asio::make_work_guard(*c);
      c->run();
    });
  }
  const std::string config_path = (dir / "opsmaturity.yml").string();
  std::ofstream(config_path) << cfg.str();

  const unsigned short agent_port = freePort();
  const std::string base = "http://127.0.0.1:" + std::to_string(agent_port);
  const std::string log_path = (dir / "agent.log").string();
  std::vector<std::string> args;
  std::istringstream wrapper(opt.wrapper);
  for (std::string w; wrapper >> w;) args.push_back(w);
  for (std::string a : {opt.agent, std::string("--log.level"), std::string("warn"), std::string("run"),
                        std::string("-c"), config_path, std::string("--listen"),
                        "127.0.0.1:" + std::to_string(agent_port)}) {
    args.push_back(a);
  }
  std::vector<char*> argv_c;
  for (auto& a : args) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  const auto wall_start = std::chrono::system_clock::now();
  const auto start = Clock::now();
  if (posix_spawnp(&pid, args[0].c_str(), &fa, nullptr, argv_c.data(), environ) != 0) {
    std::fprintf(stderr, "cannot start %s\n", args[0].c_str());
    return 1;
  }
  posix_spawn_file_actions_destroy(&fa);

  opsm::collectors::HttpClient http(opsm::collectors::HttpOptions{});
  double up_at = -1, ready_at = -1;
  long peak_threads = 0;
  while (Clock::now() - start < std::chrono::seconds(opt.wrapper.empty() ? 120 : 1200)) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      std::fprintf(stderr, "the agent exited; its log: %s\n%s", log_path.c_str(),
                   readFile(log_path).c_str());
      return 1;
    }
    peak_threads = std::max(peak_threads, statusField(pid, "Threads"));
    auto r = http.get(base + "/-/ready", std::chrono::seconds(2));
    double t = std::chrono::duration<double>(Clock::now() - start).count();
    if (up_at < 0 && (r || r.error().message.find("503") != std::string::npos)) up_at = t;
    if (r) {
      ready_at = t;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto metrics = http.get(base + "/metrics", std::chrono::seconds(30));
  const long hwm = statusField(pid, "VmHWM"), rss = statusField(pid, "VmRSS");
  ::kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  for (auto& s : servers) s->stop();
  io.stop();
  for (auto& c : slow_ios) c->stop();
  for (auto& t : threads) t.join();
  if (ready_at < 0 || !metrics) {
    std::fprintf(stderr, "the agent did not become ready within 120 s; its log: %s\n", log_path.c_str());
    return 1;
  }

  const auto up = byCollector(metrics->body, "opsmaturity_collector_up");
  const auto last_success =
      byCollector(metrics->body, "opsmaturity_collector_last_success_timestamp_seconds");
  const auto duration = byCollector(metrics->body, "opsmaturity_collector_duration_seconds");
  const double wall0 = std::chrono::duration<double>(wall_start.time_since_epoch()).count();
  std::vector<double> done_at, took;
  int failed = 0;
  for (const auto& n : healthy_names) {
    auto u = up.find(n);
    auto l = last_success.find(n);
    if (u == up.end() || u->second != 1 || l == last_success.end()) {
      ++failed;
      continue;
    }
    done_at.push_back(l->second - wall0);
    took.push_back(duration.at(n));
  }
  std::printf("sources: %d (%zu healthy: prometheus and rest_cmdb; %d slow, answering after %d ms; "
              "%d hung); poll timeout %d s; max_concurrent_polls %s; storage %s\n",
              opt.sources, healthy_names.size(), opt.slow, opt.slow_ms, opt.hung, opt.timeout_s,
              opt.concurrency > 0 ? std::to_string(opt.concurrency).c_str() : "default",
              opt.storage ? "SQLite" : "none");
  std::printf("agent serving HTTP after       %.2f s\n", up_at);
  std::printf("healthy sources polled by      %.2f s after start (p50 %.2f s, p99 %.2f s); "
              "failed: %d\n",
              percentile(done_at, 1.0), percentile(done_at, 0.5), percentile(done_at, 0.99), failed);
  std::printf("one healthy poll took          p50 %.3f s, p99 %.3f s, max %.3f s\n",
              percentile(took, 0.5), percentile(took, 0.99), percentile(took, 1.0));
  for (const auto& n : slow_names) {
    std::printf("slow source %-10s        %s, took %.2f s\n", n.c_str(),
                up.count(n) && up.at(n) == 1 ? "succeeded" : "FAILED",
                duration.count(n) ? duration.at(n) : -1.0);
  }
  for (const auto& n : hung_names) {
    std::printf("hung source %-10s        %s after %.2f s\n", n.c_str(),
                up.count(n) && up.at(n) == 0 ? "failed (timeout)" : "UNEXPECTED",
                duration.count(n) ? duration.at(n) : -1.0);
  }
  std::printf("ready (every source polled)    %.2f s\n", ready_at);
  auto scalar = [&](const std::string& name) {
    auto at = metrics->body.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::atof(metrics->body.c_str() + at + name.size() + 2);
  };
  std::printf("scorings                       %.0f of %.0f systems, the last took %.3f s\n",
              scalar("opsmaturity_scorings_total"), scalar("opsmaturity_scored_systems"),
              scalar("opsmaturity_scoring_duration_seconds"));
  std::printf("agent memory                   peak RSS %.1f MiB, RSS now %.1f MiB, peak threads %ld\n",
              static_cast<double>(hwm) / 1024, static_cast<double>(rss) / 1024, peak_threads);
  if (!opt.keep) {
    std::filesystem::remove_all(dir);
  } else {
    std::printf("kept %s\n", dir.c_str());
  }
  return failed ? 1 : 0;
}
