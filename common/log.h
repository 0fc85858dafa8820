#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace opsm {

// The named logger of a component ("agent", "scheduler", "collector"), created on first use,
// writing to stderr. Never pass it a secret: log redacted URLs only.
std::shared_ptr<spdlog::logger> logger(const std::string& component);

// Sets the level of every logger: trace, debug, info, warn, error, off. False if unknown.
bool setLogLevel(const std::string& level);

}  // namespace opsm
