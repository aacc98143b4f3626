// IndexWriter and Searcher against real Xapian databases in temporary directories.
#include <catch2/catch.hpp>

#include "medsearch/index_writer.h"
#include "medsearch/json.h"
#include "medsearch/output.h"
#include "medsearch/schema.h"
#include "medsearch/searcher.h"
#include "process.h"

using namespace medsearch;
using medsearch::testing::TempDir;

namespace {

Document make_doc(const std::string& id, const std::string& title, const std::string& text) {
  Document d;
  d.id = id;
  d.url = id;
  d.title = title;
  d.text = text;
  d.site = "clinic.test";
  d.type = "clinic";
  d.date = "2024-05-06";
  return d;
}

std::vector<std::string> ids(const SearchResults& results) {
  std::vector<std::string> out;
  for (const auto& hit : results.hits) out.push_back(hit.doc.id);
  return out;
}

}  // namespace

TEST_CASE("document data round-trips every field, newlines included", "[schema]") {
  Document d = make_doc("http://a.test/x", "Title = with equals", "line one\n\nline \\ two");
  d.authors = {"Ada Lovelace", "Per Lind"};
  d.doi = "10.5555/x";
  d.pmid = "123";
  d.evidence = "rct";
  d.description = "desc";
  d.language = "en";
  Document back = schema::decode_document_data(schema::encode_document_data(d));
  CHECK(back.id == d.id);
  CHECK(back.title == d.title);
  CHECK(back.text == d.text);
  CHECK(back.authors == d.authors);
  CHECK(back.doi == d.doi);
  CHECK(back.pmid == d.pmid);
  CHECK(back.evidence == d.evidence);
  CHECK(back.language == "en");
  CHECK(schema::date_slot_value("2024-05") == "20240500");
  CHECK(schema::date_slot_value("May 2024") == "");
}

TEST_CASE("long ids get distinct unique terms within Xapian's limit", "[schema]") {
  std::string a = "http://a.test/" + std::string(400, 'x') + "1";
  std::string b = "http://a.test/" + std::string(400, 'x') + "2";
  CHECK(schema::unique_term(a).size() <= schema::kMaxTermBytes);
  CHECK(schema::unique_term(a) != schema::unique_term(b));
  CHECK(schema::unique_term("http://a.test/") == "Qhttp://a.test/");
}

TEST_CASE("IndexWriter adds, skips unchanged, replaces and deletes by id", "[index]") {
  TempDir dir;
  std::string db = dir / "index";
  {
    auto writer = IndexWriter::open(db);
    REQUIRE(writer);
    auto& w = **writer;
    CHECK(*w.put(make_doc("http://a.test/1", "Ketamine infusion", "ketamine for pain")) ==
          PutOutcome::kAdded);
    CHECK(*w.put(make_doc("http://a.test/2", "Fibromyalgia", "widespread pain")) ==
          PutOutcome::kAdded);
    CHECK(*w.put(make_doc("http://a.test/1", "Ketamine infusion", "ketamine for pain")) ==
          PutOutcome::kUnchanged);
    CHECK(*w.put(make_doc("http://a.test/1", "Ketamine infusion", "ketamine for nerve pain")) ==
          PutOutcome::kReplaced);
    CHECK(w.document_count() == 2);
    CHECK(*w.remove("http://a.test/2"));
    CHECK_FALSE(*w.remove("http://a.test/never"));
    REQUIRE(w.commit());
    CHECK(w.document_count() == 1);
  }
  auto searcher = Searcher::open({db});
  REQUIRE(searcher);
  auto results = searcher->search("nerve", {});
  REQUIRE(results);
  CHECK(ids(*results) == std::vector<std::string>{"http://a.test/1"});
  CHECK(results->hits[0].snippet.find("<mark>nerve</mark>") != std::string::npos);
}

TEST_CASE("a second writer gets a clear locked error", "[index]") {
  TempDir dir;
  auto first = IndexWriter::open(dir / "index");
  REQUIRE(first);
  auto second = IndexWriter::open(dir / "index");
  REQUIRE_FALSE(second);
  CHECK(second.error().find("locked by another writer") != std::string::npos);
}

TEST_CASE("Searcher ranks title matches first and knows fields and phrases", "[search]") {
  TempDir dir;
  {
    auto writer = IndexWriter::open(dir / "index");
    REQUIRE(writer);
    REQUIRE((*writer)->put(make_doc("http://a.test/body", "Living with pain",
                                    "Some patients ask about ketamine receptors in passing.")));
    REQUIRE((*writer)->put(make_doc("http://a.test/title", "Ketamine receptors explained",
                                    "How the drug acts on the NMDA receptor.")));
    REQUIRE((*writer)->commit());
  }
  auto searcher = Searcher::open({dir / "index"});
  REQUIRE(searcher);
  struct Case {
    std::string query;
    std::vector<std::string> expected;
  } cases[] = {
      {"ketamine receptors", {"http://a.test/title", "http://a.test/body"}},
      {"title:ketamine", {"http://a.test/title"}},
      {"\"NMDA receptor\"", {"http://a.test/title"}},
      {"ketamine -nmda", {"http://a.test/body"}},
      {"site:clinic.test receptor", {"http://a.test/title", "http://a.test/body"}},
      {"site:other.test receptor", {}},
      {"year:2024 living", {"http://a.test/body"}},
  };
  for (const auto& c : cases) {
    INFO(c.query);
    auto results = searcher->search(c.query, {});
    REQUIRE(results);
    CHECK(ids(*results) == c.expected);
  }
}

TEST_CASE("Searcher answers bad syntax with a note, never an error", "[search]") {
  TempDir dir;
  {
    auto writer = IndexWriter::open(dir / "index");
    REQUIRE(writer);
    REQUIRE((*writer)->put(make_doc("http://a.test/1", "Opioids", "opioids and memory")));
  }
  auto searcher = Searcher::open({dir / "index"});
  REQUIRE(searcher);
  for (const char* query : {"opioids AND", "(memory", "\"unclosed", "NOT", "*", "title:", ")("}) {
    INFO(query);
    auto results = searcher->search(query, {});
    REQUIRE(results);
  }
  auto results = searcher->search("opioids AND", {});
  REQUIRE(results);
  CHECK(ids(*results) == std::vector<std::string>{"http://a.test/1"});
}

TEST_CASE("Searcher::open names the missing index", "[search]") {
  auto searcher = Searcher::open({"/nonexistent/index"});
  REQUIRE_FALSE(searcher);
  CHECK(searcher.error().find("/nonexistent/index") != std::string::npos);
}

TEST_CASE("results_to_json is valid JSON with the documented fields", "[output]") {
  SearchResults results;
  results.query = "ket\"amine";
  results.total = 1;
  SearchHit hit;
  hit.rank = 1;
  hit.score = 1.5;
  hit.doc = make_doc("http://a.test/1", "T", "");
  hit.snippet = "a <mark>ketamine</mark> &amp; b";
  results.hits.push_back(hit);
  auto parsed = parse_json(results_to_json(results));
  REQUIRE(parsed);
  CHECK(parsed->text("query") == "ket\"amine");
  CHECK(parsed->text("total") == "1");
  const auto& first = parsed->find("results")->items().at(0);
  for (const char* field : {"rank", "url", "title", "snippet", "score", "site", "date", "type"}) {
    INFO(field);
    CHECK(first.find(field) != nullptr);
  }
  CHECK(snippet_to_text(hit.snippet, "[", "]") == "a [ketamine] & b");
}
