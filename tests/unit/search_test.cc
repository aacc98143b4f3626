// The searcher on a real index of the fixture site and records, built once
// in a temporary directory with the shipped core vocabulary: the query
// language (table-driven), concept expansion, snippets, facets against a
// brute-force count, spelling, sorting, collapsing, "more like this", and a
// table of malformed queries that must never fail or crash.
#include <xapian.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <set>

#include "medsearch/index_writer.h"
#include "medsearch/indexer.h"
#include "medsearch/output.h"
#include "medsearch/schema.h"
#include "medsearch/searcher.h"
#include "medsearch/text.h"
#include "medsearch/vocabulary.h"
#include "process.h"
#include "sample_index.h"

using namespace medsearch;
using namespace medsearch::testing;

namespace {

Searcher open_searcher() {
  auto searcher = Searcher::open({fixture_index().path});
  REQUIRE(searcher);
  return std::move(*searcher);
}

SearchResults search(const std::string& query, SearchOptions options = {}) {
  Searcher searcher = open_searcher();
  auto results = searcher.search(query, options);
  INFO("query: " << query);
  REQUIRE(results);
  return std::move(*results);
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool has_url(const SearchResults& results, const std::string& suffix) {
  return std::any_of(results.hits.begin(), results.hits.end(),
                     [&](const SearchHit& hit) { return ends_with(hit.doc.url, suffix); });
}

struct LanguageCase {
  std::string query;
  std::vector<std::string> parsed_has;  // substrings of Xapian's description
  std::vector<std::string> parsed_lacks;
  std::vector<std::string> must_find;  // URL suffixes in the top 20
  std::vector<std::string> must_not;   // URL suffixes not in the top 20
};

}  // namespace

TEST_CASE("the query language: each form parses as documented and finds its documents",
          "[search][query-language]") {
  const std::vector<LanguageCase> cases = {
      {"CRPS", {"XCcrps"}, {"Zcrps"}, {"learn/complex-regional-pain-syndrome.html"}, {}},
      {"\"CRPS\"",
       {"crps"},
       {"XCcrps"},
       {"learn/crps-explained.html"},
       {"learn/complex-regional-pain-syndrome.html"}},
      {"title:\"neuropathic pain\"",
       {"PHRASE", "ZSneuropath"},
       {},
       {"blog/neuropathic-pain-explained.html"},
       {"learn/crps-explained.html"}},
      {"ketamine year:2015..2024", {"VALUE_RANGE 0 20150000 20249999"}, {}, {}, {}},
      {"ketamine 2015:2020[dp]", {"VALUE_RANGE 0 20150000 20209999"}, {}, {}, {}},
      {"ketamine 2019[DP]", {"Y2019"}, {}, {}, {}},
      {"year:2020..", {"VALUE_GE 0 20200000"}, {}, {}, {}},
      {"year:..2019", {"VALUE_LE 0 20199999"}, {}, {}, {}},
      {"pain year:2021", {"Y2021"}, {}, {}, {}},
      {"pain date:2021-03-01..2022-06-30", {"VALUE_RANGE 0 20210301 20220630"}, {}, {}, {}},
      {"pain date:2024-06", {"M202406"}, {}, {"articles/ketamine-neuropathic-pain-trial.html"}, {}},
      {"ketamine type:research",
       {"XTYPEresearch"},
       {},
       {"articles/ketamine-fibromyalgia-rct.html"},
       {"blog/ketamine-infusion-chronic-pain.html"}},
      {"ketamine evidence:rct",
       {"XEVrct"},
       {},
       {"articles/ketamine-fibromyalgia-rct.html"},
       {"articles/nmda-receptors-central-pain-review.html"}},
      {"concept:crps", {"XCcrps"}, {"SYNONYM"}, {"learn/complex-regional-pain-syndrome.html"}, {}},
      {"concept:\"reflex sympathetic dystrophy\"",
       {"XCcrps"},
       {},
       {"learn/crps-explained.html"},
       {}},
      {"ketamine site:example.org", {"Hexample.org"}, {}, {}, {"learn/crps-explained.html"}},
      {"ketamine -depression", {"AND_NOT"}, {}, {}, {"blog/ketamine-depression-ptsd.html"}},
      {"ketamine AND fibromyalgia",
       {" AND "},
       {},
       {"articles/ketamine-fibromyalgia-rct.html"},
       {"learn/crps-explained.html"}},
      {"+fibromyalgia ketamine", {"AND_MAYBE"}, {}, {"blog/fibromyalgia-widespread-pain.html"}, {}},
      {"(fibromyalgia OR PTSD) NOT ketamine",
       {"AND_NOT"},
       {},
       {},
       {"articles/ketamine-fibromyalgia-rct.html"}},
      {"sensiti*", {"WILDCARD"}, {}, {"learn/central-sensitisation.html"}, {}},
      {"doi:10.5555/ctpm.2024.0122",
       {"XDOI10.5555/ctpm.2024.0122"},
       {},
       {"articles/ketamine-fibromyalgia-rct.html"},
       {"learn/crps-explained.html"}},
      {"lang:en ketamine", {"Len"}, {}, {}, {}},
  };
  Searcher searcher = open_searcher();
  for (const auto& c : cases) {
    INFO("query: " << c.query);
    SearchOptions options;
    options.limit = 20;
    auto results = searcher.search(c.query, options);
    REQUIRE(results);
    INFO("parsed: " << results->parsed);
    CHECK(results->notes.empty());
    for (const auto& part : c.parsed_has) CHECK(results->parsed.find(part) != std::string::npos);
    for (const auto& part : c.parsed_lacks) CHECK(results->parsed.find(part) == std::string::npos);
    for (const auto& url : c.must_find) CHECK(has_url(*results, url));
    for (const auto& url : c.must_not) CHECK_FALSE(has_url(*results, url));
  }
}

TEST_CASE("filters restrict every result", "[search][query-language]") {
  SearchOptions all;
  all.limit = 100;
  all.collapse = false;
  for (const auto& hit : search("ketamine type:research", all).hits)
    CHECK(hit.doc.type == "research");
  for (const auto& hit : search("pain evidence:rct", all).hits) CHECK(hit.doc.evidence == "rct");
  auto ranged = search("pain year:2020..2023", all);
  REQUIRE_FALSE(ranged.hits.empty());
  for (const auto& hit : ranged.hits) {
    INFO(hit.doc.url << " " << hit.doc.date);
    CHECK(hit.doc.date.substr(0, 4) >= "2020");
    CHECK(hit.doc.date.substr(0, 4) <= "2023");
  }
  // The same filters as options.
  SearchOptions options = all;
  options.types = {"clinic", "news"};
  options.years = "2025";
  auto filtered = search("pain", options);
  REQUIRE_FALSE(filtered.hits.empty());
  for (const auto& hit : filtered.hits) {
    CHECK((hit.doc.type == "clinic" || hit.doc.type == "news"));
    CHECK(hit.doc.date.substr(0, 4) == "2025");
  }
  CHECK(filtered.explain.filters.size() == 3);
  // A filter alone lists what it allows.
  SearchOptions only_site = all;
  only_site.sites = {"pubmed.ncbi.nlm.nih.gov"};
  auto site = search("", only_site);
  REQUIRE_FALSE(site.hits.empty());
  for (const auto& hit : site.hits) CHECK(hit.doc.site == "pubmed.ncbi.nlm.nih.gov");
  // A bad option value is an error, not a silent empty page.
  SearchOptions bad = all;
  bad.types = {"blog"};
  Searcher searcher = open_searcher();
  auto failed = searcher.search("pain", bad);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().find("research, clinic, news, other") != std::string::npos);
  // Dates the calendar lacks are told as such, not searched for nothing.
  for (const char* query : {"pain date:2021-13", "pain date:2021-00-10", "pain date:2021-02-29",
                            "pain date:2021-04-31", "pain date:2020-01-01..2021-06-31"}) {
    INFO(query);
    auto told = search(query);
    REQUIRE(told.notes.size() == 1);
    CHECK(told.notes[0].find("date: wants YYYY-MM-DD") != std::string::npos);
  }
  for (const char* query : {"pain date:2020-02-29", "pain date:2000-02-29", "pain date:2021-12-31",
                            "pain date:2021-01..2021-12"}) {
    INFO(query);
    CHECK(search(query).notes.empty());
  }
  CHECK(search("pain date:1900-02-29").notes.size() == 1);  // not a leap year
}

