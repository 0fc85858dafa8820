#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace opsm {

// The named logger of a component ("agent", "scheduler", "collector"), created on first use,
// writing to stderr. Every line is passed through redactSecrets (common/secrets.h) first;
// still, never pass it a secret knowingly.
std::shared_ptr<spdlog::logger> logger(const std::string& component);

// Sets the level of every logger: trace, debug, info, warn, error, off. False if unknown.
bool setLogLevel(const std::string& level);

// Text from outside (a server's error body, a program's stderr) made safe to log and show:
// control characters (C0 but tab, DEL) become \xNN and C1 ones (U+0080..U+009F in UTF-8)
// \u00NN, so that a hostile source cannot forge log lines or send terminal escapes.
std::string printable(std::string_view text);

// The length of the control character at text[i]: 1 for C0 (tab included) and DEL, 2 for a C1
// control in UTF-8 (C2 80..C2 9F, NEL among them), 0 for anything else.
size_t controlCharacterAt(std::string_view text, size_t i);
// Whether `text` holds a control character (C0, DEL or C1).
bool hasControlCharacter(std::string_view text);

}  // namespace opsm
