#include "agent/exposition/console.h"
#include "agent/exposition/routes.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "agent/exposition/charts.h"
#include "agent/core/ledger.h"
#include "agent/exposition/web.h"
#include "common/url.h"
#include "scorer/check.h"

namespace opsm::agent {

namespace {

// ---- text ----------------------------------------------------------------------------------

std::string esc(const std::string& s) { return htmlEscape(s); }

// A path segment or query value percent-encoded (system names may hold anything printable).
std::string enc(const std::string& s) { return percentEncode(s); }


std::string param(const HttpRequest& r, const std::string& name) {
  return queryParam(r.target, name);
}

std::string num(double d, int decimals = 1) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, d);
  return buf;
}

std::string day(TimePoint t) { return t == TimePoint{} ? "" : formatTime(t).substr(0, 10); }
std::string when(TimePoint t) {
  if (t == TimePoint{}) return "";
  std::string s = formatTime(t);
  return s.substr(0, 10) + " " + s.substr(11, 5);
}

struct Lang {
  bool zh = true;
  std::string t(const char* zh_text, const char* en_text) const { return zh ? zh_text : en_text; }
  std::string q() const { return zh ? "lang=zh" : "lang=en"; }
  // A console link keeping the language.
  std::string link(const std::string& path, const std::string& query = "") const {
    return path + "?" + (query.empty() ? "" : query + "&") + q();
  }
};

std::string stateText(scorer::CriterionState s, const Lang& l) {
  switch (s) {
    case scorer::CriterionState::kPass: return l.t("满足", "pass");
    case scorer::CriterionState::kFail: return l.t("不满足", "fail");
    case scorer::CriterionState::kUnknown: return l.t("未知", "unknown");
    case scorer::CriterionState::kNotApplicable: return l.t("不适用", "N/A");
  }
  return "";
}

std::string statusText(const std::string& state, const Lang& l) {
  static const std::map<std::string, std::pair<const char*, const char*>> kNames = {
      {"pending", {"待审批", "pending"}},     {"approved", {"已批准", "approved"}},
      {"rejected", {"已驳回", "rejected"}},   {"revoked", {"已撤销", "revoked"}},
      {"superseded", {"已被取代", "superseded"}}, {"expired", {"已过期", "expired"}},
  };
  auto it = kNames.find(state);
  return it == kNames.end() ? state : l.t(it->second.first, it->second.second);
}

// ---- page frame ------------------------------------------------------------------------------

// The forms to attest and to ask for a waiver: one of each per page, filled by the script with
// the criterion a button names.
std::string dialogs(const Lang& l) {
  return "<dialog id=\"attest-dialog\"><form method=\"dialog\" id=\"attest-form\"><h2>" +
         l.t("提交证明", "Attest") + " <span class=\"target\"></span></h2>"
         "<input type=\"hidden\" name=\"system\"><input type=\"hidden\" name=\"criterion\">"
         "<label>" + l.t("证明文档（链接）", "Document (link)") +
         "<input name=\"document\" required></label><label>" + l.t("说明", "Comment") +
         "<textarea name=\"comment\" rows=\"2\"></textarea></label><label>" +
         l.t("日期", "Date") + "<input name=\"date\" type=\"date\" required></label><label>" +
         l.t("有效期至（可选）", "Expires (optional)") +
         "<input name=\"expires\" type=\"date\"></label><label class=\"inline\"><input "
         "name=\"met\" type=\"checkbox\" checked> " + l.t("满足该要求", "the requirement is met") +
         "</label><p class=\"error\"></p><menu><button value=\"cancel\" formnovalidate>" +
         l.t("取消", "Cancel") + "</button><button value=\"submit\" class=\"primary\">" +
         l.t("提交", "Submit") + "</button></menu></form></dialog>"
         "<dialog id=\"waive-dialog\"><form method=\"dialog\" id=\"waive-form\"><h2>" +
         l.t("申请豁免", "Request a waiver") + " <span class=\"target\"></span></h2>"
         "<input type=\"hidden\" name=\"system\"><input type=\"hidden\" name=\"criterion\">"
         "<label>" + l.t("理由", "Justification") +
         "<textarea name=\"justification\" rows=\"3\" required minlength=\"10\"></textarea></label>"
         "<label>" + l.t("风险", "Risk") + "<select name=\"risk\"><option value=\"low\">" +
         l.t("低", "low") + "</option><option value=\"medium\">" + l.t("中", "medium") +
         "</option><option value=\"high\">" + l.t("高", "high") + "</option></select></label>"
         "<label>" + l.t("到期日", "Expires") +
         "<input name=\"expires\" type=\"date\" required></label><p class=\"error\"></p><menu>"
         "<button value=\"cancel\" formnovalidate>" + l.t("取消", "Cancel") +
         "</button><button value=\"submit\" class=\"primary\">" + l.t("提交", "Submit") +
         "</button></menu></form></dialog>";
}

