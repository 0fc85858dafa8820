#include "agent/cli/output.h"

#include <cstdio>
#include <sstream>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "scorer/json.h"

namespace opsm::agent {

namespace {

std::string fmt2(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", d);
  return buf;
}

// Pads to `width` display columns, counting CJK characters as two columns.
std::string pad(const std::string& s, size_t width) {
  size_t cols = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    cols += len >= 3 ? 2 : 1;
    i += len;
  }
  return s + std::string(cols < width ? width - cols : 1, ' ');
}

// Every scored system's score with reasons (each holding the pack its criteria point into).
std::vector<ExplainedScore> explainedScores(Agent& agent) {
  std::vector<ExplainedScore> out;
  const auto snap = agent.snapshot();
  for (const auto& score : snap->scores) {
    const scorer::SystemScore& s = *score;
    if (auto e = agent.explainedScore(s.system)) out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace

std::string renderTable(Agent& agent, bool explain) {
  const auto snap = agent.snapshot();
  const auto& model = snap->pack->model;
  std::string out = "rule pack " + agent.config().rules_dir + ": " +
                    std::to_string(snap->pack->items.size()) + " of " +
                    std::to_string(model.items.size()) + " items have rules\n\n";
  // With reasons: this is what a person reads.
  const std::vector<ExplainedScore> scores = explainedScores(agent);
  if (scores.empty()) {
    out += "no system scored: no collector reported a system and the config declares none\n";
  }
  for (const auto& sys : scores) {
    out += "system " + sys.system + ": level " + fmt2(sys.level) + ", progress " +
           fmt2(sys.progress) + " (people " + fmt2(sys.dimension_progress[0]) + ", process " +
           fmt2(sys.dimension_progress[1]) + ", tools " + fmt2(sys.dimension_progress[2]) + ")\n";
    out += "  " + pad("ITEM", 7) + pad("NAME", 36) + pad("LEVEL", 6) + pad("PROGRESS", 9) +
           "PASS FAIL UNKNOWN N/A\n";
    for (const auto& d : sys.domains) {
      const auto* info = model.findDomain(d.domain);
      out += "  " + pad(d.domain, 7) + pad(info ? info->zh + " " + info->en : d.domain, 36) +
             (d.applicable ? pad(fmt2(d.level), 6) + pad(fmt2(d.progress), 9) + "(domain, " +
                                 std::to_string(d.items) + " items" +
                                 (d.not_applicable ? ", " + std::to_string(d.not_applicable) +
                                                         " not applicable"
                                                   : "") +
                                 ")\n"
                           : pad("N/A", 6) + pad("", 9) + "(domain: no item applies)\n");
      for (const auto& item : sys.items) {
        if (item.domain != d.domain) continue;
        const auto* ii = model.findItem(item.item);
        int pass = 0, fail = 0, unknown = 0, na = 0;
        for (const auto& c : item.criteria) {
          switch (c.state) {
            case scorer::CriterionState::kPass:
              ++pass;
              break;
            case scorer::CriterionState::kFail:
              ++fail;
              break;
            case scorer::CriterionState::kUnknown:
              ++unknown;
              break;
            case scorer::CriterionState::kNotApplicable:
              ++na;
              break;
          }
        }
        out += "  " + pad(item.item, 7) + pad(ii ? ii->zh + " " + ii->en : item.item, 36) +
               (item.applicable ? pad(std::to_string(item.level), 6) + pad(fmt2(item.progress), 9)
                                : pad("N/A", 6) + pad("", 9)) +
               pad(std::to_string(pass), 5) + pad(std::to_string(fail), 5) +
               pad(std::to_string(unknown), 8) + std::to_string(na) + "\n";
        if (!item.applicability.empty()) out += "      " + item.applicability + "\n";
        if (!explain || !item.applicable) continue;
        for (const auto& c : item.criteria) {
          out += "      " + pad(c.criterion->id, 12) +
                 pad(scorer::criterionStateName(c.state), 9) + c.criterion->zh + " — " +
                 c.reason + "\n";
        }
      }
    }
    out += "\n";
  }
  return out;
}

std::string renderJson(Agent& agent, const std::vector<PollOutcome>& polls) {
  std::ostringstream out;
  writeJson(out, agent, polls);
  return out.str();
}

void writeJson(std::ostream& out, Agent& agent, const std::vector<PollOutcome>& polls) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  auto str = [&](const std::string& s) { w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("schema_version");
  w.Int(scorer::json::kSchemaVersion);
  w.Key("collectors");
  w.StartArray();
  for (const auto& p : polls) {
    w.StartObject();
    w.Key("name");
    str(p.collector);
    w.Key("up");
    w.Bool(p.ok);
    w.Key("facts");
    w.Uint64(p.facts);
    w.Key("duration_seconds");
    w.Double(p.seconds);
    if (!p.ok) {
      w.Key("error");
      str(p.error);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("systems");
  w.StartArray();
  // One system at a time, written out as soon as it is done: the document of a large estate
  // (criteria, reasons and evidence of every system) is never held whole.
  const auto snap = agent.snapshot();
  for (const auto& score : snap->scores) {
    auto explained = agent.explainedScore(score->system);
    if (!explained) continue;
    const ExplainedScore& sys = *explained;
    w.StartObject();
    scorer::json::systemFields(w, sys);
    w.Key("domains");
    w.StartArray();
    for (const auto& d : sys.domains) {
      w.StartObject();
      scorer::json::domainFields(w, d);
      w.EndObject();
    }
    w.EndArray();
    w.Key("items");
    w.StartArray();
    for (const auto& item : sys.items) {
      w.StartObject();
      scorer::json::itemFields(w, item);
      w.Key("criteria");
      w.StartArray();
      for (const auto& c : item.criteria) {
        w.StartObject();
        scorer::json::criterionFields(w, c);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.Key("evidence");
    scorer::json::systemEvidence(w, agent.evidence(), sys.system, agent.now());
    w.EndObject();
    out.write(buf.GetString(), static_cast<std::streamsize>(buf.GetSize()));
    buf.Clear();
  }
  w.EndArray();
  w.EndObject();
  out.write(buf.GetString(), static_cast<std::streamsize>(buf.GetSize()));
  out << "\n";
}

namespace {


// Text for an XML attribute or element: the five entities, and characters XML 1.0 forbids
// (other control characters) dropped.
std::string xml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') break;
        out += ch;
    }
  }
  return out;
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

const char* evidencedBy(const scorer::Criterion& c) {
  return c.attestation && c.when ? "collectors_or_attestation"
         : c.attestation         ? "attestation"
                                 : "collectors";
}

}  // namespace

std::string renderJunit(Agent& agent) {
  const auto scores = explainedScores(agent);
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  std::string suites;
  for (const auto& sys : scores) {
    int t = 0, f = 0, e = 0, s = 0;
    std::string cases;
    for (const auto& item : sys.items) {
      for (const auto& c : item.criteria) {
        ++t;
        cases += "    <testcase classname=\"" + xml(sys.system + "." + item.item) + "\" name=\"" +
                 xml(c.criterion->id + " " + c.criterion->en) + "\">";
        if (c.state == scorer::CriterionState::kNotApplicable) {
          ++s;
          cases += "<skipped message=\"not applicable: " + xml(c.reason) + "\"/>";
        } else if (c.waived) {
          ++s;
          cases += "<skipped message=\"waived (" + xml(scorer::criterionStateName(c.state)) +
                   "): " + xml(c.reason) + "\"/>";
        } else if (c.state == scorer::CriterionState::kFail) {
          ++f;
          cases += "<failure message=\"" + xml(c.reason) + "\" type=\"fail\"/>";
        } else if (c.state == scorer::CriterionState::kUnknown) {
          ++e;
          cases += "<error message=\"" + xml(c.reason) + "\" type=\"unknown\"/>";
        }
        cases += "</testcase>\n";
      }
    }
    suites += "  <testsuite name=\"" + xml(sys.system) + "\" tests=\"" + std::to_string(t) +
              "\" failures=\"" + std::to_string(f) + "\" errors=\"" + std::to_string(e) +
              "\" skipped=\"" + std::to_string(s) + "\">\n    <properties>\n" +
              "      <property name=\"level\" value=\"" + fmt2(sys.level) + "\"/>\n" +
              "      <property name=\"level_with_waivers\" value=\"" +
              fmt2(sys.level_with_waivers) + "\"/>\n" +
              "      <property name=\"progress\" value=\"" + fmt2(sys.progress) + "\"/>\n" +
              "    </properties>\n" + cases + "  </testsuite>\n";
    tests += t;
    failures += f;
    errors += e;
    skipped += s;
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"opsmaturity\" tests=\"" +
         std::to_string(tests) + "\" failures=\"" + std::to_string(failures) + "\" errors=\"" +
         std::to_string(errors) + "\" skipped=\"" + std::to_string(skipped) + "\">\n" + suites +
         "</testsuites>\n";
}

std::string renderCsv(Agent& agent) {
  std::string out =
      "system,system_level,domain,item,item_level,criterion,criterion_level,state,waived,"
      "evidenced_by,reason\r\n";
  for (const auto& sys : explainedScores(agent)) {
    for (const auto& item : sys.items) {
      for (const auto& c : item.criteria) {
        out += csvField(sys.system) + "," + fmt2(sys.level) + "," + item.domain + "," + item.item +
               "," + (item.applicable ? std::to_string(item.level) : std::string("N/A")) + "," +
               c.criterion->id + "," + std::to_string(c.criterion->level) + "," +
               scorer::criterionStateName(c.state) + "," + (c.waived ? "true" : "false") + "," +
               evidencedBy(*c.criterion) + "," + csvField(c.reason) + "\r\n";
      }
    }
  }
  return out;
}

}  // namespace opsm::agent
