// Research records: JSON Lines records and PubMed XML to Documents, checked on
// inline inputs and on the samples in fixtures/records/.
#include "medsearch/records.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "process.h"

using namespace medsearch;
using medsearch::testing::read_file;
using medsearch::testing::source_path;

namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : "|") + item;
  return out;
}

// What a reader delivered: the documents, the reported errors and the status.
struct Collected {
  std::vector<Document> documents;
  std::vector<RecordError> errors;
  std::string failure;  // "" when the status was ok
};

Collected read_pubmed(std::string_view xml) {
  Collected out;
  Status status = read_pubmed_xml(
      xml, [&](Document&& doc) { out.documents.push_back(std::move(doc)); },
      [&](const RecordError& error) { out.errors.push_back(error); });
  if (!status) out.failure = status.error();
  return out;
}

Collected read_lines(std::string_view data) {
  Collected out;
  Status status = read_json_lines(
      data, [&](Document&& doc) { out.documents.push_back(std::move(doc)); },
      [&](const RecordError& error) { out.errors.push_back(error); });
  if (!status) out.failure = status.error();
  return out;
}

// A minimal PubmedArticle around `citation` (the inside of MedlineCitation).
std::string article(const std::string& citation) {
  return "<PubmedArticle><MedlineCitation>" + citation + "</MedlineCitation></PubmedArticle>";
}

}  // namespace

TEST_CASE("read_pubmed_xml reads every article of the PubMed sample", "[records]") {
  std::string xml = read_file(source_path("fixtures/records/pubmed-sample.xml"));
  REQUIRE(looks_like_pubmed_xml(xml));
  Collected got = read_pubmed(xml);
  CHECK(got.failure == "");

  struct Expected {
    const char* pmid;
    const char* title;
    const char* date;
    const char* doi;
    const char* language;
    const char* evidence;
    const char* authors;
    const char* text;  // the whole text, or its start when `text_is_prefix`
    bool text_is_prefix;
  };
  const Expected expected[] = {
      {"90000001",
       "Low-dose S-ketamine infusions for refractory chronic low back pain: a randomized "
       "controlled trial.",
       "2021-03-14", "10.5555/jprm.2021.0142", "en", "rct",
       "Marisol Ortega|Henrik Dahl|Priya N Raman",
       "BACKGROUND: Chronic low back pain often responds poorly to opioids & gabapentinoids.\n\n"
       "METHODS: We assigned 120 adults to five weekly infusions of S-ketamine or saline.\n\n"
       "RESULTS: Pain scores fell by \xE2\x89\xA5"
       "30% in 41 of 60 patients on ketamine and 19 of 60 on saline (p < 0.01).\n\n"
       "CONCLUSIONS: Repeated low-dose infusions eased pain for at least twelve weeks.",
       false},
      // MedlineDate, CollectiveName, DOI only in ArticleIdList, several publication types.
      {"90000002",
       "Ketamine for neuropathic pain: a systematic review and meta-analysis of 14 trials.",
       "2019-11", "10.5555/pmr.2019.1107", "en", "meta-analysis",
       "Chiamaka Okafor|Chronic Pain Evidence Collaborative",
       "OBJECTIVE: To pool the trials of ketamine given for neuropathic pain lasting longer than "
       "three months.\n\nDATA SOURCES: ",
       true},
      // PubDate with a month name; Initials without ForeName; Suffix; markup in the abstract.
      {"90000003",
       "Bladder pain after two years of oral ketamine for complex regional pain syndrome.",
       "2018-09-07", "", "en", "case-report", "AK Lindqvist|Thomas Brennan Jr",
       "A 34-year-old woman took oral ketamine at home for complex regional pain syndrome and "
       "later reported urinary urgency. Cystoscopy showed an inflamed bladder wall; symptoms eased "
       "within ten days of stopping the drug and urinary IL-1\xCE\xB2 returned to normal. "
       "Long-term home use calls for regular urological review.",
       false},
      // Year-only date, German, CDATA, HTML-style character references, and a cited
      // paper's DOI in the ReferenceList that must not be taken.
      {"90000004", "[Ketamine infusions in outpatient pain clinics: a practice guideline].", "2020",
       "", "de", "guideline", "J\xC3\xB6rg M\xC3\xBCller",
       "AIM: This guideline covers who may receive ketamine infusions outside hospital, how "
       "patients are monitored \xE2\x80\x93 blood pressure and sedation every 15 minutes "
       "\xE2\x80\x93 and when treatment stops.\n\nRECOMMENDATIONS: Infusions need a trained nurse "
       "& a physician on site; doses stay below 0.5 mg/kg/h.",
       false},
      // No abstract; "doi:" prefix in ELocationID; ArticleDate wins over PubDate.
      {"90000005",
       "Opioid use one year after ketamine-assisted rehabilitation: a cohort of 812 patients.",
       "2021-12-20", "10.5555/ojao.2022.0031", "en", "observational", "Yui Nakamura", "", false},
  };
  REQUIRE(got.documents.size() == std::size(expected));
  for (size_t i = 0; i < std::size(expected); ++i) {
    const Expected& e = expected[i];
    const Document& doc = got.documents[i];
    INFO(e.pmid);
    CHECK(doc.pmid == e.pmid);
    CHECK(doc.url == std::string("https://pubmed.ncbi.nlm.nih.gov/") + e.pmid + "/");
    CHECK(doc.id == doc.url);
    CHECK(doc.site == "pubmed.ncbi.nlm.nih.gov");
    CHECK(doc.type == "research");
    CHECK(doc.mime_type == "application/xml");
    CHECK(doc.title == e.title);
    CHECK(doc.date == e.date);
    CHECK(doc.doi == e.doi);
    CHECK(doc.language == e.language);
    CHECK(doc.evidence == e.evidence);
    CHECK(joined(doc.authors) == e.authors);
    if (e.text_is_prefix)
      CHECK(doc.text.starts_with(e.text));
    else
      CHECK(doc.text == e.text);
    // The description is the text's first 300 bytes, cut at a character boundary.
    CHECK(doc.text.starts_with(doc.description));
    CHECK(doc.description.size() <= 300);
    CHECK(doc.description.size() + 3 >= std::min<size_t>(300, doc.text.size()));
    // MeSH headings are not indexed.
    CHECK(doc.text.find("Chronic Pain") == std::string::npos);
  }
  REQUIRE(got.errors.size() == 1);
  CHECK(got.errors[0].line == 282);
  CHECK(got.errors[0].message.find("PubmedBookArticle") != std::string::npos);
}

