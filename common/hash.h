#pragma once

#include <string>
#include <string_view>

namespace opsm {

// `bytes` as hex digits, two per byte, lower case unless `upper`.
std::string hexEncode(std::string_view bytes, bool upper = false);

// SHA-256 of `data` as 64 lowercase hex digits (OpenSSL's EVP digest).
std::string sha256Hex(std::string_view data);

// Whether `text` is 64 hex digits (either case): the form of a SHA-256 in config files.
bool isSha256Hex(std::string_view text);

// `bytes` random bytes from the system's CSPRNG (OpenSSL RAND_bytes), as URL-safe base64
// without padding: a bearer token for the tokens file. Empty if the CSPRNG fails.
std::string randomToken(size_t bytes = 32);

}  // namespace opsm
