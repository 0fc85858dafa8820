#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "tests/support/temp_dir.h"

namespace opsm::testing {

// Replaces the one occurrence of `from` in `file` with `to`; throws when `from` is not there
// (the shipped file changed under the test).
inline void replaceInFile(const std::filesystem::path& file, const std::string& from,
                          const std::string& to) {
  std::ifstream in(file);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error(file.string() + " is not as expected");
  text.replace(at, from.size(), to);
  std::ofstream(file, std::ios::trunc) << text;
}

// Copies the shipped rule pack to `dir`/`name` with one change: 6.7.4/L1/1, which the
// shipped pack leaves to a person's attestation (a report file shows no drill plan), is
// decided by the sample drill plugin's evidence (plugin.drill.last_report_age_seconds at most
// a year). Tests that need a criterion driven by a poll use it. Returns the directory.
inline std::string drillRulePack(const TempDir& dir, const std::string& name = "rules") {
  namespace fs = std::filesystem;
  const fs::path to = dir.path() / name;
  fs::copy(fs::path(OPSM_SOURCE_DIR) / "rules", to,
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  replaceInFile(to / "6.7.4-emergency-drills.yaml",
                "      attestation: true\n      hints: [plugin.drill.last_report_age_seconds]\n",
                "      when: {key: plugin.drill.last_report_age_seconds, le: 31622400}\n"
                "      rationale: a drill report at most a year old (test pack)\n");
  return to.string();
}

}  // namespace opsm::testing
