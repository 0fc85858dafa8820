#include "agent/core/auth.h"

#include <algorithm>
#include <cctype>

#include "common/hash.h"
#include "common/yaml_util.h"

namespace opsm::agent {

namespace {

constexpr Role kRoles[] = {Role::kViewer, Role::kAttester, Role::kApprover, Role::kAdmin};

bool sameDigest(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

const char* roleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kAttester:
      return "attester";
    case Role::kApprover:
      return "approver";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

std::optional<Role> parseRole(std::string_view text) {
  for (Role r : kRoles) {
    if (text == roleName(r)) return r;
  }
  return std::nullopt;
}

bool isValidTokenName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' ||
           c == '-';
  });
}

Status Tokens::add(Entry entry, const std::string& where) {
  for (const auto& e : entries_) {
    if (e.name == entry.name) {
      return makeError(ErrorCode::kInvalidArgument,
                       where + ": a second token named '" + entry.name + "'");
    }
    if (e.sha256 == entry.sha256) {
      return makeError(ErrorCode::kInvalidArgument,
                       where + ": token '" + entry.name + "' is the same token as '" + e.name +
                           "' (each person needs a token of their own)");
    }
  }
  entries_.push_back(std::move(entry));
  return Status::success();
}

Status Tokens::addToken(const std::string& name, Role role, std::string_view token) {
  if (token.empty()) return makeError(ErrorCode::kInvalidArgument, "empty token");
  return add(Entry{name, role, sha256Hex(token)}, "api_token");
}

Result<Tokens> Tokens::load(const std::string& path) {
  return guardYaml(path, [&]() -> Result<Tokens> {
    auto root = loadYamlFile(path);
    if (!root) return root.error();
    if (!root->IsMap()) return fieldError(path, *root, "tokens", "expected a mapping");
    if (auto st = checkKeys(path, *root, {"tokens"}, "tokens file"); !st) return st.error();
    YAML::Node list = (*root)["tokens"];
    if (!list.IsSequence()) return fieldError(path, list, "tokens", "must be a list");
    Tokens out;
    for (const auto& t : list) {
      if (auto st = checkKeys(path, t, {"name", "role", "sha256"}, "token"); !st) {
        return st.error();
      }
      auto name = readString(path, t, "name");
      if (!name) return name.error();
      if (!isValidTokenName(*name)) {
        return fieldError(path, t["name"], "name",
                          "must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
      }
      auto role_text = readString(path, t, "role");
      if (!role_text) return role_text.error();
      auto role = parseRole(*role_text);
      if (!role) {
        return fieldError(path, t["role"], "role",
                          "'" + *role_text + "' is not one of viewer, attester, approver, admin");
      }
      auto digest = readString(path, t, "sha256");
      if (!digest) return digest.error();
      if (!isSha256Hex(*digest)) {
        return fieldError(path, t["sha256"], "sha256",
                          "must be the token's SHA-256 as 64 hex digits (never the token "
                          "itself; `opsmaturity token new` prints it)");
      }
      std::string hex = *digest;
      for (auto& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (auto st = out.add(Entry{*name, *role, hex}, where(path, t)); !st) return st.error();
    }
    return out;
  });
}

std::optional<Principal> Tokens::find(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  const std::string digest = sha256Hex(token);
  const Entry* found = nullptr;
  for (const auto& e : entries_) {
    if (sameDigest(e.sha256, digest) && !found) found = &e;
  }
  if (!found) return std::nullopt;
  return Principal{found->name, found->role};
}

}  // namespace opsm::agent
