#include "agent/core/documents.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "collectors/common/http_client.h"
#include "common/hash.h"

namespace opsm::agent {

namespace {

constexpr size_t kMaxDocumentBytes = 16u << 20;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// An address as 16 bytes (IPv4 as ::ffff:a.b.c.d is kept apart: v6 false, 4 bytes).
bool parseAddress(const std::string& text, bool* v6, uint8_t out[16]) {
  in6_addr a6{};
  in_addr a4{};
  if (inet_pton(AF_INET, text.c_str(), &a4) == 1) {
    *v6 = false;
    std::memcpy(out, &a4, 4);
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) {
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a6.s6_addr, kMapped, 12) == 0) {  // ::ffff:a.b.c.d is that IPv4 address
      *v6 = false;
      std::memcpy(out, a6.s6_addr + 12, 4);
      return true;
    }
    *v6 = true;
    std::memcpy(out, a6.s6_addr, 16);
    return true;
  }
  return false;
}

bool inPrefix(const uint8_t* a, const uint8_t* net, int prefix) {
  for (int bit = 0; bit < prefix; ++bit) {
    const uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((a[bit / 8] & mask) != (net[bit / 8] & mask)) return false;
  }
  return true;
}

DocumentCheck compare(const std::string& body, const std::string& recorded) {
  DocumentCheck out;
  out.sha256 = sha256Hex(body);
  if (recorded.empty() || recorded == out.sha256) {
    out.status = "ok";
    out.detail = "fetched";
  } else {
    out.status = "changed";
    out.detail = "changed since it was attested";
  }
  return out;
}

DocumentCheck checkFile(const std::string& path, const std::string& recorded,
                        const std::vector<std::string>& roots) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // Resolved before the check, so that ../ or a symlink cannot leave the roots.
  fs::path real = fs::weakly_canonical(fs::path(path), ec);
  if (ec) return {"not_fetched", "", "cannot resolve the path"};
  bool inside = false;
  for (const auto& root : roots) {
    fs::path r = fs::weakly_canonical(fs::path(root), ec);
    if (ec) continue;
    auto rel = real.lexically_relative(r);
    if (!rel.empty() && *rel.begin() != "..") inside = true;
  }
  if (!inside) {
    return {"not_fetched", "",
            "a file outside document_roots is not read (add its directory to document_roots)"};
  }
  if (!fs::exists(real, ec)) return {"missing", "", "no such file"};
  if (!fs::is_regular_file(real, ec)) return {"unreachable", "", "not a regular file"};
  if (fs::file_size(real, ec) > kMaxDocumentBytes) {
    return {"unreachable", "", "larger than 16 MiB"};
  }
  std::ifstream in(real, std::ios::binary);
  if (!in) return {"unreachable", "", "cannot be read"};
  std::ostringstream body;
  body << in.rdbuf();
  return compare(body.str(), recorded);
}

struct Fetch {
  const DocumentHosts* hosts = nullptr;
  std::string body;
  bool too_large = false;
  bool address_refused = false;
};

size_t writeBody(char* data, size_t size, size_t n, void* user) {
  auto* f = static_cast<Fetch*>(user);
  if (f->body.size() + size * n > kMaxDocumentBytes) {
    f->too_large = true;
    return 0;
  }
  f->body.append(data, size * n);
  return size * n;
}

// Called once connected, before the request is sent: the address actually connected to.
int checkConnected(void* user, char* ip, char*, int, int) {
  auto* f = static_cast<Fetch*>(user);
  if (f->hosts->allowsAddress(ip)) return CURL_PREREQFUNC_OK;
  f->address_refused = true;
  return CURL_PREREQFUNC_ABORT;
}

std::string curlDetail(CURLcode rc, const Fetch& f) {
  if (f.address_refused) {
    return "address not allowed by document_hosts (loopback, private or link-local: list "
           "its network to allow it)";
  }
  if (f.too_large) return "larger than 16 MiB";
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return "host not found";
    case CURLE_COULDNT_CONNECT:
      return "connection refused";
    case CURLE_OPERATION_TIMEDOUT:
      return "timed out";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return "TLS error (certificate not verified, or handshake failed)";
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      return "connection closed";
    case CURLE_WEIRD_SERVER_REPLY:
      return "not an HTTP answer";
    default:
      return "fetch failed";
  }
}

DocumentCheck checkUrl(const std::string& document, const std::string& recorded,
                       const DocumentHosts& hosts, Duration timeout) {
  collectors::initCurl();
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), curl_url_cleanup);
  char* host_part = nullptr;
  if (!url || curl_url_set(url.get(), CURLUPART_URL, document.c_str(), 0) != CURLUE_OK ||
      curl_url_get(url.get(), CURLUPART_HOST, &host_part, 0) != CURLUE_OK) {
    return {"not_fetched", "", "not a valid URL"};
  }
  std::string host = lower(host_part);
  curl_free(host_part);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!hosts.allowsHost(host)) {
    return {"not_fetched", "", "not allowed by document_hosts: kept as a reference only"};
  }
  Fetch f;
  f.hosts = &hosts;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
  if (!h) return {"unreachable", "", "fetch failed"};
  CURL* c = h.get();
  curl_easy_setopt(c, CURLOPT_CURLU, url.get());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");  // the address checked is the server's own
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<long long>(1, timeout.count())));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "opsmaturity");
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, writeBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
  curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, checkConnected);
  curl_easy_setopt(c, CURLOPT_PREREQDATA, &f);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return {"unreachable", "", curlDetail(rc, f)};
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status == 404 || status == 410) {
    return {"missing", "", "gone (HTTP " + std::to_string(status) + ")"};
  }
  if (status < 200 || status > 299) {
    return {"unreachable", "", "HTTP " + std::to_string(status)};
  }
  return compare(f.body, recorded);
}

}  // namespace