TEST_CASE("every variant of a concept returns the same top document; quotes do not expand",
          "[search][concepts]") {
  auto a = search("CRPS"), b = search("complex regional pain syndrome"),
       c = search("reflex sympathetic dystrophy");
  REQUIRE_FALSE(a.hits.empty());
  REQUIRE_FALSE(b.hits.empty());
  REQUIRE_FALSE(c.hits.empty());
  CHECK(a.hits[0].doc.url == b.hits[0].doc.url);
  CHECK(a.hits[0].doc.url == c.hits[0].doc.url);
  std::set<std::string> top_a, top_b;
  for (size_t i = 0; i < 5 && i < a.hits.size(); ++i) top_a.insert(a.hits[i].doc.url);
  for (size_t i = 0; i < 5 && i < b.hits.size(); ++i) top_b.insert(b.hits[i].doc.url);
  CHECK(top_a == top_b);

  auto quoted = search("\"CRPS\"");
  CHECK(quoted.parsed.find("XC") == std::string::npos);
  CHECK(quoted.total < a.total);
  REQUIRE(quoted.explain.concepts.empty());

  // --explain names the concept and the variants searched.
  REQUIRE(a.explain.concepts.size() == 1);
  CHECK(a.explain.concepts[0].id == "crps");
  CHECK(a.explain.concepts[0].text == "CRPS");
  auto& variants = a.explain.concepts[0].variants;
  CHECK(std::find(variants.begin(), variants.end(), "reflex sympathetic dystrophy") !=
        variants.end());

  // Spelling variants meet in one term.
  auto british = search("sensitisation"), american = search("sensitization");
  CHECK(british.total == american.total);
  CHECK(has_url(british, "learn/central-sensitization.html"));
  CHECK(has_url(american, "learn/central-sensitisation.html"));
}