const std::map<std::string, std::string> kSecurityHeaders = {
    {"Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
};

HttpReply page(const Lang& l, const std::string& title, const std::string& here,
               const std::string& body, const std::string& self_path) {
  std::string nav;
  for (const auto& [path, zh, en] :
       {std::tuple{"/ui/", "总览", "Overview"}, std::tuple{"/ui/reviews", "审批", "Reviews"},
        std::tuple{"/ui/report-card", "成绩单", "Report card"}}) {
    nav += std::string("<a href=\"") + l.link(path) + "\"" +
           (here == path ? " aria-current=\"page\"" : "") + ">" + l.t(zh, en) + "</a>";
  }
  const std::string other = self_path + "?lang=" + (l.zh ? "en" : "zh");
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"" + std::string(l.zh ? "zh-CN" : "en") +
      "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\"><title>" + esc(title) + " · opsmaturity</title>"
      "<link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/ui/static/app.css\">"
      "<script src=\"/ui/static/app.js\" defer></script></head><body data-lang=\"" +
      (l.zh ? "zh" : "en") + "\"><header><span class=\"brand\">opsmaturity</span><nav>" + nav +
      "</nav><a class=\"lang\" href=\"" + esc(other) + "\">" + (l.zh ? "English" : "中文") +
      "</a><form id=\"signin\" autocomplete=\"off\"><input id=\"token\" type=\"password\" "
      "placeholder=\"" + l.t("访问令牌", "access token") + "\" aria-label=\"" +
      l.t("访问令牌", "access token") + "\"><button type=\"submit\">" + l.t("登录", "Sign in") +
      "</button></form><span id=\"whoami\" hidden></span><button id=\"signout\" type=\"button\" "
      "hidden>" + l.t("退出", "Sign out") + "</button></header><p id=\"status\" role=\"status\"></p>"
      "<main>" + body + "</main>" + dialogs(l) + "</body></html>\n";
  return HttpReply{200, "text/html; charset=utf-8", std::move(html), kSecurityHeaders};
}

// ---- shared pieces -----------------------------------------------------------------------------

std::string levelCell(const scorer::ItemScore& item, const Lang& l, const std::string& href) {
  // N/A, unknown (nothing known of its first level) and levels are told apart.
  if (!item.applicable) {
    return "<td class=\"cell na\" title=\"" + esc(l.t("不适用：", "not applicable: ") +
                                                 item.not_applicable_because) +
           "\"><a href=\"" + esc(href) + "\">N/A</a></td>";
  }
  const auto& first = item.tally[0];
  if (item.level == 0 && first.failed == 0 && first.unknown > 0 && first.passed == 0) {
    return "<td class=\"cell unknown\" title=\"" +
           esc(l.t("证据不足：一级要求均未知", "not known: no level-1 requirement is known")) +
           "\"><a href=\"" + esc(href) + "\">?</a></td>";
  }
  std::string extra;
  if (item.level_with_waivers != item.level) {
    extra = "<sup title=\"" + esc(l.t("含豁免", "with waivers")) + "\">" +
            std::to_string(item.level_with_waivers) + "</sup>";
  }
  return "<td class=\"cell lvl" + std::to_string(item.level) + "\"><a href=\"" + esc(href) +
         "\">" + std::to_string(item.level) + extra + "</a></td>";
}

std::string radarOf(const scorer::SystemScore& s, const scorer::Model& model, const Lang& l) {
  return domainRadarSvg(s, model, l.zh);
}

std::string dimensionBars(const scorer::SystemScore& s, const Lang& l) {
  return dimensionBarsSvg(s, l.zh);
}

std::string actionButtons(const std::string& kind, int64_t id, const std::string& state,
                          const Lang& l) {
  std::string out = "<span class=\"actions\" data-kind=\"" + kind + "\" data-id=\"" +
                    std::to_string(id) + "\"><input class=\"comment\" placeholder=\"" +
                    l.t("备注（可选）", "comment (optional)") + "\" aria-label=\"" +
                    l.t("备注", "comment") + "\">";
  if (state == "pending") {
    out += "<button type=\"button\" data-action=\"approve\">" + l.t("批准", "Approve") +
           "</button><button type=\"button\" data-action=\"reject\">" + l.t("驳回", "Reject") +
           "</button>";
  }
  if (state == "pending" || state == "approved") {
    out += "<button type=\"button\" data-action=\"revoke\">" + l.t("撤销", "Revoke") + "</button>";
  }
  return out + "</span>";
}

std::string documentLink(const std::string& doc) {
  if (doc.rfind("http://", 0) == 0 || doc.rfind("https://", 0) == 0) {
    return "<a href=\"" + esc(doc) + "\" rel=\"noreferrer\">" + esc(doc) + "</a>";
  }
  return esc(doc);
}

std::string attestationLine(const scorer::Attestation& a, TimePoint now, bool require_approval,
                            const Lang& l, bool with_target) {
  const std::string state = scorer::effectiveState(a, now);
  std::string out = "<li class=\"attestation st-" + state + "\">";
  if (with_target) {
    out += "<a href=\"" + esc(l.link("/ui/systems/" + enc(a.system))) + "\">" + esc(a.system) +
           "</a> " + esc(a.criterion) + " · ";
  }
  out += "<b>" + (a.id ? "#" + std::to_string(a.id) : esc(l.t("文件", "file"))) + "</b> <span class=\"badge st-" +
         state + "\">" + statusText(state, l) + "</span> " + (a.met ? "" : l.t("（不满足）", "(not met) ")) +
         l.t("证明人 ", "by ") + esc(a.attested_by);
  if (!a.approved_by.empty()) out += l.t("，批准人 ", ", approved by ") + esc(a.approved_by);
  if (!a.decided_by.empty()) out += l.t("，处理人 ", ", decided by ") + esc(a.decided_by);
  out += " · " + day(a.date) + " → " + day(a.expires) + " · " + documentLink(a.document);
  if (a.document_status == "changed" || a.document_status == "missing") {
    out += " <span class=\"badge flag\" title=\"" + esc(a.document_detail) + "\">" +
           (a.document_status == "changed" ? l.t("文档已变更", "document changed")
                                           : l.t("文档已丢失", "document missing")) +
           "</span>";
  }
  if (!scorer::counts(a, now, require_approval) && state == "pending") {
    out += " <span class=\"hint\">" + l.t("批准后计分", "counts once approved") + "</span>";
  }
  if (!a.comment.empty()) out += "<br><q>" + esc(a.comment) + "</q>";
  if (a.id) out += actionButtons("attestations", a.id, state, l);
  return out + "</li>";
}

std::string waiverLine(const Waiver& x, TimePoint now, const Lang& l, bool with_target) {
  const std::string state = effectiveState(x, now);
  std::string out = "<li class=\"waiver st-" + state + "\">";
  if (with_target) {
    out += "<a href=\"" + esc(l.link("/ui/systems/" + enc(x.system))) + "\">" + esc(x.system) +
           "</a> " + esc(x.criterion) + " · ";
  }
  out += "<b>" + l.t("豁免 #", "waiver #") + std::to_string(x.id) + "</b> <span class=\"badge st-" +
         state + "\">" + statusText(state, l) + "</span> " + l.t("风险 ", "risk ") + esc(x.risk) +
         " · " + l.t("申请人 ", "by ") + esc(x.requested_by);
  if (!x.approved_by.empty()) out += l.t("，批准人 ", ", approved by ") + esc(x.approved_by);
  out += " · " + l.t("至 ", "until ") + day(x.expires) + "<br><q>" + esc(x.justification) + "</q>";
  out += actionButtons("waivers", x.id, state, l);
  return out + "</li>";
}

// ---- the estate overview ----------------------------------------------------------------------

HttpReply overview(Agent& agent, const HttpRequest& r, const Lang& l) {
  const auto snap = agent.snapshot();
  const auto& model = snap->pack->model;
  const std::string only = param(r, "domain");
  std::string body = "<h1>" + l.t("总览：系统 × 能力项", "Estate overview: systems × items") + "</h1>";
  body += "<p class=\"filters\">" + l.t("能力域：", "Domain: ") + "<a href=\"" +
          esc(l.link("/ui/")) + "\"" + (only.empty() ? " aria-current=\"page\"" : "") + ">" +
          l.t("全部", "all") + "</a>";
  for (const auto& d : model.domains) {
    body += " <a href=\"" + esc(l.link("/ui/", "domain=" + enc(d.id))) + "\"" +
            (only == d.id ? " aria-current=\"page\"" : "") + ">" + esc(d.id + " " + (l.zh ? d.zh : d.en)) +
            "</a>";
  }
  body += "</p><p class=\"legend\"><span class=\"cell lvl0\">0</span><span class=\"cell lvl1\">1</span>"
          "<span class=\"cell lvl2\">2</span><span class=\"cell lvl3\">3</span><span class=\"cell "
          "lvl4\">4</span><span class=\"cell lvl5\">5</span><span class=\"cell na\">N/A</span> " +
          l.t("不适用", "not applicable") + " <span class=\"cell unknown\">?</span> " +
          l.t("证据不足", "not known") + " <sup>n</sup> " + l.t("含豁免的等级", "level with waivers") +
          "</p>";
  const auto& scores = snap->scores;
  if (scores.empty()) {
    body += "<p>" + l.t("尚无系统被评分。", "No system is scored yet.") + "</p>";
    return page(l, l.t("总览", "Overview"), "/ui/", body, "/ui/");
  }
  std::vector<const scorer::DomainInfo*> domains;
  for (const auto& d : model.domains) {
    if (only.empty() || only == d.id) domains.push_back(&d);
  }
  body += "<div class=\"scroll\"><table class=\"heatmap\"><thead><tr><th rowspan=\"2\">" +
          l.t("系统", "System") + "</th><th rowspan=\"2\">" + l.t("等级", "Level") + "</th>";
  for (const auto* d : domains) {
    body += "<th colspan=\"" + std::to_string(d->items.size()) + "\" title=\"" +
            esc(l.zh ? d->zh : d->en) + "\">" + esc(d->id) + "</th>";
  }
  body += "</tr><tr>";
  for (const auto* d : domains) {
    for (const auto& id : d->items) {
      const auto* info = model.findItem(id);
      body += "<th class=\"item\" title=\"" + esc(info ? (l.zh ? info->zh : info->en) : id) + "\">" +
              esc(id.substr(id.find('.', 2) + 1)) + "</th>";
    }
  }
  body += "</tr></thead><tbody>";
  for (const auto& score : scores) {
    const scorer::SystemScore& s = *score;
    const std::string sys_href = l.link("/ui/systems/" + enc(s.system));
    body += "<tr><th><a href=\"" + esc(sys_href) + "\">" + esc(s.system) + "</a></th><td class=\"num\">" +
            num(s.level) + (s.level_with_waivers != s.level ? " <sup>" + num(s.level_with_waivers) + "</sup>" : "") +
            "</td>";
    for (const auto* d : domains) {
      for (const auto& id : d->items) {
        const scorer::ItemScore* item = nullptr;
        for (const auto& i : s.items) {
          if (i.item == id) item = &i;
        }
        if (!item) {
          body += "<td class=\"cell none\" title=\"" + esc(l.t("无规则", "no rules")) + "\">–</td>";
          continue;
        }
        body += levelCell(*item, l, sys_href + "#item-" + id);
      }
    }
    body += "</tr>";
  }
  body += "</tbody></table></div>";
  return page(l, l.t("总览", "Overview"), "/ui/", body, "/ui/");
}

// ---- a system --------------------------------------------------------------------------------

HttpReply systemPage(Agent& agent, const std::string& id, const Lang& l) {
  auto explained = agent.explainedScore(id);
  if (!explained) {
    return HttpReply{404, "text/html; charset=utf-8",
                     "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>404</title></head>"
                     "<body><p>" + esc(l.t("本代理不评估该系统：", "No such system is scored here: ") + id) +
                         "</p></body></html>\n",
                     kSecurityHeaders};
  }
  const scorer::SystemScore& s = *explained;
  const auto& model = explained->pack->model;
  const TimePoint now = agent.now();
  const bool approval = agent.config().require_approval;
  const auto& snap = explained->snapshot;
  const auto open = snap->ledger->openRecords(id, now);
  const auto& attested = open.attestations;
  const auto& waivers = open.waivers;
  std::string body = "<h1>" + esc(id) + "</h1><section class=\"summary\"><div><p class=\"big\">" +
                     l.t("等级 ", "Level ") + num(s.level) + "</p><p>" +
                     l.t("含豁免 ", "with waivers ") + num(s.level_with_waivers) + " · " +
                     l.t("进度 ", "progress ") + num(s.progress, 2) + " · " +
                     l.t("豁免的要求 ", "criteria waived ") + std::to_string(s.waived) + "</p>" +
                     dimensionBars(s, l) + "</div><div>" + radarOf(s, model, l) + "</div></section>";
  // Domains.
  body += "<h2>" + l.t("能力域", "Domains") + "</h2><table class=\"domains\"><tr><th>" +
          l.t("能力域", "Domain") + "</th><th>" + l.t("等级", "Level") + "</th><th>" +
          l.t("含豁免", "With waivers") + "</th><th>" + l.t("进度", "Progress") + "</th></tr>";
  for (const auto& d : s.domains) {
    const auto* info = model.findDomain(d.domain);
    body += "<tr><td>" + esc(d.domain + " " + (info ? (l.zh ? info->zh : info->en) : "")) + "</td>";
    if (d.applicable) {
      body += "<td class=\"num\">" + num(d.level) + "</td><td class=\"num\">" +
              num(d.level_with_waivers) + "</td><td class=\"num\">" + num(d.progress, 2) + "</td>";
    } else {
      body += "<td colspan=\"3\">N/A</td>";
    }
    body += "</tr>";
  }
  body += "</table><h2>" + l.t("能力项与要求", "Items and requirements") + "</h2>";
  for (const auto& item : s.items) {
    const auto* info = model.findItem(item.item);
    body += "<section class=\"item\" id=\"item-" + esc(item.item) + "\"><h3>" +
            esc(item.item + " " + (info ? (l.zh ? info->zh : info->en) : "")) + " — ";
    if (!item.applicable) {
      body += "N/A</h3><p class=\"na\">" + esc(item.applicability) + "</p></section>";
      continue;
    }
    body += l.t("等级 ", "level ") + std::to_string(item.level) +
            (item.level_with_waivers != item.level
                 ? " (" + l.t("含豁免 ", "with waivers ") + std::to_string(item.level_with_waivers) + ")"
                 : "") +
            "</h3>";
    std::vector<std::string> gaps;
    for (const auto& c : item.criteria) {
      if (c.criterion->level == item.level + 1 && c.state != scorer::CriterionState::kPass &&
          c.state != scorer::CriterionState::kNotApplicable) {
        gaps.push_back(c.criterion->id);
      }
    }
    if (!gaps.empty()) {
      body += "<p class=\"gaps\">" + l.t("升到下一级还差：", "To reach the next level: ");
      for (const auto& g : gaps) body += "<a href=\"#c-" + esc(g) + "\">" + esc(g) + "</a> ";
      body += "</p>";
    }
    body += "<table class=\"criteria\"><tr><th>" + l.t("要求", "Requirement") + "</th><th>" +
            l.t("状态", "State") + "</th><th>" + l.t("依据", "Evidence and reason") + "</th></tr>";
    for (const auto& c : item.criteria) {
      const auto& cr = *c.criterion;
      const std::string st = scorer::criterionStateName(c.state);
      body += "<tr id=\"c-" + esc(cr.id) + "\" class=\"st-" + st + "\"><td><b>" + esc(cr.id) +
              "</b><br>" + esc(l.zh ? cr.zh : cr.en) + "</td><td><span class=\"badge st-" + st +
              "\">" + stateText(c.state, l) + "</span>" +
              (c.waived ? " <span class=\"badge waived\">" + l.t("已豁免", "waived") + "</span>" : "") +
              "</td><td><p class=\"reason\">" + esc(c.reason) + "</p>";
      std::vector<std::string> keys;
      if (cr.when) scorer::conditionKeys(*cr.when, &keys);
      if (cr.attestation) keys.push_back(cr.attestation_key);
      std::string ev;
      for (const auto& k : keys) {
        const scorer::Evidence* e = explained->evidenceOf(k);
        if (!e) continue;
        ev += "<li><code>" + esc(e->key) + "</code> = " + esc(e->value.toString()) + " <span class=\"src\">(" +
              esc(e->source.collector) + "; " + l.t("观测于 ", "observed ") + when(e->observed_at) +
              ", " + l.t("有效至 ", "valid until ") + when(e->expires_at) +
              (e->expired(now) ? ", " + l.t("已过期", "expired") : "") + ")</span></li>";
      }
      if (!ev.empty()) body += "<ul class=\"evidence\">" + ev + "</ul>";
      std::string people;
      if (auto a = attested.find(cr.id); a != attested.end()) {
        for (const auto& one : a->second) people += attestationLine(one, now, approval, l, false);
      }
      if (auto w = waivers.find(cr.id); w != waivers.end()) {
        for (const auto& one : w->second) people += waiverLine(one, now, l, false);
      }
      if (!people.empty()) body += "<ul class=\"people\">" + people + "</ul>";
      body += "<p class=\"do\">";
      if (cr.attestation) {
        body += "<button type=\"button\" class=\"attest\" data-system=\"" + esc(id) +
                "\" data-criterion=\"" + esc(cr.id) + "\">" + l.t("提交证明", "Attest") + "</button>";
      }
      if (c.state != scorer::CriterionState::kPass &&
          c.state != scorer::CriterionState::kNotApplicable && !c.waived) {
        body += "<button type=\"button\" class=\"waive\" data-system=\"" + esc(id) +
                "\" data-criterion=\"" + esc(cr.id) + "\">" + l.t("申请豁免", "Request waiver") +
                "</button>";
      }
      body += "</p></td></tr>";
    }
    body += "</table></section>";
  }
  // Level history and regressions.
  body += "<h2>" + l.t("等级变化与退化", "Level history and regressions") + "</h2>";
  std::string regs;
  for (const auto& reg : *snap->regressions) {
    if (reg.system != id) continue;
    regs = "<li>" + when(reg.at) + " " + esc(reg.item) + ": " + std::to_string(reg.old_level) +
           " → " + std::to_string(reg.new_level) + "</li>" + regs;
  }
  if (!regs.empty()) body += "<h3>" + l.t("退化", "Regressions") + "</h3><ul class=\"regressions\">" + regs + "</ul>";
  if (snap->history_kept) {
    // The recorded levels the snapshot carries (no SQLite read here): each item's changes,
    // newest first.
    struct Change {
      TimePoint at;
      std::string item;
      int from, to;
    };
    std::vector<Change> changes;
    if (const SystemView* v = snap->find(id)) {
      for (size_t k = 0; k < v->items.size(); ++k) {
        const auto& h = v->records[k].history;
        for (size_t j = 1; j < h.size(); ++j) changes.push_back({h[j].at, v->items[k].item, h[j - 1].level, h[j].level});
      }
    }
    std::stable_sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) { return a.at > b.at; });
    if (const SystemView* v = snap->find(id); v && !v->items.empty()) {
      std::string rows;
      for (const auto& c : changes) {
        rows += "<tr><td>" + when(c.at) + "</td><td>" + esc(c.item) + "</td><td class=\"num\">" +
                std::to_string(c.from) + " → " + std::to_string(c.to) + "</td></tr>";
      }
      body += rows.empty() ? "<p>" + l.t("自开始记录以来等级未变。", "No level change since records began.") + "</p>"
                           : "<table class=\"history\"><tr><th>" + l.t("时间", "When") + "</th><th>" +
                                 l.t("能力项", "Item") + "</th><th>" + l.t("等级", "Level") + "</th></tr>" +
                                 rows + "</table>";
    }
  } else {
    body += "<p>" + l.t("未配置 storage_path：不保存历史。", "No storage_path: no history is kept.") + "</p>";
  }
  return page(l, id, "", body, "/ui/systems/" + enc(id));
}

