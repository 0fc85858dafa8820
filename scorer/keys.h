#pragma once

#include <string>
#include <vector>

namespace opsm::scorer {

struct Evidence;

// Evidence keys interned to small integers, process-wide and append-only: rules get the ids
// of the keys they use when they are compiled, so that bulk scoring can look evidence up in
// a vector indexed by id instead of a map keyed by string. Thread-safe.
int internKey(const std::string& key);
int findKeyId(const std::string& key);  // -1 if never interned
size_t internedKeyCount();

// A system's evidence indexed by key id (nullptr where it has none), for EvalContext::index.
using EvidenceIndex = std::vector<const Evidence*>;

}  // namespace opsm::scorer
