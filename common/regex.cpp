#include "common/regex.h"

#include <re2/re2.h>

namespace opsm {

namespace {

constexpr int64_t kMaxProgramBytes = 8 << 20;

std::shared_ptr<const re2::RE2> build(std::string_view pattern, Regex::Case c) {
  re2::RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(kMaxProgramBytes);
  o.set_case_sensitive(c == Regex::Case::kSensitive);
  return std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), o);
}

}  // namespace

Regex::Regex() : re_(build("", Case::kSensitive)) {}

Result<Regex> Regex::compile(std::string_view pattern, Case c) {
  Regex r;
  r.re_ = build(pattern, c);
  r.pattern_ = std::string(pattern);
  if (!r.re_->ok()) {
    std::string shown(pattern.substr(0, 80));
    return makeError(ErrorCode::kInvalidArgument,
                     "invalid regular expression '" + shown + (pattern.size() > 80 ? "..." : "") +
                         "': " + r.re_->error());
  }
  return r;
}

bool Regex::fullMatch(std::string_view text) const {
  return re2::RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

bool Regex::partialMatch(std::string_view text) const {
  return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

bool Regex::firstGroup(std::string_view text, std::string* group) const {
  if (re_->NumberOfCapturingGroups() < 1) return false;
  return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_, group);
}

bool Regex::fullMatchGroups(std::string_view text, std::vector<std::string>* groups) const {
  const int n = re_->NumberOfCapturingGroups();
  std::vector<re2::RE2::Arg> args(static_cast<size_t>(n));
  std::vector<const re2::RE2::Arg*> ptrs(static_cast<size_t>(n));
  groups->assign(static_cast<size_t>(n), std::string());
  for (int i = 0; i < n; ++i) {
    args[static_cast<size_t>(i)] = &(*groups)[static_cast<size_t>(i)];
    ptrs[static_cast<size_t>(i)] = &args[static_cast<size_t>(i)];
  }
  return re2::RE2::FullMatchN(re2::StringPiece(text.data(), text.size()), *re_, ptrs.data(), n);
}

int Regex::replaceAll(std::string* text, std::string_view rewrite) const {
  return re2::RE2::GlobalReplace(text, *re_, re2::StringPiece(rewrite.data(), rewrite.size()));
}

int Regex::groups() const { return re_->NumberOfCapturingGroups(); }

}  // namespace opsm
