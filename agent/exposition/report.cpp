#include "agent/exposition/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "agent/exposition/charts.h"
#include "agent/exposition/web.h"
#include "scorer/check.h"

namespace opsm::agent {

namespace {

std::string esc(const std::string& s) { return htmlEscape(s); }

// Text from sources and people in Markdown: renderers pass HTML through, so `<img src=x
// onerror=...>` in a system name, a value or a justification would be live. HTML's special
// characters become entities, Markdown's link, image, code and emphasis markers and table
// pipes are escaped,
// line breaks become spaces (no heading, list or table row can start), and a leading # or >
// is escaped.
std::string mdText(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\\': case '`': case '*': case '[': case ']': case '|':
        out += '\\';
        out += c;
        break;
      case '\n': case '\r': out += ' '; break;
      default: out += c;
    }
  }
  if (!out.empty() && out[0] == '#') out.insert(0, "\\");
  return out;
}

std::string num(double d, int decimals = 2) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, d);
  return buf;
}

struct Text {
  bool zh;
  std::string t(const char* zh_text, const char* en_text) const { return zh ? zh_text : en_text; }
};

const char* stateName(scorer::CriterionState s, const Text& tx) {
  switch (s) {
    case scorer::CriterionState::kPass: return tx.zh ? "满足" : "pass";
    case scorer::CriterionState::kFail: return tx.zh ? "不满足" : "fail";
    case scorer::CriterionState::kUnknown: return tx.zh ? "未知" : "unknown";
    case scorer::CriterionState::kNotApplicable: return tx.zh ? "不适用" : "n/a";
  }
  return "";
}

// A small document model rendered to HTML or Markdown.
class Doc {
 public:
  explicit Doc(ReportFormat f) : html_(f == ReportFormat::kHtml) {}
  void h(int level, const std::string& text) {
    if (html_) {
      out_ += "<h" + std::to_string(level) + ">" + esc(text) + "</h" + std::to_string(level) + ">\n";
    } else {
      out_ += std::string(level, '#') + " " + mdText(text) + "\n\n";
    }
  }
  void p(const std::string& text) {
    out_ += html_ ? "<p>" + esc(text) + "</p>\n" : mdText(text) + "\n\n";
  }
  // Markup the agent drew itself (charts): HTML only.
  void raw(const std::string& html) {
    if (html_) out_ += html + "\n";
  }
  void table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows,
             const std::vector<std::string>& row_classes = {}) {
    if (rows.empty()) return;
    if (html_) {
      out_ += "<table><thead><tr>";
      for (const auto& c : head) out_ += "<th>" + esc(c) + "</th>";
      out_ += "</tr></thead><tbody>\n";
      for (size_t r = 0; r < rows.size(); ++r) {
        std::string cls = r < row_classes.size() ? row_classes[r] : "";
        out_ += cls.empty() ? "<tr>" : "<tr class=\"" + cls + "\">";
        for (const auto& c : rows[r]) out_ += "<td>" + esc(c) + "</td>";
        out_ += "</tr>\n";
      }
      out_ += "</tbody></table>\n";
    } else {
      out_ += "|";
      for (const auto& c : head) out_ += " " + mdText(c) + " |";
      out_ += "\n|";
      for (size_t i = 0; i < head.size(); ++i) out_ += " --- |";
      out_ += "\n";
      for (const auto& row : rows) {
        out_ += "|";
        for (const auto& c : row) out_ += " " + mdText(c) + " |";
        out_ += "\n";
      }
      out_ += "\n";
    }
  }
  std::string finish(const std::string& title, bool zh) const {
    if (!html_) return out_;
    return "<!DOCTYPE html>\n<html lang=\"" + std::string(zh ? "zh" : "en") +
           "\"><head><meta charset=\"utf-8\"><title>" + esc(title) +
           "</title>\n<style>\n"
           "body{font-family:'Noto Sans CJK SC','Noto Sans',Arial,sans-serif;margin:2em;color:#222}\n"
           "table{border-collapse:collapse;width:100%;margin:0.5em 0 1.5em}\n"
           "th,td{border:1px solid #bbb;padding:4px 6px;text-align:left;vertical-align:top;font-size:90%}\n"
           "th{background:#eee}tr.fail td{background:#fde2e2}tr.unknown td{background:#fff6d6}\n"
           "tr.pass td{background:#e6f4e6}h1{font-size:1.6em}h2{border-bottom:2px solid #444;margin-top:1.5em}\n"
           ".charts{display:flex;flex-wrap:wrap;gap:2em;align-items:center}.charts svg{width:480px;max-width:100%}\n"
           "@media print{body{margin:1cm}h2{page-break-before:auto}tr{page-break-inside:avoid}}\n"
           "</style></head><body>\n" +
           out_ + "</body></html>\n";
  }

 private:
  bool html_;
  std::string out_;
};

}  // namespace

Result<std::string> renderReport(Agent& agent, const std::string& system,
                                 ReportFormat format, ReportLang lang, TimePoint now) {
  auto explained = agent.explainedScore(system);
  if (!explained) {
    return makeError(ErrorCode::kNotFound, "no system '" + system + "' is scored by this agent");
  }
  const scorer::SystemScore* it = &*explained;
  const auto& model = explained->pack->model;
  const Text tx{lang == ReportLang::kZh};
  auto name = [&](const std::string& zh, const std::string& en) { return tx.zh ? zh : en; };
  Doc d(format);
  std::string title = tx.t("技术运营成熟度评估报告：", "Operations maturity assessment: ") + system;
  d.h(1, title);
  d.p(tx.t("生成时间 ", "Generated ") + formatTime(now) + tx.t("；规则包 ", "; rule pack ") +
      agent.config().rules_dir + tx.t("。等级按标准逐条要求由证据与证明计算。",
                                      ". Levels are computed requirement by requirement from "
                                      "collected evidence and attestations."));
  d.h(2, tx.t("总体等级", "Overall"));
  d.table({tx.t("系统", "System"), tx.t("等级", "Level"), tx.t("含豁免", "With waivers"),
           tx.t("进度", "Progress"), tx.t("组织人员", "People"), tx.t("流程规范", "Process"),
           tx.t("工具平台", "Tools")},
          {{system, num(it->level), num(it->level_with_waivers), num(it->progress),
            num(it->dimension_progress[0]), num(it->dimension_progress[1]),
            num(it->dimension_progress[2])}});
  {
    // The usual picture of a maturity assessment: the 9 domains on a radar, and the
    // dimensions as bars (HTML only; drawn by the agent, no script).
    d.raw("<div class=\"charts\">" + domainRadarSvg(*it, model, tx.zh) +
          dimensionBarsSvg(*it, tx.zh) + "</div>");
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& dom : it->domains) {
    const auto* info = model.findDomain(dom.domain);
    if (!dom.applicable) {
      rows.push_back({dom.domain, info ? name(info->zh, info->en) : dom.domain,
                      tx.t("不适用", "N/A"), "", tx.t("0（", "0 (") + std::to_string(dom.not_applicable) +
                      tx.t(" 项不适用）", " not applicable)")});
      continue;
    }
    rows.push_back({dom.domain, info ? name(info->zh, info->en) : dom.domain, num(dom.level),
                    num(dom.progress),
                    std::to_string(dom.items) +
                        (dom.not_applicable ? tx.t("（另 ", " (and ") +
                                                  std::to_string(dom.not_applicable) +
                                                  tx.t(" 项不适用）", " not applicable)")
                                            : "")});
  }
  d.h(2, tx.t("能力域", "Domains"));
  d.table({tx.t("域", "Domain"), tx.t("名称", "Name"), tx.t("等级", "Level"), tx.t("进度", "Progress"),
           tx.t("能力项", "Items")},
          rows);

  d.h(2, tx.t("能力项与证据", "Items and their evidence"));
  std::vector<std::vector<std::string>> gaps;
  std::vector<std::string> gap_classes;
  for (const auto& item : it->items) {
    const auto* info = model.findItem(item.item);
    if (!item.applicable) {
      // N/A, not 0 and not 5: the reason, and nothing to attest or collect.
      d.h(3, item.item + " " + (info ? name(info->zh, info->en) : "") +
                 tx.t(" — 不适用", " — not applicable"));
      d.p(item.applicability);
      continue;
    }
    d.h(3, item.item + " " + (info ? name(info->zh, info->en) : "") + tx.t(" — 等级 ", " — level ") +
               std::to_string(item.level) + tx.t("，进度 ", ", progress ") + num(item.progress));
    {
      std::string dims;
      const char* zh[] = {"组织人员 ", "流程规范 ", "工具平台 "};
      const char* en[] = {"people ", "process ", "tools "};
      for (int k = 0; k < scorer::kDimensions; ++k) {
        if (item.dimension_criteria[k] == 0) continue;
        dims += (dims.empty() ? "" : tx.t("，", ", ")) + tx.t(zh[k], en[k]) +
                num(item.dimension_progress[k]);
      }
      if (!dims.empty()) d.p(tx.t("各维度进度：", "Progress by dimension: ") + dims);
    }
    if (!item.applicability.empty()) d.p(item.applicability);
    std::vector<std::vector<std::string>> crit;
    std::vector<std::string> classes;
    for (const auto& c : item.criteria) {
      if (c.criterion->level > std::min(5, item.level + 1)) continue;
      std::vector<std::string> keys;
      if (c.criterion->when) scorer::conditionKeys(*c.criterion->when, &keys);
      if (c.criterion->attestation) keys.push_back("attestation." + c.criterion->id);
      std::string evidence;
      for (const auto& k : keys) {
        if (const auto* e = explained->evidenceOf(k)) {
          evidence += (evidence.empty() ? "" : "; ") + k + " = " + e->value.toString() + " (" +
                      e->source.collector + ", " + formatTime(e->observed_at) + ")";
        }
      }
      for (const auto& k : c.criterion->hints) {
        if (const auto* e = explained->evidenceOf(k)) {
          evidence += (evidence.empty() ? "" : "; ") + tx.t("参考：", "hint: ") + k + " = " +
                      e->value.toString() + " (" + e->source.collector + ", " +
                      formatTime(e->observed_at) + ")";
        }
      }
      if (evidence.empty()) evidence = tx.t("（无）", "(none)");
      crit.push_back({c.criterion->id, name(c.criterion->zh, c.criterion->en),
                      std::string(stateName(c.state, tx)) + (c.waived ? tx.t("（已豁免）", " (waived)") : ""),
                      evidence});
      classes.push_back(scorer::criterionStateName(c.state));
      if (c.criterion->level == item.level + 1 && c.state != scorer::CriterionState::kPass &&
          c.state != scorer::CriterionState::kNotApplicable) {
        gaps.push_back({item.item, c.criterion->id, name(c.criterion->zh, c.criterion->en),
                        stateName(c.state, tx), c.reason});
        gap_classes.push_back(scorer::criterionStateName(c.state));
      }
    }
    d.table({tx.t("要求", "Requirement"), tx.t("内容", "Text"), tx.t("状态", "State"),
             tx.t("证据（来源，时间）", "Evidence (source, observed)")},
            crit, classes);
  }

  d.h(2, tx.t("达到下一级的差距", "Gaps to the next level"));
  if (gaps.empty()) d.p(tx.t("无。", "None."));
  d.table({tx.t("能力项", "Item"), tx.t("要求", "Requirement"), tx.t("内容", "Text"),
           tx.t("状态", "State"), tx.t("原因", "Why")},
          gaps, gap_classes);

  std::vector<std::vector<std::string>> stale, due;
  for (const auto& [_, e] : explained->evidence) {
    if (scorer::isAttestationKey(e.key)) {
      if (e.expires_at - now < std::chrono::hours(24 * 30)) {
        due.push_back({e.key.substr(std::string("attestation.").size()), e.source.locator,
                       formatTime(e.expires_at), e.expired(now) ? tx.t("已过期", "expired") : ""});
      }
    } else if (e.expired(now)) {
      stale.push_back({e.key, e.value.toString(), e.source.collector, formatTime(e.observed_at),
                       formatTime(e.expires_at)});
    }
  }
  d.h(2, tx.t("过期证据", "Stale evidence"));
  if (stale.empty()) d.p(tx.t("无。", "None."));
  d.table({tx.t("证据", "Key"), tx.t("值", "Value"), tx.t("来源", "Source"), tx.t("采集时间", "Observed"),
           tx.t("过期时间", "Expired")},
          stale);
  d.h(2, tx.t("30 天内到期的证明", "Attestations due within 30 days"));
  if (due.empty()) d.p(tx.t("无。", "None."));
  d.table({tx.t("要求", "Criterion"), tx.t("证明", "Attestation"), tx.t("到期", "Expires"), ""}, due);

  // What people said and excused: the waivers in force or pending, and the attestations whose
  // document changed or vanished since they were attested.
  std::vector<std::vector<std::string>> waivers, flagged;
  const auto& snap = explained->snapshot;
  for (const auto& x : snap->ledger->records->waivers) {
    const std::string st = effectiveState(x, now);
    if (x.system != system || (st != "approved" && st != "pending")) continue;
    waivers.push_back({x.criterion, st, x.risk, x.justification,
                       x.requested_by + (x.approved_by.empty() ? "" : " / " + x.approved_by),
                       formatTime(x.expires)});
  }
  for (const auto& a : snap->ledger->records->attestations) {
    const std::string st = scorer::effectiveState(a, now);
    if (a.system != system || (st != "approved" && st != "pending")) continue;
    if (a.document_status != "changed" && a.document_status != "missing") continue;
    flagged.push_back({a.criterion, "#" + std::to_string(a.id) + " " + a.attested_by, a.document,
                       a.document_status, a.document_detail});
  }
  d.h(2, tx.t("豁免", "Waivers"));
  if (waivers.empty()) d.p(tx.t("无。", "None."));
  d.table({tx.t("要求", "Criterion"), tx.t("状态", "State"), tx.t("风险", "Risk"),
           tx.t("理由", "Justification"), tx.t("申请人 / 批准人", "Requested / approved by"),
           tx.t("到期", "Expires")},
          waivers);
  d.h(2, tx.t("文档已变更或丢失的证明", "Attestations whose document changed or vanished"));
  if (flagged.empty()) d.p(tx.t("无。", "None."));
  d.table({tx.t("要求", "Criterion"), tx.t("证明", "Attestation"), tx.t("文档", "Document"),
           tx.t("状态", "Status"), tx.t("详情", "Detail")},
          flagged);
  return d.finish(title, tx.zh);
}

}  // namespace opsm::agent
