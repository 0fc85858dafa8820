#include "agent/exposition/api.h"

#include "agent/exposition/requests.h"
#include "agent/exposition/routes.h"

#include "agent/exposition/web.h"

#include <cctype>
#include <algorithm>
#include <functional>
#include <optional>
#include <variant>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "collectors/common/json.h"
#include "scorer/attestations.h"
#include "scorer/check.h"
#include "scorer/json.h"

namespace opsm::agent {

namespace {

using Writer = rapidjson::Writer<scorer::json::Buffer>;

// Every object the API answers carries the schema version of its shapes first.
HttpReply json(unsigned status, const std::string& body) {
  if (body.size() >= 2 && body[0] == '{') {
    return HttpReply{status, "application/json",
                     "{\"schema_version\":" + std::to_string(scorer::json::kSchemaVersion) +
                         (body[1] == '}' ? "" : ",") + body.substr(1) + "\n"};
  }
  return HttpReply{status, "application/json", body + "\n"};
}

HttpReply error(unsigned status, const std::string& message,
                std::map<std::string, std::string> headers = {}) {
  scorer::json::Buffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("error");
  w.String(message.c_str());
  w.EndObject();
  return HttpReply{status, "application/json", std::string(buf.GetString()) + "\n",
                   std::move(headers)};
}


std::string query(const HttpRequest& r, const std::string& name) {
  return queryParam(r.target, name);
}

// A page of a list of systems (docs/api.md#pages): `limit` (default `fallback`, at most
// `cap`; a bad value is the default) systems after `cursor` (a system name, exclusive), by
// name.
struct Page {
  size_t limit = 0;
  std::string cursor;
};
Page pageOf(const HttpRequest& r, size_t fallback, size_t cap) {
  Page p;
  p.limit = fallback;
  const std::string v = query(r, "limit");
  if (!v.empty() && v.size() <= 9 && v.find_first_not_of("0123456789") == std::string::npos) {
    p.limit = std::clamp<size_t>(std::stoul(v), 1, cap);
  }
  p.cursor = query(r, "cursor");
  return p;
}

// The page of `items` (each named by `name`, sorted by it): those after the cursor, at most
// limit of them. The next page's cursor, or "" when none follows.
template <typename T, typename Name>
std::string takePage(std::vector<T>* items, const Page& page, Name name) {
  if (!page.cursor.empty()) {
    std::erase_if(*items, [&](const T& x) { return !(name(x) > page.cursor); });
  }
  if (items->size() <= page.limit) return "";
  items->resize(page.limit);
  return name(items->back());
}

// Ends a page's object: "next_cursor" when more systems follow.
void endPage(Writer& w, const std::string& next) {
  if (!next.empty()) {
    w.Key("next_cursor");
    scorer::json::string(w, next);
  }
}

HttpReply systems(const Snapshot& snapshot, const HttpRequest& r) {
  const Page page = pageOf(r, 1000, 10000);
  scorer::json::Buffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("systems");
  w.StartArray();
  const Snapshot* snap = &snapshot;
  std::vector<const scorer::SystemScore*> sorted;
  sorted.reserve(snap->scores.size());
  for (const auto& score : snap->scores) sorted.push_back(&*score);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->system < b->system; });
  const std::string next =
      takePage(&sorted, page, [](const scorer::SystemScore* s) -> const std::string& { return s->system; });
  for (const auto* score : sorted) {
    const scorer::SystemScore& s = *score;
    w.StartObject();
    w.Key("system");
    scorer::json::string(w, s.system);
    w.Key("level");
    w.Double(s.level);
    w.Key("progress");
    w.Double(s.progress);
    w.EndObject();
  }
  w.EndArray();
  endPage(w, next);
  w.EndObject();
  return json(200, buf.GetString());
}

