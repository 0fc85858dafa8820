#include "collectors/gitlab/gitlab_collector.h"

#include <algorithm>
#include <set>

#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "common/yaml_util.h"

namespace opsm::collectors::gitlab {

namespace {

constexpr const char* kPrefix = "change.gitlab.";

}  // namespace

GitlabCollector::GitlabCollector(GitlabConfig config)
    : config_(std::move(config)), http_(config_.http) {}

Result<std::vector<rapidjson::Document>> GitlabCollector::list(const std::string& path,
                                                               const CollectContext& ctx) const {
  std::vector<rapidjson::Document> out;
  std::string page = "1";
  for (int n = 0; !page.empty(); ++n) {
    if (n >= config_.max_pages) {
      return makeError(ErrorCode::kBadResponse, "GitLab " + path + ": more than " +
                                                    std::to_string(config_.max_pages) + " pages");
    }
    std::string url = config_.url + path + (path.find('?') == std::string::npos ? "?" : "&") +
                      "per_page=" + std::to_string(config_.page_size) + "&page=" + page;
    auto resp = http_.get(url, ctx.remaining());
    if (!resp) return resp.error();
    auto doc = parseJson(resp->body, "GitLab " + path);
    if (!doc) return doc.error();
    if (!doc->IsArray()) {
      return makeError(ErrorCode::kBadResponse, "GitLab " + path + ": expected a JSON array");
    }
    for (auto& item : doc->GetArray()) {
      if (!item.IsObject()) continue;
      rapidjson::Document one;
      one.CopyFrom(item, one.GetAllocator());
      out.push_back(std::move(one));
    }
    auto next = resp->headers.find("x-next-page");
    std::string following = next == resp->headers.end() ? "" : next->second;
    if (!following.empty() &&
        (!std::all_of(following.begin(), following.end(), ::isdigit) || following == page)) {
      return makeError(ErrorCode::kBadResponse,
                       "GitLab " + path + ": bad X-Next-Page header '" + following.substr(0, 20) + "'");
    }
    page = following;
  }
  return out;
}

Result<std::vector<scorer::Fact>> GitlabCollector::collect(const CollectContext& ctx) {
  double now = toSeconds(ctx.now);
  double since = now - toSeconds(config_.window);
  std::vector<scorer::Fact> facts;
  for (const auto& [project, system] : config_.projects) {
    std::string base = "/api/v4/projects/" + urlEncode(project);
    std::string dpath = base + "/deployments?environment=" + urlEncode(config_.environment) +
                        "&order_by=updated_at&sort=asc&updated_after=" +
                        urlEncode(formatTime(ctx.now - config_.window));
    auto deployments = list(dpath, ctx);
    if (!deployments) return deployments.error();
    auto environments = list(base + "/environments", ctx);
    if (!environments) return environments.error();

    struct Finished {
      double at;
      int id;
      std::string sha;
      bool success;
      double committed = -1;  // when the deployed commit was committed (-1: not known)
    };
    std::vector<Finished> finished;
    for (const auto& d : *deployments) {
      std::string status = stringMember(d, "status");
      if (status != "success" && status != "failed") continue;
      auto t = parseTimestamp(stringMember(d, "updated_at"));
      if (!t) {
        return makeError(ErrorCode::kBadResponse,
                         "GitLab " + base + "/deployments: " + t.error().message);
      }
      const auto* id = member(d, "id");
      // The deployed commit's time (deployable.commit): lead time for changes ends here.
      double committed = -1;
      if (const auto* job = objectMember(d, "deployable")) {
        if (const auto* commit = objectMember(*job, "commit")) {
          std::string when = stringMember(*commit, "committed_date", stringMember(*commit, "created_at"));
          if (auto c = parseTimestamp(when); c.ok()) committed = toSeconds(*c);
        }
      }
      finished.push_back({toSeconds(*t), id && id->IsInt() ? id->GetInt() : 0,
                          stringMember(d, "sha"), status == "success", committed});
    }
    std::sort(finished.begin(), finished.end(),
              [](const Finished& a, const Finished& b) { return a.id < b.id; });
    int success = 0, failed = 0, rollbacks = 0;
    double last_success = -1;
    std::vector<double> lead_times;  // commit to successful deployment, seconds
    std::vector<std::string> shipped;  // shas of successful deployments, in order
    for (const auto& f : finished) {
      if (f.at < since) continue;
      if (!f.success) {
        ++failed;
        continue;
      }
      ++success;
      last_success = std::max(last_success, f.at);
      if (f.committed >= 0 && f.at >= f.committed) lead_times.push_back(f.at - f.committed);
      // Deploying again a commit that an earlier (not the latest) deployment shipped is a
      // rollback to it.
      if (shipped.size() >= 2 &&
          std::find(shipped.begin(), shipped.end() - 1, f.sha) != shipped.end() - 1 &&
          shipped.back() != f.sha) {
        ++rollbacks;
      }
      shipped.push_back(f.sha);
    }
    std::set<std::string> tiers;
    for (const auto& e : *environments) {
      std::string tier = stringMember(e, "tier");
      if (!tier.empty() && stringMember(e, "state", "available") != "stopped") tiers.insert(tier);
    }
    auto add = [&, sys = system](const char* key, scorer::Value v, const std::string& l) {
      facts.push_back(scorer::Fact{kPrefix + std::string(key), sys, std::move(v), l});
    };
    const std::string loc = base + "/deployments";
    add("deployments", success + failed, loc);
    add("deployments_failed", failed, loc);
    add("rollbacks", rollbacks, loc);
    if (success + failed > 0) {
      add("change_failure_ratio", static_cast<double>(failed) / (success + failed), loc);
    }
    add("deployments_per_day", success / std::max(1.0, toSeconds(config_.window) / 86400), loc);
    if (!lead_times.empty()) {
      std::sort(lead_times.begin(), lead_times.end());
      const size_t n = lead_times.size();
      add("lead_time_seconds_median",
          n % 2 ? lead_times[n / 2] : (lead_times[n / 2 - 1] + lead_times[n / 2]) / 2, loc);
    }
    if (last_success >= 0) add("last_deployment_age_seconds", std::max(0.0, now - last_success), loc);
    add("environment_tiers", scorer::StringList(tiers.begin(), tiers.end()), base + "/environments");
  }
  return facts;
}

namespace {

class GitlabFactory : public CollectorFactory {
 public:
  std::string type() const override { return "gitlab"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys(kPrefix, type(), {
        {"deployments", ValueType::kNumber, "Finished deployments (success or failed) to `environment` (default production) within the window (default 30d).",
         "change.deployments"},
        {"deployments_failed", ValueType::kNumber, "Failed deployments to the environment within the window."},
        {"rollbacks", ValueType::kNumber, "Successful deployments within the window that shipped again a commit an earlier (not the latest) deployment had shipped: rollbacks.",
         "change.rollbacks"},
        {"change_failure_ratio", ValueType::kNumber, "deployments_failed / deployments within the window (absent without deployments).",
         "change.deploy_failure_ratio"},
        {"deployments_per_day", ValueType::kNumber, "Successful deployments per day over the window: deployment frequency.",
         "change.deployment_frequency_per_day"},
        {"lead_time_seconds_median", ValueType::kNumber, "Median seconds from the deployed commit (deployable.commit.committed_date) to its successful deployment, over the window: lead time for changes. Absent when no deployment names its commit's time.",
         "change.lead_time_seconds"},
        {"last_deployment_age_seconds", ValueType::kNumber, "Seconds since the newest successful deployment within the window finished."},
        {"environment_tiers", ValueType::kList, "Tiers of the project's available environments (production, staging, testing, development, other)."},
    });
  }

