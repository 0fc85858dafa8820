#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace opsm::agent {

// What a token may do (docs/api.md#users-and-roles). Each role may do what the ones before it
// may: a viewer reads, an attester also attests and asks for waivers, an approver also approves
// and rejects others' attestations and waivers and revokes any, an admin also reloads.
enum class Role { kViewer, kAttester, kApprover, kAdmin };
const char* roleName(Role role);

// Who made a request: the token's name (what logs and the audit log show) and its role.
struct Principal {
  std::string name;
  Role role = Role::kViewer;
};

// The tokens the agent accepts. A tokens file lists each by name, role and the SHA-256 of the
// token, never the token itself:
//
//   tokens:
//     - name: li.wei                  # 1-64 of A-Z a-z 0-9 . _ @ -
//       role: attester                # viewer, attester, approver, admin
//       sha256: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
//
// (`opsmaturity token new --name li.wei --role attester` prints a new token and its entry.)
class Tokens {
 public:
  // Errors name the file, line and field.
  static Result<Tokens> load(const std::string& path);

  // The token of api_token_file/api_token_env: an admin named `name`.
  Status addToken(const std::string& name, Role role, std::string_view token);

  // Who holds `token`, or nullopt. Every entry is compared, in constant time, with the
  // token's SHA-256, so timing tells nothing of which entry is near.
  std::optional<Principal> find(std::string_view token) const;
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string name;
    Role role = Role::kViewer;
    std::string sha256;  // lower-case hex
  };
  Status add(Entry entry, const std::string& where);
  std::vector<Entry> entries_;
};

// Parses "viewer" / "attester" / "approver" / "admin".
std::optional<Role> parseRole(std::string_view text);

// Whether `name` may name a token: 1-64 of A-Z a-z 0-9 . _ @ -.
bool isValidTokenName(std::string_view name);

}  // namespace opsm::agent
