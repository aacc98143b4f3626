// The web search box in-process: the template language and its escaping,
// parameter and configuration parsing (table-driven), and the request handler
// over a real index of the fixture site with the shipped templates: filters,
// paging, JSON, headers, errors, and XSS payloads in every parameter; and
// published collections (?collection=NAME) from a store made in a temporary
// directory with the collections API.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "medsearch/cgi.h"
#include "medsearch/cgi_template.h"
#include "medsearch/collections.h"
#include "medsearch/index_writer.h"
#include "medsearch/indexer.h"
#include "medsearch/json.h"
#include "medsearch/output.h"
#include "medsearch/searcher.h"
#include "medsearch/vocabulary.h"
#include "process.h"
#include "sample_index.h"

using namespace medsearch;
using namespace medsearch::testing;

namespace {

CgiConfig test_config() {
  CgiConfig config;
  config.indexes = {fixture_index().path};
  config.title = "Test search";
  config.per_page = 5;
  config.facets = {"site", "year", "type", "evidence", "concept"};
  config.templates = source_path("data/templates");
  return config;
}

CgiHandler& handler() {
  static CgiHandler h = [] {
    auto made = CgiHandler::create(test_config());
    INFO((made ? "" : made.error()));
    REQUIRE(made);
    return std::move(*made);
  }();
  return h;
}

CgiResponse get(const std::string& query_string, const std::string& method = "GET") {
  CgiRequest request;
  request.method = method;
  request.query_string = query_string;
  request.script_name = "/cgi-bin/medsearch.cgi";
  request.host = "search.example.org";
  return handler().handle(request);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

JsonValue json_body(const CgiResponse& response) {
  INFO(response.body);
  REQUIRE(response.content_type == "application/json");
  auto parsed = parse_json(response.body);
  REQUIRE(parsed);
  return *parsed;
}

double number(const JsonValue& value, const std::string& name) {
  const JsonValue* member = value.find(name);
  return member ? member->as_number() : -1;
}

std::vector<std::string> result_field(const JsonValue& results, const std::string& field) {
  std::vector<std::string> out;
  for (const auto& hit : results.find("results")->items()) out.push_back(hit.text(field));
  return out;
}

std::string header_block(const CgiResponse& response, bool head_only = false) {
  std::string out = format_cgi_response(response, head_only);
  return out.substr(0, out.find("\r\n\r\n") + 4);
}

}  // namespace

TEST_CASE("Templates escape every value for its context by default", "[cgi][template]") {
  struct Case {
    const char* source;
    const char* expected;
  };
  const Case cases[] = {
      {"<p>{{t}}</p>", "<p>&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;</p>"},
      {"<a title=\"{{t}}\">", "<a title=\"&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;\">"},
      {"<a href=\"?q={{t|url}}\">", "<a href=\"?q=%3Cb%3E%22x%22+%26+%27y%27\">"},
      {"{{{t}}}", "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;"},  // raw refused for text
      {"{{{h}}}", "<mark>ok</mark>"},
      {"{{h}}", "&lt;mark&gt;ok&lt;/mark&gt;"},
      {"{{#on}}yes{{/on}}{{#off}}no{{/off}}{{^off}}empty{{/off}}", "yesempty"},
      {"{{#items}}[{{n}}{{#on}}!{{/on}}]{{/items}}", "[1!][2!]"},
      {"{{#none}}x{{/none}}{{^none}}no items{{/none}}", "no items"},
      {"{{missing}}-{{ t }}", "-&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;"},
      {"a{{! a comment }}b", "ab"},
      {"{searchTerms} { {x} }", "{searchTerms} { {x} }"},
  };
  TemplateData data;
  data.text("t", "<b>\"x\" & 'y'").html("h", "<mark>ok</mark>").flag("on", true).flag("off", false);
  std::vector<TemplateData> items(2);
  items[0].text("n", "1");
  items[1].text("n", "2");
  data.list("items", std::move(items)).list("none", {});
  for (const Case& c : cases) {
    INFO(c.source);
    auto parsed = Template::parse(c.source, "test.html");
    REQUIRE(parsed);
    CHECK(parsed->render(data) == c.expected);
  }
}

TEST_CASE("Template errors name the file and line", "[cgi][template]") {
  struct Case {
    const char* source;
    const char* message;
  };
  const Case errors[] = {
      {"line\n{{#a}}never closed", "t.html:2: '{{#a}}' is never closed"},
      {"{{#a}}{{/b}}", "t.html:1: '{{/b}}' closes '{{#a}}'"},
      {"{{/a}}", "t.html:1: '{{/a}}' closes nothing"},
      {"{{a|js}}", "t.html:1: unknown filter '|js' (only |url)"},
      {"{{a b}}", "t.html:1: bad name 'a b'"},
      {"\n\n{{a", "t.html:3: '{{' without a closing '}}'"},
  };
  for (const Case& c : errors) {
    INFO(c.source);
    auto parsed = Template::parse(c.source, "t.html");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error() == c.message);
  }
}

TEST_CASE("Query strings decode form encoding and refuse malformed input", "[cgi]") {
  auto params = parse_query_string("q=a+b%20c&site=x&site=y;page=2&flag&=v");
  REQUIRE(params);
  CHECK(params->find("q")->second == "a b c");
  CHECK(params->count("site") == 2);
  CHECK(params->find("page")->second == "2");
  CHECK(params->find("flag")->second.empty());
  for (const char* bad : {"q=%zz", "q=%4", "q=%", "q=%FF", "q=%C3%28", "%ZZ=1"}) {
    INFO(bad);
    CHECK_FALSE(parse_query_string(bad));
  }
  CHECK(url_encode("a b&c=d/é") == "a+b%26c%3Dd%2F%C3%A9");
}

