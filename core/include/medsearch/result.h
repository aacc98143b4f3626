// Result<T>: the value of an operation that can fail in an expected way (a bad
// input file, an HTTP error, a malformed query). The failure carries a message
// a user can act on. Exceptions are kept for the truly exceptional; adapters
// around Xapian, SQLite and libcurl turn their errors into Results.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace medsearch {

// A failure with a message for the user, e.g. "cannot open 'x.warc.gz': No such file".
struct Error {
  std::string message;
};

// Builds an Error; lets callers write `return fail("...")` in any Result function.
inline Error fail(std::string message) { return Error{std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Requires ok().
  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Requires !ok().
  const std::string& error() const {
    assert(!ok());
    return std::get<1>(state_).message;
  }
  Error take_error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

// Result of an operation that yields nothing but may fail.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error.message)), failed_(true) {}

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const {
    assert(!ok());
    return error_;
  }
  Error take_error() && { return Error{std::move(error_)}; }

 private:
  std::string error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace medsearch