TEST_CASE("snippets highlight the concept variants that matched", "[search][snippets]") {
  SearchOptions options;
  options.limit = 20;
  auto results = search("CRPS", options);
  auto it = std::find_if(results.hits.begin(), results.hits.end(), [](const SearchHit& hit) {
    return ends_with(hit.doc.url, "learn/complex-regional-pain-syndrome.html");
  });
  REQUIRE(it != results.hits.end());
  INFO(it->snippet);
  CHECK(ascii_lower(it->snippet).find("<mark>complex regional pain syndrome</mark>") !=
        std::string::npos);
  // Words are highlighted as Xapian stems them.
  auto words = search("infusions");
  REQUIRE_FALSE(words.hits.empty());
  CHECK(ascii_lower(words.hits[0].snippet).find("<mark>infusion") != std::string::npos);
}

TEST_CASE("a result without the query's words shows the start of its text", "[search][snippets]") {
  // title: searches a field Xapian's snippets never mark, so no word of the
  // text is marked: the snippet is the text's beginning, not some window.
  SearchOptions options;
  options.limit = 5;
  auto results = search("title:ketamine", options);
  REQUIRE_FALSE(results.hits.empty());
  Xapian::Database db(fixture_index().path);
  for (const auto& hit : results.hits) {
    INFO(hit.doc.url << ": " << hit.snippet);
    std::string text = collapse_whitespace(
        schema::decode_document_data(db.get_document(hit.docid).get_data()).text);
    std::string shown = snippet_to_text(hit.snippet, "", "");
    CHECK(hit.snippet.find("<mark>") == std::string::npos);
    if (text.empty()) {  // a record with a title alone
      CHECK(shown.empty());
      continue;
    }
    REQUIRE(shown.size() > 20);
    if (shown.size() >= 3 && shown.compare(shown.size() - 3, 3, "…") == 0)
      shown.erase(shown.size() - 3);
    CHECK(text.compare(0, shown.size(), shown) == 0);
  }
  // With the word in the text, the snippet marks it.
  auto word = search("title:ketamine allodynia", options);
  REQUIRE_FALSE(word.hits.empty());
  CHECK(ascii_lower(word.hits[0].snippet).find("<mark>allodynia") != std::string::npos);
}

