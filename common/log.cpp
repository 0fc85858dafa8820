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

std::string printable(std::string_view text) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else if (c == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // C1 controls in UTF-8 (U+0085 NEL ends a line for some readers).
      const auto d = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out += kHex[d >> 4];
      out += kHex[d & 0xf];
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace opsm
