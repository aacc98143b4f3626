// JSON: a streaming writer for output and a small parser for records and tests.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/result.h"

namespace medsearch {

// `text` as a JSON string literal, quotes included. Invalid UTF-8 becomes U+FFFD.
std::string json_quote(std::string_view text);

// Writes one JSON value incrementally; commas are placed automatically.
// Usage: w.begin_object(); w.key("a"); w.value(1); w.end_object(); w.str().
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(int64_t number);
  JsonWriter& value(int number) { return value(static_cast<int64_t>(number)); }
  JsonWriter& value(uint64_t number);
  JsonWriter& value(double number);
  JsonWriter& value(bool flag);
  JsonWriter& null();
  // A string array from a vector.
  JsonWriter& value(const std::vector<std::string>& items);

  const std::string& str() const { return out_; }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// A parsed JSON value. Objects keep their keys sorted (duplicate keys: last wins).
class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  JsonValue() = default;
  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }
  bool as_bool() const { return bool_; }
  double as_number() const { return number_; }
  const std::string& as_string() const { return string_; }
  const std::vector<JsonValue>& items() const { return array_; }
  const std::map<std::string, JsonValue>& members() const { return object_; }
  // The member `name` of an object, or nullptr.
  const JsonValue* find(const std::string& name) const;
  // A member as text: strings as they are, numbers without a trailing ".0", else "".
  std::string text(const std::string& name) const;

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> array_;
  std::map<std::string, JsonValue> object_;
};

// Parses one JSON document (RFC 8259). Nesting deeper than 200 is an error.
Result<JsonValue> parse_json(std::string_view text);

}  // namespace medsearch
