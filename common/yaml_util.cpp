#include "common/yaml_util.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

namespace opsm {

namespace {

// Ends the event pass early: the error to return.
struct Refused {
  Error error;
};

// The pass over the parser's events that runs before the tree is built (see YamlLimits):
// expanded size against the limits, duplicate keys, the deadline. Iterative: yaml-cpp's own
// depth guard bounds the nesting it reports.
class Prescan : public YAML::EventHandler {
 public:
  Prescan(const std::string& origin, size_t max_nodes, size_t max_bytes,
          std::chrono::steady_clock::time_point deadline)
      : origin_(origin), max_nodes_(max_nodes), max_bytes_(max_bytes), deadline_(deadline) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    add(1, 0, mark);
    remember(anchor, 1, 0, nullptr);
    child(mark, nullptr);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      // yaml-cpp refuses an unknown alias itself; an alias of a node still open (a list that
      // contains itself) has no size yet: refused, it would expand for ever.
      throw Refused{makeError(ErrorCode::kInvalidArgument,
                              at(mark) + ": an alias refers to a node that contains it")};
    }
    ++aliases_;
    add(it->second.nodes, it->second.bytes, mark);
    child(mark, it->second.scalar ? &*it->second.scalar : nullptr);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    add(1, value.size(), mark);
    remember(anchor, 1, value.size(), &value);
    child(mark, &value);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, false);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor, true);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Size {
    size_t nodes = 0;
    size_t bytes = 0;
    std::optional<std::string> scalar;  // an anchored scalar's text, for alias keys
  };
  struct Frame {
    bool map = false;
    bool expecting_key = true;
    YAML::anchor_t anchor = 0;
    size_t nodes_at_start = 0;
    size_t bytes_at_start = 0;
    YAML::Mark mark;
    std::set<std::string> keys;
  };

  std::string at(const YAML::Mark& mark) const {
    return origin_ + ":" + std::to_string(mark.line + 1);
  }

  void add(size_t nodes, size_t bytes, const YAML::Mark& mark) {
    nodes_ += nodes;
    bytes_ += bytes;
    if (nodes_ > max_nodes_) {
      throw Refused{makeError(
          ErrorCode::kInvalidArgument,
          at(mark) + ": YAML document too large: more than " + std::to_string(max_nodes_) +
              " nodes" + (aliases_ ? " once its aliases are expanded" : "") +
              " (see docs/hardening.md#yaml)")};
    }
    if (bytes_ > max_bytes_) {
      throw Refused{makeError(
          ErrorCode::kInvalidArgument,
          at(mark) + ": YAML document too large: more than " + std::to_string(max_bytes_) +
              " bytes of scalars" + (aliases_ ? " once its aliases are expanded" : "") +
              " (see docs/hardening.md#yaml)")};
    }
    if ((++events_ & 1023) == 0 && std::chrono::steady_clock::now() > deadline_) {
      throw Refused{makeError(ErrorCode::kTimeout,
                              at(mark) + ": reading the YAML ran past the poll's deadline")};
    }
  }

  void remember(YAML::anchor_t anchor, size_t nodes, size_t bytes, const std::string* scalar) {
    if (anchor == YAML::NullAnchor) return;
    Size& s = anchors_[anchor];
    s.nodes = nodes;
    s.bytes = bytes;
    if (scalar) s.scalar = *scalar;
  }

  // A node ended inside the innermost open collection: a mapping's key is checked for repeats.
  void child(const YAML::Mark& mark, const std::string* scalar) {
    if (stack_.empty() || !stack_.back().map) return;
    Frame& f = stack_.back();
    if (f.expecting_key && scalar && !f.keys.insert(*scalar).second) {
      throw Refused{makeError(ErrorCode::kInvalidArgument,
                              at(mark) + ": field '" + *scalar +
                                  "': given twice in the same mapping (the first would win "
                                  "silently)")};
    }
    f.expecting_key = !f.expecting_key;
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool map) {
    add(1, 0, mark);
    Frame f;
    f.map = map;
    f.anchor = anchor;
    f.nodes_at_start = nodes_ - 1;
    f.bytes_at_start = bytes_;
    f.mark = mark;
    stack_.push_back(std::move(f));
  }

  void close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    remember(f.anchor, nodes_ - f.nodes_at_start, bytes_ - f.bytes_at_start, nullptr);
    child(f.mark, nullptr);
  }

  const std::string& origin_;
  const size_t max_nodes_, max_bytes_;
  const std::chrono::steady_clock::time_point deadline_;
  size_t nodes_ = 0, bytes_ = 0, events_ = 0, aliases_ = 0;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Size> anchors_;
};

