// Status and Result<T>: errors as values (after LevelDB's Status).
//
// Every fallible operation in medseal returns a Status or a Result<T>. A Status carries a code
// that callers branch on and a one-line message for people; it never carries secrets or health data.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace medseal {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // the input is malformed or not understood (parse errors, bad sizes)
  kNotFound,            // the thing asked for does not exist (yet)
  kVerificationFailed,  // well-formed but cryptographically or structurally inconsistent
  kIoError,             // storage or network failure; the operation may succeed when retried
  kFailedPrecondition,  // the system is not in a state that allows the operation
  kInternal,            // a bug or an unexpected library failure
  kPermissionDenied,    // the caller is known but not allowed to do this
  kConflict,            // another request changed the same thing first; retrying may succeed
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status invalid(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status not_found(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status verification(std::string m) { return Status(Code::kVerificationFailed, std::move(m)); }
  static Status io(std::string m) { return Status(Code::kIoError, std::move(m)); }
  static Status precondition(std::string m) { return Status(Code::kFailedPrecondition, std::move(m)); }
  static Status internal(std::string m) { return Status(Code::kInternal, std::move(m)); }
  static Status denied(std::string m) { return Status(Code::kPermissionDenied, std::move(m)); }
  static Status conflict(std::string m) { return Status(Code::kConflict, std::move(m)); }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none. An error Result never holds a value.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status error) : status_(std::move(error)) { assert(!status_.is_ok()); }  // NOLINT

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }
  T& value() & { assert(is_ok()); return *value_; }
  const T& value() const& { assert(is_ok()); return *value_; }
  T&& value() && { assert(is_ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace medseal

// Returns early from the enclosing function with the error of a Status or Result expression.
#define MEDSEAL_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    auto&& medseal_status_ = (expr);                   \
    if (!medseal_status_.is_ok()) return ::medseal::status_of(medseal_status_); \
  } while (0)

namespace medseal {
inline const Status& status_of(const Status& s) { return s; }
template <typename T>
const Status& status_of(const Result<T>& r) { return r.status(); }
}  // namespace medseal
