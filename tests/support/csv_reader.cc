#include "csv_reader.h"

#include <catch2/catch.hpp>

namespace medsearch::testing {

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      for (++i;; ++i) {
        REQUIRE(i < text.size());
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            ++i;
          } else {
            ++i;
            break;
          }
        } else {
          field += text[i];
        }
      }
    }
    if (text.compare(i, 2, "\r\n") == 0) {
      record.push_back(std::move(field));
      records.push_back(std::move(record));
      record.clear();
      field.clear();
      i += 2;
    } else if (text[i] == ',') {
      record.push_back(std::move(field));
      field.clear();
      ++i;
    } else {
      REQUIRE(text[i] != '"');
      REQUIRE(text[i] != '\n');  // a bare LF outside quotes is not RFC 4180
      field += text[i++];
    }
  }
  REQUIRE(record.empty());
  REQUIRE(field.empty());
  return records;
}

}  // namespace medsearch::testing