TEST_CASE("Search parameters are read, clamped and checked", "[cgi]") {
  auto parse = [](const std::string& query) {
    auto decoded = parse_query_string(query);
    REQUIRE(decoded);
    return parse_cgi_params(*decoded);
  };
  struct PageCase {
    const char* query;
    uint32_t page;
  };
  for (const PageCase& c : {PageCase{"page=3", 3}, PageCase{"page=0", 1}, PageCase{"page=-2", 1},
                            PageCase{"page=abc", 1}, PageCase{"page=101", kCgiMaxPage},
                            PageCase{"page=99999999999999999999", kCgiMaxPage}, PageCase{"", 1}}) {
    INFO(c.query);
    auto p = parse(c.query);
    REQUIRE(p);
    CHECK(p->page == c.page);
  }

  auto p = parse(
      "q=ketamine&sort=-date&site=a.org&site=b.org&site=a.org&year=2015..2024&type=research&"
      "evidence=rct&evidence=review&concept=crps&concept=D020918&like=42&format=json");
  REQUIRE(p);
  CHECK(p->query == "ketamine");
  CHECK(p->sort == SortOrder::kDateDescending);
  CHECK(p->sites == std::vector<std::string>{"a.org", "b.org"});
  CHECK(p->years == "2015..2024");
  CHECK(p->types == std::vector<std::string>{"research"});
  CHECK(p->evidence == std::vector<std::string>{"rct", "review"});
  CHECK(p->concepts == std::vector<std::string>{"crps", "D020918"});
  CHECK(p->like == "42");
  CHECK(p->json);
  CHECK(parse("opensearch=1")->opensearch);
  CHECK(parse("css=1")->css);
  CHECK(parse("site=&type=")->has_filters() == false);

  struct ErrorCase {
    std::string query;
    const char* message;
  };
  const ErrorCase errors[] = {
      {"q=" + std::string(kCgiMaxQueryBytes + 1, 'a'), "the query is longer than 1000 bytes"},
      {"sort=size", "sort: "},
      {"type=journal", "type: must be one of"},
      {"evidence=anecdote", "evidence: must be one of"},
      {"year=last", "year: "},
      {"year=2020&year=2021", "give one year or range of years"},
      {"concept=a+b", "concept: wants a concept id"},
      {"concept=%22%3E%3Cscript%3E", "concept: wants a concept id"},
      {"format=xml", "format must be html or json, not 'xml'"},
  };
  for (const ErrorCase& c : errors) {
    INFO(c.query);
    auto parsed = parse(c.query);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().rfind(c.message, 0) == 0);
  }
  CHECK(parse("q=" + std::string(kCgiMaxQueryBytes, 'a')));
  std::string many;
  for (int i = 0; i <= static_cast<int>(kCgiMaxFilterValues); ++i)
    many += "site=s" + std::to_string(i) + ".org&";
  CHECK_FALSE(parse(many));
}

TEST_CASE("Configuration files are read and unknown keys refused", "[cgi]") {
  auto config = parse_cgi_config(
      "# comment\n\nindex = /srv/a\nindex = relative/b\ntitle = Clinic search\nper_page = 20\n"
      "facets = site, concept\ntemplates = tpl\nbase_url = https://clinic.example/search.cgi\n",
      "/etc/medsearch/medsearch.conf");
  REQUIRE(config);
  CHECK(config->indexes == std::vector<std::string>{"/srv/a", "/etc/medsearch/relative/b"});
  CHECK(config->title == "Clinic search");
  CHECK(config->per_page == 20);
  CHECK(config->facets == std::vector<std::string>{"site", "concept"});
  CHECK(config->templates == "/etc/medsearch/tpl");
  CHECK(config->base_url == "https://clinic.example/search.cgi");
  auto defaults = parse_cgi_config("index = /x\n", "m.conf");
  REQUIRE(defaults);
  CHECK(defaults->per_page == 10);
  CHECK(defaults->facets == std::vector<std::string>{"site", "year", "type", "evidence"});
  CHECK(parse_cgi_config("index = /x\nfacets =\n", "m.conf")->facets.empty());

  struct ErrorCase {
    const char* text;
    const char* message;
  };
  const ErrorCase errors[] = {
      {"index = /x\ndatabase = /y\n", "m.conf:2: unknown key 'database'"},
      {"index = /x\nper_page = 0\n", "m.conf:2: per_page must be a number from 1 to 50"},
      {"index = /x\nper_page = 51\n", "m.conf:2: per_page must be a number from 1 to 50"},
      {"index = /x\nper_page = ten\n", "m.conf:2: per_page must be a number"},
      {"index = /x\nfacets = site,colour\n", "m.conf:2: unknown facet 'colour'"},
      {"index = /x\nbase_url = javascript:alert(1)\n", "m.conf:2: base_url must start with"},
      {"index /x\n", "m.conf:1: expected 'key = value'"},
      {"title = x\n", "m.conf: no 'index' configured"},
  };
  for (const ErrorCase& c : errors) {
    INFO(c.text);
    auto parsed = parse_cgi_config(c.text, "m.conf");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().rfind(c.message, 0) == 0);
  }
  CHECK_FALSE(load_cgi_config("/nonexistent/medsearch.conf"));
}

TEST_CASE("The results page has results, badges, facets, citations and details", "[cgi]") {
  CgiResponse r = get("q=ketamine+crps");
  INFO(r.body);
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/html; charset=utf-8");
  const std::string& b = r.body;
  CHECK(contains(b, "<meta name=\"viewport\""));
  CHECK(contains(b, "<link rel=\"stylesheet\" href=\"/cgi-bin/medsearch.cgi?css=1\">"));
  CHECK(contains(b, "type=\"application/opensearchdescription+xml\""));
  CHECK(contains(b, "<label for=\"q\">"));
  CHECK(contains(b, "value=\"ketamine crps\""));
  CHECK_FALSE(contains(b, "autofocus"));
  for (const char* landmark : {"<header", "<main", "<nav", "<aside", "<footer"})
    CHECK(contains(b, landmark));
  CHECK(contains(b, "<a href=\"https://example.org/trials/ketamine-crps\">Ketamine infusions"));
  CHECK(contains(b, "<mark>"));
  CHECK(contains(b, "class=\"badge type-research\">Research</span>"));
  CHECK(contains(b, "class=\"badge evidence\">Randomised trial</span>"));
  CHECK(contains(b, "Similar articles</a>"));
  CHECK(contains(b, "?like=https%3A%2F%2Fexample.org%2Ftrials%2Fketamine-crps"));
  // COinS: a journal article with its title, journal, authors, date, DOI and URL.
  CHECK(contains(b,
                 "<span class=\"Z3988\" title=\"ctx_ver=Z39.88-2004&amp;rft_val_fmt=info%3Aofi%2F"
                 "fmt%3Akev%3Amtx%3Ajournal&amp;rft.genre=article&amp;rft.atitle=Ketamine%20"
                 "infusions%20for%20complex%20regional%20pain%20syndrome&amp;rft.jtitle=Example%20"
                 "Journal%20of%20Pain&amp;rft.au=Ines%20Faria"));
  CHECK(contains(b, "rft_id=info%3Adoi%2F10.5555%2Fcrps.2020.77"));
  CHECK(contains(b, "rft_id=https%3A%2F%2Fexample.org%2Ftrials%2Fketamine-crps"));
  // Count, time, sorting, paging (5 a page).
  CHECK(contains(b, "results, showing 1–5 ("));
  CHECK(contains(b, " seconds)"));
  CHECK(contains(b, "<span class=\"current\" aria-current=\"true\">Relevance</span>"));
  CHECK(contains(b, "href=\"/cgi-bin/medsearch.cgi?q=ketamine+crps&amp;sort=-date\">Newest</a>"));
  CHECK(contains(b, "<a rel=\"next\" href=\"/cgi-bin/medsearch.cgi?q=ketamine+crps&amp;page=2\">"));
  // Facets link to the same search with a filter added.
  CHECK(contains(b, "<h3>Evidence</h3>"));
  CHECK(contains(b, "href=\"/cgi-bin/medsearch.cgi?q=ketamine+crps&amp;evidence=rct\">"));
  CHECK(contains(b, "href=\"/cgi-bin/medsearch.cgi?q=ketamine+crps&amp;concept=crps\">"));
  // Search details: the same explanation as medsearch --explain.
  auto searcher = Searcher::open({fixture_index().path});
  REQUIRE(searcher);
  SearchOptions options;
  options.limit = 5;
  auto direct = searcher->search("ketamine crps", options);
  REQUIRE(direct);
  CHECK(contains(b, "<summary>Search details</summary>\n<pre>" +
                        html_escape(explanation_to_text(direct->explain)) + "</pre>"));
}

