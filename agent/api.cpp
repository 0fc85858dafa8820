#include "agent/api.h"

#include <cctype>
#include <algorithm>
#include <optional>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "collectors/common/json.h"
#include "scorer/attestations.h"
#include "scorer/check.h"

namespace opsm::agent {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

HttpReply json(unsigned status, const std::string& body) {
  return HttpReply{status, "application/json", body + "\n"};
}

HttpReply error(unsigned status, const std::string& message,
                std::map<std::string, std::string> headers = {}) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("error");
  w.String(message.c_str());
  w.EndObject();
  return HttpReply{status, "application/json", std::string(buf.GetString()) + "\n",
                   std::move(headers)};
}

void str(Writer& w, const std::string& s) {
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
}

using collectors::writeValue;

void writeEvidence(Writer& w, const scorer::Evidence& e, TimePoint now) {
  w.StartObject();
  w.Key("key");
  str(w, e.key);
  w.Key("value");
  writeValue(w, e.value);
  w.Key("collector");
  str(w, e.source.collector);
  w.Key("locator");
  str(w, e.source.locator);
  if (!e.source.via.empty()) {
    w.Key("via");  // the vendor key a domain key was derived from
    str(w, e.source.via);
  }
  if (!e.source.merged.empty()) {
    w.Key("merged");  // the merge of several sources' values
    str(w, e.source.merged);
  }
  w.Key("observed_at");
  str(w, formatTime(e.observed_at));
  w.Key("expires_at");
  str(w, formatTime(e.expires_at));
  w.Key("expired");
  w.Bool(e.expired(now));
  w.EndObject();
}

std::string query(const HttpRequest& r, const std::string& name) {
  auto q = r.target.find('?');
  if (q == std::string::npos) return "";
  std::string rest = r.target.substr(q + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find('&', start);
    if (end == std::string::npos) end = rest.size();
    std::string kv = rest.substr(start, end - start);
    if (kv.rfind(name + "=", 0) == 0) return kv.substr(name.size() + 1);
    start = end + 1;
  }
  return "";
}

