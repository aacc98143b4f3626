// The searcher's query rewrites (core/src/query_scan.h) against the regular
// expressions they replace: on hand-picked queries, and on 20,000 queries
// drawn from the pieces those expressions care about (field names, quotes,
// brackets, operators, separators, digits, UTF-8), each function must give
// what std::regex gives.
#include <catch2/catch.hpp>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "query_scan.h"

namespace scan = medsearch::internal;

namespace {

std::string regex_pubmed_dates(const std::string& query) {
  static const std::regex kRange(R"((\d{4})\s*:\s*(\d{4})\s*\[(?:dp|pdat)\])", std::regex::icase);
  static const std::regex kYear(R"((\d{4})\s*\[(?:dp|pdat)\])", std::regex::icase);
  return std::regex_replace(std::regex_replace(query, kRange, "year:$1..$2"), kYear, "year:$1");
}

std::vector<std::string> regex_text_fields(const std::string& query) {
  static const std::regex kField(R"re((?:^|[\s(+-])(title|author):("[^"]*"?|[^\s()"]+))re");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(query.begin(), query.end(), kField);
       it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1].str() + ": " + (*it)[2].str());
  return out;
}

bool regex_free_text(const std::string& query) {
  static const std::regex kStructure(R"re(["():*+]|(^|\s)-|\b(AND|OR|NOT|XOR|NEAR|ADJ)\b)re");
  return !std::regex_search(query, kStructure);
}

std::string regex_unfield(const std::string& query) {
  static const std::regex kPlaceholder(R"re((^|[^A-Za-z0-9_])(xconcept|xcid):)re");
  return std::regex_replace(query, kPlaceholder, "$1$2 ");
}

// "begin end lead value" for each match, to compare whole lists.
std::vector<std::string> regex_concept_fields(const std::string& query) {
  static const std::regex kField(R"re((^|[\s(+-])concept:(?:"([^"]*)"|([^\s()"]+)))re");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(query.begin(), query.end(), kField);
       it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    out.push_back(std::to_string(m.position(0)) + " " +
                  std::to_string(m.position(0) + m.length(0)) + " [" + m[1].str() + "] [" +
                  (m[2].matched ? m[2].str() : m[3].str()) + "]");
  }
  return out;
}

std::vector<std::string> scan_concept_fields(const std::string& query) {
  std::vector<std::string> out;
  for (const auto& f : scan::concept_fields(query))
    out.push_back(std::to_string(f.begin) + " " + std::to_string(f.end) + " [" +
                  std::string(f.lead) + "] [" + std::string(f.value) + "]");
  return out;
}

std::string regex_blank_fields(const std::string& query) {
  static const std::regex kFieldName(R"re([A-Za-z_]+:)re");
  return std::regex_replace(query, kFieldName, " ");
}

}  // namespace

TEST_CASE("PubMed date tags become year: fields", "[query_scan]") {
  CHECK(scan::rewrite_pubmed_dates("ketamine 2015:2020[dp]") == "ketamine year:2015..2020");
  CHECK(scan::rewrite_pubmed_dates("crps 2019 [PDAT] pain") == "crps year:2019 pain");
  CHECK(scan::rewrite_pubmed_dates("2015 : 2020 [Dp]") == "year:2015..2020");
  CHECK(scan::rewrite_pubmed_dates("2015:20[dp]") == "2015:20[dp]");
  CHECK(scan::rewrite_pubmed_dates("12015:2020[dp]") == "1year:2015..2020");
  CHECK(scan::rewrite_pubmed_dates("2019[dx]") == "2019[dx]");
}

TEST_CASE("title: and author: fields are listed for the explanation", "[query_scan]") {
  using V = std::vector<std::string>;
  CHECK(scan::text_fields("title:\"neuropathic pain\" AND author:smith") ==
        V{"title: \"neuropathic pain\"", "author: smith"});
  CHECK(scan::text_fields("(title:crps) subtitle:x") == V{"title: crps"});
  CHECK(scan::text_fields("title:\"open") == V{"title: \"open"});
  CHECK(scan::text_fields("title: pain").empty());
}

TEST_CASE("a query is free text unless it has syntax", "[query_scan]") {
  CHECK(scan::is_free_text("ketamine depression"));
  CHECK(scan::is_free_text("anti-NMDA ANDROID ORAL nor"));
  CHECK_FALSE(scan::is_free_text("ketamine AND depression"));
  CHECK_FALSE(scan::is_free_text("-ketamine"));
  CHECK_FALSE(scan::is_free_text("pain -ketamine"));
  CHECK_FALSE(scan::is_free_text("\"crps\""));
  CHECK_FALSE(scan::is_free_text("ket*"));
  CHECK_FALSE(scan::is_free_text("title:x"));
  CHECK_FALSE(scan::is_free_text("pain\xc3\xa9NOT"));  // UTF-8 bytes are not word characters
}

TEST_CASE("typed placeholder fields become words", "[query_scan]") {
  CHECK(scan::unfield_placeholders("xcid:3 pain") == "xcid 3 pain");
  CHECK(scan::unfield_placeholders("(xconcept:0)") == "(xconcept 0)");
  CHECK(scan::unfield_placeholders("axcid:3") == "axcid:3");
  CHECK(scan::unfield_placeholders("xcid:xcid:") == "xcid xcid:");
}

TEST_CASE("concept fields are found with their values", "[query_scan]") {
  auto fields = scan::concept_fields("pain concept:\"complex regional\" (concept:D020918)");
  REQUIRE(fields.size() == 2);
  CHECK(fields[0].lead == " ");
  CHECK(fields[0].value == "complex regional");
  CHECK(fields[1].lead == "(");
  CHECK(fields[1].value == "D020918");
  CHECK(scan::concept_fields("concept:\"open").empty());
  CHECK(scan::concept_fields("xconcept:crps").empty());
}

TEST_CASE("field names are blanked out", "[query_scan]") {
  CHECK(scan::blank_field_names("title:crps a1b: c") == " crps a1  c");
}

TEST_CASE("the query scanners agree with the regular expressions they replace", "[query_scan]") {
  const std::vector<std::string> pieces = {
      "title", "author", "concept",  "xcid",   "xconcept", ":",   "\"",   "(",    ")",
      "+",     "-",      " ",        "  ",     "\t",       "\n",  "AND",  "OR",   "NOT",
      "XOR",   "NEAR",   "ADJ",      "ANDx",   "_",        "a",   "Pain", "2015", "20155",
      "20",    "[dp]",   "[DP]",     "[pdat]", "[PDat]",   "[",   "]",    "dp",   "..",
      "*",     "1",      "\xc3\xa9", "crps",   "year:",    "sub", "x"};
  std::mt19937 random(20261121);
  std::uniform_int_distribution<size_t> length(0, 14);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  for (int n = 0; n < 20000; ++n) {
    std::string query;
    for (size_t k = length(random); k > 0; --k) query += pieces[pick(random)];
    INFO("query: [" << query << "]");
    REQUIRE(scan::rewrite_pubmed_dates(query) == regex_pubmed_dates(query));
    REQUIRE(scan::text_fields(query) == regex_text_fields(query));
    REQUIRE(scan::is_free_text(query) == regex_free_text(query));
    REQUIRE(scan::unfield_placeholders(query) == regex_unfield(query));
    REQUIRE(scan_concept_fields(query) == regex_concept_fields(query));
    REQUIRE(scan::blank_field_names(query) == regex_blank_fields(query));
  }
}