// ---- reviews ---------------------------------------------------------------------------------

HttpReply reviews(Agent& agent, const Lang& l) {
  const TimePoint now = agent.now();
  const bool approval = agent.config().require_approval;
  const auto snap = agent.snapshot();
  auto atts = snap->ledger->records->attestations;
  auto waivers = snap->ledger->records->waivers;
  std::sort(atts.begin(), atts.end(), [](const auto& a, const auto& b) { return a.created_at > b.created_at; });
  std::reverse(waivers.begin(), waivers.end());
  std::string pending, decided;
  for (const auto& a : atts) {
    if (!agent.mine(a.system)) continue;
    (scorer::effectiveState(a, now) == "pending" ? pending : decided) +=
        attestationLine(a, now, approval, l, true);
  }
  std::string wpending, wdecided;
  for (const auto& x : waivers) {
    if (!agent.mine(x.system)) continue;
    (effectiveState(x, now) == "pending" ? wpending : wdecided) += waiverLine(x, now, l, true);
  }
  auto list = [&](const std::string& items, const std::string& none) {
    return items.empty() ? "<p>" + none + "</p>" : "<ul class=\"people\">" + items + "</ul>";
  };
  std::string body = "<h1>" + l.t("审批", "Reviews") + "</h1><p>" +
                     l.t(approval ? "证明须由作者以外的审批人批准后才计分。" : "未启用 require_approval：待审批的证明也计分。",
                         approval ? "An attestation counts once approved by someone other than its author."
                                  : "require_approval is off: pending attestations count too.") +
                     "</p><h2>" + l.t("待审批的证明", "Attestations waiting for approval") + "</h2>" +
                     list(pending, l.t("无。", "None.")) + "<h2>" +
                     l.t("待审批的豁免", "Waivers waiting for approval") + "</h2>" +
                     list(wpending, l.t("无。", "None.")) + "<h2>" + l.t("全部证明", "All attestations") +
                     "</h2>" + list(decided, l.t("无。", "None.")) + "<h2>" + l.t("全部豁免", "All waivers") +
                     "</h2>" + list(wdecided, l.t("无。", "None."));
  return page(l, l.t("审批", "Reviews"), "/ui/reviews", body, "/ui/reviews");
}

