#pragma once

#include <string>
#include <utility>
#include <variant>

namespace opsm {

// What went wrong, in terms a system administrator can act on.
enum class ErrorCode {
  kInvalidArgument,  // bad config, bad rule file, bad command line
  kNotFound,         // a file or resource that should be there is not
  kIo,               // reading or writing a local file failed
  kUnavailable,      // a remote system could not be reached or answered 5xx
  kTimeout,          // a remote system did not answer in time
  kUnauthenticated,  // a remote system refused our credentials
  kBadResponse,      // a remote system answered with something we cannot use
  kPermissionDenied, // the caller may not do this (a role, or approving one's own)
  kConflict,         // the request does not fit the current state (approving a revoked one)
  kInternal,
};

const char* errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // "invalid_argument: rules/6.1.3.yaml:12: field 'when': unknown operator 'eqq'"
  std::string describe() const;
};

// The result type used across module boundaries: a value or an Error, never an exception.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : data_(std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<Error>(data_); }

 private:
  std::variant<T, Error> data_;
};

// Result<void>.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status success() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

inline Error makeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace opsm
