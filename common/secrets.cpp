#include "common/secrets.h"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "common/regex.h"
#include "common/url.h"

namespace opsm {

namespace {

std::shared_mutex g_mu;
std::vector<std::string> g_forms;  // longest first, so a longer form wins over its parts

constexpr size_t kMinSecret = 4;
constexpr size_t kMinBase64Fragment = 6;

std::string base64(std::string_view in) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool mayHoldUserinfo(std::string_view text) {
  return text.find("://") != std::string_view::npos && text.find('@') != std::string_view::npos;
}

}  // namespace

std::vector<std::string> secretForms(std::string_view secret) {
  std::vector<std::string> forms;
  if (secret.size() < kMinSecret) return forms;
  forms.emplace_back(secret);
  if (std::string pct = percentEncode(secret); pct != secret) forms.push_back(pct);
  // The secret after k bytes of anything, base64-encoded: output character i covers bits
  // [6i, 6i+6) of the input, so those with 6i >= 8k and 6i+6 <= 8(k+n) depend on the secret
  // alone, whatever precedes or follows it.
  const size_t n = secret.size();
  for (size_t k = 0; k < 3; ++k) {
    std::string encoded = base64(std::string(k, '\0') + std::string(secret));
    size_t first = (8 * k + 5) / 6;
    size_t end = (8 * (k + n)) / 6;
    if (end > first && end - first >= kMinBase64Fragment) {
      forms.push_back(encoded.substr(first, end - first));
    }
  }
  return forms;
}

void registerSecret(std::string_view secret) {
  auto forms = secretForms(secret);
  if (forms.empty()) return;
  std::unique_lock lock(g_mu);
  for (auto& f : forms) {
    if (std::find(g_forms.begin(), g_forms.end(), f) == g_forms.end()) g_forms.push_back(f);
  }
  std::stable_sort(g_forms.begin(), g_forms.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string redactSecrets(std::string text) {
  {
    std::shared_lock lock(g_mu);
    for (const auto& f : g_forms) {
      for (size_t pos = text.find(f); pos != std::string::npos; pos = text.find(f, pos + 8)) {
        text.replace(pos, f.size(), "REDACTED");
      }
    }
  }
  if (mayHoldUserinfo(text)) {
    static const Regex kUserinfo = *Regex::compile(R"(://[^/?#@\s]+@)");
    kUserinfo.replaceAll(&text, "://REDACTED@");
  }
  return text;
}

bool holdsSecret(std::string_view text) {
  std::shared_lock lock(g_mu);
  for (const auto& f : g_forms) {
    if (text.find(f) != std::string_view::npos) return true;
  }
  return false;
}

bool needsRedaction(std::string_view text) { return holdsSecret(text) || mayHoldUserinfo(text); }

void clearSecretsForTesting() {
  std::unique_lock lock(g_mu);
  g_forms.clear();
}

}  // namespace opsm