TEST_CASE("read_pubmed_xml never crashes on a truncated PubMed sample", "[records]") {
  std::string xml = read_file(source_path("fixtures/records/pubmed-sample.xml"));
  REQUIRE(xml.ends_with("</PubmedArticleSet>\n"));
  size_t complete = xml.size() - 1;  // without the final newline
  for (size_t n = 0; n < xml.size(); ++n) {
    INFO(n);
    Collected got = read_pubmed(std::string_view(xml).substr(0, n));
    CHECK(got.documents.size() <= 5);
    if (n < complete) CHECK(got.failure != "");
  }
}

TEST_CASE("read_pubmed_xml reads a bare article and reports unusable ones", "[records]") {
  Collected bare =
      read_pubmed(article("<PMID>123</PMID><Article><ArticleTitle>T</ArticleTitle>"
                          "<Journal><JournalIssue><PubDate><Year>2001</Year>"
                          "<Month>13</Month></PubDate></JournalIssue></Journal>"
                          "</Article>"));
  CHECK(bare.failure == "");
  REQUIRE(bare.documents.size() == 1);
  CHECK(bare.documents[0].title == "T");
  CHECK(bare.documents[0].date == "2001");  // month 13 is dropped, the year kept

  struct Case {
    const char* citation;
    const char* error;
  };
  const Case unusable[] = {
      {"<Article><ArticleTitle>T</ArticleTitle></Article>", "without a PMID"},
      {"<PMID>12a</PMID><Article><ArticleTitle>T</ArticleTitle></Article>", "invalid PMID '12a'"},
      {"<PMID>7</PMID><Article><ArticleTitle/></Article>", "7 has no title and no abstract"},
  };
  for (const auto& c : unusable) {
    INFO(c.citation);
    std::string xml = "<PubmedArticleSet>\n" + article(c.citation) + "\n" +
                      article("<PMID>9</PMID><Article><ArticleTitle>Ok</ArticleTitle></Article>") +
                      "</PubmedArticleSet>";
    Collected got = read_pubmed(xml);
    CHECK(got.failure == "");
    REQUIRE(got.documents.size() == 1);
    CHECK(got.documents[0].pmid == "9");
    REQUIRE(got.errors.size() == 1);
    CHECK(got.errors[0].line == 2);
    CHECK(got.errors[0].message.find(c.error) != std::string::npos);
  }
}

TEST_CASE("read_pubmed_xml fails on other XML and on malformed XML", "[records]") {
  Collected other = read_pubmed("<urlset><url/></urlset>");
  CHECK(other.failure.find("not PubMed XML: the root element is <urlset>") != std::string::npos);

  // The first article is delivered before the fault is found.
  std::string xml = "<PubmedArticleSet>\n" +
                    article("<PMID>1</PMID><Article><ArticleTitle>A</ArticleTitle></Article>") +
                    "\n<PubmedArticle><MedlineCitation></PMID></MedlineCitation></PubmedArticle>"
                    "</PubmedArticleSet>";
  Collected got = read_pubmed(xml);
  CHECK(got.documents.size() == 1);
  CHECK(got.failure.find("XML: end tag </PMID> does not match <MedlineCitation>") !=
        std::string::npos);
  CHECK(got.failure.find("(line 3)") != std::string::npos);

  CHECK(read_pubmed("").failure.find("no root element") != std::string::npos);
}

