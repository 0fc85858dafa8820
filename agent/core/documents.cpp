#include "agent/core/documents.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "collectors/common/http_client.h"
#include "common/hash.h"

namespace opsm::agent {

namespace {

constexpr size_t kMaxDocumentBytes = 16u << 20;

DocumentCheck compare(std::string body, const std::string& recorded, const std::string& what) {
  DocumentCheck out;
  out.sha256 = sha256Hex(body);
  if (recorded.empty() || recorded == out.sha256) {
    out.status = "ok";
    out.detail = what + " fetched (" + std::to_string(body.size()) + " bytes)";
  } else {
    out.status = "changed";
    out.detail = what + " changed since it was attested (sha256 " + recorded.substr(0, 12) +
                 "... is now " + out.sha256.substr(0, 12) + "...)";
  }
  return out;
}

DocumentCheck checkFile(const std::string& path, const std::string& recorded,
                        const std::vector<std::string>& roots) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // Resolved before the check, so that ../ or a symlink cannot leave the roots.
  fs::path real = fs::weakly_canonical(fs::path(path), ec);
  if (ec) return {"not_fetched", "", "cannot resolve " + path};
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
  if (!fs::exists(real, ec)) return {"missing", "", path + " does not exist"};
  if (!fs::is_regular_file(real, ec)) return {"unreachable", "", path + " is not a file"};
  if (fs::file_size(real, ec) > kMaxDocumentBytes) {
    return {"unreachable", "", path + " is larger than 16 MiB"};
  }
  std::ifstream in(real, std::ios::binary);
  if (!in) return {"unreachable", "", "cannot read " + path};
  std::ostringstream body;
  body << in.rdbuf();
  return compare(body.str(), recorded, path);
}

}  // namespace

DocumentCheck checkDocument(const std::string& document, const std::string& recorded,
                            const std::vector<std::string>& roots, Duration timeout) {
  if (document.rfind("http://", 0) == 0 || document.rfind("https://", 0) == 0) {
    collectors::HttpOptions options;
    options.max_body_bytes = kMaxDocumentBytes;
    options.max_retries = 1;
    collectors::HttpClient client(options);
    const std::string shown = collectors::redactUrl(document);
    auto resp = client.get(document, timeout);
    if (!resp) {
      const std::string& msg = resp.error().message;
      if (msg.find(": HTTP 404") != std::string::npos ||
          msg.find(": HTTP 410") != std::string::npos) {
        return {"missing", "", shown + " is gone (" + msg.substr(msg.find("HTTP "), 8) + ")"};
      }
      return {"unreachable", "", msg};
    }
    return compare(std::move(resp->body), recorded, shown);
  }
  if (document.rfind("file://", 0) == 0) {
    return checkFile(document.substr(7), recorded, roots);
  }
  if (!document.empty() && document.front() == '/') return checkFile(document, recorded, roots);
  return {"not_fetched", "", "not an http(s) or file URL: kept as a reference only"};
}

}  // namespace opsm::agent