// ---- report card -----------------------------------------------------------------------------

HttpReply reportCard(Agent& agent, const HttpRequest& r, const Lang& l) {
  int days = 30;
  const std::string d = param(r, "days");
  if (d == "7") days = 7;
  if (d == "90") days = 90;
  const TimePoint now = agent.now();
  const TimePoint since = now - std::chrono::hours(24 * days);
  std::string body = "<h1>" + l.t("成绩单", "Report card") + "</h1><p class=\"filters\">";
  for (int n : {7, 30, 90}) {
    body += "<a href=\"" + esc(l.link("/ui/report-card", "days=" + std::to_string(n))) + "\"" +
            (n == days ? " aria-current=\"page\"" : "") + ">" + std::to_string(n) +
            l.t(" 天", " days") + "</a> ";
  }
  body += "</p>";
  // Change of each system: the sum over its items of the level now minus the level then (the
  // last recorded at or before `since`, else the first recorded).
  std::map<std::string, double> change;
  std::map<std::string, std::vector<std::string>> movers;
  const auto snap = agent.snapshot();
  if (snap->history_kept) {
    // The recorded levels the snapshot carries, not the store (no SQLite read per GET).
    for (const auto& s : snap->scores) {
      for (size_t k = 0; k < s->items.size(); ++k) {
        const auto& item = s->items[k];
        const auto& history = s->records[k].history;
        if (history.empty()) continue;
        int then = history.front().level;
        for (const auto& h : history) {
          if (h.at <= since) then = h.level;
        }
        if (then == item.level) continue;
        change[s->system] += item.level - then;
        movers[s->system].push_back(item.item + " " + std::to_string(then) + "→" +
                                    std::to_string(item.level));
      }
    }
  } else {
    body += "<p>" + l.t("未配置 storage_path：无历史可比。", "No storage_path: no history to compare with.") + "</p>";
  }
  std::vector<std::pair<std::string, double>> sorted(change.begin(), change.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  auto table = [&](bool up) {
    std::string rows;
    int n = 0;
    auto add = [&](const std::pair<std::string, double>& e) {
      if ((up && e.second <= 0) || (!up && e.second >= 0) || n >= 10) return;
      ++n;
      std::string which;
      for (const auto& m : movers[e.first]) which += esc(m) + " ";
      rows += "<tr><td><a href=\"" + esc(l.link("/ui/systems/" + enc(e.first))) + "\">" +
              esc(e.first) + "</a></td><td class=\"num\">" + (e.second > 0 ? "+" : "") +
              num(e.second, 0) + "</td><td>" + which + "</td></tr>";
    };
    if (up) {
      for (const auto& e : sorted) add(e);
    } else {
      for (auto it = sorted.rbegin(); it != sorted.rend(); ++it) add(*it);
    }
    return rows.empty() ? "<p>" + l.t("无。", "None.") + "</p>"
                        : "<table><tr><th>" + l.t("系统", "System") + "</th><th>" +
                              l.t("等级变化合计", "Sum of level changes") + "</th><th>" +
                              l.t("能力项", "Items") + "</th></tr>" + rows + "</table>";
  };
  body += "<h2>" + l.t("进步最大", "Most improved") + "</h2>" + table(true) + "<h2>" +
          l.t("退步最大", "Worst drops") + "</h2>" + table(false);
  // At risk: attestations and waivers expiring within 30 days, evidence going stale.
  const TimePoint soon = now + std::chrono::hours(24 * 30);
  std::string risk;
  for (const auto& a : snap->ledger->records->attestations) {
    if (!agent.mine(a.system) || !scorer::counts(a, now, agent.config().require_approval) || a.expires > soon) continue;
    risk += "<tr><td>" + l.t("证明到期", "attestation expires") + "</td><td><a href=\"" +
            esc(l.link("/ui/systems/" + enc(a.system), "") + "#c-" + a.criterion) + "\">" + esc(a.system) +
            "</a></td><td>" + esc(a.criterion) + "</td><td>" + day(a.expires) + "</td></tr>";
  }
  for (const auto& x : snap->ledger->records->waivers) {
    if (!agent.mine(x.system) || !inForce(x, now) || x.expires > soon) continue;
    risk += "<tr><td>" + l.t("豁免到期", "waiver expires") + "</td><td><a href=\"" +
            esc(l.link("/ui/systems/" + enc(x.system))) + "\">" + esc(x.system) + "</a></td><td>" +
            esc(x.criterion) + "</td><td>" + day(x.expires) + "</td></tr>";
  }
  for (const auto& view : snap->scores) {
    const SystemView& s = *view;
    // As of the system's scoring (SystemView): expired, and expiring within a day.
    const int stale = s.evidence_expired, going = s.evidence_expiring;
    if (stale + going == 0) continue;
    risk += "<tr><td>" + l.t("证据过期", "evidence stale") + "</td><td><a href=\"" +
            esc(l.link("/ui/systems/" + enc(s.system))) + "\">" + esc(s.system) + "</a></td><td>" +
            std::to_string(stale) + l.t(" 条已过期，", " expired, ") + std::to_string(going) +
            l.t(" 条一天内过期", " expiring within a day") + "</td><td></td></tr>";
  }
  body += "<h2>" + l.t("风险（30 天内）", "At risk (within 30 days)") + "</h2>" +
          (risk.empty() ? "<p>" + l.t("无。", "None.") + "</p>"
                        : "<table><tr><th>" + l.t("类型", "What") + "</th><th>" + l.t("系统", "System") +
                              "</th><th>" + l.t("要求", "Criterion") + "</th><th>" + l.t("日期", "Date") +
                              "</th></tr>" + risk + "</table>");
  return page(l, l.t("成绩单", "Report card"), "/ui/report-card", body, "/ui/report-card");
}

// ---- static files ------------------------------------------------------------------------------

const char* kCss = R"css(
:root { --fg: #1b1f24; --muted: #5b6470; --line: #d9dde3; --accent: #2166ac; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif; color: var(--fg); }
header { display: flex; gap: 1em; align-items: center; padding: .6em 1em; background: #f3f5f8; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header .brand { font-weight: 700; }
header nav a { margin-right: .8em; }
header .lang { margin-left: auto; }
a { color: var(--accent); text-decoration: none; }
a[aria-current] { font-weight: 700; text-decoration: underline; }
main { padding: 1em; max-width: 1400px; }
h1 { font-size: 1.5em; margin: .2em 0 .6em; }
h2 { font-size: 1.2em; margin-top: 1.5em; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05em; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: .25em .45em; vertical-align: top; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
.heatmap th.item { font-weight: 400; font-size: 12px; }
.cell { text-align: center; min-width: 2.2em; }
.cell a { color: inherit; display: block; }
.legend .cell { display: inline-block; padding: 0 .4em; margin-right: .2em; border: 1px solid var(--line); }
.lvl0 { background: #f7f7f7; } .lvl1 { background: #d1e5f0; } .lvl2 { background: #92c5de; }
.lvl3 { background: #4393c3; color: #fff; } .lvl4 { background: #2166ac; color: #fff; } .lvl5 { background: #053061; color: #fff; }
.na { background: repeating-linear-gradient(45deg, #eee, #eee 4px, #fff 4px, #fff 8px); color: var(--muted); }
.unknown { background: #fff4d6; color: #8a6d00; }
.none { color: #bbb; }
.summary { display: flex; gap: 2em; flex-wrap: wrap; align-items: flex-start; }
.summary .big { font-size: 2em; font-weight: 700; margin: 0; }
.chart.radar { width: 540px; max-width: 100%; } .chart.bars { width: 420px; max-width: 100%; }
.badge { display: inline-block; padding: 0 .4em; border-radius: 3px; font-size: 12px; background: #eee; }
.badge.st-pass, .badge.st-approved { background: #d9f2d9; } .badge.st-fail, .badge.st-rejected { background: #f8d7d3; }
.badge.st-unknown, .badge.st-pending { background: #fff4d6; } .badge.waived, .badge.flag { background: #fde0c5; }
.badge.st-revoked, .badge.st-superseded, .badge.st-expired { background: #e2e2e2; }
.criteria { width: 100%; } .criteria td:first-child { width: 40%; } .criteria td:nth-child(2) { white-space: nowrap; }
.reason { color: var(--muted); margin: 0; font-size: 13px; }
.evidence, .people { margin: .3em 0; padding-left: 1.2em; }
.src, .hint { color: var(--muted); font-size: 12px; }
.actions { margin-left: .5em; } .actions input.comment { width: 10em; }
button { font: inherit; padding: .1em .6em; margin: .1em; cursor: pointer; }
button.primary { background: var(--accent); color: #fff; border: 1px solid var(--accent); }
#status { margin: 0; padding: 0 1em; min-height: 1.4em; }
#status.error, .error { color: #b2182b; }
dialog label { display: block; margin: .4em 0; } dialog label.inline { display: flex; gap: .4em; }
dialog input:not([type=checkbox]), dialog textarea, dialog select { display: block; width: 28em; max-width: 100%; }
dialog menu { display: flex; justify-content: flex-end; gap: .5em; padding: 0; }
@media print { header, .do, .actions, #status { display: none; } }
)css";

const char* kJs = R"js(
// opsmaturity console: sign in once per browser session (the token stays in sessionStorage,
// never in the page), attest / approve / reject / revoke / waive through the JSON API.
'use strict';
(function () {
  const KEY = 'opsmaturity.token';
  const zh = document.body.dataset.lang === 'zh';
  const t = (a, b) => (zh ? a : b);
  const status = document.getElementById('status');
  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? 'error' : '';
  }
  window.addEventListener('error', (e) => say(t('页面错误：', 'Page error: ') + e.message, true));
  function token() { return sessionStorage.getItem(KEY) || ''; }
  async function call(method, path, body) {
    const headers = { 'Authorization': 'Bearer ' + token() };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = {};
    try { data = await r.json(); } catch (_) { /* not JSON */ }
    if (!r.ok) throw new Error((data && data.error) || ('HTTP ' + r.status));
    return data;
  }
  const who = document.getElementById('whoami');
  const signin = document.getElementById('signin');
  const signout = document.getElementById('signout');
  async function showWho() {
    delete document.body.dataset.role;
    if (!token()) { who.hidden = true; signout.hidden = true; signin.hidden = false; return; }
    try {
      const me = await call('GET', '/api/v1/whoami');
      who.textContent = me.name + ' (' + me.role + ')';
      who.hidden = false; signout.hidden = false; signin.hidden = true;
      document.body.dataset.role = me.role;
    } catch (e) {
      sessionStorage.removeItem(KEY);
      say(t('令牌无效：', 'Token refused: ') + e.message, true);
      who.hidden = true; signout.hidden = true; signin.hidden = false;
    }
  }
  signin.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = document.getElementById('token');
    sessionStorage.setItem(KEY, input.value.trim());
    input.value = '';
    showWho();
  });
  signout.addEventListener('click', () => { sessionStorage.removeItem(KEY); showWho(); });
  function needToken() {
    if (token()) return false;
    say(t('请先输入访问令牌登录。', 'Sign in with your access token first.'), true);
    return true;
  }
  // Approve / reject / revoke buttons.
  document.addEventListener('click', async (ev) => {
    const b = ev.target.closest('button[data-action]');
    if (!b || needToken()) return;
    const box = b.closest('.actions');
    const comment = box.querySelector('input.comment').value;
    b.disabled = true;
    try {
      await call('POST', '/api/v1/' + box.dataset.kind + '/' + box.dataset.id + '/' + b.dataset.action,
                 comment ? { comment } : undefined);
      location.reload();
    } catch (e) {
      say(e.message, true);
      b.disabled = false;
    }
  });
  // The attest and waive dialogs.
  const today = new Date().toISOString().slice(0, 10);
  function open(kind, button) {
    if (needToken()) return;
    const dialog = document.getElementById(kind + '-dialog');
    const form = dialog.querySelector('form');
    form.reset();
    form.elements.system.value = button.dataset.system;
    form.elements.criterion.value = button.dataset.criterion;
    if (form.elements.date) form.elements.date.value = today;
    dialog.querySelector('.target').textContent = button.dataset.system + ' ' + button.dataset.criterion;
    dialog.querySelector('.error').textContent = '';
    dialog.showModal();
  }
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest('button.attest');
    if (a) open('attest', a);
    const w = ev.target.closest('button.waive');
    if (w) open('waive', w);
  });
  function submitter(kind, path, build) {
    const form = document.getElementById(kind + '-form');
    form.addEventListener('submit', async (ev) => {
      if (!ev.submitter || ev.submitter.value !== 'submit') return;
      ev.preventDefault();
      try {
        await call('POST', path, build(form.elements));
        form.closest('dialog').close();
        location.reload();
      } catch (e) {
        form.querySelector('.error').textContent = e.message;
      }
    });
  }
  submitter('attest', '/api/v1/attestations', (f) => {
    const a = { system: f.system.value, criterion: f.criterion.value, document: f.document.value,
                date: f.date.value, met: f.met.checked };
    if (f.comment.value) a.comment = f.comment.value;
    if (f.expires.value) a.expires = f.expires.value;
    return a;
  });
  submitter('waive', '/api/v1/waivers', (f) => ({
    system: f.system.value, criterion: f.criterion.value, justification: f.justification.value,
    risk: f.risk.value, expires: f.expires.value }));
  showWho().then(() => { document.documentElement.dataset.ready = 'yes'; });
})();
)js";

}  // namespace

namespace console {

namespace {

Lang langOf(const HttpRequest& r) {
  Lang l;
  l.zh = param(r, "lang") != "en";
  return l;
}

}  // namespace

HttpReply redirect(const RouteContext&) {
  return HttpReply{302, "text/plain; charset=utf-8", "/ui/\n", {{"Location", "/ui/"}}};
}
HttpReply css(const RouteContext&) {
  return HttpReply{200, "text/css; charset=utf-8", kCss, {{"Cache-Control", "max-age=300"}}};
}
HttpReply js(const RouteContext&) {
  return HttpReply{200, "text/javascript; charset=utf-8", kJs, {{"Cache-Control", "max-age=300"}}};
}
HttpReply overview(const RouteContext& c) {
  return opsm::agent::overview(c.agent, c.request, langOf(c.request));
}
HttpReply reviews(const RouteContext& c) { return opsm::agent::reviews(c.agent, langOf(c.request)); }
HttpReply reportCard(const RouteContext& c) {
  return opsm::agent::reportCard(c.agent, c.request, langOf(c.request));
}
HttpReply system(const RouteContext& c) {
  return systemPage(c.agent, c.params.at(0), langOf(c.request));
}
HttpReply notFound() {
  return HttpReply{404, "text/plain; charset=utf-8", "no such page\n", kSecurityHeaders};
}

}  // namespace console

}  // namespace opsm::agent
