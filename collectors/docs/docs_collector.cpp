#include "collectors/docs/docs_collector.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "collectors/common/http_config.h"
#include "collectors/common/subprocess.h"
#include "common/log.h"
#include "common/yaml_util.h"

namespace opsm::collectors::docs {

namespace fs = std::filesystem;

std::string frontMatter(const std::string& text, bool yaml_file) {
  if (yaml_file) return text;
  std::string_view t = text;
  if (t.rfind("\xEF\xBB\xBF", 0) == 0) t.remove_prefix(3);  // a UTF-8 byte order mark
  if (t.rfind("---\n", 0) != 0 && t.rfind("---\r\n", 0) != 0) return "";
  size_t start = t.find('\n') + 1;
  for (size_t line = start; line < t.size();) {
    size_t end = t.find('\n', line);
    if (end == std::string_view::npos) end = t.size();
    std::string_view l = t.substr(line, end - line);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l == "---" || l == "...") return std::string(t.substr(start, line - start));
    line = end + 1;
  }
  return "";  // never closed: not front-matter
}

namespace {

struct Document {
  std::string path;  // relative to the directory
  std::string title, owner, approved_by;
  std::vector<std::string> systems, criteria;
  TimePoint approved_at{}, next_review{};
  bool approved = false, in_review = false;
};

std::vector<std::string> stringList(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& e : n) {
      if (e.IsScalar()) out.push_back(e.Scalar());
    }
  }
  return out;
}

// Parses one document's front-matter; nullopt with `why` when it is not one of ours or broken
// (and *timeout when reading it ran past the poll's deadline).
std::optional<Document> parse(const std::string& rel, const std::string& yaml, const DocsConfig& config,
                              TimePoint now, const YamlLimits& limits, std::string* why,
                              Error* timeout) {
  YAML::Node root;
  {
    auto loaded = loadYamlString(yaml, rel + " front-matter", limits);
    if (!loaded) {
      if (loaded.error().code == ErrorCode::kTimeout) *timeout = loaded.error();
      *why = "front-matter is not usable YAML: " + loaded.error().message;
      return std::nullopt;
    }
    root = *loaded;
  }
  if (!root.IsMap()) return std::nullopt;  // no front-matter of ours
  if (!root["criteria"] && !root["type"]) return std::nullopt;
  Document d;
  d.path = rel;
  try {
    d.systems = stringList(root["systems"]);
    for (const auto& s : stringList(root["system"])) d.systems.push_back(s);
    d.criteria = stringList(root["criteria"]);
    if (root["type"]) {
      const std::string type = root["type"].as<std::string>("");
      auto t = config.types.find(type);
      if (t == config.types.end()) {
        *why = "type '" + type + "' is not one of the collector's `types`";
        return std::nullopt;
      }
      d.criteria.insert(d.criteria.end(), t->second.begin(), t->second.end());
    }
    d.title = root["title"].as<std::string>("");
    d.owner = root["owner"].as<std::string>("");
    d.approved_by = root["approved_by"].as<std::string>("");
    for (auto [field, out] : {std::pair{"approved_at", &d.approved_at},
                              std::pair{"next_review", &d.next_review}}) {
      if (!root[field]) continue;
      auto t = parseDate(root[field].as<std::string>(""));
      if (!t) {
        *why = std::string("field '") + field + "': " + t.error().message;
        return std::nullopt;
      }
      *out = *t;
    }
  } catch (const YAML::Exception& e) {
    *why = "front-matter: " + e.msg;
    return std::nullopt;
  }
  if (d.systems.empty()) {
    *why = "no `systems` (or `system`): which systems does it cover?";
    return std::nullopt;
  }
  if (d.criteria.empty()) {
    *why = "no `criteria`";
    return std::nullopt;
  }
  // Approved by someone other than its owner (who wrote it), on a date not in the future.
  d.approved = !d.approved_by.empty() && d.approved_by != d.owner &&
               d.approved_at != TimePoint{} && d.approved_at <= now;
  d.in_review = d.next_review != TimePoint{} && now < d.next_review;
  return d;
}

// The commit HEAD of a git work tree, or "" (not a git work tree, or git absent).
std::string headCommit(const std::string& dir, const CollectContext& ctx) {
  if (!fs::exists(fs::path(dir) / ".git")) return "";
  CommandOptions o;
  o.timeout = std::max<Duration>(std::chrono::seconds(1),
                                 std::chrono::duration_cast<Duration>(
                                     ctx.deadline - std::chrono::steady_clock::now()));
  o.max_output = 4096;
  auto r = runCommand({"git", "-C", dir, "rev-parse", "HEAD"}, o);
  if (!r || r->exit_code != 0) return "";
  std::string sha = r->out.substr(0, r->out.find('\n'));
  return sha.size() == 40 ? sha : "";
}

}  // namespace

