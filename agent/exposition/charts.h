#pragma once

#include <string>
#include <vector>

#include "scorer/model.h"
#include "scorer/scoring.h"

namespace opsm::agent {

// Pictures drawn by the agent as inline SVG (no script, no external resource), for the web
// console and the HTML report. Labels are escaped; values are clamped to [0, max].

struct ChartSeries {
  std::string name;           // shown in the legend
  std::vector<double> values;  // one per axis; NaN: not applicable (drawn at the centre, dashed axis)
  std::string css_class;      // "strict" or "waivers": colours come from the page's style
};

// A radar (spider) chart: one axis per label (the 9 domains), rings at each level 1..max.
std::string radarSvg(const std::vector<std::string>& labels,
                     const std::vector<ChartSeries>& series, double max = 5,
                     const std::string& title = "");

// Horizontal bars, one per label (the dimensions: people, process, tools), scaled to max.
std::string barsSvg(const std::vector<std::string>& labels, const std::vector<double>& values,
                    double max = 5, const std::string& title = "");

// The system's 9 domains on a radar: its strict levels, and its levels with waivers when a
// criterion is waived; a domain not applicable sits at the centre on a dashed axis.
std::string domainRadarSvg(const scorer::SystemScore& score, const scorer::Model& model, bool zh);

// The system's progress per dimension of the standard (people, process, tools) as bars.
std::string dimensionBarsSvg(const scorer::SystemScore& score, bool zh);

}  // namespace opsm::agent
