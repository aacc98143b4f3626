// The whole slice, as a user runs it: the fixture site served on 127.0.0.1,
// crawled by the real medcrawl, indexed by medindex, searched by medsearch and
// medsearch.cgi, each in a fresh temporary directory.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "fixture_server.h"
#include "medsearch/json.h"
#include "medsearch/text.h"
#include "process.h"

using namespace medsearch;
using namespace medsearch::testing;

namespace {

struct QueryExpectation {
  std::string query;
  std::string top_path;                // the path that must rank first
  std::vector<std::string> must_find;  // paths that must be in the top 10
  std::vector<std::string> must_not;   // paths that must not be in the results
};

// fixtures/expected/queries.tsv: QUERY<TAB>TOP PATH<TAB>PATH,...<TAB>PATH,...
std::vector<QueryExpectation> load_expectations() {
  std::ifstream in(source_path("fixtures/expected/queries.tsv"));
  REQUIRE(in);
  std::vector<QueryExpectation> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto fields = split(line, '\t');
    REQUIRE(fields.size() >= 2);
    QueryExpectation e{fields[0], fields[1], {}, {}};
    if (fields.size() > 2 && !fields[2].empty()) e.must_find = split(fields[2], ',');
    if (fields.size() > 3 && !fields[3].empty()) e.must_not = split(fields[3], ',');
    out.push_back(e);
  }
  return out;
}

// The crawl, index and server shared by the tests of this file; built once.
struct Slice {
  TempDir dir;
  FixtureServer server{source_path("fixtures/site"), source_path("fixtures/routes.tsv")};
  std::string crawl = dir / "crawl";
  std::string index = dir / "index";
  ProcessResult crawl_run, index_run;

  Slice() {
    server.start();
    crawl_run = run_process(
        {bin_path("medcrawl"), "--out", crawl, "--delay", "0", "--quiet", server.url("/")});
    index_run = run_process({bin_path("medindex"), "--db", index, "--quiet", crawl});
  }

  JsonValue search_json(const std::string& query, const std::string& limit = "10") {
    ProcessResult r = run_process(
        {bin_path("medsearch"), "--db", index, "--format", "json", "--limit", limit, query});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto parsed = parse_json(r.out);
    INFO(r.out);
    REQUIRE(parsed);
    return *parsed;
  }

  std::vector<std::string> paths(const JsonValue& results) {
    std::vector<std::string> out;
    std::string origin = server.url("");
    for (const auto& hit : results.find("results")->items()) {
      std::string url = hit.text("url");
      out.push_back(url.rfind(origin, 0) == 0 ? url.substr(origin.size()) : url);
    }
    return out;
  }
};

Slice& slice() {
  static Slice instance;
  return instance;
}

}  // namespace

TEST_CASE("crawl and index of the fixture site succeed", "[e2e]") {
  Slice& s = slice();
  INFO(s.crawl_run.err);
  CHECK(s.crawl_run.exit_code == 0);
  INFO(s.index_run.err);
  CHECK(s.index_run.exit_code == 0);
}

TEST_CASE("the crawler never requests what robots.txt disallows", "[e2e]") {
  Slice& s = slice();
  bool fetched_robots = false;
  for (const auto& request : s.server.requests()) {
    INFO(request.path);
    CHECK(request.path.rfind("/private/", 0) != 0);
    fetched_robots = fetched_robots || request.path == "/robots.txt";
  }
  CHECK(fetched_robots);
  // robots.txt is archived by the crawl but is not a document.
  CHECK(s.paths(s.search_json("Disallow sitemap")).empty());
  JsonValue results = s.search_json("internal roster");
  for (const auto& path : s.paths(results)) CHECK(path.rfind("/private/", 0) != 0);
}

TEST_CASE("queries rank the expected fixture pages", "[e2e]") {
  Slice& s = slice();
  for (const auto& e : load_expectations()) {
    INFO("query: " << e.query);
    auto found = s.paths(s.search_json(e.query, "50"));
    INFO("results: " << [&] {
      std::string all;
      for (const auto& p : found) all += p + " ";
      return all;
    }());
    REQUIRE_FALSE(found.empty());
    if (e.top_path != "-") CHECK(found[0] == e.top_path);
    for (const auto& path : e.must_find)
      CHECK(std::find(found.begin(), found.end(), path) != found.end());
    for (const auto& path : e.must_not)
      CHECK(std::find(found.begin(), found.end(), path) == found.end());
  }
}

TEST_CASE("results carry title, url, snippet and score", "[e2e]") {
  Slice& s = slice();
  JsonValue results = s.search_json("ketamine");
  CHECK(results.find("total")->as_number() >= 10);
  for (const auto& hit : results.find("results")->items()) {
    CHECK_FALSE(hit.text("title").empty());
    CHECK(hit.text("url").rfind(s.server.url("/"), 0) == 0);
    CHECK(hit.find("score")->as_number() > 0);
    CHECK(hit.text("snippet").find("<mark>") != std::string::npos);
  }
}

