#include "agent/exposition/charts.h"

#include "agent/exposition/web.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace opsm::agent {

namespace {

std::string esc(const std::string& s) { return htmlEscape(s); }

std::string f(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Presentation attributes (not CSS): the picture looks the same in the console, the report
// and a print, under a strict Content-Security-Policy.
std::string style(const std::string& css_class) {
  if (css_class == "waivers") {
    return " fill=\"none\" stroke=\"#d6604d\" stroke-width=\"2\" stroke-dasharray=\"6 4\"";
  }
  return " fill=\"#2166ac\" fill-opacity=\"0.3\" stroke=\"#2166ac\" stroke-width=\"2\"";
}

double clamp(double v, double max) {
  if (std::isnan(v)) return 0;
  return std::clamp(v, 0.0, max);
}

}  // namespace

std::string radarSvg(const std::vector<std::string>& labels,
                     const std::vector<ChartSeries>& series, double max,
                     const std::string& title) {
  const double cx = 220, cy = 200, r = 140;
  const size_t n = labels.size();
  std::string out = "<svg class=\"chart radar\" xmlns=\"http://www.w3.org/2000/svg\" "
                    "viewBox=\"-50 0 540 420\" role=\"img\"";
  if (!title.empty()) out += " aria-label=\"" + esc(title) + "\"";
  out += ">";
  if (!title.empty()) out += "<title>" + esc(title) + "</title>";
  if (n < 3) return out + "</svg>";
  auto point = [&](size_t i, double value) {
    const double a = -M_PI / 2 + 2 * M_PI * static_cast<double>(i) / static_cast<double>(n);
    const double d = r * value / max;
    return std::make_pair(cx + d * std::cos(a), cy + d * std::sin(a));
  };
  // Rings at each level, and the axes.
  for (int level = 1; level <= static_cast<int>(max); ++level) {
    std::string pts;
    for (size_t i = 0; i < n; ++i) {
      auto [x, y] = point(i, level);
      pts += f(x) + "," + f(y) + " ";
    }
    out += "<polygon class=\"ring\" points=\"" + pts + "\" fill=\"none\" stroke=\"#ccc\"/>";
    auto [lx, ly] = point(0, level);
    out += "<text class=\"tick\" x=\"" + f(lx + 4) + "\" y=\"" + f(ly + 4) +
           "\" font-size=\"10\" fill=\"#888\">" + std::to_string(level) + "</text>";
  }
  for (size_t i = 0; i < n; ++i) {
    auto [x, y] = point(i, max);
    const bool na = !series.empty() && i < series[0].values.size() && std::isnan(series[0].values[i]);
    out += "<line x1=\"" + f(cx) + "\" y1=\"" + f(cy) + "\" x2=\"" + f(x) + "\" y2=\"" + f(y) +
           "\" stroke=\"#bbb\"" + (na ? " stroke-dasharray=\"4 3\"" : "") + "/>";
    auto [lx, ly] = point(i, max * 1.13);
    const char* anchor = lx < cx - 10 ? "end" : lx > cx + 10 ? "start" : "middle";
    out += "<text class=\"axis\" x=\"" + f(lx) + "\" y=\"" + f(ly + 4) + "\" text-anchor=\"" +
           anchor + "\" font-size=\"12\">" + esc(labels[i]) + "</text>";
  }
  for (const auto& s : series) {
    std::string pts;
    for (size_t i = 0; i < n; ++i) {
      auto [x, y] = point(i, clamp(i < s.values.size() ? s.values[i] : 0, max));
      pts += f(x) + "," + f(y) + " ";
    }
    out += "<polygon class=\"series " + esc(s.css_class) + "\" points=\"" + pts + "\"" +
           style(s.css_class) + "><title>" + esc(s.name) + "</title></polygon>";
  }
  // Legend.
  double ly = 400;
  double lx = 20;
  for (const auto& s : series) {
    out += "<rect class=\"series " + esc(s.css_class) + "\" x=\"" + f(lx) + "\" y=\"" + f(ly - 10) +
           "\" width=\"12\" height=\"12\"" + style(s.css_class) + "/><text x=\"" + f(lx + 16) + "\" y=\"" + f(ly) +
           "\" font-size=\"12\">" + esc(s.name) + "</text>";
    lx += 40 + 7.0 * static_cast<double>(s.name.size());
  }
  return out + "</svg>";
}

std::string barsSvg(const std::vector<std::string>& labels, const std::vector<double>& values,
                    double max, const std::string& title) {
  const double row = 28, left = 110, width = 260;
  const double height = row * static_cast<double>(labels.size()) + 24;
  std::string out = "<svg class=\"chart bars\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 420 " +
                    f(height) + "\" role=\"img\"";
  if (!title.empty()) out += " aria-label=\"" + esc(title) + "\"";
  out += ">";
  if (!title.empty()) out += "<title>" + esc(title) + "</title>";
  for (size_t i = 0; i < labels.size(); ++i) {
    const double y = 8 + row * static_cast<double>(i);
    const double v = clamp(i < values.size() ? values[i] : 0, max);
    out += "<text x=\"" + f(left - 8) + "\" y=\"" + f(y + 14) +
           "\" text-anchor=\"end\" font-size=\"12\">" + esc(labels[i]) + "</text>";
    out += "<rect class=\"track\" x=\"" + f(left) + "\" y=\"" + f(y) + "\" width=\"" + f(width) +
           "\" height=\"18\" fill=\"#eee\"/>";
    out += "<rect class=\"bar\" x=\"" + f(left) + "\" y=\"" + f(y) + "\" width=\"" +
           f(width * v / max) + "\" height=\"18\" fill=\"#2166ac\"><title>" + esc(labels[i]) + ": " + f(v) +
           "</title></rect>";
    out += "<text x=\"" + f(left + width + 8) + "\" y=\"" + f(y + 14) + "\" font-size=\"12\">" +
           f(v) + "</text>";
  }
  return out + "</svg>";
}

std::string domainRadarSvg(const scorer::SystemScore& score, const scorer::Model& model,
                           bool zh) {
  std::vector<std::string> labels;
  ChartSeries strict{zh ? "严格" : "strict", {}, "strict"};
  ChartSeries waived{zh ? "含豁免" : "with waivers", {}, "waivers"};
  for (const auto& d : model.domains) {
    labels.push_back(d.id + " " + (zh ? d.zh : d.en));
    double v = std::nan(""), w = std::nan("");
    for (const auto& ds : score.domains) {
      if (ds.domain == d.id && ds.applicable) {
        v = ds.level;
        w = ds.level_with_waivers;
      }
    }
    strict.values.push_back(v);
    waived.values.push_back(w);
  }
  std::vector<ChartSeries> series{strict};
  if (score.waived > 0) series.push_back(waived);
  return radarSvg(labels, series, 5, zh ? "九个能力域的等级" : "Levels of the 9 domains");
}

std::string dimensionBarsSvg(const scorer::SystemScore& score, bool zh) {
  return barsSvg({zh ? "组织人员" : "people", zh ? "流程规范" : "process", zh ? "工具平台" : "tools"},
                 {score.dimension_progress[0], score.dimension_progress[1],
                  score.dimension_progress[2]},
                 5, zh ? "各维度进度" : "Progress per dimension");
}

}  // namespace opsm::agent