Result<std::vector<scorer::Fact>> DocsCollector::collect(const CollectContext& ctx) {
  std::error_code ec;
  if (!fs::is_directory(config_.path, ec)) {
    return makeError(ErrorCode::kNotFound, config_.path + ": not a directory of documents");
  }
  const std::string commit = headCommit(config_.path, ctx);
  std::vector<Document> docs;
  size_t files = 0, skipped = 0;
  std::string first_problem;
  auto it = fs::recursive_directory_iterator(
      config_.path, fs::directory_options::skip_permission_denied, ec);
  if (ec) return makeError(ErrorCode::kIo, config_.path + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return makeError(ErrorCode::kIo, config_.path + ": " + ec.message());
    const fs::path& p = it->path();
    if (it->is_directory(ec) && p.filename().string().rfind('.', 0) == 0) {
      it.disable_recursion_pending();  // .git and other hidden directories
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    const std::string ext = p.extension().string();
    const bool yaml_file = ext == ".yml" || ext == ".yaml";
    if (!yaml_file && ext != ".md" && ext != ".markdown") continue;
    if (++files > config_.max_files) {
      return makeError(ErrorCode::kBadResponse,
                       config_.path + ": more than " + std::to_string(config_.max_files) +
                           " documents (max_files)");
    }
    const std::string rel = p.lexically_relative(config_.path).generic_string();
    if (it->file_size(ec) > config_.max_file_bytes) {
      ++skipped;
      if (first_problem.empty()) first_problem = rel + ": larger than max_file_bytes";
      continue;
    }
    std::ifstream in(p, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string fm = frontMatter(text.str(), yaml_file);
    if (fm.empty()) continue;
    std::string why;
    Error timeout;
    auto d = parse(rel, fm, config_, ctx.now, ctx.yamlLimits(), &why, &timeout);
    if (!timeout.message.empty()) return timeout;
    if (!d) {
      if (!why.empty()) {
        ++skipped;
        if (first_problem.empty()) first_problem = rel + ": " + why;
      }
      continue;
    }
    docs.push_back(std::move(*d));
  }
  if (skipped) {
    logger("collector")->warn("{}: {} document(s) skipped, e.g. {}", config_.name, skipped,
                              first_problem);
  }
  // Per system and criterion, the best document: one that counts, else the latest approved.
  std::sort(docs.begin(), docs.end(), [](const Document& a, const Document& b) { return a.path < b.path; });
  std::map<std::pair<std::string, std::string>, const Document*> best;
  for (const auto& d : docs) {
    for (const auto& s : d.systems) {
      for (const auto& c : d.criteria) {
        const Document*& slot = best[{s, c}];
        auto rank = [](const Document* x) { return (x->approved && x->in_review) * 2 + x->approved; };
        if (!slot || rank(&d) > rank(slot) ||
            (rank(&d) == rank(slot) && d.approved_at > slot->approved_at)) {
          slot = &d;
        }
      }
    }
  }
  std::vector<scorer::Fact> out;
  for (const auto& [key, d] : best) {
    const auto& [system, criterion] = key;
    std::string locator = (commit.empty() ? "" : "commit " + commit.substr(0, 12) + " ") + d->path;
    std::string detail = " (" + (d->title.empty() ? std::string() : d->title + "; ") + "owner " +
                         (d->owner.empty() ? "none" : d->owner);
    if (!d->approved_by.empty()) {
      detail += ", approved by " + d->approved_by +
                (d->approved_at == TimePoint{} ? "" : " on " + formatTime(d->approved_at).substr(0, 10));
    }
    detail += d->next_review == TimePoint{} ? ", no review date"
                                            : ", review by " + formatTime(d->next_review).substr(0, 10);
    locator += detail + ")";
    const std::string base = "docs." + criterion;
    out.push_back({base + ".present", system, true, locator});
    out.push_back({base + ".approved", system, d->approved, locator});
    out.push_back({base + ".in_review_period", system, d->in_review, locator});
    out.push_back({"document." + criterion, system, d->approved && d->in_review, locator});
  }
  return out;
}

namespace {

class DocsFactory : public CollectorFactory {
 public:
  std::string type() const override { return "docs"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    return {
        {"docs.*", scorer::ValueType::kBool, type(),
         "docs.<criterion>.present / .approved (by someone other than its owner) / "
         ".in_review_period (before its next_review): a document with front-matter naming the "
         "criterion and the system."},
        {"document.*", scorer::ValueType::kBool, type(),
         "document.<criterion>: a document of the system evidencing the criterion is approved "
         "by someone other than its owner and within its review period; counts for an "
         "attestation criterion no attestation decides."},
    };
  }

  ConfigSchema configSchema() const override {
    return ConfigSchema(
        "docs",
        {
            stringKey("path", "A directory of documents (a git work tree kept current, or any "
                              "directory); relative to the config file.")
                .isRequired()
                .nonEmpty(),
            mapKey("types", "Document types and the criteria a document of each type evidences, "
                            "e.g. `drill_plan: [6.7.4/L1/1]`."),
            integerKey("max_files", "Files read at most per poll.").defaults("10000").range(1, 1e6),
        });
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    DocsConfig c;
    c.name = cfg.name();
    c.path = fs::path(cfg.path("path")).lexically_normal().string();
    if (YAML::Node types = cfg.node("types")) {
      for (const auto& kv : types) {
        auto criteria = stringList(kv.second);
        if (criteria.empty()) {
          return fieldError(cfg.file(), kv.second, "types." + kv.first.Scalar(),
                            "must list the criteria a document of this type evidences");
        }
        c.types[kv.first.Scalar()] = std::move(criteria);
      }
    }
    c.max_files = static_cast<size_t>(cfg.integer("max_files"));
    return std::unique_ptr<Collector>(std::make_unique<DocsCollector>(std::move(c)));
  }
};

}  // namespace

Status registerDocs(Registry& registry) { return registry.add(std::make_unique<DocsFactory>()); }

}  // namespace opsm::collectors::docs
