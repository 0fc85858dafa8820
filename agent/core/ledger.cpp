#include "agent/core/ledger.h"

#include <algorithm>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "collectors/common/json.h"
#include "scorer/json.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/secrets.h"

namespace opsm::agent {

namespace {

using Writer = rapidjson::Writer<scorer::json::Buffer>;
constexpr size_t kMemoryAudit = 10000;

void str(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

// A stored record's JSON with every string passed through redactSecrets (URL userinfo that
// older records hold, from before the API refused it): parsed and written again, so that a
// redaction can never break the JSON; unreadable JSON is shown as null.
void redactedRecord(Writer& w, const std::string& json) {
  auto doc = collectors::parseJson(json, "stored record");
  if (!doc) {
    w.Null();
    return;
  }
  std::vector<rapidjson::Value*> todo{&*doc};
  while (!todo.empty()) {
    rapidjson::Value* v = todo.back();
    todo.pop_back();
    if (v->IsString()) {
      std::string s(v->GetString(), v->GetStringLength());
      if (needsRedaction(s)) {
        const std::string r = redactSecrets(s);
        v->SetString(r.c_str(), static_cast<rapidjson::SizeType>(r.size()), doc->GetAllocator());
      }
    } else if (v->IsObject()) {
      for (auto& m : v->GetObject()) todo.push_back(&m.value);
    } else if (v->IsArray()) {
      for (auto& item : v->GetArray()) todo.push_back(&item);
    }
  }
  doc->Accept(w);
}

void time(Writer& w, const char* key, TimePoint t) {
  if (t == TimePoint{}) return;
  str(w, key, formatTime(t));
}

std::string text(const rapidjson::Value& o, const char* key) {
  auto m = o.FindMember(key);
  return m != o.MemberEnd() && m->value.IsString() ? m->value.GetString() : "";
}

TimePoint timeOf(const rapidjson::Value& o, const char* key) {
  std::string t = text(o, key);
  if (t.empty()) return TimePoint{};
  auto parsed = parseTimestamp(t);
  return parsed ? *parsed : TimePoint{};
}

const char* decisionVerb(Ledger::Decision d) {
  switch (d) {
    case Ledger::Decision::kApprove:
      return "approve";
    case Ledger::Decision::kReject:
      return "reject";
    case Ledger::Decision::kRevoke:
      return "revoke";
  }
  return "decide";
}

const char* decisionState(Ledger::Decision d) {
  switch (d) {
    case Ledger::Decision::kApprove:
      return "approved";
    case Ledger::Decision::kReject:
      return "rejected";
    case Ledger::Decision::kRevoke:
      return "revoked";
  }
  return "pending";
}

std::string subjectOf(const char* kind, int64_t id, const std::string& system,
                      const std::string& criterion) {
  return std::string(kind) + " #" + std::to_string(id) + " (" + system + " " + criterion + ")";
}

// Who may decide a record of `author` and in which state it must be. Errors: permission
// (role, one's own), conflict (state).
Status mayDecide(Ledger::Decision d, const std::string& kind, const std::string& state,
                 const std::string& author, const Principal& who) {
  const std::string verb = decisionVerb(d);
  if (d == Ledger::Decision::kRevoke) {
    if (who.name != author && who.role < Role::kApprover) {
      return makeError(ErrorCode::kPermissionDenied,
                       who.name + " (" + roleName(who.role) + ") may not revoke a " + kind +
                           " of " + author + ": only its author or an approver may");
    }
    if (state != "pending" && state != "approved" && state != "expired") {
      return makeError(ErrorCode::kConflict,
                       "the " + kind + " is " + state + "; only a pending or approved one can "
                       "be revoked");
    }
    return Status::success();
  }
  if (who.role < Role::kApprover) {
    return makeError(ErrorCode::kPermissionDenied, who.name + " (" + roleName(who.role) +
                                                       ") may not " + verb + " a " + kind +
                                                       ": that needs the approver role");
  }
  if (who.name == author) {
    return makeError(ErrorCode::kPermissionDenied,
                     who.name + " may not " + verb + " their own " + kind +
                         ": someone other than its author must (revoke it to withdraw it)");
  }
  if (state != "pending") {
    return makeError(ErrorCode::kConflict, "the " + kind + " is " + state +
                                               "; only a pending one can be " +
                                               decisionState(d));
  }
  return Status::success();
}

}  // namespace

std::string effectiveState(const Waiver& w, TimePoint now) {
  if ((w.state == "pending" || w.state == "approved") && now >= w.expires) return "expired";
  return w.state;
}

bool inForce(const Waiver& w, TimePoint now) { return effectiveState(w, now) == "approved"; }

std::string toJson(const scorer::Attestation& a, const TimePoint* now, bool require_approval) {
  scorer::json::Buffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("id");
  w.Int64(a.id);
  str(w, "origin", a.origin);
  str(w, "system", a.system);
  str(w, "criterion", a.criterion);
  w.Key("met");
  w.Bool(a.met);
  str(w, "attested_by", a.attested_by);
  str(w, "approved_by", a.approved_by);
  str(w, "document", a.document);
  str(w, "comment", a.comment);
  time(w, "date", a.date);
  time(w, "expires", a.expires);
  str(w, "state", a.state);
  if (now) {
    str(w, "effective_state", scorer::effectiveState(a, *now));
    w.Key("counts");  // whether it counts toward the score now
    w.Bool(scorer::counts(a, *now, require_approval));
  }
  str(w, "decided_by", a.decided_by);
  str(w, "decision_comment", a.decision_comment);
  time(w, "created_at", a.created_at);
  time(w, "decided_at", a.decided_at);
  w.Key("document_check");
  w.StartObject();
  str(w, "status", a.document_status);
  str(w, "sha256", a.document_sha256);
  str(w, "detail", a.document_detail);
  time(w, "checked_at", a.document_checked_at);
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

std::string toJson(const Waiver& x, const TimePoint* now) {
  scorer::json::Buffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("id");
  w.Int64(x.id);
  str(w, "system", x.system);
  str(w, "criterion", x.criterion);
  str(w, "justification", x.justification);
  str(w, "risk", x.risk);
  str(w, "requested_by", x.requested_by);
  str(w, "approved_by", x.approved_by);
  str(w, "state", x.state);
  if (now) {
    str(w, "effective_state", effectiveState(x, *now));
    w.Key("in_force");
    w.Bool(inForce(x, *now));
  }
  str(w, "decided_by", x.decided_by);
  str(w, "decision_comment", x.decision_comment);
  time(w, "created_at", x.created_at);
  time(w, "expires", x.expires);
  time(w, "decided_at", x.decided_at);
  w.EndObject();
  return buf.GetString();
}

std::string toJson(const Store::AuditEntry& e) {
  scorer::json::Buffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("seq");
  w.Int64(e.seq);
  time(w, "at", e.at);
  str(w, "actor", e.actor);
  str(w, "action", e.action);
  str(w, "system", e.system);
  str(w, "subject", e.subject);
  // before/after are the records' JSON (or empty): embedded as objects, or null.
  for (const auto& [key, value] : {std::pair{"before", &e.before}, std::pair{"after", &e.after}}) {
    w.Key(key);
    if (value->empty()) {
      w.Null();
    } else {
      redactedRecord(w, *value);
    }
  }
  w.EndObject();
  return buf.GetString();
}

Result<scorer::Attestation> attestationFromJson(const std::string& json) {
  auto doc = collectors::parseJson(json, "stored attestation");
  if (!doc) return doc.error();
  const rapidjson::Value& o = *doc;
  if (!o.IsObject() || !o.HasMember("id") || !o["id"].IsInt64()) {
    return makeError(ErrorCode::kBadResponse, "stored attestation: not an attestation record");
  }
  scorer::Attestation a;
  a.id = o["id"].GetInt64();
  a.origin = text(o, "origin");
  a.system = text(o, "system");
  a.criterion = text(o, "criterion");
  a.met = !o.HasMember("met") || !o["met"].IsBool() || o["met"].GetBool();
  a.attested_by = text(o, "attested_by");
  a.approved_by = text(o, "approved_by");
  a.document = redactSecrets(text(o, "document"));  // userinfo older records may hold
  a.comment = text(o, "comment");
  a.date = timeOf(o, "date");
  a.expires = timeOf(o, "expires");
  a.state = text(o, "state");
  a.decided_by = text(o, "decided_by");
  a.decision_comment = text(o, "decision_comment");
  a.created_at = timeOf(o, "created_at");
  a.decided_at = timeOf(o, "decided_at");
  if (o.HasMember("document_check") && o["document_check"].IsObject()) {
    const auto& d = o["document_check"];
    a.document_status = text(d, "status");
    a.document_sha256 = text(d, "sha256");
    a.document_detail = text(d, "detail");
    a.document_checked_at = timeOf(d, "checked_at");
  }
  return a;
}

Result<Waiver> waiverFromJson(const std::string& json) {
  auto doc = collectors::parseJson(json, "stored waiver");
  if (!doc) return doc.error();
  const rapidjson::Value& o = *doc;
  if (!o.IsObject() || !o.HasMember("id") || !o["id"].IsInt64()) {
    return makeError(ErrorCode::kBadResponse, "stored waiver: not a waiver record");
  }
  Waiver x;
  x.id = o["id"].GetInt64();
  x.system = text(o, "system");
  x.criterion = text(o, "criterion");
  x.justification = text(o, "justification");
  x.risk = text(o, "risk");
  x.requested_by = text(o, "requested_by");
  x.approved_by = text(o, "approved_by");
  x.decided_by = text(o, "decided_by");
  x.decision_comment = text(o, "decision_comment");
  x.state = text(o, "state");
  x.created_at = timeOf(o, "created_at");
  x.expires = timeOf(o, "expires");
  x.decided_at = timeOf(o, "decided_at");
  return x;
}

Result<std::unique_ptr<Ledger>> Ledger::open(Store* store) {
  std::unique_ptr<Ledger> ledger(new Ledger(store));
  if (!store) return ledger;
  auto atts = store->loadRecords(Store::Table::kAttestations);
  if (!atts) return atts.error();
  for (const auto& json : *atts) {
    auto a = attestationFromJson(json);
    if (!a) {
      logger("agent")->error("{}: an attestation record cannot be read, skipped: {}",
                             store->path(), a.error().message);
      continue;
    }
    ledger->next_attestation_ = std::max(ledger->next_attestation_, a->id + 1);
    ledger->api_[a->id] = std::move(*a);
  }
  auto waivers = store->loadRecords(Store::Table::kWaivers);
  if (!waivers) return waivers.error();
  for (const auto& json : *waivers) {
    auto x = waiverFromJson(json);
    if (!x) {
      logger("agent")->error("{}: a waiver record cannot be read, skipped: {}", store->path(),
                             x.error().message);
      continue;
    }
    ledger->next_waiver_ = std::max(ledger->next_waiver_, x->id + 1);
    ledger->waivers_[x->id] = std::move(*x);
  }
  return ledger;
}

Status Ledger::commit(const std::vector<scorer::Attestation>& attestations,
                      const std::vector<Waiver>& waivers, std::vector<Store::AuditEntry> audit,
                      TimePoint now) {
  if (store_) {
    std::vector<Store::RecordWrite> writes;
    for (const auto& a : attestations) {
      writes.push_back({Store::Table::kAttestations, a.id, a.system, a.criterion, a.state,
                        toJson(a)});
    }
    for (const auto& x : waivers) {
      writes.push_back({Store::Table::kWaivers, x.id, x.system, x.criterion, x.state, toJson(x)});
    }
    if (auto st = store_->write(writes, audit, now); !st) return st;
  } else {
    for (auto& e : audit) {
      e.seq = next_seq_++;
      memory_audit_.push_back(std::move(e));
      if (memory_audit_.size() > kMemoryAudit) memory_audit_.pop_front();
    }
  }
  for (const auto& a : attestations) api_[a.id] = a;
  for (const auto& x : waivers) waivers_[x.id] = x;
  if (!attestations.empty() || !waivers.empty()) {
    ++version_;
    cache_.reset();
  }
  return Status::success();
}

Result<std::vector<scorer::Attestation>> Ledger::attest(std::vector<scorer::Attestation> records,
                                                        const Principal& who, TimePoint now) {
  std::lock_guard lock(mu_);
  std::vector<Store::AuditEntry> audit;
  int64_t id = next_attestation_;
  for (auto& a : records) {
    a.id = id++;
    a.origin = "api";
    a.attested_by = who.name;
    a.approved_by.clear();
    a.state = "pending";
    a.created_at = now;
    a.document_status = "unchecked";
    audit.push_back({0, now, who.name, "attestation.create", a.system,
                     subjectOf("attestation", a.id, a.system, a.criterion), "", toJson(a)});
  }
  if (auto st = commit(records, {}, std::move(audit), now); !st) return st.error();
  next_attestation_ = id;
  return records;
}

Status Ledger::import(std::vector<scorer::Attestation> records, TimePoint now) {
  std::lock_guard lock(mu_);
  std::vector<Store::AuditEntry> audit;
  int64_t id = next_attestation_;
  for (auto& a : records) {
    a.id = id++;
    a.origin = "api";
    a.state = "pending";
    a.created_at = a.date;
    audit.push_back({0, now, "agent", "attestation.import", a.system,
                     subjectOf("attestation", a.id, a.system, a.criterion), "", toJson(a)});
  }
  if (auto st = commit(records, {}, std::move(audit), now); !st) return st;
  next_attestation_ = id;
  return Status::success();
}

Result<scorer::Attestation> Ledger::decideAttestation(int64_t id, Decision decision,
                                                      const Principal& who,
                                                      const std::string& comment, TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = api_.find(id);
  if (it == api_.end()) {
    return makeError(ErrorCode::kNotFound, "no attestation #" + std::to_string(id));
  }
  const scorer::Attestation& before = it->second;
  const std::string state = scorer::effectiveState(before, now);
  if (decision == Decision::kApprove && state == "expired") {
    return makeError(ErrorCode::kConflict, "attestation #" + std::to_string(id) +
                                               " has expired; attest again");
  }
  if (auto st = mayDecide(decision, "attestation", state, before.attested_by, who); !st) {
    return st.error();
  }
  scorer::Attestation after = before;
  after.state = decisionState(decision);
  after.decided_at = now;
  after.decision_comment = comment;
  if (decision == Decision::kApprove) {
    after.approved_by = who.name;
  } else {
    after.decided_by = who.name;
  }
  std::vector<scorer::Attestation> changed{after};
  std::vector<Store::AuditEntry> audit{
      {0, now, who.name, std::string("attestation.") + decisionVerb(decision), after.system,
       subjectOf("attestation", id, after.system, after.criterion), toJson(before),
       toJson(after)}};
  if (decision == Decision::kApprove) {
    // The approved ones before it of the same system and criterion give way to it.
    for (const auto& [other_id, other] : api_) {
      if (other_id == id || other.system != after.system || other.criterion != after.criterion ||
          other.state != "approved" || other.date > after.date) {
        continue;
      }
      scorer::Attestation s = other;
      s.state = "superseded";
      s.decided_by = who.name;
      s.decided_at = now;
      s.decision_comment = "superseded by attestation #" + std::to_string(id);
      audit.push_back({0, now, who.name, "attestation.supersede", s.system,
                       subjectOf("attestation", s.id, s.system, s.criterion), toJson(other),
                       toJson(s)});
      changed.push_back(std::move(s));
    }
  }
  if (auto st = commit(changed, {}, std::move(audit), now); !st) return st.error();
  return after;
}

Status Ledger::recordDocumentCheck(int64_t id, const std::string& sha256,
                                   const std::string& status, const std::string& detail,
                                   TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = api_.find(id);
  if (it == api_.end()) return Status::success();  // gone meanwhile
  scorer::Attestation after = it->second;
  const bool changed = after.document_status != status || after.document_sha256 != sha256;
  after.document_status = status;
  after.document_detail = detail;
  after.document_checked_at = now;
  if (after.document_sha256.empty()) after.document_sha256 = sha256;
  std::vector<Store::AuditEntry> audit;
  if (changed) {
    audit.push_back({0, now, "agent", "attestation.document", after.system,
                     subjectOf("attestation", id, after.system, after.criterion),
                     toJson(it->second), toJson(after)});
  }
  return commit({after}, {}, std::move(audit), now);
}

Result<Waiver> Ledger::requestWaiver(Waiver waiver, const Principal& who, TimePoint now) {
  std::lock_guard lock(mu_);
  waiver.id = next_waiver_;
  waiver.requested_by = who.name;
  waiver.approved_by.clear();
  waiver.state = "pending";
  waiver.created_at = now;
  std::vector<Store::AuditEntry> audit{{0, now, who.name, "waiver.create", waiver.system,
                                        subjectOf("waiver", waiver.id, waiver.system,
                                                  waiver.criterion),
                                        "", toJson(waiver)}};
  if (auto st = commit({}, {waiver}, std::move(audit), now); !st) return st.error();
  ++next_waiver_;
  return waiver;
}

Result<Waiver> Ledger::decideWaiver(int64_t id, Decision decision, const Principal& who,
                                    const std::string& comment, TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = waivers_.find(id);
  if (it == waivers_.end()) return makeError(ErrorCode::kNotFound, "no waiver #" + std::to_string(id));
  const Waiver& before = it->second;
  const std::string state = effectiveState(before, now);
  if (decision == Decision::kApprove && state == "expired") {
    return makeError(ErrorCode::kConflict,
                     "waiver #" + std::to_string(id) + " has expired; ask for a new one");
  }
  if (auto st = mayDecide(decision, "waiver", state, before.requested_by, who); !st) {
    return st.error();
  }
  Waiver after = before;
  after.state = decisionState(decision);
  after.decided_at = now;
  after.decision_comment = comment;
  if (decision == Decision::kApprove) {
    after.approved_by = who.name;
  } else {
    after.decided_by = who.name;
  }
  std::vector<Store::AuditEntry> audit{
      {0, now, who.name, std::string("waiver.") + decisionVerb(decision), after.system,
       subjectOf("waiver", id, after.system, after.criterion), toJson(before), toJson(after)}};
  if (auto st = commit({}, {after}, std::move(audit), now); !st) return st.error();
  return after;
}

void Ledger::setFileAttestations(std::vector<scorer::Attestation> records,
                                 const std::string& file, TimePoint now) {
  std::string all;
  for (const auto& a : records) all += toJson(a) + "\n";
  std::string digest = sha256Hex(all);
  std::lock_guard lock(mu_);
  if (digest != file_digest_) {
    scorer::json::Buffer buf;
    Writer w(buf);
    w.StartObject();
    str(w, "file", file);
    w.Key("attestations");
    w.Uint64(records.size());
    str(w, "sha256", digest);
    w.EndObject();
    std::vector<Store::AuditEntry> audit{
        {0, now, "file", "attestations_file.load", "", file, "", buf.GetString()}};
    if (auto st = commit({}, {}, std::move(audit), now); !st) {
      logger("agent")->error("the attestations file's load was not audited: {}",
                             st.error().message);
    }
    file_digest_ = digest;
    ++version_;
    cache_.reset();
  }
  file_ = std::move(records);
}

Status Ledger::audit(const std::string& actor, const std::string& action,
                     const std::string& subject, TimePoint now) {
  std::lock_guard lock(mu_);
  return commit({}, {}, {{0, now, actor, action, "", subject, "", ""}}, now);
}

std::vector<scorer::Attestation> Ledger::attestations() const { return records()->attestations; }

std::optional<scorer::Attestation> Ledger::attestation(int64_t id) const {
  std::lock_guard lock(mu_);
  auto it = api_.find(id);
  if (it == api_.end()) return std::nullopt;
  return it->second;
}

std::vector<Waiver> Ledger::waivers() const { return records()->waivers; }

std::optional<Waiver> Ledger::waiver(int64_t id) const {
  std::lock_guard lock(mu_);
  auto it = waivers_.find(id);
  if (it == waivers_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<const Ledger::Records> Ledger::records() const {
  std::lock_guard lock(mu_);
  if (!cache_) {
    auto r = std::make_shared<Records>();
    r->attestations.reserve(api_.size() + file_.size());
    for (const auto& [_, a] : api_) r->attestations.push_back(a);
    r->attestations.insert(r->attestations.end(), file_.begin(), file_.end());
    r->waivers.reserve(waivers_.size());
    for (const auto& [_, x] : waivers_) r->waivers.push_back(x);
    r->version = version_;
    cache_ = std::move(r);
  }
  return cache_;
}

Ledger::OpenRecords Ledger::openRecords(const std::string& system, TimePoint now) const {
  return openRecords(*records(), system, now);
}

Ledger::OpenRecords Ledger::openRecords(const Records& records, const std::string& system,
                                        TimePoint now) {
  OpenRecords out;
  for (const auto& a : records.attestations) {
    if (a.system != system) continue;
    const std::string st = scorer::effectiveState(a, now);
    if (st == "pending" || st == "approved" || st == "expired") {
      out.attestations[a.criterion].push_back(a);
    }
  }
  for (const auto& x : records.waivers) {
    if (x.system != system) continue;
    const std::string st = effectiveState(x, now);
    if (st == "pending" || st == "approved") out.waivers[x.criterion].push_back(x);
  }
  return out;
}

Result<std::vector<Store::AuditEntry>> Ledger::auditLog(const std::string& system,
                                                        int64_t before_seq, size_t limit) const {
  if (store_) return store_->loadAudit(system, before_seq, limit);
  std::lock_guard lock(mu_);
  std::vector<Store::AuditEntry> out;
  for (auto it = memory_audit_.rbegin(); it != memory_audit_.rend() && out.size() < limit; ++it) {
    if (before_seq && it->seq >= before_seq) continue;
    if (!system.empty() && !it->system.empty() && it->system != system) continue;
    out.push_back(*it);
  }
  return out;
}

Ledger::Evidence Ledger::evidence(TimePoint now, bool require_approval) const {
  std::lock_guard lock(mu_);
  // Per system and criterion, the counting attestation with the latest date (the API's over
  // the file's on the same date, then the latest id).
  std::map<std::pair<std::string, std::string>, const scorer::Attestation*> best;
  auto consider = [&](const scorer::Attestation& a) {
    if (!scorer::counts(a, now, require_approval)) return;
    auto& slot = best[{a.system, a.criterion}];
    if (!slot || a.date > slot->date || (a.date == slot->date && a.id >= slot->id)) slot = &a;
  };
  for (const auto& a : file_) consider(a);
  for (const auto& [_, a] : api_) consider(a);
  Evidence out;
  for (const auto& [_, a] : best) {
    if (a->id) {
      out.api.push_back(scorer::attestationEvidence(*a, scorer::kApiAttestationSource));
    } else {
      out.file.push_back(scorer::attestationEvidence(*a, scorer::kAttestationSource));
    }
  }
  return out;
}

std::map<std::string, std::set<std::string>> Ledger::waived(TimePoint now) const {
  return waived(records()->waivers, now);
}

std::map<std::string, std::set<std::string>> Ledger::waived(const std::vector<Waiver>& waivers,
                                                            TimePoint now) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& x : waivers) {
    if (inForce(x, now)) out[x.system].insert(x.criterion);
  }
  return out;
}

}  // namespace opsm::agent
