// Extraction checked against every page of the fixture site: the expected
// title, metadata, main text and absent clutter are in fixtures/expected/pages.json.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "medsearch/extract.h"
#include "medsearch/json.h"
#include "process.h"

using namespace medsearch;
using medsearch::testing::read_file;
using medsearch::testing::source_path;

namespace {

std::vector<std::string> strings(const JsonValue& array) {
  std::vector<std::string> out;
  for (const auto& item : array.items()) out.push_back(item.as_string());
  return out;
}

}  // namespace

TEST_CASE("extraction matches fixtures/expected/pages.json for every fixture page", "[extract]") {
  auto expected = parse_json(read_file(source_path("fixtures/expected/pages.json")));
  REQUIRE(expected);
  REQUIRE(expected->items().size() >= 12);
  for (const auto& page : expected->items()) {
    std::string path = page.text("path");
    std::string file = source_path("fixtures/site" + path);
    if (path.ends_with("/")) file += "index.html";
    std::string body = read_file(file);
    // The server fills in %ORIGIN%; do the same for a fixed origin.
    const std::string origin = "http://fixture.test";
    for (size_t at; (at = body.find("%ORIGIN%")) != std::string::npos;) body.replace(at, 8, origin);
    std::string type = path.ends_with(".pdf") ? "application/pdf" : "text/html; charset=utf-8";

    INFO("page: " << path);
    auto doc = extract_document(origin + path, type, body);
    REQUIRE(doc);
    CHECK(doc->title == page.text("title"));
    CHECK(doc->date == page.text("date"));
    CHECK(doc->doi == page.text("doi"));
    CHECK(doc->pmid == page.text("pmid"));
    CHECK(doc->type == page.text("type"));
    CHECK(doc->evidence == page.text("evidence"));
    CHECK(doc->authors == strings(*page.find("authors")));
    std::string canonical = page.text("canonical");
    CHECK(doc->id == origin + (canonical.empty() ? path : canonical));
    for (const auto& phrase : strings(*page.find("must_contain"))) {
      INFO("must contain: " << phrase);
      CHECK(doc->text.find(phrase) != std::string::npos);
    }
    for (const auto& phrase : strings(*page.find("must_not_contain"))) {
      INFO("must not contain: " << phrase);
      CHECK(doc->text.find(phrase) == std::string::npos);
    }
  }
}