TEST_CASE("Filters from the request restrict the results and show as removable chips", "[cgi]") {
  auto all = json_body(get("q=ketamine&format=json"));
  auto research = json_body(get("q=ketamine&type=research&format=json"));
  CHECK(number(research, "total") > 0);
  CHECK(number(research, "total") < number(all, "total"));
  for (const auto& type : result_field(research, "type")) CHECK(type == "research");

  auto trials = json_body(get("q=ketamine&evidence=rct&evidence=meta-analysis&format=json"));
  REQUIRE(number(trials, "total") > 0);
  for (const auto& e : result_field(trials, "evidence"))
    CHECK((e == "rct" || e == "meta-analysis"));

  auto pubmed = json_body(get("q=ketamine&site=pubmed.ncbi.nlm.nih.gov&format=json"));
  REQUIRE(number(pubmed, "total") > 0);
  for (const auto& url : result_field(pubmed, "url"))
    CHECK(url.rfind("https://pubmed.ncbi.nlm.nih.gov/", 0) == 0);

  auto years = json_body(get("q=ketamine&year=2020..2021&format=json"));
  REQUIRE(number(years, "total") > 0);
  for (const auto& date : result_field(years, "date"))
    CHECK((date.substr(0, 4) == "2020" || date.substr(0, 4) == "2021"));

  // A concept filter finds what the concept: field finds, within the words.
  auto crps = json_body(get("q=ketamine&concept=crps&format=json"));
  auto field = json_body(get("q=%2Bconcept%3Acrps&format=json"));
  REQUIRE(number(crps, "total") > 0);
  CHECK(number(crps, "total") < number(all, "total"));
  CHECK(number(crps, "total") == number(field, "total"));
  auto only_concept = json_body(get("concept=crps&format=json"));
  CHECK(number(only_concept, "total") == number(field, "total"));

  CgiResponse page = get("q=ketamine&type=research&year=2020..2021&sort=date");
  INFO(page.body);
  CHECK(contains(page.body, "<input type=\"hidden\" name=\"type\" value=\"research\">"));
  CHECK(contains(page.body, "<input type=\"hidden\" name=\"sort\" value=\"date\">"));
  CHECK(
      contains(page.body,
               "<a class=\"chip\" href=\"/cgi-bin/medsearch.cgi?q=ketamine&amp;year=2020..2021&amp;"
               "sort=date\" aria-label=\"Remove filter Type: Research\">"));
  CHECK(contains(page.body, "aria-label=\"Remove filter Year: 2020..2021\">"));
}

TEST_CASE("Pages are clamped and offset by the configured page size", "[cgi]") {
  auto first = json_body(get("q=ketamine&format=json"));
  auto second = json_body(get("q=ketamine&page=2&format=json"));
  REQUIRE(first.find("results")->items().size() == 5);
  CHECK(number(second.find("results")->items().front(), "rank") == 6);
  auto zero = json_body(get("q=ketamine&page=0&format=json"));
  CHECK(number(zero.find("results")->items().front(), "rank") == 1);
  CgiResponse far = get("q=ketamine&page=5000");
  CHECK(far.status == 200);
  // Page 100 (the clamp) is past the end: a link back, no results.
  CHECK(contains(far.body, "No articles match"));
  CHECK(contains(far.body, "rel=\"prev\""));
  CHECK_FALSE(contains(far.body, "page=5000"));
}

TEST_CASE("The count is of the query's matches; the feedback's additions are related",
          "[cgi][feedback]") {
  CgiConfig config = test_config();
  config.indexes = {feedback_index().path};
  config.facets = {"type"};
  auto made = CgiHandler::create(config);
  INFO((made ? "" : made.error()));
  REQUIRE(made);
  CgiRequest request;
  request.method = "GET";
  request.query_string = "q=zolmitriptan";
  request.script_name = "/cgi-bin/medsearch.cgi";
  CgiResponse page = made->handle(request);
  INFO(page.body);
  REQUIRE(page.status == 200);
  // Five documents have the word (and the facet says so); the page shows
  // five results per page, and the pages go on to the related documents.
  CHECK(contains(page.body, "5 results, and about "));
  CHECK(contains(page.body, " related, showing 1–5"));
  CHECK(contains(page.body, "rel=\"next\""));
  request.query_string = "q=zolmitriptan&format=json";
  auto json = json_body(made->handle(request));
  CHECK(number(json, "total") == 5);
  CHECK(number(json, "related") >= 1);
}

TEST_CASE("format=json is exactly the JSON of medsearch --format json", "[cgi]") {
  CgiResponse r = get("q=ketamine+depression&sort=-date&type=clinic&format=json");
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  auto searcher = Searcher::open({fixture_index().path});
  REQUIRE(searcher);
  SearchOptions options;
  options.limit = 5;
  options.sort = SortOrder::kDateDescending;
  options.types = {"clinic"};
  options.facets = test_config().facets;
  auto direct = searcher->search("ketamine depression", options);
  REQUIRE(direct);
  CHECK(r.body == results_to_json(*direct) + "\n");
  // No query: an empty result set, still JSON.
  CgiResponse empty = get("format=json");
  CHECK(empty.content_type == "application/json");
  CHECK(number(json_body(empty), "total") == 0);
}

