#pragma once

#include <map>
#include <string>
#include <vector>

#include "collectors/collector.h"

namespace opsm::collectors::redis {

struct Endpoint {
  std::string host;
  int port = 6379;
  std::string text() const { return host + ":" + std::to_string(port); }
};

struct RedisConfig {
  std::string name;
  std::string system;
  Endpoint address;                  // the Redis server to read INFO from
  std::vector<Endpoint> sentinels;   // optional Sentinels to ask about `master_name`
  std::string master_name;
  std::string username;              // ACL user (Redis 6+), optional
  std::string password;              // from password_file / password_env; never logged
  // What the site says the server is used as: "cache", "broker" or "store" ("": not said,
  // judged by its read hits).
  std::string used_as;
};

// Reads INFO replication and persistence from one Redis server and, optionally, what its
// Sentinels know of its master group; reports cache.redis.* facts for one system
// (docs/collectors/redis.md).
class RedisCollector : public Collector {
 public:
  explicit RedisCollector(RedisConfig config) : config_(std::move(config)) {}
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  RedisConfig config_;
};

// Masters of a Redis Cluster and how many replicas (not failed) each has, from the text of
// CLUSTER NODES; failed and address-less nodes are left out.
std::map<std::string, int> clusterReplicasPerMaster(const std::string& nodes);

Status registerRedis(Registry& registry);

}  // namespace opsm::collectors::redis