  ConfigSchema configSchema() const override {
    return ConfigSchema(
        "gitlab",
        {
            urlKey("url", "The GitLab server, e.g. `https://gitlab.example.com`.").isRequired(),
            secretKey("token", "A personal, group or project access token with the read_api "
                               "scope, sent as a bearer token.")
                .isRequired(),
            mapKey("projects", "Project paths (`group/app`) and the system each belongs to.")
                .isRequired()
                .nonEmpty(),
            stringKey("environment", "The environment whose deployments count.").defaults("production"),
            durationKey("window", "Deployments younger than this count.").defaults("30d").isPositive(),
            integerKey("page_size", "`per_page` of each request.").defaults("100").range(1, 100),
            tlsKey(),
        });
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    GitlabConfig c;
    c.name = cfg.name();
    c.url = cfg.string("url");
    c.url = withoutTrailingSlashes(c.url);
    for (const auto& kv : cfg.node("projects")) {
      if (!kv.second.IsScalar() || kv.second.Scalar().empty()) {
        return fieldError(cfg.file(), kv.second, "projects." + kv.first.Scalar(),
                          "must be a system name");
      }
      c.projects[kv.first.Scalar()] = kv.second.Scalar();
    }
    c.environment = cfg.string("environment");
    c.window = cfg.duration("window");
    c.page_size = cfg.integer("page_size");
    auto token = cfg.secret("token");
    if (!token) return token.error();
    auto http = parseHttpOptions(cfg);
    if (!http) return http.error();
    c.http = std::move(*http);
    c.http.bearer_token = *token;  // GitLab accepts personal/project tokens as Bearer
    return std::unique_ptr<Collector>(std::make_unique<GitlabCollector>(std::move(c)));
  }
};

}  // namespace

Status registerGitlab(Registry& registry) { return registry.add(std::make_unique<GitlabFactory>()); }

}  // namespace opsm::collectors::gitlab