TEST_CASE("Headers are right for HTML, JSON, HEAD, the stylesheet and OpenSearch", "[cgi]") {
  std::string html = header_block(get("q=ketamine"));
  CHECK(html.rfind("Status: 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n", 0) == 0);
  CHECK(contains(html, "X-Content-Type-Options: nosniff\r\n"));
  CHECK(contains(html, "Referrer-Policy: same-origin\r\n"));
  CHECK(contains(html, "Content-Security-Policy: default-src 'none'; style-src 'self';"));
  CHECK(
      contains(header_block(get("q=ketamine&format=json")), "Content-Type: application/json\r\n"));

  CgiResponse head = get("q=ketamine", "HEAD");
  CHECK(head.status == 200);
  std::string head_out = format_cgi_response(head, true);
  CHECK(head_out.rfind("Status: 200 OK\r\n", 0) == 0);
  CHECK(head_out.size() == head_out.find("\r\n\r\n") + 4);

  CgiResponse css = get("css=1");
  CHECK(css.content_type == "text/css; charset=utf-8");
  CHECK(contains(css.body, ".hit"));
  CHECK(std::count(css.headers.begin(), css.headers.end(),
                   std::pair<std::string, std::string>{"Cache-Control", "public, max-age=86400"}) ==
        1);

  CgiResponse os = get("opensearch=1");
  CHECK(os.content_type == "application/opensearchdescription+xml; charset=utf-8");
  CHECK(contains(os.body, "<ShortName>Test search</ShortName>"));
  CHECK(contains(os.body,
                 "template=\"http://search.example.org/cgi-bin/medsearch.cgi?q={searchTerms}\""));
  CgiRequest evil;
  evil.query_string = "opensearch=1";
  evil.script_name = "/s.cgi";
  evil.host = "evil.example\"><x";
  CHECK(contains(handler().handle(evil).body, "template=\"/s.cgi?q={searchTerms}\""));
  CgiConfig with_base = test_config();
  with_base.base_url = "https://clinic.example/search";
  auto configured = CgiHandler::create(with_base);
  REQUIRE(configured);
  CHECK(contains(configured->handle(evil).body,
                 "template=\"https://clinic.example/search?q={searchTerms}\""));
}

TEST_CASE("Bad requests get 400, other methods 405, broken setups 500 without paths", "[cgi]") {
  struct Case {
    std::string query;
    std::string method;
    int status;
    const char* says;
  };
  const Case cases[] = {
      {"q=%zz", "GET", 400, "malformed percent-encoding"},
      {"q=%FF", "GET", 400, "not valid UTF-8"},
      {"q=" + std::string(1001, 'x'), "GET", 400, "longer than 1000 bytes"},
      {"q=x&sort=size", "GET", 400, "sort:"},
      {"q=x&type=blog", "GET", 400, "type: must be one of"},
      {"q=x", "POST", 405, "Only GET and HEAD"},
      {"q=x", "DELETE", 405, "Only GET and HEAD"},
      {"q=" + std::string(9000, 'x'), "GET", 400, "too long"},
  };
  for (const Case& c : cases) {
    INFO(c.query.substr(0, 40) << " " << c.method);
    CgiResponse r = get(c.query, c.method);
    CHECK(r.status == c.status);
    CHECK(r.content_type == "text/html; charset=utf-8");
    CHECK(contains(r.body, c.says));
    CHECK(contains(r.body, "<main"));
  }
  CHECK(format_cgi_response(get("q=x", "POST"), false).rfind("Status: 405 Method Not Allowed", 0) ==
        0);
  CHECK(contains(header_block(get("q=x", "POST")), "Allow: GET, HEAD\r\n"));
  CgiResponse bad_json = get("q=x&type=blog&format=json");
  CHECK(bad_json.status == 400);
  CHECK(contains(json_body(bad_json).text("error"), "type: must be one of"));

  // A query syntax error is the user's: a 200 page with a friendly note.
  CgiResponse syntax = get("q=ketamine+AND+%28");
  CHECK(syntax.status == 200);
  CHECK(contains(syntax.body, "<p class=\"note\" role=\"status\">query not understood"));
  // So is a "similar articles" link to a document that is gone.
  CgiResponse gone = get("like=https%3A%2F%2Fnowhere.example%2Fx");
  CHECK(gone.status == 200);
  CHECK(contains(gone.body, "is not in the index"));

  // A missing index: 500, the path only in the log.
  CgiConfig broken = test_config();
  broken.indexes = {fixture_index().dir / "no-such-index"};
  auto h = CgiHandler::create(broken);
  REQUIRE(h);
  CgiRequest request;
  request.query_string = "q=ketamine";
  CgiResponse r = h->handle(request);
  CHECK(r.status == 500);
  CHECK_FALSE(contains(r.body, "no-such-index"));
  CHECK_FALSE(contains(r.body, fixture_index().dir.path()));
  CHECK(contains(r.log, "no-such-index"));
  CgiResponse fallback = cgi_fallback_error(500, "The search is not configured correctly.");
  CHECK(contains(format_cgi_response(fallback, false), "Status: 500 Internal Server Error"));

  // Template problems are reported when the handler is made, naming the file.
  TempDir templates;
  for (const char* file : {"page.html", "landing.html", "results.html", "error.html",
                           "opensearch.xml", "medsearch.css"})
    std::ofstream(templates / file) << read_file(source_path("data/templates/") + file);
  std::ofstream(templates / "results.html") << "{{#hits}}{{titel}}{{/hits}}";
  CgiConfig typo = test_config();
  typo.templates = templates.path();
  auto failed = CgiHandler::create(typo);
  REQUIRE_FALSE(failed);
  CHECK(failed.error() == templates / "results.html" + ": unknown name 'titel'");
  // collection.html is needed only when a collection is published.
  std::ofstream(templates / "results.html")
      << read_file(source_path("data/templates/results.html"));
  CHECK(CgiHandler::create(typo));
  typo.collections = {"crps"};
  auto no_collection_template = CgiHandler::create(typo);
  REQUIRE_FALSE(no_collection_template);
  CHECK(no_collection_template.error() == "cannot read template " + templates / "collection.html");
}

