#pragma once

#include <string>
#include <vector>

#include "common/duration.h"

namespace opsm::agent {

// What fetching an attestation's document found.
struct DocumentCheck {
  // ok: fetched, and the same as when first fetched (or fetched for the first time);
  // changed: fetched, but its SHA-256 differs from the one recorded;
  // missing: the server says it is gone (HTTP 404 or 410), or the file does not exist;
  // unreachable: any other failure (connection, timeout, 5xx, too large);
  // not_fetched: not something the agent fetches (another scheme, a file outside
  // document_roots).
  std::string status;
  std::string sha256;  // of what was fetched; empty when nothing was
  std::string detail;  // why, for people
};

// Fetches `document` (http://, https:// with TLS verification; file:// or an absolute path
// under one of `roots`), at most 16 MiB within `timeout`, and compares its SHA-256 with
// `recorded` (empty: nothing recorded yet).
DocumentCheck checkDocument(const std::string& document, const std::string& recorded,
                            const std::vector<std::string>& roots, Duration timeout);

}  // namespace opsm::agent
