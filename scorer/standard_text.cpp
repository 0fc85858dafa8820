#include "scorer/standard_text.h"

#include <fstream>
#include <regex>
#include <sstream>

namespace opsm::scorer {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\f\v");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\f\v");
  return s.substr(b, e - b + 1);
}

bool startsWith(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

Result<std::vector<StandardItem>> parseStandardText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(ErrorCode::kNotFound, path + ": cannot open the standard's text");

  static const std::regex kItem(R"(^(6\.\d\.\d+)\s*(\S.*)$)");
  static const std::regex kDomain(R"(^6\.\d(?!\.\d)\s*\S.*$)");
  static const std::regex kLevel("^([1-5])\\s*级\\s*(.*)$");
  static const std::regex kSame("^同\\s*4\\s*级$");
  static const std::regex kRequirement("^(\\d+)）(.*)$");

  std::vector<StandardItem> items;
  bool started = false;
  int level = 0;
  bool in_requirement = false;
  std::string line;
  int line_no = 0;
  auto fail = [&](const std::string& why) {
    return makeError(ErrorCode::kInvalidArgument,
                     path + ":" + std::to_string(line_no) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++line_no;
    std::string l = trim(line);
    if (l.empty()) continue;
    if (!started) {
      started = l == "6.1监控告警";
      continue;
    }
    if (startsWith(l, "7 参考文献")) break;
    std::smatch m;
    if (std::regex_match(l, m, kItem)) {
      items.push_back(StandardItem{m[1], m[2], {}});
      level = 0;
      in_requirement = false;
      continue;
    }
    if (std::regex_match(l, kDomain) || startsWith(l, "级别") || l == "维度") {
      in_requirement = false;
      continue;
    }
    if (items.empty()) continue;
    StandardItem& item = items.back();
    if (std::regex_match(l, m, kLevel)) {
      level = std::stoi(m[1]);
      in_requirement = false;
      std::string rest = trim(m[2]);
      if (rest.empty()) continue;
      if (std::regex_match(rest, kSame)) {
        item.levels[level - 1].same_as_previous = true;
        continue;
      }
      l = rest;
    }
    if (std::regex_match(l, m, kRequirement)) {
      if (level == 0) return fail("requirement outside a level in item " + item.id);
      auto& reqs = item.levels[level - 1].requirements;
      if (std::stoul(m[1]) != reqs.size() + 1) {
        return fail("requirement " + std::string(m[1]) + " of " + item.id + " level " +
                    std::to_string(level) + " is out of sequence");
      }
      reqs.push_back(trim(m[2]));
      in_requirement = true;
      continue;
    }
    if (in_requirement) {
      // A line or page break split the requirement: join the parts without a separator.
      item.levels[level - 1].requirements.back() += l;
      continue;
    }
    return fail("cannot place this line: " + l);
  }
  if (items.empty()) return makeError(ErrorCode::kInvalidArgument, path + ": no items found");
  return items;
}

}  // namespace opsm::scorer