TEST_CASE("XSS payloads in every parameter come back escaped in every context", "[cgi]") {
  const std::string payload = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>";
  const std::string encoded = url_encode(payload);
  const std::string escaped = html_escape(payload);
  struct Case {
    std::string query;
    bool shows_text;  // the value is shown on the page (text and attribute)
    bool in_links;    // the value is carried in links (URL context)
  };
  const Case cases[] = {
      {"q=" + encoded, true, true},
      {"q=ketamine&site=" + encoded, true, true},
      {"q=ketamine&like=" + encoded, true, true},
      {"q=" + encoded + "&type=research", true, true},
      {"q=ketamine&type=" + encoded, true, false},
      {"q=ketamine&evidence=" + encoded, true, false},
      {"q=ketamine&year=" + encoded, true, false},
      {"q=ketamine&concept=" + encoded, true, false},
      {"q=ketamine&sort=" + encoded, true, false},
      {"q=ketamine&format=" + encoded, true, false},
      {"q=ketamine&page=" + encoded, false, false},
      {encoded + "=" + encoded, false, false},
  };
  for (const Case& c : cases) {
    for (const char* method : {"GET", "HEAD"}) {
      INFO(c.query << " " << method);
      CgiResponse r = get(c.query, method);
      std::string out = format_cgi_response(r, false);
      CHECK_FALSE(contains(out, "<script"));
      CHECK_FALSE(contains(out, "<img"));
      CHECK_FALSE(contains(out, "\"'>"));
      if (c.shows_text) CHECK(contains(r.body, escaped));
      if (c.in_links) CHECK(contains(r.body, encoded));
    }
  }
  // The attribute context: the search box and the hidden filter inputs.
  CHECK(contains(get("q=" + encoded).body, "name=\"q\" value=\"" + escaped + "\""));
  CHECK(contains(get("q=x&site=" + encoded).body,
                 "<input type=\"hidden\" name=\"site\" value=\"" + escaped + "\">"));
  // The URL context: links carry the value percent-encoded, then HTML-escaped.
  CHECK(contains(get("q=" + encoded).body, "href=\"/cgi-bin/medsearch.cgi?q=" + encoded));
  // Document URLs that are not web links are not made links.
  CHECK(contains(get("q=x").body, "<!DOCTYPE html>"));
}

TEST_CASE("The landing page autofocuses the box and offers example searches", "[cgi]") {
  CgiResponse r = get("");
  CHECK(r.status == 200);
  CHECK(contains(r.body, " autofocus>"));
  CHECK(contains(r.body, "<a href=\"?q=CRPS\">CRPS</a>"));
  CHECK(contains(r.body, "<h1>Test search</h1>"));
  CHECK_FALSE(contains(r.body, "<ol class=\"hits\""));
}

TEST_CASE("Spelling suggestions, near-duplicates and similar articles are links", "[cgi]") {
  CgiResponse typo = get("q=neuropatic+pian&type=research");
  CHECK(contains(typo.body,
                 "Did you mean <a href=\"/cgi-bin/medsearch.cgi?q=neuropathic+pain&amp;"
                 "type=research\">neuropathic pain</a>?"));
  CgiResponse copies = get("q=ketamine+clinics+multiply");
  CHECK(contains(copies.body, "<span class=\"similar\">1 similar</span>"));
  CgiResponse like = get("like=https%3A%2F%2Fexample.org%2Ftrials%2Fketamine-crps");
  INFO(like.body);
  CHECK(like.status == 200);
  CHECK(contains(like.body,
                 "aria-label=\"Remove filter Similar to: https://example.org/trials/"
                 "ketamine-crps\""));
  CHECK(contains(like.body, "<ol class=\"hits\""));
  CHECK_FALSE(contains(like.body, "<a href=\"https://example.org/trials/ketamine-crps\">"));
}

// ---------------------------------------------------------------------------
// Published collections

namespace {

const std::string kXss = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>";
const std::string kPublished = "Ketamine & CRPS <review>";

// A store with three collections: kPublished (12 included items, the first
// carrying XSS payloads in every field, plus excluded and maybe items),
// "private" (included items, never published) and "empty" (nothing
// included). The configuration also publishes "gone", which is not there.
struct CollectionFixture {
  TempDir dir;
  std::string store_path = dir / "collections.sqlite";
  std::vector<std::string> included_keys;

  CollectionFixture() {
    auto store = CollectionStore::open(store_path);
    REQUIRE(store);
    REQUIRE(store->create(kPublished, "Trials and reviews " + kXss, {}));
    REQUIRE(store->create("private", "not for the public", {}));
    REQUIRE(store->create("empty", "", {}));
    std::vector<Candidate> candidates;
    auto candidate = [&](const std::string& key, const std::string& title) {
      Candidate c;
      c.snapshot.key = key;
      c.snapshot.doc.id = key;
      c.snapshot.doc.url = key;
      c.snapshot.doc.title = title;
      c.snapshot.doc.type = "research";
      c.snapshot.doc.evidence = "rct";
      c.snapshot.doc.date = "2021-06-01";
      c.snapshot.doc.journal = "Pain Medicine";
      c.snapshot.doc.site = "example.org";
      c.snapshot.doc.authors = {"Torres A", "Li B"};
      c.snapshot.doc.description = "An abstract of " + title + ".";
      c.snapshot.accessed = "2024-05-01";
      return c;
    };
    Candidate evil = candidate("https://evil.example/a?x=\"><script>alert(3)</script>", kXss);
    evil.snapshot.doc.authors = {kXss, "Smith J"};
    evil.snapshot.doc.description = kXss;
    evil.snapshot.doc.journal = kXss;
    evil.snapshot.doc.site_name = kXss;
    evil.snapshot.doc.doi = "10.1000/" + kXss;
    candidates.push_back(evil);
    Candidate script_link = candidate("javascript:alert(5)", "A page behind a script link");
    script_link.snapshot.doc.type = "clinic";
    script_link.snapshot.doc.evidence = "";
    candidates.push_back(script_link);
    for (int i = 3; i <= 12; ++i)
      candidates.push_back(candidate("https://example.org/trials/" + std::to_string(i),
                                     "Ketamine trial " + std::to_string(i)));
    // A long abstract: the page shows its start, cut at a word.
    std::string abstract;
    for (int i = 0; i < 40; ++i) abstract += "Ketamine relieved pain in most adults. ";
    candidates[3].snapshot.doc.description = abstract + "END";
    candidates.push_back(candidate("https://example.org/excluded", "Excluded trial"));
    candidates.push_back(candidate("https://example.org/maybe", "Maybe trial"));
    REQUIRE(store->add(kPublished, candidates, "added", AddMode::kExplicit));
    for (size_t i = 0; i < 12; ++i) {
      REQUIRE(store->mark(kPublished, candidates[i].snapshot.key, ScreeningStatus::kInclude, ""));
      included_keys.push_back(candidates[i].snapshot.key);
    }
    REQUIRE(store->mark(kPublished, "https://example.org/excluded", ScreeningStatus::kExclude,
                        "not an RCT"));
    REQUIRE(store->mark(kPublished, "https://example.org/maybe", ScreeningStatus::kMaybe, ""));
    REQUIRE(store->add("private", {candidate("https://example.org/secret", "Secret trial")},
                       "added", AddMode::kExplicit));
    REQUIRE(store->mark("private", "https://example.org/secret", ScreeningStatus::kInclude, ""));
  }
};

CollectionFixture& collection_fixture() {
  static CollectionFixture fixture;
  return fixture;
}

CgiConfig collection_config() {
  CgiConfig config = test_config();
  config.collections = {kPublished, "empty", "gone"};
  config.collections_path = collection_fixture().store_path;
  return config;
}

CgiHandler& collection_handler() {
  static CgiHandler h = [] {
    auto made = CgiHandler::create(collection_config());
    INFO((made ? "" : made.error()));
    REQUIRE(made);
    return std::move(*made);
  }();
  return h;
}

CgiResponse get_collection(const std::string& query_string, const std::string& method = "GET") {
  CgiRequest request;
  request.method = method;
  request.query_string = query_string;
  request.script_name = "/cgi-bin/medsearch.cgi";
  return collection_handler().handle(request);
}

const std::string kPublishedParam = "collection=" + url_encode(kPublished);

// A COinS value as the handler writes it: percent-encoded, spaces as %20.
std::string kev(const std::string& text) {
  std::string out;
  for (char c : url_encode(text)) out += c == '+' ? std::string("%20") : std::string(1, c);
  return out;
}

}  // namespace