// The page of a system, of the snapshot its explanation names (the one the route took, or a
// later one when the system changed since): `generation` says which.
HttpReply system(Agent& agent, const std::string& id, uint64_t* generation) {
  auto explained = agent.explainedScore(id);
  if (!explained) return error(404, "no system '" + id + "' is scored by this agent");
  *generation = explained->generation;
  const scorer::SystemScore* it = &*explained;
  TimePoint now = agent.now();
  const auto open = explained->snapshot->ledger->openRecords(id, now);
  const auto& attested = open.attestations;
  const auto& waived = open.waivers;
  const auto& model = explained->pack->model;
  scorer::json::Buffer buf;
  Writer w(buf);
  w.StartObject();
  scorer::json::systemFields(w, *it);
  w.Key("domains");
  w.StartArray();
  for (const auto& d : it->domains) {
    w.StartObject();
    scorer::json::domainFields(w, d);
    if (const auto* info = model.findDomain(d.domain)) {
      w.Key("name_zh");
      scorer::json::string(w, info->zh);
      w.Key("name_en");
      scorer::json::string(w, info->en);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("items");
  w.StartArray();
  for (const auto& item : it->items) {
    w.StartObject();
    scorer::json::itemFields(w, item);
    if (const auto* info = model.findItem(item.item)) {
      w.Key("name_zh");
      scorer::json::string(w, info->zh);
      w.Key("name_en");
      scorer::json::string(w, info->en);
    }
    w.Key("criteria");
    w.StartArray();
    std::vector<const scorer::CriterionResult*> gaps;
    for (const auto& c : item.criteria) {
      if (c.criterion->level == item.level + 1 && c.state != scorer::CriterionState::kPass &&
          c.state != scorer::CriterionState::kNotApplicable) {
        gaps.push_back(&c);
      }
      w.StartObject();
      scorer::json::criterionFields(w, c);
      std::vector<std::string> keys;
      if (c.criterion->when) scorer::conditionKeys(*c.criterion->when, &keys);
      if (c.criterion->attestation) keys.push_back("attestation." + c.criterion->id);
      w.Key("evidence");
      w.StartArray();
      for (const auto& k : keys) {
        if (const auto* e = explained->evidenceOf(k)) scorer::json::evidence(w, *e, now);
      }
      w.EndArray();
      // What the attester is shown: collected facts that bear on it without deciding it.
      w.Key("hints");
      w.StartArray();
      for (const auto& k : c.criterion->hints) {
        if (const auto* e = explained->evidenceOf(k)) scorer::json::evidence(w, *e, now);
      }
      w.EndArray();
      // The attestations (not rejected, revoked or superseded) and waivers (pending or in
      // force) of the criterion: what a person said of it and what is waiting for approval.
      w.Key("attestations");
      w.StartArray();
      if (auto a = attested.find(c.criterion->id); a != attested.end()) {
        for (const auto& one : a->second) {
          std::string text = toJson(one, &now, agent.config().require_approval);
          w.RawValue(text.c_str(), text.size(), rapidjson::kObjectType);
        }
      }
      w.EndArray();
      w.Key("waivers");
      w.StartArray();
      if (auto x = waived.find(c.criterion->id); x != waived.end()) {
        for (const auto& one : x->second) {
          std::string text = toJson(one, &now);
          w.RawValue(text.c_str(), text.size(), rapidjson::kObjectType);
        }
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.Key("gaps_to_next_level");
    w.StartArray();
    for (const auto* g : gaps) scorer::json::string(w, g->criterion->id);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return json(200, buf.GetString());
}

HttpReply evidence(Agent& agent, const HttpRequest& r) {
  std::string only = query(r, "system");
  const Page page = pageOf(r, 100, 1000);
  TimePoint now = agent.now();
  scorer::json::Buffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("evidence");
  w.StartArray();
  std::vector<std::string> systems;
  std::string next;
  if (only.empty()) {
    // A page of systems (knownSystems() is sorted by name), each with all its evidence.
    systems = agent.knownSystems();
    next = takePage(&systems, page, [](const std::string& s) -> const std::string& { return s; });
  } else if (agent.isKnownSystem(only)) {
    systems.push_back(only);
  }
  for (const auto& s : systems) {
    scorer::json::forEachEvidence(agent.evidence(), s, [&](const scorer::Evidence& e, bool is_default) {
      w.StartObject();
      w.Key("system");
      scorer::json::string(w, s);
      w.Key("evidence");
      scorer::json::evidence(w, e, now, is_default);
      w.EndObject();
    });
  }
  w.EndArray();
  endPage(w, next);
  w.EndObject();
  return json(200, buf.GetString());
}

HttpReply regressions(const Snapshot& snapshot) {
  scorer::json::Buffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("regressions");
  w.StartArray();
  for (const auto& r : *snapshot.regressions) scorer::json::regression(w, r);
  w.EndArray();
  w.EndObject();
  return json(200, buf.GetString());
}

unsigned statusOf(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kIo:
      return 503;
    default:
      return 500;
  }
}

// A decision's optional body: {"comment": "..."} as application/json, or nothing. An error
// is the reply.
std::variant<std::string, HttpReply> decisionComment(const HttpRequest& r) {
  if (r.body.empty()) return std::string();
  if (!hasMediaType(r, "application/json")) {
    return error(415, "send the comment as application/json");
  }
  auto doc = readJsonBody(r.body, {collectors::stringKey("comment", "Why.")});
  if (!doc) return error(400, doc.error().message);
  return (*doc)["comment"] ? (*doc)["comment"].Scalar() : std::string();
}

template <typename Record>
HttpReply listReply(const char* key, const std::vector<Record>& records,
                    const std::function<std::string(const Record&)>& render) {
  scorer::json::Buffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key(key);
  w.StartArray();
  for (const auto& r : records) {
    std::string one = render(r);
    w.RawValue(one.c_str(), one.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  w.EndObject();
  return json(200, buf.GetString());
}

// The records ?system, ?criterion and ?state (effective now) ask for, in the ledger's order.
template <typename Record, typename State>
std::vector<Record> filtered(const std::vector<Record>& all, const HttpRequest& r, State state_of) {
  const std::string system = query(r, "system"), criterion = query(r, "criterion"),
                    state = query(r, "state");
  std::vector<Record> out;
  for (const auto& x : all) {
    if (!system.empty() && x.system != system) continue;
    if (!criterion.empty() && x.criterion != criterion) continue;
    if (!state.empty() && state_of(x) != state) continue;
    out.push_back(x);
  }
  return out;
}

// A record id from a path segment; 0 when it is not one.
int64_t idOf(const std::string& id_text) {
  if (id_text.empty() || id_text.size() > 18 ||
      id_text.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  return std::stoll(id_text);
}

// The record `id_text` names among `all`, or null.
template <typename Record>
const Record* byId(const std::vector<Record>& all, const std::string& id_text) {
  const int64_t id = idOf(id_text);
  if (!id) return nullptr;
  auto it = std::find_if(all.begin(), all.end(), [&](const Record& x) { return x.id == id; });
  return it == all.end() ? nullptr : &*it;
}

std::string renderAttestation(const RouteContext& c, const scorer::Attestation& a) {
  const TimePoint now = c.agent.now();
  return toJson(a, &now, c.agent.config().require_approval);
}

std::string renderWaiver(const RouteContext& c, const Waiver& x) {
  const TimePoint now = c.agent.now();
  return toJson(x, &now);
}

HttpReply decide(const RouteContext& c, bool attestation, Ledger::Decision decision) {
  const int64_t id = idOf(c.params.at(0));
  if (!id) return error(404, "no such " + std::string(attestation ? "attestation" : "waiver") +
                                 ": " + c.request.path());
  auto comment = decisionComment(c.request);
  if (auto* refused = std::get_if<HttpReply>(&comment)) return *refused;
  if (attestation) {
    auto decided = c.agent.decideAttestation(id, decision, c.who, std::get<std::string>(comment));
    if (!decided) return error(statusOf(decided.error()), decided.error().message);
    return json(200, renderAttestation(c, *decided));
  }
  auto decided = c.agent.decideWaiver(id, decision, c.who, std::get<std::string>(comment));
  if (!decided) return error(statusOf(decided.error()), decided.error().message);
  return json(200, renderWaiver(c, *decided));
}

HttpReply auditLog(Agent& agent, const HttpRequest& r) {
  auto number = [&](const char* name, long long fallback, long long max) -> long long {
    std::string v = query(r, name);
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
      return fallback;
    }
    return std::min(std::stoll(v), max);
  };
  auto entries = agent.ledger().auditLog(query(r, "system"), number("before", 0, INT64_MAX / 2),
                                         static_cast<size_t>(number("limit", 100, 1000)));
  if (!entries) return error(503, "the audit log cannot be read (see the agent's log)");
  return listReply<Store::AuditEntry>("audit", *entries,
                                      [](const Store::AuditEntry& e) { return toJson(e); });
}

}  // namespace

namespace api {

HttpReply systems(const RouteContext& c) { return opsm::agent::systems(*c.snapshot, c.request); }
HttpReply system(const RouteContext& c) {
  return opsm::agent::system(c.agent, c.params.at(0), &c.generation);
}
HttpReply evidence(const RouteContext& c) { return opsm::agent::evidence(c.agent, c.request); }
HttpReply regressions(const RouteContext& c) { return opsm::agent::regressions(*c.snapshot); }
HttpReply audit(const RouteContext& c) { return auditLog(c.agent, c.request); }
HttpReply whoami(const RouteContext& c) {
  scorer::json::Buffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("name");
  scorer::json::string(w, c.who.name);
  w.Key("role");
  w.String(roleName(c.who.role));
  w.EndObject();
  return json(200, buf.GetString());
}

HttpReply listAttestations(const RouteContext& c) {
  const TimePoint now = c.agent.now();
  auto out = filtered(c.snapshot->ledger->records->attestations, c.request,
                      [&](const scorer::Attestation& a) { return scorer::effectiveState(a, now); });
  // Newest first.
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.created_at > b.created_at; });
  return listReply<scorer::Attestation>(
      "attestations", out, [&](const scorer::Attestation& a) { return renderAttestation(c, a); });
}

HttpReply postAttestations(const RouteContext& c) {
  if (!hasMediaType(c.request, "application/json")) {
    return error(415, "send the attestations as application/json");
  }
  auto request = parseAttestationRequest(c.request.body, c.who, *c.agent.rules(), c.agent.now());
  if (!request) return error(statusOf(request.error()), request.error().message);
  auto added = c.agent.addAttestations(std::move(*request), c.who);
  if (!added) return error(statusOf(added.error()), added.error().message);
  auto reply = listReply<scorer::Attestation>(
      "attestations", *added, [&](const scorer::Attestation& a) { return renderAttestation(c, a); });
  reply.status = 201;
  // `accepted`, as before lifecycle existed, for scripts that count.
  reply.body = "{\"accepted\": " + std::to_string(added->size()) + ", " + reply.body.substr(1);
  return reply;
}

HttpReply getAttestation(const RouteContext& c) {
  const auto* a = byId(c.snapshot->ledger->records->attestations, c.params.at(0));
  if (!a) return error(404, "no attestation #" + c.params.at(0));
  return json(200, renderAttestation(c, *a));
}

HttpReply approveAttestation(const RouteContext& c) { return decide(c, true, Ledger::Decision::kApprove); }
HttpReply rejectAttestation(const RouteContext& c) { return decide(c, true, Ledger::Decision::kReject); }
HttpReply revokeAttestation(const RouteContext& c) { return decide(c, true, Ledger::Decision::kRevoke); }

HttpReply listWaivers(const RouteContext& c) {
  const TimePoint now = c.agent.now();
  auto out = filtered(c.snapshot->ledger->records->waivers, c.request,
                      [&](const Waiver& x) { return effectiveState(x, now); });
  std::reverse(out.begin(), out.end());  // newest first (the ledger's are by id)
  return listReply<Waiver>("waivers", out, [&](const Waiver& x) { return renderWaiver(c, x); });
}

HttpReply postWaivers(const RouteContext& c) {
  if (!hasMediaType(c.request, "application/json")) {
    return error(415, "send the waiver as application/json");
  }
  auto request = parseWaiverRequest(c.request.body, *c.agent.rules(), c.agent.now());
  if (!request) return error(statusOf(request.error()), request.error().message);
  auto added = c.agent.addWaiver(std::move(*request), c.who);
  if (!added) return error(statusOf(added.error()), added.error().message);
  return json(201, renderWaiver(c, *added));
}

HttpReply getWaiver(const RouteContext& c) {
  const auto* x = byId(c.snapshot->ledger->records->waivers, c.params.at(0));
  if (!x) return error(404, "no waiver #" + c.params.at(0));
  return json(200, renderWaiver(c, *x));
}

HttpReply approveWaiver(const RouteContext& c) { return decide(c, false, Ledger::Decision::kApprove); }
HttpReply rejectWaiver(const RouteContext& c) { return decide(c, false, Ledger::Decision::kReject); }
HttpReply revokeWaiver(const RouteContext& c) { return decide(c, false, Ledger::Decision::kRevoke); }

HttpReply errorReply(unsigned status, const std::string& message,
                     std::map<std::string, std::string> headers) {
  return error(status, message, std::move(headers));
}

}  // namespace api

std::optional<HttpReply> requireRole(const Agent& agent, const HttpRequest& r, Role role,
                                     const std::string& what, Principal* who) {
  if (!agent.acceptsTokens()) {
    return error(403, what + " is disabled: no token is configured (tokens_file, or "
                             "api_token_file / api_token_env)");
  }
  auto auth = r.headers.find("authorization");
  std::string given = auth == r.headers.end() ? "" : auth->second;
  std::optional<Principal> p;
  if (given.rfind("Bearer ", 0) == 0) p = agent.authenticate(given.substr(7));
  if (!p) {
    return error(401, "a valid bearer token is required",
                 {{"WWW-Authenticate", "Bearer realm=\"opsmaturity\""}});
  }
  if (p->role < role) {
    return error(403, p->name + " (" + roleName(p->role) + ") may not do this: " + what +
                          " needs the " + roleName(role) + " role");
  }
  if (who) *who = *p;
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
