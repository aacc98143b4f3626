#include "medsearch/json.h"

#include <catch2/catch.hpp>

using namespace medsearch;

TEST_CASE("JsonWriter writes what parse_json reads back", "[json]") {
  JsonWriter w;
  w.begin_object();
  w.key("name").value("Ketalar \"brand\"\n");
  w.key("n").value(3);
  w.key("x").value(0.5);
  w.key("ok").value(true);
  w.key("none").null();
  w.key("list").value(std::vector<std::string>{"a", "b"});
  w.key("nested").begin_array().begin_object().end_object().end_array();
  w.end_object();
  auto parsed = parse_json(w.str());
  REQUIRE(parsed);
  CHECK(parsed->text("name") == "Ketalar \"brand\"\n");
  CHECK(parsed->text("n") == "3");
  CHECK(parsed->find("x")->as_number() == 0.5);
  CHECK(parsed->find("ok")->as_bool());
  CHECK(parsed->find("none")->is_null());
  CHECK(parsed->find("list")->items().size() == 2);
  CHECK(parsed->find("nested")->items()[0].is_object());
}

TEST_CASE("json_quote escapes controls and repairs invalid UTF-8", "[json]") {
  CHECK(json_quote("a\tb\x01") == "\"a\\tb\\u0001\"");
  CHECK(json_quote("x\xFFy") == "\"x\xEF\xBF\xBDy\"");
}

TEST_CASE("parse_json decodes escapes and surrogate pairs", "[json]") {
  auto v = parse_json(R"({"s":"caf\u00e9 \ud83d\ude00 \/"})");
  REQUIRE(v);
  CHECK(v->text("s") == "caf\xC3\xA9 \xF0\x9F\x98\x80 /");
}

TEST_CASE("parse_json rejects malformed documents with a position", "[json]") {
  const char* bad[] = {"",
                       "{",
                       "[1,]",
                       "{\"a\" 1}",
                       "\"unterminated",
                       "tru",
                       "01x",
                       "{\"a\":1} extra",
                       "[\"\x01\"]",
                       "\"\\q\""};
  for (const char* text : bad) {
    INFO(text);
    auto v = parse_json(text);
    REQUIRE_FALSE(v);
    CHECK(v.error().find("at byte") != std::string::npos);
  }
  std::string deep(300, '[');
  CHECK_FALSE(parse_json(deep));
}