TEST_CASE("facet counts equal a brute-force count over the whole match set", "[search][facets]") {
  SearchOptions options;
  options.collapse = false;
  options.feedback = false;  // the hits are then exactly the match set
  options.limit = 1000;
  options.facet_values = 1000;
  options.facets = {"site", "year", "type", "evidence", "concept"};
  Xapian::Database db(fixture_index().path);
  // Words ORed are counted from their posting lists, other queries by the
  // matcher; a searcher's first search may read each match's values, later
  // ones use columns of the whole index. Every way must count the same.
  SearchResults results;
  for (const char* query : {"pain OR ketamine", "ketamine infusion", "CRPS", "pain AND ketamine",
                            "pain -ketamine", "\"neuropathic pain\"", "pain type:clinic"}) {
    for (bool warm : {false, true}) {
      INFO("query: " << query << (warm ? ", after another search" : ", first search"));
      Searcher searcher = open_searcher();
      if (warm) REQUIRE(searcher.search("allodynia", options));
      auto found = searcher.search(query, options);
      REQUIRE(found);
      results = std::move(*found);
      REQUIRE_FALSE(results.hits.empty());
      REQUIRE(results.total_exact);
      REQUIRE(results.hits.size() == results.total);
      REQUIRE(results.facets.size() == 5);

      std::map<std::string, std::map<std::string, uint64_t>> expected;
      for (const auto& hit : results.hits) {
        const Document& d = hit.doc;
        if (!d.site.empty()) ++expected["site"][ascii_lower(d.site)];
        if (!d.date.empty()) ++expected["year"][d.date.substr(0, 4)];
        if (!d.type.empty()) ++expected["type"][d.type];
        if (!d.evidence.empty()) ++expected["evidence"][d.evidence];
        Xapian::Document xdoc = db.get_document(hit.docid);
        for (auto t = xdoc.termlist_begin(); t != xdoc.termlist_end(); ++t) {
          std::string term = *t;
          if (term.rfind("XC", 0) != 0) continue;
          term.erase(0, 2);
          if (!term.empty() && term[0] == ':') term.erase(0, 1);
          ++expected["concept"][term];
        }
      }
      for (const auto& facet : results.facets) {
        INFO("facet " << facet.name);
        std::map<std::string, uint64_t> got;
        for (const auto& v : facet.values) got[v.value] = v.count;
        CHECK(got == expected[facet.name]);
        CHECK(facet.distinct == expected[facet.name].size());
        for (size_t i = 1; i < facet.values.size(); ++i)
          CHECK(facet.values[i - 1].count >= facet.values[i].count);
      }
    }
  }
  // Concept values carry their names.
  results = search("pain OR ketamine", options);
  const Facet& concepts = results.facets[4];
  auto crps = std::find_if(concepts.values.begin(), concepts.values.end(),
                           [](const FacetValue& v) { return v.value == "crps"; });
  REQUIRE(crps != concepts.values.end());
  CHECK(crps->label == "complex regional pain syndrome");

  Searcher searcher = open_searcher();
  SearchOptions unknown;
  unknown.facets = {"colour"};
  CHECK_FALSE(searcher.search("pain", unknown));
}