TEST_CASE("evidence_from_publication_types maps PubMed types, strongest first", "[records]") {
  struct Case {
    std::vector<std::string> types;
    const char* evidence;
  };
  const Case cases[] = {
      {{"Journal Article", "Randomized Controlled Trial"}, "rct"},
      {{"Review", "Meta-Analysis"}, "meta-analysis"},
      {{"Systematic Review"}, "meta-analysis"},
      {{"Practice Guideline"}, "guideline"},
      {{"Guideline", "Review"}, "guideline"},
      {{"Review", "Case Reports"}, "case-report"},
      {{"Observational Study", "Comparative Study"}, "observational"},
      {{"Comparative Study"}, ""},
      {{"review"}, "review"},
      {{"Journal Article"}, ""},
      {{}, ""},
  };
  for (const auto& c : cases) {
    INFO(joined(c.types));
    CHECK(evidence_from_publication_types(c.types) == c.evidence);
  }
}

TEST_CASE("looks_like_pubmed_xml and looks_like_json_lines tell the formats apart", "[records]") {
  struct Case {
    const char* data;
    bool pubmed;
    bool json_lines;
  };
  const Case cases[] = {
      {"<?xml version=\"1.0\"?>\n<!DOCTYPE PubmedArticleSet PUBLIC \"x\" \"y\">\n", true, false},
      {"\xEF\xBB\xBF<PubmedArticleSet>\n<PubmedArticle>", true, false},
      {"  <PubmedArticle>", true, false},
      {"<PubmedArticleSetX>", false, false},
      {"<urlset><url><loc>https://x/</loc></url></urlset>", false, false},
      {"<html><body>PubmedArticleSet</body></html>", false, false},
      {"{\"id\": 1}\n{\"id\": 2}\n", false, true},
      {"\xEF\xBB\xBF\r\n  {\"id\": 1}", false, true},
      {"[{\"id\": 1}]", false, false},
      {"", false, false},
  };
  for (const auto& c : cases) {
    INFO(c.data);
    CHECK(looks_like_pubmed_xml(c.data) == c.pubmed);
    CHECK(looks_like_json_lines(c.data) == c.json_lines);
  }
}

TEST_CASE("document_from_json_record maps the record fields", "[records]") {
  auto doc = document_from_json_record(
      R"({"id": "r1", "url": "https://Example.org/a", "title": " Ketamine  trial ",)"
      R"( "abstract": "Short abstract.", "text": "Body text.", "date": "2020/03/05",)"
      R"( "authors": ["Ana Lima", " ", "Bo  Chen"], "doi": "doi:10.5555/x.1", "pmid": 42,)"
      R"( "language": "ENG", "publication_types": ["Randomized Controlled Trial"]})");
  REQUIRE(doc);
  CHECK(doc->id == "https://example.org/a");
  CHECK(doc->url == "https://example.org/a");
  CHECK(doc->site == "example.org");
  CHECK(doc->title == "Ketamine trial");
  CHECK(doc->text == "Short abstract.\n\nBody text.");
  CHECK(doc->description == doc->text);
  CHECK(doc->date == "2020-03-05");
  CHECK(joined(doc->authors) == "Ana Lima|Bo Chen");
  CHECK(doc->doi == "10.5555/x.1");
  CHECK(doc->pmid == "42");
  CHECK(doc->language == "en");
  CHECK(doc->evidence == "rct");
  CHECK(doc->type == "research");
  CHECK(doc->mime_type == "application/x-ndjson");

  struct Case {
    const char* record;
    const char* id;
    const char* type;
  };
  const Case cases[] = {
      {R"({"_id": "0001", "title": "T", "text": "x"})", "record:0001", "other"},
      {R"({"id": 7, "_id": "ignored", "text": "x"})", "record:7", "other"},
      {R"({"id": "a", "text": "x", "journal": "J"})", "record:a", "research"},
      {R"({"id": "a", "text": "x", "doi": "10.5555/y"})", "record:a", "research"},
      {R"({"id": "a", "abstract": "x"})", "record:a", "research"},
      {R"({"id": "a", "text": "x", "type": "News"})", "record:a", "news"},
      {R"({"id": "a", "text": "x", "type": "blog"})", "record:a", "other"},
      {R"({"url": "not a url", "text": "x"})", "not a url", "other"},
  };
  for (const auto& c : cases) {
    INFO(c.record);
    auto got = document_from_json_record(c.record);
    REQUIRE(got);
    CHECK(got->id == c.id);
    CHECK(got->type == c.type);
  }
  auto long_text =
      document_from_json_record(R"({"id": "a", "text": ")" + std::string(400, 'x') + "\"}");
  REQUIRE(long_text);
  CHECK(long_text->description.size() == 300);
  auto split_authors = document_from_json_record(R"({"id": "a", "text": "x",)"
                                                 R"( "authors": "Ana Lima; Bo Chen ; "})");
  REQUIRE(split_authors);
  CHECK(joined(split_authors->authors) == "Ana Lima|Bo Chen");
}

