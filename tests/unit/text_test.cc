#include "medsearch/text.h"

#include <catch2/catch.hpp>

using namespace medsearch;

TEST_CASE("valid_utf8 replaces each invalid sequence and keeps valid text", "[text]") {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"plain", "plain"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
      {"bad \xFF byte", "bad \xEF\xBF\xBD byte"},
      {"truncated \xE2\x80", "truncated \xEF\xBF\xBD\xEF\xBF\xBD"},
      {"overlong \xC0\xAF", "overlong \xEF\xBF\xBD\xEF\xBF\xBD"},
      {"surrogate \xED\xA0\x80", "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"emoji \xF0\x9F\x98\x80", "emoji \xF0\x9F\x98\x80"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(valid_utf8(c.in) == c.out);
  }
}

TEST_CASE("collapse_whitespace folds runs including no-break spaces", "[text]") {
  CHECK(collapse_whitespace("  a \n\t b  ") == "a b");
  CHECK(collapse_whitespace("a\xC2\xA0\xC2\xA0z") == "a z");
  CHECK(collapse_whitespace("") == "");
}

TEST_CASE("split, prefix and case helpers", "[text]") {
  CHECK(split("a,,b", ',') == std::vector<std::string>{"a", "", "b"});
  CHECK(utf8_prefix("caf\xC3\xA9", 4) == "caf");
  CHECK(utf8_prefix("abc", 10) == "abc");
  CHECK(equals_nocase("NMDA", "nmda"));
  CHECK(starts_with_nocase("Content-Type", "content-"));
  CHECK(trim("  x y \n") == "x y");
}

TEST_CASE("fnv1a64 is the published FNV-1a", "[text]") {
  // Reference values from the FNV authors' test suite.
  CHECK(hex64(fnv1a64("")) == "cbf29ce484222325");
  CHECK(hex64(fnv1a64("a")) == "af63dc4c8601ec8c");
  CHECK(hex64(fnv1a64("foobar")) == "85944171f73967e8");
}