TEST_CASE("facet counts over a larger index equal a brute-force count, however they are counted",
          "[search][facets]") {
  // 1,500 documents, so that match sets span many 64-document words of bits
  // and the last documents are counted too: facets with few values (counted
  // from bits) and with many (document by document), and concepts ranging
  // from every document to a handful, for large and small match sets alike.
  TempDir dir;
  const std::string path = dir / "index";
  auto vocabulary = std::make_shared<Vocabulary>();
  std::string tsv;
  constexpr int kConcepts = 40;
  for (int k = 0; k < kConcepts; ++k)
    tsv += "c" + std::to_string(k) + "\tConcept " + std::to_string(k) + "\tzq" + std::to_string(k) +
           "term\n";
  REQUIRE(vocabulary->load_tsv(tsv, "test"));
  vocabulary->compile();
  constexpr int kDocuments = 1500;
  {
    auto writer = IndexWriter::open(path);
    REQUIRE(writer);
    REQUIRE((*writer)->set_vocabulary(vocabulary));
    uint64_t state = 20261122;
    auto next = [&state] {  // SplitMix64: the same documents every run
      uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      return z ^ (z >> 31);
    };
    for (int i = 0; i < kDocuments; ++i) {
      Document d;
      d.id = d.url = "https://facets.test/" + std::to_string(i);
      d.title = "Page " + std::to_string(i);
      d.site = "site" + std::to_string(i % 7) + ".test";
      // Years: more values than a column keeps bits for; sites and types: few.
      d.date = std::to_string(1900 + i % 97) + "-01-01";
      d.type = i % 3 == 0 ? "research" : "clinic";
      d.text = "everywhere";
      if (i % 2 == 0) d.text += " half";
      if (i % 97 == 0) d.text += " scarce";
      // Concept k in about 1 document in k + 1: c0 in all, c39 in a few.
      for (int k = 0; k < kConcepts; ++k)
        if (next() % uint64_t(k + 1) == 0) d.text += " zq" + std::to_string(k) + "term";
      REQUIRE((*writer)->put(d));
    }
    REQUIRE((*writer)->commit());
  }
  Xapian::Database db(path);
  REQUIRE(db.get_doccount() == kDocuments);
  SearchOptions options;
  options.collapse = false;
  options.feedback = false;
  options.limit = kDocuments;
  options.facet_values = 1000;
  options.facets = {"site", "year", "type", "concept"};
  for (const char* query :
       {"everywhere", "half", "scarce", "half OR scarce", "zq3term", "zq30term", "half zq20term"}) {
    for (bool warm : {false, true}) {
      INFO("query: " << query << (warm ? ", after another search" : ", first search"));
      auto searcher = Searcher::open({path});
      REQUIRE(searcher);
      if (warm) REQUIRE(searcher->search("scarce", options));
      auto found = searcher->search(query, options);
      REQUIRE(found);
      REQUIRE_FALSE(found->hits.empty());
      REQUIRE(found->hits.size() == found->total);
      std::map<std::string, std::map<std::string, uint64_t>> expected;
      for (const auto& hit : found->hits) {
        ++expected["site"][hit.doc.site];
        ++expected["year"][hit.doc.date.substr(0, 4)];
        ++expected["type"][hit.doc.type];
        Xapian::Document xdoc = db.get_document(hit.docid);
        for (auto t = xdoc.termlist_begin(); t != xdoc.termlist_end(); ++t)
          if ((*t).rfind("XC", 0) == 0) ++expected["concept"][(*t).substr(2)];
      }
      REQUIRE(expected["concept"].size() > 10);
      for (const auto& facet : found->facets) {
        INFO("facet " << facet.name);
        std::map<std::string, uint64_t> got;
        for (const auto& v : facet.values) got[v.value] = v.count;
        CHECK(got == expected[facet.name]);
        CHECK(facet.distinct == expected[facet.name].size());
      }
    }
  }
}

TEST_CASE("concept filters restrict matches like required concept terms", "[search]") {
  auto ids_of = [](const SearchResults& r) {
    std::set<std::string> out;
    for (const auto& hit : r.hits) out.insert(hit.doc.id);
    return out;
  };
  SearchOptions all;
  all.limit = 1000;
  all.collapse = false;
  SearchOptions filtered = all;
  filtered.concepts = {"crps"};
  auto required = search("pain +concept:crps", all);
  auto by_option = search("pain", filtered);
  REQUIRE_FALSE(by_option.hits.empty());
  CHECK(ids_of(by_option) == ids_of(required));
  CHECK(ids_of(by_option).size() < ids_of(search("pain", all)).size());
  // A broken query falls back to words and keeps the filter.
  auto fallback = search("pain AND (", filtered);
  CHECK_FALSE(fallback.notes.empty());
  CHECK(ids_of(fallback) == ids_of(by_option));
  // By name too; an unknown concept is an error, not an empty page.
  filtered.concepts = {"complex regional pain syndrome"};
  CHECK(ids_of(search("pain", filtered)) == ids_of(by_option));
  filtered.concepts = {"no-such-concept"};
  Searcher searcher = open_searcher();
  CHECK_FALSE(searcher.search("pain", filtered));
}

