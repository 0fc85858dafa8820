#pragma once

#include <map>
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

// One slot of a system's evidence index: the evidence (null if the system has none for that
// key) and, copied next to it, what attestation criteria need, so that scoring reads one
// compact array instead of chasing every Evidence record.
struct IndexEntry {
  const Evidence* evidence = nullptr;
  long long expires_ns = 0;  // expires_at, nanoseconds since the epoch
  bool is_true = false;      // the value is the boolean true
};

// A system's evidence indexed by key id, for EvalContext::index.
using EvidenceIndex = std::vector<IndexEntry>;

// Fills `index` (sized to every key interned so far) from a system's evidence.
void buildIndex(const std::map<std::string, Evidence>& evidence, EvidenceIndex* index);
// The same, then the slots still empty from `defaults` (see EvidenceStore::visit).
void buildIndex(const std::map<std::string, Evidence>& evidence,
                const std::map<std::string, const Evidence*>& defaults, EvidenceIndex* index);

}  // namespace opsm::scorer