bool isNonPublicAddress(const std::string& address) {
  bool v6 = false;
  uint8_t a[16] = {};
  if (!parseAddress(address, &v6, a)) return true;
  struct Range {
    uint8_t net[16];
    int prefix;
  };
  if (!v6) {
    static const Range kV4[] = {
        {{0}, 8},           {{10}, 8},           {{100, 64}, 10},      {{127}, 8},
        {{169, 254}, 16},   {{172, 16}, 12},     {{192, 0, 0}, 24},    {{192, 0, 2}, 24},
        {{192, 88, 99}, 24}, {{192, 168}, 16},   {{198, 18}, 15},      {{198, 51, 100}, 24},
        {{203, 0, 113}, 24}, {{224}, 4},         {{240}, 4},
    };
    for (const auto& r : kV4) {
      if (inPrefix(a, r.net, r.prefix)) return true;
    }
    return false;
  }
  static const Range kV6[] = {
      {{0}, 96},                                   // ::/96: unspecified, loopback, v4-compatible
      {{0x00, 0x64, 0xff, 0x9b}, 96},              // NAT64
      {{0x01, 0x00}, 64},                          // discard
      {{0x20, 0x01, 0x0d, 0xb8}, 32},              // documentation
      {{0x20, 0x01, 0x00, 0x00}, 23},              // IETF protocol assignments (Teredo...)
      {{0x20, 0x02}, 16},                          // 6to4
      {{0xfc}, 7},                                 // unique local
      {{0xfe, 0x80}, 10},                          // link-local
      {{0xfe, 0xc0}, 10},                          // site-local (deprecated)
      {{0xff}, 8},                                 // multicast
  };
  for (const auto& r : kV6) {
    if (inPrefix(a, r.net, r.prefix)) return true;
  }
  return false;
}

Result<DocumentHosts> DocumentHosts::parse(const std::vector<std::string>& patterns) {
  DocumentHosts out;
  for (const auto& raw : patterns) {
    const std::string p = lower(raw);
    auto bad = [&](const std::string& why) {
      return makeError(ErrorCode::kInvalidArgument, "'" + raw + "': " + why);
    };
    if (p.empty()) return bad("empty");
    const auto slash = p.find('/');
    std::string addr = p.substr(0, slash);
    Network n;
    if (parseAddress(addr, &n.v6, n.bytes)) {
      const int max = n.v6 ? 128 : 32;
      n.prefix = max;
      if (slash != std::string::npos) {
        const std::string bits = p.substr(slash + 1);
        if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(bits) > max) {
          return bad("the prefix length must be 0.." + std::to_string(max));
        }
        n.prefix = std::stoi(bits);
      }
      out.networks_.push_back(n);
      continue;
    }
    if (slash != std::string::npos) return bad("not an address or network (CIDR)");
    std::string name = p;
    const bool wildcard = name.rfind("*.", 0) == 0;
    if (wildcard) name = name.substr(1);  // ".example.com"
    const std::string labels = wildcard ? name.substr(1) : name;
    if (labels.empty() || labels.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") !=
                              std::string::npos ||
        labels.front() == '.' || labels.back() == '.' || labels.find("..") != std::string::npos) {
      return bad("a host name (wiki.example.com), *.domain, an address or a network (CIDR); "
                 "no scheme, port or path");
    }
    (wildcard ? out.suffixes_ : out.names_).push_back(name);
  }
  return out;
}

bool DocumentHosts::inListedNetwork(const std::string& address) const {
  bool v6 = false;
  uint8_t a[16] = {};
  if (!parseAddress(address, &v6, a)) return false;
  for (const auto& n : networks_) {
    if (n.v6 == v6 && inPrefix(a, n.bytes, n.prefix)) return true;
  }
  return false;
}

bool DocumentHosts::allowsHost(const std::string& host_in) const {
  const std::string host = lower(host_in);
  bool v6 = false;
  uint8_t a[16] = {};
  if (parseAddress(host, &v6, a)) return inListedNetwork(host);
  for (const auto& n : names_) {
    if (n == host) return true;
  }
  for (const auto& s : suffixes_) {
    if (host.size() > s.size() && host.compare(host.size() - s.size(), s.size(), s) == 0) {
      return true;
    }
  }
  return false;
}

bool DocumentHosts::allowsAddress(const std::string& address) const {
  if (inListedNetwork(address)) return true;
  return !isNonPublicAddress(address);
}

DocumentCheck checkDocument(const std::string& document, const std::string& recorded,
                            const std::vector<std::string>& roots, const DocumentHosts& hosts,
                            Duration timeout) {
  if (document.rfind("http://", 0) == 0 || document.rfind("https://", 0) == 0) {
    return checkUrl(document, recorded, hosts, timeout);
  }
  if (document.rfind("file://", 0) == 0) {
    return checkFile(document.substr(7), recorded, roots);
  }
  if (!document.empty() && document.front() == '/') return checkFile(document, recorded, roots);
  return {"not_fetched", "", "not an http(s) or file URL: kept as a reference only"};
}

}  // namespace opsm::agent
