#include "collectors/common/tool.h"


#include "collectors/common/subprocess.h"
#include "common/log.h"
#include "common/regex.h"
#include "common/secrets.h"

namespace opsm::collectors {

std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  static const Regex kCred = *Regex::compile(R"(://[^/@\s]+@)");
  kCred.replaceAll(&text, "://***@");
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    for (size_t pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3)) {
      text.replace(pos, s.size(), "***");
    }
  }
  return printable(redactSecrets(std::move(text)));
}

Result<std::string> runTool(const ToolOptions& tool, const std::vector<std::string>& args,
                            const CollectContext& ctx) {
  std::vector<std::string> argv{tool.program};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions opts;
  opts.timeout = ctx.remaining();
  opts.max_output = tool.max_output;
  opts.env = tool.env;
  opts.unset_env = tool.unset_env;
  std::string what = tool.program + (args.empty() ? "" : " " + args.front());
  auto r = runCommand(argv, opts);
  if (!r) return makeError(r.error().code, scrub(r.error().message, tool.secrets));
  if (r->exit_code != 0) {
    std::string first;
    size_t start = 0;
    // The first non-empty stderr line, skipping progress noise.
    while (start < r->err.size()) {
      size_t end = r->err.find('\n', start);
      if (end == std::string::npos) end = r->err.size();
      std::string line = r->err.substr(start, end - start);
      start = end + 1;
      if (line.find_first_not_of(" \t\r") != std::string::npos) {
        first = line;
        break;
      }
    }
    // Redacted before it is cut: a cut must not leave a secret's prefix behind.
    first = scrub(std::move(first), tool.secrets);
    if (first.size() > 300) first = first.substr(0, 300) + "...";
    return makeError(ErrorCode::kUnavailable,
                     scrub(what + ": exit " + std::to_string(r->exit_code) +
                               (first.empty() ? "" : ": " + first),
                           tool.secrets));
  }
  return std::move(r->out);
}

}  // namespace opsm::collectors