TEST_CASE("facets read from each match equal facets from columns", "[search][facets]") {
  // A fresh searcher reads the values of each match when they are few (a CGI
  // request); one that has searched before uses columns of the whole index.
  SearchOptions options;
  options.facet_values = 1000;
  options.facets = {"site", "year", "type", "evidence", "concept"};
  for (const char* query : {"allodynia", "crps", "ketamine infusion", "NMDA", "pain OR ketamine"}) {
    INFO("query: " << query);
    Searcher fresh = open_searcher();
    Searcher warm = open_searcher();
    REQUIRE(warm.search("pain", options));
    auto read = fresh.search(query, options);
    auto columns = warm.search(query, options);
    REQUIRE(read);
    REQUIRE(columns);
    CHECK(read->total == columns->total);
    REQUIRE(read->facets.size() == columns->facets.size());
    bool any_concept = false;
    for (size_t i = 0; i < read->facets.size(); ++i) {
      const Facet& a = read->facets[i];
      const Facet& b = columns->facets[i];
      INFO("facet " << a.name);
      CHECK(a.distinct == b.distinct);
      REQUIRE(a.values.size() == b.values.size());
      for (size_t k = 0; k < a.values.size(); ++k) {
        CHECK(a.values[k].value == b.values[k].value);
        CHECK(a.values[k].label == b.values[k].label);
        CHECK(a.values[k].count == b.values[k].count);
      }
      any_concept = any_concept || (a.name == "concept" && !a.values.empty());
    }
    CHECK(any_concept);
  }
}

TEST_CASE("spelling: suggestions for unknown words, never for vocabulary terms",
          "[search][spelling]") {
  auto typo = search("neuropatic pain");
  CHECK(typo.suggestion == "neuropathic pain");
  CHECK(typo.explain.spelling == std::vector<std::string>{"neuropatic -> neuropathic"});

  SearchOptions correct;
  correct.auto_correct = true;
  auto fixed = search("ketamin infusion", correct);
  CHECK(fixed.query == "ketamine infusion");
  CHECK(fixed.corrected_from == "ketamin infusion");
  CHECK_FALSE(fixed.hits.empty());
  CHECK(fixed.suggestion.empty());

  // Vocabulary terms are left alone even where the index rarely has them.
  for (const char* term : {"Ketalar", "esketamine", "algodystrophy", "causalgia"}) {
    INFO(term);
    CHECK(search(term).suggestion.empty());
  }
  // Known words, quoted words and field values are left alone.
  CHECK(search("ketamine infusion").suggestion.empty());
  CHECK(search("\"neuropatic\"").suggestion.empty());
  CHECK(search("title:neuropatic").suggestion.empty());
}

TEST_CASE("sorting by date, collapsing near-copies, more like this", "[search]") {
  SearchOptions newest;
  newest.sort = SortOrder::kDateDescending;
  newest.limit = 50;
  auto by_date = search("pain", newest);
  std::vector<std::string> dates;
  for (const auto& hit : by_date.hits)
    if (!hit.doc.date.empty()) dates.push_back(schema::date_slot_value(hit.doc.date));
  REQUIRE(dates.size() > 5);
  CHECK(std::is_sorted(dates.rbegin(), dates.rend()));
  SearchOptions oldest = newest;
  oldest.sort = SortOrder::kDate;
  auto ascending = search("ketamine", oldest);
  std::string previous;
  for (const auto& hit : ascending.hits) {
    std::string date = schema::date_slot_value(hit.doc.date);
    CHECK(date >= previous);
    previous = date;
  }
  CHECK_FALSE(parse_sort_order("newest"));

  SearchOptions collapse;
  collapse.limit = 50;
  auto folded = search("ketamine clinics multiply", collapse);
  size_t copies = 0;
  uint32_t similar = 0;
  for (const auto& hit : folded.hits)
    if (hit.doc.url.find("/ketamine-clinics") != std::string::npos)
      ++copies, similar += hit.similar;
  CHECK(copies == 1);
  CHECK(similar == 1);
  collapse.collapse = false;
  auto unfolded = search("ketamine clinics multiply", collapse);
  copies = 0;
  for (const auto& hit : unfolded.hits)
    copies += hit.doc.url.find("/ketamine-clinics") != std::string::npos;
  CHECK(copies == 2);

  SearchOptions like;
  like.like = "https://example.org/trials/ketamine-crps";  // a record's URL
  auto related = search("", like);
  REQUIRE_FALSE(related.hits.empty());
  for (const auto& hit : related.hits) CHECK(hit.doc.url != like.like);
  CHECK(related.explain.like == like.like);
  // The most similar documents are about the same thing.
  std::string top = ascii_lower(related.hits[0].doc.title + " " + related.hits[0].snippet);
  CHECK((top.find("crps") != std::string::npos ||
         top.find("complex regional") != std::string::npos ||
         top.find("ketamine") != std::string::npos));
  Searcher searcher = open_searcher();
  SearchOptions missing;
  missing.like = "https://nowhere.test/";
  auto none = searcher.search("", missing);
  REQUIRE_FALSE(none);
  CHECK(none.error().find("no document") != std::string::npos);
  // By docid too; docids that no document has, 0 among them, are not found
  // either, with the same message (0 once surfaced Xapian's own error).
  SearchOptions by_docid;
  by_docid.like = std::to_string(related.hits[0].docid);
  auto same = searcher.search("", by_docid);
  REQUIRE(same);
  REQUIRE_FALSE(same->hits.empty());
  for (const char* ref : {"0", "999999999"}) {
    INFO("--like " << ref);
    by_docid.like = ref;
    auto unknown = searcher.search("", by_docid);
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().find("no document with the URL, id or docid") != std::string::npos);
  }
}