TEST_CASE("Configuration publishes collections by name from a store beside the index",
          "[cgi][collection]") {
  auto config = parse_cgi_config(
      "index = /srv/a/index\ncollection = ketamine-crps\ncollection = Opioids & pain\n"
      "collection = ketamine-crps\n",
      "/etc/medsearch/medsearch.conf");
  REQUIRE(config);
  CHECK(config->collections == std::vector<std::string>{"ketamine-crps", "Opioids & pain"});
  CHECK(config->collections_path == "/srv/a/collections.sqlite");
  CHECK(config->collections_path == default_collections_path("/srv/a/index"));
  auto relative = parse_cgi_config("index = /srv/a/index/\ncollections = c/store.sqlite\n",
                                   "/etc/medsearch/medsearch.conf");
  REQUIRE(relative);
  CHECK(relative->collections_path == "/etc/medsearch/c/store.sqlite");
  CHECK(relative->collections.empty());

  struct ErrorCase {
    std::string text;
    const char* message;
  };
  const ErrorCase errors[] = {
      {"index = /x\ncollection =\n", "m.conf:2: collection: a collection name cannot be empty"},
      {"index = /x\n\ncollection = " + std::string(101, 'a') + "\n",
       "m.conf:3: collection: a collection name is at most 100 characters"},
      {"index = /x\ncollection = bad\x01name\n", "m.conf:2: collection: a collection name cannot"},
      {"index = /x\ncollection = \xff\xfe\n", "m.conf:2: collection: a collection name must be"},
      {"index = /x\ncollections =\n", "m.conf:2: collections wants the path"},
      {"index = /x\ncolection = a\n", "m.conf:2: unknown key 'colection'"},
  };
  for (const ErrorCase& c : errors) {
    INFO(c.text);
    auto parsed = parse_cgi_config(c.text, "m.conf");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().rfind(c.message, 0) == 0);
  }
}

TEST_CASE("A published collection lists its included items in the page layout",
          "[cgi][collection]") {
  CgiResponse r = get_collection(kPublishedParam);
  INFO(r.body);
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/html; charset=utf-8");
  const std::string& b = r.body;
  // The frame of the results page: landmarks, skip link, stylesheet.
  for (const char* part : {"<header class=\"site-header\"", "<main id=\"main\"",
                           "<footer class=\"site-footer\"", "<a class=\"skip\" href=\"#main\"",
                           "<link rel=\"stylesheet\" href=\"/cgi-bin/medsearch.cgi?css=1\">"})
    CHECK(contains(b, part));
  CHECK_FALSE(contains(b, " autofocus"));
  CHECK(contains(b, "<title>Ketamine &amp; CRPS &lt;review&gt; – Test search</title>"));
  CHECK(contains(b, "<h1>Ketamine &amp; CRPS &lt;review&gt;</h1>"));
  CHECK(contains(b, "<p class=\"description\">Trials and reviews " + html_escape(kXss) + "</p>"));
  CHECK(contains(b, "12 included items, showing 1–5"));
  CHECK(contains(b, "<ol class=\"hits\" start=\"1\">"));
  size_t hits = 0;
  for (size_t at = b.find("<li class=\"hit\">"); at != std::string::npos;
       at = b.find("<li class=\"hit\">", at + 1))
    ++hits;
  CHECK(hits == 5);
  CHECK(contains(b, "<a href=\"https://example.org/trials/3\">Ketamine trial 3</a>"));
  CHECK(contains(b, "<time datetime=\"2021-06-01\">2021-06-01</time>"));
  CHECK(contains(b, "<span class=\"badge type-research\">Research</span>"));
  CHECK(contains(b, "<span class=\"badge evidence\">Randomised trial</span>"));
  CHECK(contains(b, "<p class=\"byline\">Torres A, Li B · <cite>Pain Medicine</cite></p>"));
  CHECK(contains(b, "<p class=\"snippet\">An abstract of Ketamine trial 3.</p>"));
  size_t long_snippet = b.find("<p class=\"snippet\">Ketamine relieved pain");
  REQUIRE(long_snippet != std::string::npos);
  std::string snippet = b.substr(long_snippet, b.find("</p>", long_snippet) - long_snippet);
  CHECK(snippet.size() < 360);
  const std::string cut_end = "most adults.…";
  CHECK(snippet.rfind(cut_end) == snippet.size() - cut_end.size());
  CHECK_FALSE(contains(b, "END"));
  CHECK(contains(b,
                 "<span class=\"Z3988\" title=\"ctx_ver=Z39.88-2004&amp;rft_val_fmt=info%3Aofi"
                 "%2Ffmt%3Akev%3Amtx%3Ajournal&amp;rft.genre=article&amp;rft.atitle=Ketamine"
                 "%20trial%203&amp;rft.jtitle=Pain%20Medicine&amp;rft.au=Torres%20A&amp;"
                 "rft.au=Li%20B&amp;rft.date=2021-06-01&amp;rft_id=https%3A%2F%2Fexample.org"
                 "%2Ftrials%2F3\"></span>"));
  // A link that is not a web link is shown as text, never made a link.
  CHECK(contains(b, "<h2>A page behind a script link</h2>"));
  CHECK_FALSE(contains(b, "javascript:"));
  CHECK(contains(b, "<span class=\"badge type-clinic\">Clinic page</span>"));
  // Pages, and the JSON of this page, keep the collection.
  const std::string page_link = "/cgi-bin/medsearch.cgi?collection=Ketamine+%26+CRPS+%3Creview%3E";
  CHECK(contains(b, "<a rel=\"next\" href=\"" + page_link + "&amp;page=2\">Next</a>"));
  CHECK(contains(b, "<a href=\"" + page_link + "&amp;page=3\">3</a>"));
  CHECK(contains(b, "<a href=\"" + page_link + "&amp;format=json\" type=\"application/json\">"));
  // Only included items: not the excluded, the maybe, nor another collection's.
  for (const char* hidden : {"Excluded trial", "Maybe trial", "Secret trial", "not an RCT"})
    CHECK_FALSE(contains(b, hidden));

  CgiResponse third = get_collection(kPublishedParam + "&page=3");
  CHECK(contains(third.body, "12 included items, showing 11–12"));
  CHECK(contains(third.body, "<ol class=\"hits\" start=\"11\">"));
  CHECK(contains(third.body, "Ketamine trial 12"));
  CHECK_FALSE(contains(third.body, "rel=\"next\""));

  CgiResponse empty = get_collection("collection=empty");
  CHECK(empty.status == 200);
  CHECK(contains(empty.body, "No included items"));
  CHECK(contains(empty.body, "No items are included in this collection yet."));
  CHECK_FALSE(contains(empty.body, "<ol class=\"hits\""));
  CHECK_FALSE(contains(empty.body, "class=\"description\""));
}

