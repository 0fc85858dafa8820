#pragma once

#include <string>

namespace opsm::testing {

// A "billion laughs": each level a list of ten aliases of the one before; 12 levels are about
// 700 bytes of text and 10^12 nodes once expanded.
inline std::string billionLaughs(int levels = 12) {
  std::string text = "a0: &a0 [lol]\n";
  for (int i = 1; i <= levels; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) text += (k ? ", *a" : "*a") + std::to_string(i - 1);
    text += "]\n";
  }
  return text;
}

}  // namespace opsm::testing
