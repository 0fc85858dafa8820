#pragma once

namespace opsm::agent {

// The version of the JSON shapes of `once --json` and the API (docs/api.md#schema): raised
// when a field is removed or changes meaning, not when one is added.
inline constexpr int kJsonSchemaVersion = 1;

}  // namespace opsm::agent