TEST_CASE("Collection pages are clamped to the pages the collection has", "[cgi][collection]") {
  struct Case {
    const char* page;
    uint64_t shown;  // the page answered
    const char* first_title;
  };
  const Case cases[] = {
      {"", 1, "https://evil.example"},
      {"&page=0", 1, "https://evil.example"},
      {"&page=-1", 1, "https://evil.example"},
      {"&page=abc", 1, "https://evil.example"},
      {"&page=2", 2, "Ketamine trial 6"},
      {"&page=3", 3, "Ketamine trial 11"},
      {"&page=4", 3, "Ketamine trial 11"},
      {"&page=999999999", 3, "Ketamine trial 11"},
      {"&page=99999999999999999999", 3, "Ketamine trial 11"},
  };
  for (const Case& c : cases) {
    INFO(c.page);
    auto json = json_body(get_collection(kPublishedParam + c.page + "&format=json"));
    CHECK(number(json, "page") == static_cast<double>(c.shown));
    const auto& items = json.find("items")->items();
    REQUIRE_FALSE(items.empty());
    CHECK(contains(items.front().text("url") + items.front().text("title"), c.first_title));
    CgiResponse html = get_collection(kPublishedParam + c.page);
    CHECK(html.status == 200);
    CHECK(contains(html.body, "<span class=\"current\" aria-current=\"page\">" +
                                  std::to_string(c.shown) + "</span>"));
    CHECK_FALSE(contains(html.body, "page=4"));
  }
  auto empty = json_body(get_collection("collection=empty&page=7&format=json"));
  CHECK(number(empty, "page") == 1);
  CHECK(number(empty, "total") == 0);
  CHECK(empty.find("items")->items().empty());
}

TEST_CASE("Collection JSON holds the snapshots exactly as the store has them",
          "[cgi][collection]") {
  auto store = CollectionStore::open_read_only(collection_fixture().store_path);
  REQUIRE(store);
  auto included = store->items(kPublished, ScreeningStatus::kInclude);
  REQUIRE(included);
  REQUIRE(included->size() == 12);
  std::vector<std::string> keys;
  for (const char* page : {"1", "2", "3"}) {
    CgiResponse r = get_collection(kPublishedParam + "&format=json&page=" + page);
    CHECK(r.status == 200);
    JsonValue json = json_body(r);
    CHECK(json.text("collection") == kPublished);
    CHECK(json.text("description") == "Trials and reviews " + kXss);
    CHECK(number(json, "total") == 12);
    CHECK(number(json, "per_page") == 5);
    for (const JsonValue& item : json.find("items")->items()) {
      ItemSnapshot from_page = snapshot_from_json(item);
      const ItemSnapshot& stored = (*included)[keys.size()].snapshot;
      CHECK(from_page.key == stored.key);
      CHECK(from_page.doc.title == stored.doc.title);
      CHECK(from_page.doc.authors == stored.doc.authors);
      CHECK(from_page.doc.doi == stored.doc.doi);
      CHECK(from_page.doc.description == stored.doc.description);
      CHECK(from_page.accessed == stored.accessed);
      // Every member write_snapshot_members writes, and nothing of the screening.
      JsonWriter expected;
      expected.begin_object();
      write_snapshot_members(expected, stored);
      expected.end_object();
      CHECK(item.find("reason") == nullptr);
      CHECK(item.find("note") == nullptr);
      auto reparsed = parse_json(expected.str());
      REQUIRE(reparsed);
      CHECK(snapshot_from_json(*reparsed).doc.url == from_page.doc.url);
      keys.push_back(from_page.key);
    }
  }
  CHECK(keys == collection_fixture().included_keys);
}

TEST_CASE("Unpublished and missing collections get the same 404", "[cgi][collection]") {
  for (bool json : {false, true}) {
    INFO("json " << json);
    std::string suffix = json ? "&format=json" : "";
    CgiResponse unpublished = get_collection("collection=private" + suffix);
    CgiResponse missing = get_collection("collection=gone" + suffix);
    CgiResponse neither = get_collection("collection=nothing" + suffix);
    CgiResponse blank = get_collection("collection=" + suffix);
    for (const CgiResponse* r : {&unpublished, &missing, &neither, &blank}) {
      CHECK(r->status == 404);
      CHECK(r->body == unpublished.body);
      CHECK(r->content_type == unpublished.content_type);
      CHECK_FALSE(contains(r->body, "private"));
      CHECK_FALSE(contains(r->body, "Secret"));
      CHECK_FALSE(contains(r->body, collection_fixture().dir.path()));
    }
    if (json) {
      CHECK(json_body(missing).text("error") == "There is no published collection by that name.");
    } else {
      CHECK(contains(missing.body, "<h1>Not found</h1>"));
      CHECK(format_cgi_response(missing, false).rfind("Status: 404 Not Found\r\n", 0) == 0);
    }
    // The site owner learns from the log that a published name is missing.
    CHECK(contains(missing.log, "'gone'"));
  }
  // Without the configuration, even an existing collection is not shown.
  CgiRequest request;
  request.query_string = kPublishedParam;
  CHECK(handler().handle(request).status == 404);
}