TEST_CASE("document_from_json_record rejects bad records with a reason", "[records]") {
  struct Case {
    const char* record;
    const char* error;
  };
  const Case errors[] = {
      {"", "JSON: unexpected end at byte 0"},
      {"{\"id\": \"a\", \"text\": \"x\"", "JSON: expected ',' or '}'"},
      {"[1, 2]", "a record must be a JSON object"},
      {R"({"title": "T", "text": "x"})", "no 'url', 'id' or '_id'"},
      {R"({"id": "a"})", "no title and no text"},
      {R"({"id": "a", "title": " ", "text": "  "})", "no title and no text"},
      {R"({"id": "a", "title": ["T"]})", "'title' must be a string or a number"},
      {R"({"id": {"n": 1}, "title": "T"})", "'id' must be a string or a number"},
      {R"({"id": "a", "title": "T", "authors": 5})", "'authors' must be an array of strings"},
      {R"({"id": "a", "title": "T", "authors": [1]})", "'authors' must be an array of strings"},
      {R"({"id": "a", "title": "T", "publication_types": {}})", "'publication_types' must be"},
  };
  for (const auto& c : errors) {
    INFO(c.record);
    auto doc = document_from_json_record(c.record);
    REQUIRE_FALSE(doc);
    CHECK(doc.error().find(c.error) != std::string::npos);
  }
}

TEST_CASE("read_json_lines reads the records sample and reports its bad line", "[records]") {
  std::string data = read_file(source_path("fixtures/records/records-sample.jsonl"));
  REQUIRE(looks_like_json_lines(data));
  Collected got = read_lines(data);
  CHECK(got.failure == "");
  REQUIRE(got.errors.size() == 1);
  CHECK(got.errors[0].line == 5);
  CHECK(got.errors[0].message.find("unterminated string") != std::string::npos);
  REQUIRE(got.documents.size() == 5);
  const auto& docs = got.documents;
  CHECK(docs[0].id == "https://example.org/trials/ketamine-crps");
  CHECK(docs[0].evidence == "rct");
  CHECK(docs[0].pmid == "90000011");
  CHECK(docs[0].doi == "10.5555/crps.2020.77");
  CHECK(joined(docs[0].authors) == "Ines Faria|Tomasz Kowal");
  CHECK(docs[1].id == "record:0000042");
  CHECK(docs[1].type == "other");
  CHECK(joined(docs[2].authors) == "Ana Lima|Rafael Souza");
  CHECK(docs[2].date == "2019-03");
  CHECK(docs[2].type == "research");
  CHECK(docs[3].id == "record:5");
  CHECK(docs[3].type == "news");
  CHECK(docs[4].evidence == "review");
  CHECK(docs[4].type == "research");
}

TEST_CASE("read_json_lines skips a BOM and blank lines and accepts CRLF", "[records]") {
  Collected got = read_lines(
      "\xEF\xBB\xBF{\"id\": \"a\", \"text\": \"one\"}\r\n\r\n  \t\r\n{\"id\": \"b\", "
      "\"text\": \"two\"}\r\n{oops}\r\n{\"id\": \"c\", \"text\": \"three\"}");
  CHECK(got.failure == "");
  REQUIRE(got.documents.size() == 3);
  CHECK(got.documents[0].id == "record:a");
  CHECK(got.documents[0].text == "one");
  CHECK(got.documents[2].text == "three");
  REQUIRE(got.errors.size() == 1);
  CHECK(got.errors[0].line == 5);

  Collected empty = read_lines("\n\n");
  CHECK(empty.failure == "");
  CHECK(empty.documents.empty());
}

TEST_CASE("read_json_lines fails when no line is a record", "[records]") {
  Collected got = read_lines("id,title\n1,Ketamine\n");
  CHECK(got.errors.size() == 2);
  CHECK(got.failure.find("no readable record in 2 line(s)") != std::string::npos);
  CHECK(got.failure.find("line 1: JSON:") != std::string::npos);
}
