#pragma once

#include <string>
#include <string_view>

namespace opsm {

// Percent-encodes everything but RFC 3986's unreserved characters (A-Z a-z 0-9 - _ . ~): a
// query parameter value, or the form a secret takes in a URL.
std::string percentEncode(std::string_view text);

}  // namespace opsm