Error syntaxError(const std::string& origin, const YAML::Exception& e) {
  std::string msg = origin;
  if (!e.mark.is_null()) {
    msg += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
  }
  msg += ": YAML syntax error: " + e.msg;
  return makeError(ErrorCode::kInvalidArgument, msg);
}

Result<YAML::Node> parse(const std::string& text, const std::string& origin,
                         const YamlLimits& limits) {
  const size_t max_nodes = limits.max_nodes ? limits.max_nodes : defaultYamlMaxNodes(text.size());
  const size_t max_bytes = limits.max_bytes ? limits.max_bytes : defaultYamlMaxBytes(text.size());
  try {
    {
      std::istringstream in(text);
      YAML::Parser parser(in);
      Prescan scan(origin, max_nodes, max_bytes, limits.deadline);
      parser.HandleNextDocument(scan);
    }
    // Within its limits: the tree (aliases shared, as yaml-cpp builds them) walks in bounded
    // time and memory.
    return YAML::Load(text);
  } catch (const Refused& r) {
    return r.error;
  } catch (const YAML::Exception& e) {
    return syntaxError(origin, e);
  }
}

}  // namespace

size_t defaultYamlMaxNodes(size_t text_bytes) { return std::max<size_t>(1'000'000, text_bytes); }
size_t defaultYamlMaxBytes(size_t text_bytes) {
  return std::max<size_t>(16u << 20, 2 * text_bytes);
}

Result<YAML::Node> loadYamlFile(const std::string& path, const YamlLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(ErrorCode::kNotFound, path + ": cannot open file");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return makeError(ErrorCode::kIo, path + ": read error");
  return parse(buf.str(), path, limits);
}

Result<YAML::Node> loadYamlString(const std::string& text, const std::string& origin,
                                  const YamlLimits& limits) {
  return parse(text, origin, limits);
}

std::string where(const std::string& file, const YAML::Node& node) {
  if (!node.IsDefined() || node.Mark().is_null()) return file;
  return file + ":" + std::to_string(node.Mark().line + 1);
}

Error fieldError(const std::string& file, const YAML::Node& node, std::string_view field,
                 std::string_view message) {
  return makeError(ErrorCode::kInvalidArgument, where(file, node) + ": field '" +
                                                    std::string(field) + "': " +
                                                    std::string(message));
}

Status checkKeys(const std::string& file, const YAML::Node& map,
                 std::initializer_list<std::string_view> allowed, std::string_view context) {
  if (!map.IsMap()) {
    return makeError(ErrorCode::kInvalidArgument,
                     where(file, map) + ": " + std::string(context) + " must be a mapping");
  }
  for (const auto& kv : map) {
    std::string key = kv.first.Scalar();
    bool known = false;
    for (auto a : allowed) known = known || a == key;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return fieldError(file, kv.first, key,
                        "unknown key in " + std::string(context) + " (allowed: " + list + ")");
    }
  }
  return Status::success();
}

Result<std::string> readString(const std::string& file, const YAML::Node& map,
                               std::string_view key, const std::string& fallback) {
  YAML::Node n = map[std::string(key)];
  if (!n.IsDefined() || n.IsNull()) return fallback;
  if (!n.IsScalar()) return fieldError(file, n, key, "must be a string");
  return n.Scalar();
}

Result<Duration> readDuration(const std::string& file, const YAML::Node& map,
                              std::string_view key, Duration fallback) {
  YAML::Node n = map[std::string(key)];
  if (!n.IsDefined() || n.IsNull()) return fallback;
  if (!n.IsScalar()) return fieldError(file, n, key, "must be a duration like \"30s\"");
  auto d = parseDuration(n.Scalar());
  if (!d) return fieldError(file, n, key, d.error().message);
  return *d;
}

Result<double> readNumber(const std::string& file, const YAML::Node& map, std::string_view key,
                          double fallback) {
  YAML::Node n = map[std::string(key)];
  if (!n.IsDefined() || n.IsNull()) return fallback;
  double v = 0;
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v)) {
    return fieldError(file, n, key, "must be a number");
  }
  return v;
}

Result<bool> readBool(const std::string& file, const YAML::Node& map, std::string_view key,
                      bool fallback) {
  YAML::Node n = map[std::string(key)];
  if (!n.IsDefined() || n.IsNull()) return fallback;
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
    return fieldError(file, n, key, "must be true or false");
  }
  return v;
}

}  // namespace opsm
