#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/documents.h"
#include "collectors/collector.h"
#include "common/duration.h"
#include "common/result.h"
#include "scorer/evidence.h"
#include "scorer/scoring.h"

namespace opsm::agent {

struct CollectorEntry {
  std::string name;
  std::string type;
  Duration interval{std::chrono::seconds(60)};
  Duration timeout{std::chrono::seconds(10)};
  Duration ttl{};  // how long its evidence stays valid; default 5 x interval
  // Other collectors whose systems this one knows too (`systems_from`): its default evidence
  // counts for them (an Alertmanager receiving a Prometheus server's alerts).
  std::vector<std::string> systems_from;
  // At most this many systems the config does not declare in one poll (`max_systems`): a
  // poll past it fails, keeping the last evidence, so that a source inventing systems cannot
  // grow the agent without bound.
  int max_systems = 2000;
  // The evidence keys its type declares (keys ending in ".*" are namespaces), to explain a
  // missing key by the source that does not know the system.
  std::vector<std::string> evidence_keys;
  // Vendor key -> the domain key its type maps it to (scorer/domain.h).
  std::map<std::string, std::string> domain_of;
  std::unique_ptr<collectors::Collector> collector;
};

struct AgentConfig {
  std::string file;
  std::string listen_address = "127.0.0.1:9817";
  std::string rules_dir;  // absolute, or relative to the config file
  Duration score_interval{std::chrono::seconds(30)};
  // After SIGINT/SIGTERM, how long polls, a scoring or a write still running may take to
  // finish; the agent then exits without waiting for them (what the store committed is kept).
  Duration stop_timeout{std::chrono::seconds(10)};
  // Sharding: this agent scores only the systems whose shardOf(system, count) == index.
  struct Shard {
    unsigned index = 0;
    unsigned count = 1;
  } shard;
  // Opt-in per-item series on /metrics (docs/metrics.md#cardinality): by default a system has
  // at most 100 series.
  bool export_criteria_states = false;  // opsmaturity_item_criteria (4 per item)
  bool export_item_dimensions = false;  // opsmaturity_item_dimension_progress (up to 3 per item)
  bool export_item_progress = false;    // opsmaturity_item_progress, ..._level_change_timestamp
  // A level drop must be seen in this many successful polls of the sources behind its
  // flipped criteria to be a regression.
  int regression_hysteresis = 2;
  // Polls running at once, each on its own worker thread; a hung source holds one until its
  // timeout.
  int max_concurrent_polls = 16;
  // The memory all HTTP responses being received or held may take together (0: no budget).
  size_t max_inflight_response_bytes = 256u << 20;
  // The memory the agent's own HTTP answers written but not yet read by their clients may
  // take together; one answer at most a quarter of it (docs/hardening.md).
  size_t max_inflight_reply_bytes = 512u << 20;
  scorer::ScoringConfig scoring;
  std::vector<std::string> systems;  // declared systems; others are discovered by collectors
  // Declared system attributes, as evidence of the agent (e.g. system.frontend).
  std::vector<scorer::Fact> system_facts;
  // Per evidence key (or key prefix ending in '.'): how long that evidence stays valid,
  // overriding its collector's ttl. The longest matching prefix wins.
  std::vector<std::pair<std::string, Duration>> evidence_ttl;
  std::string storage_path;  // SQLite file; empty: nothing is kept across restarts
  Duration retention{std::chrono::hours(24 * 90)};  // score history and regressions
  std::string attestations_file;
  // Users and roles (agent/auth.h): names, roles and token hashes; empty: only api_token.
  std::string tokens_file;
  // An attestation counts only once approved by someone other than its author. The default
  // stays false for configs that do not say (the example and the package's config say true).
  bool require_approval = false;
  // The API's and the console's GETs need a token of the viewer role or above (/metrics and
  // the health endpoints stay open).
  bool read_requires_token = false;
  // Host header names answered (DNS rebinding): besides loopback names when listening on
  // loopback; empty and listening on loopback: loopback names only; empty otherwise: any.
  std::vector<std::string> allowed_hosts;
  // How often the documents attestations link to are fetched again to see that they are
  // still there and unchanged (agent/documents.h).
  Duration document_check_interval{std::chrono::hours(1)};
  // Directories under which file: documents may be read (none: file documents are not read).
  std::vector<std::string> document_roots;
  // Hosts whose http(s) documents may be fetched (none: no URL is fetched): names, *.domain,
  // and the only networks (CIDR) on loopback, private or link-local addresses fetched from.
  DocumentHosts document_hosts;
  // Bearer token required by POST /api/v1/attestations; empty: that endpoint is disabled.
  std::string api_token;  // absolute, or relative to the config file; may be empty
  std::vector<CollectorEntry> collectors;
};

// Reads and validates an agent config file and builds its collectors through `registry`.
// Every error names the file, the line and the field.
Result<AgentConfig> loadConfig(const std::string& path, const collectors::Registry& registry);

// "host:port" -> (host, port); errors name the field.
Result<std::pair<std::string, unsigned short>> parseListenAddress(const std::string& text);

// Parses "i/n" (0 <= i < n <= 4096).
Result<AgentConfig::Shard> parseShard(const std::string& text);

// The shard of a system among `count`: FNV-1a (64-bit) of its name, modulo count. Stable
// across versions and machines, so every agent of a fleet agrees.
unsigned shardOf(const std::string& system, unsigned count);

}  // namespace opsm::agent
