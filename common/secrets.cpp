#include "common/secrets.h"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "common/hash.h"
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

// The secret as JSON encoders write it inside a string: `style` bits choose what more than
// '"', '\\' and control characters is escaped — '/' as "\\/" (PHP's json_encode), non-ASCII as
// \\uXXXX UTF-16 units (PHP), '<' '>' '&' as \\u003c... (Go's encoding/json) — and whether
// the hex digits are upper case.
enum : unsigned { kSlash = 1, kNonAscii = 2, kHtml = 4, kUpperHex = 8 };
std::string jsonEscaped(std::string_view s, unsigned style) {
  const char* hex = (style & kUpperHex) ? "0123456789ABCDEF" : "0123456789abcdef";
  auto unit = [&](std::string& out, unsigned u) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(u >> shift) & 0xf];
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '/' && (style & kSlash)) {
      out += "\\/";
    } else if (c < 0x20 || ((style & kHtml) && (c == '<' || c == '>' || c == '&'))) {
      unit(out, c);
    } else if (c >= 0x80 && (style & kNonAscii)) {
      // Decode one UTF-8 sequence (an invalid byte is taken as itself).
      unsigned cp = c, len = 0;
      if ((c & 0xe0) == 0xc0) cp = c & 0x1f, len = 1;
      else if ((c & 0xf0) == 0xe0) cp = c & 0x0f, len = 2;
      else if ((c & 0xf8) == 0xf0) cp = c & 0x07, len = 3;
      if (i + len >= s.size()) len = 0;  // a truncated sequence: the byte as itself
      for (unsigned k = 1; k <= len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
      i += len;
      if (cp >= 0x10000) {
        cp -= 0x10000;
        unit(out, 0xd800 + (cp >> 10));
        unit(out, 0xdc00 + (cp & 0x3ff));
      } else {
        unit(out, cp);
      }
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool mayHoldUserinfo(std::string_view text) {
  return text.find("://") != std::string_view::npos && text.find('@') != std::string_view::npos;
}

// The userinfo of a URL: "://" then anything up to '@' that is not a path, query, fragment or
// space.
const Regex& userinfoPattern() {
  static const Regex kUserinfo = *Regex::compile(R"(://[^/?#@\s]+@)");
  return kUserinfo;
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
      std::string fragment = encoded.substr(first, end - first);
      // base64url (RFC 4648 §5: JWTs, URL-safe tokens) differs only in two characters.
      std::string url = fragment;
      std::replace(url.begin(), url.end(), '+', '-');
      std::replace(url.begin(), url.end(), '/', '_');
      forms.push_back(std::move(fragment));
      forms.push_back(std::move(url));
    }
  }
  // As a JSON string holds it, however the encoder escapes.
  for (unsigned style = 0; style < 16; ++style) forms.push_back(jsonEscaped(secret, style));
  forms.push_back(hexEncode(secret, false));
  forms.push_back(hexEncode(secret, true));
  std::sort(forms.begin(), forms.end());
  forms.erase(std::unique(forms.begin(), forms.end()), forms.end());
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
  if (mayHoldUserinfo(text)) userinfoPattern().replaceAll(&text, "://REDACTED@");
  return text;
}

bool holdsUrlUserinfo(std::string_view text) {
  return mayHoldUserinfo(text) && userinfoPattern().partialMatch(text);
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