TEST_CASE("a concept joined to other text is still searched as the concept", "[search][concepts]") {
  // "CRPS-related" and "ketamine/esketamine": each concept found, the other
  // words searched too, nothing dropped and no operator made of the joint.
  auto joined = search("CRPS-related pain");
  CHECK(joined.parsed.find("XCcrps") != std::string::npos);
  CHECK(joined.parsed.find("XCpain") != std::string::npos);
  CHECK(joined.parsed.find("NOT") == std::string::npos);
  auto both = search("ketamine/esketamine");
  CHECK(both.parsed.find("XCketamine") != std::string::npos);
  CHECK(both.parsed.find("XCesketamine") != std::string::npos);
  CHECK_FALSE(both.hits.empty());
  auto hyphen = search("anti-NMDA");
  CHECK(hyphen.parsed.find("XCnmda") != std::string::npos);
}

TEST_CASE("malformed queries never fail or crash, and always say something",
          "[search][malformed]") {
  const std::vector<std::string> queries = {
      "\"",
      "(",
      ")",
      "((((",
      "AND",
      "OR OR",
      "NOT",
      "-",
      "+",
      "*",
      "***",
      "ketamine AND",
      "AND ketamine",
      "title:",
      ":",
      "::::",
      "year:",
      "year:abc",
      "year:2024..2015",
      "year:..",
      "year:20..2030",
      "date:2021-13-45..x",
      "date:yesterday",
      "concept:",
      "concept:zzzz",
      "concept:\"\"",
      "type:bogus",
      "evidence:anecdote",
      "site:",
      "pmid:abc",
      "lang:english",
      "\"unclosed phrase",
      "ketamine\"",
      "a..b",
      "..",
      "[dp]",
      "2015:2020[dp",
      "\x01\x02",
      "\xff\xfe\xfd",
      "ketamine \xc3",
      std::string(5000, 'a'),
      std::string(300, '('),
      "title:(\"a\" OR",
      "NEAR",
      "ketamine NEAR/3",
      "x:y:z",
      // Concept placeholders joined to more text crashed Xapian 1.4's parser
      // (fuzz/regressions/query), and the placeholder fields themselves typed.
      "+n +NMDA@p",
      "+a +CRPS.p",
      "+pain +\"crps\" +ketamine/x",
      "a AND ketamine@p",
      "xconcept:5 pain",
      "+pain +xconcept:\"0 p\"",
      "xcid:3",
  };
  Searcher searcher = open_searcher();
  for (const auto& query : queries) {
    INFO("query: " << query.substr(0, 60));
    auto results = searcher.search(query, {});
    REQUIRE(results);
    // Either results, or a word to the user about why there are none.
    CHECK((!results->hits.empty() || !results->notes.empty() || results->total == 0));
    if (results->hits.empty() && results->parsed == "Query()") CHECK_FALSE(results->notes.empty());
  }
  auto bad_year = searcher.search("pain year:2024..2015", {});
  REQUIRE(bad_year);
  REQUIRE_FALSE(bad_year->notes.empty());
  CHECK(bad_year->notes[0].find("ends before it starts") != std::string::npos);
  CHECK_FALSE(bad_year->hits.empty());  // searched as plain words
}

