#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/result.h"

namespace opsm::agent {

// What fetching an attestation's document found.
struct DocumentCheck {
  // ok: fetched, and the same as when first fetched (or fetched for the first time);
  // changed: fetched, but its SHA-256 differs from the one recorded;
  // missing: the server says it is gone (HTTP 404 or 410), or the file does not exist;
  // unreachable: any other failure (connection, timeout, 5xx, too large);
  // not_fetched: not something the agent fetches (another scheme, a host not in
  // document_hosts, a file outside document_roots).
  std::string status;
  std::string sha256;  // of what was fetched; empty when nothing was
  // The class of outcome, for people ("fetched", "HTTP 404", "connection refused", "not
  // allowed by document_hosts"): never what the server answered, which anyone who can attest
  // could otherwise read back through the API.
  std::string detail;
};

// The hosts whose http(s) documents the agent fetches (`document_hosts`, docs/hardening.md):
//   wiki.example.com      that host (any port)
//   *.example.com         its subdomains (not example.com itself)
//   10.20.0.0/16, ::1     an address or network (CIDR): URLs naming an address in it, and
//                         the only way a document on a loopback, private, link-local, shared
//                         (CGNAT), multicast or unspecified address is fetched at all
// The address checked is the one actually connected to, after DNS: a name that is allowed
// but resolves to a private address is refused unless a listed network holds that address.
class DocumentHosts {
 public:
  DocumentHosts() = default;
  // Errors name the entry.
  static Result<DocumentHosts> parse(const std::vector<std::string>& patterns);

  bool empty() const { return names_.empty() && suffixes_.empty() && networks_.empty(); }
  // Whether a URL naming `host` (a name, or an address without brackets) may be fetched.
  bool allowsHost(const std::string& host) const;
  // Whether a connection to `address` (IPv4 or IPv6 text) may be made.
  bool allowsAddress(const std::string& address) const;

 private:
  struct Network {
    bool v6 = false;
    uint8_t bytes[16] = {};
    int prefix = 0;
  };
  bool inListedNetwork(const std::string& address) const;
  std::vector<std::string> names_;     // lower-cased
  std::vector<std::string> suffixes_;  // ".example.com"
  std::vector<Network> networks_;
};

// Whether `address` (IPv4 or IPv6 text) is loopback, private, link-local, shared (CGNAT),
// multicast, unspecified, reserved or otherwise not a public unicast address.
bool isNonPublicAddress(const std::string& address);

// Fetches `document` (http:// or https:// with TLS verification, to a host `hosts` allows, no
// redirect followed, no proxy; file:// or an absolute path under one of `roots`), at most
// 16 MiB within `timeout`, and compares its SHA-256 with `recorded` (empty: nothing yet).
DocumentCheck checkDocument(const std::string& document, const std::string& recorded,
                            const std::vector<std::string>& roots, const DocumentHosts& hosts,
                            Duration timeout);

}  // namespace opsm::agent