TEST_CASE("A collection page with a search, filters or sort is a 400", "[cgi][collection]") {
  for (const char* extra :
       {"&q=ketamine", "&type=research", "&like=42", "&sort=-date", "&year=2020"}) {
    INFO(extra);
    CgiResponse r = get_collection(kPublishedParam + extra);
    CHECK(r.status == 400);
    CHECK(contains(r.body, "ask for a search (q) or a collection, not both"));
    CHECK(get_collection(kPublishedParam + extra + "&format=json").status == 400);
  }
  CHECK(get_collection(kPublishedParam + "&q=").status == 200);
  CHECK(get_collection(kPublishedParam + "&q=+").status == 200);
}

TEST_CASE("A missing or corrupt collections store is a 500 without paths", "[cgi][collection]") {
  TempDir dir;
  std::ofstream(dir / "corrupt.sqlite") << std::string(4096, 'x');
  std::ofstream(dir / "empty.sqlite");
  for (const char* file : {"missing.sqlite", "corrupt.sqlite", "empty.sqlite"}) {
    INFO(file);
    CgiConfig config = collection_config();
    config.collections_path = dir / file;
    auto h = CgiHandler::create(config);
    REQUIRE(h);
    for (const char* suffix : {"", "&format=json"}) {
      CgiRequest request;
      request.query_string = kPublishedParam + suffix;
      CgiResponse r = h->handle(request);
      CHECK(r.status == 500);
      CHECK(contains(r.body, "The collection is not available."));
      CHECK_FALSE(contains(r.body, dir.path()));
      CHECK_FALSE(contains(r.body, file));
      CHECK(contains(r.log, file));
    }
  }
  CHECK_FALSE(std::filesystem::exists(dir / "missing.sqlite"));
  CHECK(std::filesystem::file_size(dir / "empty.sqlite") == 0);
}

TEST_CASE("XSS payloads stored in a collection come back escaped in every context",
          "[cgi][collection]") {
  for (const char* method : {"GET", "HEAD"}) {
    INFO(method);
    CgiResponse r = get_collection(kPublishedParam, method);
    std::string out = format_cgi_response(r, false);
    CHECK_FALSE(contains(out, "<script"));
    CHECK_FALSE(contains(out, "<img"));
    CHECK_FALSE(contains(out, "\"'>"));
    CHECK_FALSE(contains(out, "<review>"));
    const std::string escaped = html_escape(kXss);
    // Text: title, site, journal, byline, DOI and snippet.
    CHECK(contains(r.body, "\">" + escaped + "</a></h2>"));
    CHECK(contains(r.body, "<span class=\"site\">" + escaped + "</span>"));
    CHECK(contains(r.body,
                   "<p class=\"byline\">" + escaped + ", Smith J · <cite>" + escaped + "</cite>"));
    CHECK(contains(r.body, "<p class=\"snippet\">" + escaped + "</p>"));
    CHECK(contains(r.body, ">10.1000/" + escaped + "</a></p>"));
    // Attributes: the item's link and the COinS title.
    CHECK(contains(r.body,
                   "<a href=\"https://evil.example/a?x=&quot;&gt;&lt;script&gt;alert(3)"
                   "&lt;/script&gt;\">"));
    CHECK(contains(r.body, "rft.atitle=" + kev(kXss) + "&amp;"));
    CHECK(contains(r.body, "rft.au=" + kev(kXss) + "&amp;"));
    // URLs: the DOI link is percent-encoded; the page links carry the name so.
    CHECK(contains(r.body,
                   "href=\"https://doi.org/10.1000/%22%27%3E%3Cscript%3Ealert%281%29%3C"
                   "/script%3E%3Cimg%20src%3Dx%20onerror%3Dalert%282%29%3E\""));
    CHECK(contains(r.body, "?collection=Ketamine+%26+CRPS+%3Creview%3E&amp;page=2"));
  }
  // A name in the request is never echoed, whatever it holds.
  CgiResponse evil = get_collection("collection=" + url_encode(kXss));
  CHECK(evil.status == 404);
  CHECK_FALSE(contains(evil.body, "<script"));
  CHECK_FALSE(contains(evil.body, "alert"));
}

TEST_CASE("HEAD of a collection page has the headers of GET and no body", "[cgi][collection]") {
  for (const char* suffix : {"", "&format=json", "&page=2"}) {
    INFO(suffix);
    CgiResponse get_response = get_collection(kPublishedParam + suffix);
    CgiResponse head = get_collection(kPublishedParam + suffix, "HEAD");
    CHECK(head.status == 200);
    std::string head_out = format_cgi_response(head, true);
    CHECK(head_out == header_block(get_response));
    CHECK(head_out.size() == head_out.find("\r\n\r\n") + 4);
  }
  CgiResponse missing = get_collection("collection=gone", "HEAD");
  CHECK(missing.status == 404);
  CHECK(format_cgi_response(missing, true).rfind("Status: 404 Not Found\r\n", 0) == 0);
}

TEST_CASE("Serving collections never writes to the store", "[cgi][collection]") {
  // A copy, so that the other tests' store is not the one being watched.
  TempDir dir;
  std::string path = dir / "collections.sqlite";
  std::filesystem::copy_file(collection_fixture().store_path, path);
  auto listing = [&] {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
      names.insert(entry.path().filename().string());
    return names;
  };
  auto modified = [&] {
    struct stat info {};
    REQUIRE(stat(path.c_str(), &info) == 0);
    return std::pair{info.st_mtim.tv_sec, info.st_mtim.tv_nsec};
  };
  std::string bytes = read_file(path);
  auto mtime = modified();
  auto files = listing();
  REQUIRE(files == std::set<std::string>{"collections.sqlite"});

  CgiConfig config = collection_config();
  config.collections_path = path;
  auto h = CgiHandler::create(config);
  REQUIRE(h);
  for (const std::string& query :
       {kPublishedParam, kPublishedParam + "&format=json", kPublishedParam + "&page=3",
        std::string("collection=empty"), std::string("collection=gone"),
        std::string("collection=private"), kPublishedParam + "&q=x"}) {
    for (const char* method : {"GET", "HEAD", "POST"}) {
      CgiRequest request;
      request.method = method;
      request.query_string = query;
      h->handle(request);
      CHECK(listing() == files);  // no -journal, -wal or -shm, even for a moment after
    }
  }
  CHECK(read_file(path) == bytes);
  CHECK(modified() == mtime);
  CHECK(listing() == files);
}