TEST_CASE("pseudo-relevance feedback finds documents without the query's words",
          "[search][feedback]") {
  const std::string& path = feedback_index().path;
  auto searcher = Searcher::open({path});
  REQUIRE(searcher);
  auto found = [&](const SearchResults& r) {
    return std::any_of(r.hits.begin(), r.hits.end(), [](const SearchHit& h) {
      return h.doc.url == "https://feedback.test/target";
    });
  };
  SearchOptions with, without;
  without.feedback = false;
  auto expanded = searcher->search("zolmitriptan", with);
  auto plain = searcher->search("zolmitriptan", without);
  REQUIRE(expanded);
  REQUIRE(plain);
  CHECK_FALSE(found(*plain));
  CHECK(found(*expanded));
  // Function words are never feedback terms: "and" and "for" are in every
  // top document and rare elsewhere, but say nothing of the subject.
  CHECK(std::none_of(expanded->hits.begin(), expanded->hits.end(), [](const SearchHit& h) {
    return h.doc.url == "https://feedback.test/decoy";
  }));
  // The documents with the word still come first.
  REQUIRE(expanded->hits.size() >= 6);
  for (size_t i = 0; i < 5; ++i)
    CHECK(expanded->hits[i].doc.title.rfind("Zolmitriptan trial", 0) == 0);
  // Snippets mark the word asked for, not the feedback's words ("triptan",
  // "photophobia"); the document found through them alone has none marked.
  for (const SearchHit& hit : expanded->hits) {
    INFO(hit.doc.url << ": " << hit.snippet);
    std::string marks;
    for (size_t at = hit.snippet.find("<mark>"); at != std::string::npos;
         at = hit.snippet.find("<mark>", at + 1))
      marks += hit.snippet.substr(at + 6, hit.snippet.find("</mark>", at) - at - 6) + " ";
    if (hit.doc.url == "https://feedback.test/target")
      CHECK(marks.empty());
    else
      CHECK(marks == "zolmitriptan ");
  }
  // The count is of the documents with the word, as the facets count them;
  // the ones the feedback adds are counted apart, as related.
  CHECK(plain->total == 5);
  CHECK(plain->related == 0);
  CHECK(expanded->total == 5);
  CHECK(expanded->total_exact);
  CHECK(expanded->related >= 1);
  SearchOptions faceted;
  faceted.facets = {"type"};
  auto counted = searcher->search("zolmitriptan", faceted);
  REQUIRE(counted);
  CHECK(counted->total == 5);
  CHECK(counted->total_exact);
  CHECK(counted->related == expanded->related);
  REQUIRE(counted->facets.size() == 1);
  REQUIRE(counted->facets[0].values.size() == 1);
  CHECK(counted->facets[0].values[0].count == 5);
  CHECK(results_to_text(*counted, false).find("5 results for \"zolmitriptan\", and about ") !=
        std::string::npos);
  CHECK(results_to_json(*counted).find("\"related\":" + std::to_string(counted->related)) !=
        std::string::npos);
  // With a field or an operator, feedback only reorders: nothing new.
  auto structured = searcher->search("title:zolmitriptan", with);
  REQUIRE(structured);
  CHECK_FALSE(found(*structured));
  CHECK(structured->total == 5);
  CHECK(structured->related == 0);
}

TEST_CASE("a damaged index is reported at once, not retried as if a writer were committing",
          "[search][faults]") {
  TempDir dir;
  std::string path = dir / "index";
  {
    auto writer = IndexWriter::open(path);
    REQUIRE(writer);
    for (int i = 0; i < 50; ++i) {
      Document d;
      d.id = d.url = "https://damaged.test/" + std::to_string(i);
      d.title = "Page " + std::to_string(i);
      d.text = "ketamine infusion for chronic pain, case " + std::to_string(i);
      REQUIRE((*writer)->put(d));
    }
    REQUIRE((*writer)->commit());
  }
  // Every table block overwritten; the version file left as it was, so no
  // commit can be mistaken for the cause.
  for (const char* table : {"postlist.glass", "docdata.glass", "termlist.glass"}) {
    std::string file = path + "/" + table;
    size_t size = read_file(file).size();
    std::ofstream(file, std::ios::binary) << std::string(size, 'x');
  }
  // Opening retries for up to 5 s while commits replace the version file; an
  // index whose version file stays the same is not retried, so the error
  // comes in far less time than that (a few milliseconds here).
  auto started = std::chrono::steady_clock::now();
  auto searcher = Searcher::open({path});
  auto elapsed = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(searcher);
  CHECK(searcher.error().find("cannot open index") != std::string::npos);
  CHECK(searcher.error().find("Corrupt") != std::string::npos);
  CHECK(elapsed < std::chrono::seconds(3));
}