TEST_CASE("re-crawling and re-indexing never duplicates a document", "[e2e]") {
  Slice& s = slice();
  JsonValue before = s.search_json("ketamine", "100");
  size_t requests_before = s.server.requests().size();
  ProcessResult crawl = run_process(
      {bin_path("medcrawl"), "--out", s.crawl, "--delay", "0", "--quiet", s.server.url("/")});
  INFO(crawl.err);
  REQUIRE(crawl.exit_code == 0);
  ProcessResult index = run_process({bin_path("medindex"), "--db", s.index, s.crawl});
  INFO(index.err);
  REQUIRE(index.exit_code == 0);
  CHECK(index.err.find(" 0 added, 0 replaced") != std::string::npos);
  // A resumed crawl of a finished crawl fetches no page again.
  for (size_t i = requests_before; i < s.server.requests().size(); ++i)
    CHECK(s.server.requests()[i].path == "/robots.txt");

  JsonValue after = s.search_json("ketamine", "100");
  auto paths = s.paths(after);
  std::set<std::string> unique(paths.begin(), paths.end());
  CHECK(unique.size() == paths.size());
  CHECK(paths == s.paths(before));
  CHECK(after.find("total")->as_number() == before.find("total")->as_number());
}

TEST_CASE("a page and its print copy with rel=canonical are one document", "[e2e]") {
  Slice& s = slice();
  auto paths = s.paths(s.search_json("ketamine CRPS review", "100"));
  CHECK(std::count(paths.begin(), paths.end(), "/articles/ketamine-crps-review.html") == 1);
  CHECK(std::count(paths.begin(), paths.end(), "/articles/ketamine-crps-review-print.html") == 0);
}

TEST_CASE("the PDF article is crawled and searchable", "[e2e]") {
  Slice& s = slice();
  auto paths = s.paths(s.search_json("ketamine neuropathic pain trial", "20"));
  CHECK(std::find(paths.begin(), paths.end(), "/articles/ketamine-neuropathic-pain-trial.pdf") !=
        paths.end());
}

TEST_CASE("medsearch prints readable text and reports usage errors", "[e2e]") {
  Slice& s = slice();
  ProcessResult text = run_process({bin_path("medsearch"), "--db", s.index, "NMDA", "receptor"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("1. ") != std::string::npos);
  CHECK(text.out.find(s.server.url("/")) != std::string::npos);
  CHECK(text.out.find("\x1b[") == std::string::npos);  // no colour when piped

  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  } cases[] = {
      {{"--db", s.index}, 2, "medsearch: error: no query given"},
      {{"--db", s.index, "--format", "xml", "x"}, 2, "medsearch: error: --format must be"},
      {{"--bogus"}, 2, "medsearch: error: unrecognised option"},
      {{"--db", s.dir / "missing", "x"}, 1, "medsearch: error: no index at"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv{bin_path("medsearch")};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    ProcessResult r = run_process(argv);
    INFO(r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.err.rfind(c.message, 0) == 0);
  }
  for (const char* program : {"medsearch", "medindex", "medcrawl", "medsearch.cgi"}) {
    CHECK(run_process({bin_path(program), "--help"}).exit_code == 0);
    ProcessResult version = run_process({bin_path(program), "--version"});
    CHECK(version.exit_code == 0);
    CHECK(version.out.rfind(program, 0) == 0);
  }
}

TEST_CASE("medsearch.cgi serves results, escapes input and rejects bad requests", "[e2e][cgi]") {
  Slice& s = slice();
  std::string config = s.dir / "medsearch.conf";
  std::ofstream(config) << "# test configuration\nindex = " << s.index << "\ntitle = Test search\n";
  auto cgi = [&](const std::string& query, const std::string& method = "GET") {
    return run_process(
        {bin_path("medsearch.cgi")},
        {"MEDSEARCH_CONFIG=" + config, "REQUEST_METHOD=" + method, "QUERY_STRING=" + query});
  };
  ProcessResult page = cgi("q=ketamine+depression");
  CHECK(page.out.rfind("Status: 200", 0) == 0);
  CHECK(page.out.find("Content-Type: text/html; charset=utf-8") != std::string::npos);
  CHECK(page.out.find("/blog/ketamine-depression-ptsd.html") != std::string::npos);

  ProcessResult xss = cgi("q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22");
  CHECK(xss.out.find("<script>") == std::string::npos);
  CHECK(xss.out.find("&lt;script&gt;") != std::string::npos);

  ProcessResult json = cgi("q=CRPS&format=json");
  CHECK(json.out.find("Content-Type: application/json") != std::string::npos);
  auto body = parse_json(json.out.substr(json.out.find("\r\n\r\n") + 4));
  REQUIRE(body);
  CHECK(body->find("results") != nullptr);

  CHECK(cgi("q=%zz").out.rfind("Status: 400", 0) == 0);
  CHECK(cgi("q=%FF").out.rfind("Status: 400", 0) == 0);
  CHECK(cgi("q=x", "POST").out.rfind("Status: 405", 0) == 0);
  ProcessResult head = cgi("q=ketamine", "HEAD");
  CHECK(head.out.rfind("Status: 200", 0) == 0);
  CHECK(head.out.find("<html") == std::string::npos);
  ProcessResult landing = cgi("");
  CHECK(landing.out.find("autofocus") != std::string::npos);
}
