#include "common/log.h"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

#include "common/secrets.h"

namespace opsm {

namespace {

// Every line is redacted before any sink sees it (a sink added later too): a registered
// secret, or URL userinfo, in a message never reaches a log. Then its control characters are
// escaped (printable()): text from sources and people (an attestation's document, a plugin's
// output) cannot end the line and write a forged one after it.
class RedactingLogger : public spdlog::logger {
 public:
  using spdlog::logger::logger;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string text =
        printable(redactSecrets(std::string(msg.payload.data(), msg.payload.size())));
    spdlog::details::log_msg copy(msg.time, msg.source, msg.logger_name, msg.level, text);
    spdlog::logger::sink_it_(copy);
  }
};

std::mutex g_mu;
spdlog::level::level_enum g_level = spdlog::level::info;
}  // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& component) {
  std::lock_guard lock(g_mu);
  if (auto l = spdlog::get(component)) return l;
  auto l = std::make_shared<RedactingLogger>(
      component, std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  spdlog::register_logger(l);
  l->set_level(g_level);
  l->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%n] %v");
  return l;
}

bool setLogLevel(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") return false;
  std::lock_guard lock(g_mu);
  g_level = lvl;
  spdlog::set_level(lvl);
  return true;
}

size_t controlCharacterAt(std::string_view text, size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x20 || c == 0x7f) return 1;
  if (c == 0xc2 && i + 1 < text.size()) {
    const auto d = static_cast<unsigned char>(text[i + 1]);
    if (d >= 0x80 && d <= 0x9f) return 2;
  }
  return 0;
}

bool hasControlCharacter(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (controlCharacterAt(text, i)) return true;
  }
  return false;
}

std::string printable(std::string_view text) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const size_t control = text[i] == '\t' ? 0 : controlCharacterAt(text, i);
    if (control == 0) {
      out += text[i];
      continue;
    }
    // C0 and DEL as \xNN; C1 (a UTF-8 pair) as \u00NN: its code point is its second byte.
    const auto c = static_cast<unsigned char>(text[i + control - 1]);
    out += control == 1 ? "\\x" : "\\u00";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
    i += control - 1;
  }
  return out;
}

}  // namespace opsm