// Compares without stopping at the first difference, so timing tells nothing of the token.
bool constantTimeEqual(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || b.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

HttpReply systems(Agent& agent) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("systems");
  w.StartArray();
  for (const auto& s : agent.scores()) {
    w.StartObject();
    w.Key("system");
    str(w, s.system);
    w.Key("level");
    w.Double(s.level);
    w.Key("progress");
    w.Double(s.progress);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return json(200, buf.GetString());
}

HttpReply system(Agent& agent, const std::string& id) {
  auto explained = agent.explainedScore(id);
  if (!explained) return error(404, "no system '" + id + "' is scored by this agent");
  const scorer::SystemScore* it = &*explained;
  TimePoint now = Clock::now();
  const auto& model = agent.rules().model;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("system");
  str(w, it->system);
  w.Key("level");
  w.Double(it->level);
  w.Key("progress");
  w.Double(it->progress);
  w.Key("dimensions");  // progress per dimension of the standard (§5)
  w.StartObject();
  for (int d = 0; d < scorer::kDimensions; ++d) {
    w.Key(scorer::dimensionName(static_cast<scorer::Dimension>(d)));
    w.Double(it->dimension_progress[d]);
  }
  w.EndObject();
  w.Key("domains");
  w.StartArray();
  for (const auto& d : it->domains) {
    w.StartObject();
    w.Key("domain");
    str(w, d.domain);
    if (const auto* info = model.findDomain(d.domain)) {
      w.Key("name_zh");
      str(w, info->zh);
      w.Key("name_en");
      str(w, info->en);
    }
    w.Key("applicable");
    w.Bool(d.applicable);
    w.Key("level");
    if (d.applicable) {
      w.Double(d.level);
    } else {
      w.Null();  // N/A: not 0 and not 5
    }
    w.Key("progress");
    w.Double(d.progress);
    w.EndObject();
  }
  w.EndArray();
  w.Key("items");
  w.StartArray();
  for (const auto& item : it->items) {
    w.StartObject();
    w.Key("item");
    str(w, item.item);
    if (const auto* info = model.findItem(item.item)) {
      w.Key("name_zh");
      str(w, info->zh);
      w.Key("name_en");
      str(w, info->en);
    }
    w.Key("applicable");
    w.Bool(item.applicable);
    if (!item.applicability.empty()) {
      w.Key("applicability");  // why it is not applicable, or why that is unknown
      str(w, item.applicability);
    }
    w.Key("level");
    if (item.applicable) {
      w.Int(item.level);
    } else {
      w.Null();  // N/A: not 0 and not 5
    }
    w.Key("progress");
    w.Double(item.progress);
    w.Key("dimensions");
    w.StartObject();
    for (int d = 0; d < scorer::kDimensions; ++d) {
      if (!item.applicable || item.dimension_criteria[d] == 0) continue;
      w.Key(scorer::dimensionName(static_cast<scorer::Dimension>(d)));
      w.Double(item.dimension_progress[d]);
    }
    w.EndObject();
    w.Key("criteria");
    w.StartArray();
    std::vector<const scorer::CriterionResult*> gaps;
    for (const auto& c : item.criteria) {
      if (c.criterion->level == item.level + 1 && c.state != scorer::CriterionState::kPass &&
          c.state != scorer::CriterionState::kNotApplicable) {
        gaps.push_back(&c);
      }
      w.StartObject();
      w.Key("id");
      str(w, c.criterion->id);
      w.Key("level");
      w.Int(c.criterion->level);
      w.Key("state");
      w.String(scorer::criterionStateName(c.state));
      w.Key("dimensions");
      w.StartArray();
      for (int d = 0; d < scorer::kDimensions; ++d) {
        if (c.criterion->hasDimension(static_cast<scorer::Dimension>(d))) {
          w.String(scorer::dimensionName(static_cast<scorer::Dimension>(d)));
        }
      }
      w.EndArray();
      w.Key("evidenced_by");
      w.String(c.criterion->attestation && c.criterion->when ? "collectors_or_attestation"
               : c.criterion->attestation                    ? "attestation"
                                                             : "collectors");
      w.Key("reason");
      str(w, c.reason);
      w.Key("zh");
      str(w, c.criterion->zh);
      w.Key("en");
      str(w, c.criterion->en);
      std::vector<std::string> keys;
      if (c.criterion->when) scorer::conditionKeys(*c.criterion->when, &keys);
      if (c.criterion->attestation) keys.push_back("attestation." + c.criterion->id);
      w.Key("evidence");
      w.StartArray();
      for (const auto& k : keys) {
        if (auto e = agent.evidence().find(it->system, k)) writeEvidence(w, *e, now);
      }
      w.EndArray();
      // What the attester is shown: collected facts that bear on it without deciding it.
      w.Key("hints");
      w.StartArray();
      for (const auto& k : c.criterion->hints) {
        if (auto e = agent.evidence().find(it->system, k)) writeEvidence(w, *e, now);
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.Key("gaps_to_next_level");
    w.StartArray();
    for (const auto* g : gaps) str(w, g->criterion->id);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return json(200, buf.GetString());
}

HttpReply evidence(Agent& agent, const HttpRequest& r) {
  std::string only = query(r, "system");
  TimePoint now = Clock::now();
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("evidence");
  w.StartArray();
  for (const auto& s : agent.knownSystems()) {
    if (!only.empty() && s != only) continue;
    for (const auto& e : agent.evidence().forSystem(s)) {
      w.StartObject();
      w.Key("system");
      str(w, s);
      w.Key("evidence");
      writeEvidence(w, e, now);
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return json(200, buf.GetString());
}

HttpReply regressions(Agent& agent) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("regressions");
  w.StartArray();
  for (const auto& r : agent.regressions()) {
    w.StartObject();
    w.Key("at");
    str(w, formatTime(r.at));
    w.Key("system");
    str(w, r.system);
    w.Key("item");
    str(w, r.item);
    w.Key("old_level");
    w.Int(r.old_level);
    w.Key("new_level");
    w.Int(r.new_level);
    w.Key("flipped");
    w.StartArray();
    for (const auto& [id, why] : r.flipped) {
      w.StartObject();
      w.Key("criterion");
      str(w, id);
      w.Key("reason");
      str(w, why);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return json(200, buf.GetString());
}

HttpReply postAttestations(Agent& agent, const HttpRequest& r) {
  if (auto denied = requireAdmin(agent, r, "the attestation API")) return *denied;
  if (!hasMediaType(r, "application/json")) {
    return error(415, "send the attestations as application/json");
  }
  auto added = agent.addAttestations(r.body);
  if (!added) return error(added.error().code == ErrorCode::kIo ? 503 : 400, added.error().message);
  return json(201, "{\"accepted\": " + std::to_string(*added) + "}");
}

}  // namespace

std::optional<HttpReply> apiRoute(Agent& agent, const HttpRequest& request) {
  const std::string path = request.path();
  if (path.rfind("/api/v1/", 0) != 0) return std::nullopt;
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/api/v1/attestations") {
    if (request.method != "POST") return error(405, "use POST");
    return postAttestations(agent, request);
  }
  if (!get) return error(405, "use GET");
  if (path == "/api/v1/systems") return systems(agent);
  if (path.rfind("/api/v1/systems/", 0) == 0) {
    return system(agent, path.substr(std::string("/api/v1/systems/").size()));
  }
  if (path == "/api/v1/evidence") return evidence(agent, request);
  if (path == "/api/v1/regressions") return regressions(agent);
  return error(404, "no such API endpoint: " + path);
}

std::optional<HttpReply> requireAdmin(const Agent& agent, const HttpRequest& r,
                                      const std::string& what) {
  const std::string& token = agent.config().api_token;
  if (token.empty()) {
    return error(403, what + " is disabled: set api_token_file or api_token_env");
  }
  auto auth = r.headers.find("authorization");
  std::string given = auth == r.headers.end() ? "" : auth->second;
  if (given.rfind("Bearer ", 0) != 0 || !constantTimeEqual(given.substr(7), token)) {
    return error(401, "a valid bearer token is required",
                 {{"WWW-Authenticate", "Bearer realm=\"opsmaturity\""}});
  }
  return std::nullopt;
}

bool hasMediaType(const HttpRequest& r, const std::string& media_type) {
  auto ct = r.headers.find("content-type");
  if (ct == r.headers.end()) return false;
  std::string type = ct->second.substr(0, ct->second.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type == media_type;
}

}  // namespace opsm::agent
