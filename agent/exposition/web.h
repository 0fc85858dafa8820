#pragma once

#include <string>
#include <string_view>

namespace opsm::agent {

// Text for HTML and SVG (elements and quoted attributes): & < > " ' escaped.
std::string htmlEscape(std::string_view text);

// A URL path segment or query component percent-decoded ('+' is a space, as forms send it); a
// malformed escape is kept as it is.
std::string percentDecode(std::string_view text);

// The decoded value of query parameter `name` of a request target ("/x?a=1&b=2"), or "" when
// absent.
std::string queryParam(const std::string& target, const std::string& name);

}  // namespace opsm::agent
