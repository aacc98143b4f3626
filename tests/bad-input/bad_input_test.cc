// The bad input catalogue (issue 10): hostile and broken inputs given to the
// real programs, each with the outcome a user wants: a clear message naming
// the input, no crash, no hang, and the data already stored left intact.
// kCatalogue below is the table; tests/bad-input/README.md shows it, and the
// last test case checks that the two agree.
#include <httplib.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "fixture_server.h"
#include "medsearch/frontier.h"
#include "medsearch/json.h"
#include "medsearch/warc.h"
#include "process.h"

using namespace medsearch;
using namespace medsearch::testing;
namespace fs = std::filesystem;

namespace {

// Under AddressSanitizer everything runs several times slower, so the 50 MB
// page is 12 MB there: still past the 8 MiB cut, which is what it tests.
constexpr size_t kHugePageBytes = kSanitized ? 12'000'000 : 50'000'000;

// One row of the catalogue.
struct BadInput {
  const char* name;     // also the name of the test case that checks it
  const char* input;    // what is given
  const char* command;  // which program, how
  const char* outcome;  // exit status and message, or behaviour
  const char* stored;   // what is checked of the data stored before
};

const BadInput kCatalogue[] = {
    {"truncated WARC gzip member", "crawl.warc.gz whose last gzip member is cut short",
     "medindex --db INDEX -v crawl.warc.gz",
     "exit 0; the records before the cut are indexed; `skipped PATH: truncated gzip member at "
     "offset N`",
     "index grows by the 2 whole records only"},
    {"truncated WARC record",
     "crawl.warc whose last record has fewer bytes than its Content-Length",
     "medindex --db INDEX -v crawl.warc",
     "exit 0; `skipped PATH: truncated WARC record at offset N (Content-Length N)`",
     "index grows by the 2 whole records only"},
    {"truncated gzip body in a WARC response",
     "a WARC response with Content-Encoding: gzip whose body is cut short",
     "medindex --db INDEX -v crawl.warc.gz",
     "exit 0; `skipped URL: corrupt compressed body: truncated data`, the other page indexed",
     "index grows by 1"},
    {"truncated gzip vocabulary", "d2024.bin.gz (MeSH) cut in the middle",
     "medindex --db INDEX --vocab d2024.bin.gz page.html",
     "exit 1; `medindex: error: cannot read 'PATH': unexpected end of file`",
     "document count unchanged; the stored vocabulary still finds concepts"},
    {"50 MB single-line HTML", "one 50 MB line of <p> elements (12 MB under sanitizers)",
     "medindex --db INDEX huge.html",
     "exit 0 in seconds; `cut file://PATH: longer than 8 MiB; indexed the first N of M bytes` and "
     "`cut 1: longer than 8 MiB` in the summary; words before the cut found, after it not",
     "index grows by 1"},
    {"100000 nested tags", "<div> nested 100,000 deep around a sentence, and <b> the same",
     "medindex --db INDEX deep-div.html deep-b.html",
     "exit 0 in seconds (was two minutes, then `no main text found`); both pages indexed with "
     "their text (tags past 256 deep are flattened)",
     "index grows by 2"},
    {"invalid UTF-8", "an HTML page and a JSON Lines record with bytes that are not UTF-8",
     "medindex --db INDEX bad-utf8.html bad-utf8.jsonl; medsearch --format json",
     "exit 0; both indexed, bad bytes replaced by U+FFFD; search output is valid JSON",
     "index grows by 2"},
    {"NUL in a URL", "links to /a%00b.html and to a path with a raw NUL byte, over HTTP",
     "medcrawl --out CRAWL URL (crawl resumed in the same CRAWL)",
     "exit 0; both fetched percent-encoded (/a%00b.html, /raw%00nul.html) and recorded as "
     "failed http-404",
     "frontier entries of the first crawl unchanged; no URL in the frontier holds a NUL"},
    {"redirect loop",
     "/self redirects to itself, /ping and /pong to each other, robots.txt to itself",
     "medcrawl --out CRAWL URL (crawl resumed in the same CRAWL)",
     "exit 0 in seconds; each loop URL requested once; robots.txt followed 5 hops, then allow all",
     "frontier entries of the first crawl unchanged"},
    {"10 MB robots.txt", "robots.txt of 10,000,000 bytes: the rules, then comment lines",
     "medcrawl --out CRAWL URL (crawl resumed in the same CRAWL)",
     "exit 0 in seconds; the rules in its first 500 KiB obeyed (/private/ not fetched)",
     "frontier entries of the first crawl unchanged"},
    {"RIS file without ER", "an RIS record whose ER line is missing (file cut short)",
     "medsearch collection --db INDEX import c cut.ris",
     "exit 2; `medsearch: error: 'PATH': record at line 1 has no ER line (file cut short?)`",
     "the collection exports exactly as before"},
    {"query of 100000 characters", "a 100,000-byte query",
     "medsearch --db INDEX QUERY; medsearch.cgi with q=QUERY",
     "medsearch: exit 2, `medsearch: error: the query is 100000 bytes long; at most 10000 are "
     "searched (see --help)`; CGI: 400 `The request is too long.`",
     "the index still answers"},
    {"control characters in q",
     "q of control characters only (NUL, BEL, ESC, DEL...); q with ESC [31m between words",
     "medsearch.cgi with q=...; medsearch QUERY",
     "CGI: 200 and no control character in the page (they become spaces); only controls: the "
     "search form, as for an empty q; format=json is valid JSON; medsearch: exit 0",
     "the index still answers"},
    {"vocabulary with BOM and CRLF",
     "a concept TSV file starting with a UTF-8 BOM, lines ending CRLF",
     "medindex --db INDEX --vocab vocab.tsv record.jsonl",
     "exit 0; read as if plain: its first concept and the variant at the end of a line match",
     "index grows by 1"},
};

const BadInput& catalogue_row(const std::string& name) {
  for (const BadInput& row : kCatalogue)
    if (name == row.name) return row;
  FAIL("no catalogue row named '" << name << "'");
  return kCatalogue[0];
}

// The rows as the Markdown table of README.md.
std::string catalogue_markdown() {
  std::string out =
      "| Case | Input | Program and command | Expected outcome | Stored data check |\n"
      "|---|---|---|---|---|\n";
  auto cell = [](std::string text) {
    for (size_t at = 0; (at = text.find('|', at)) != std::string::npos; at += 2)
      text.replace(at, 1, "\\|");
    return text;
  };
  for (const BadInput& row : kCatalogue)
    out += "| " + cell(row.name) + " | " + cell(row.input) + " | `" + cell(row.command) + "` | " +
           cell(row.outcome) + " | " + cell(row.stored) + " |\n";
  return out;
}

// Runs a program, killed if it takes more than `seconds` (a hang is a failure too).
ProcessResult run_bounded(std::vector<std::string> argv, int seconds,
                          const std::vector<std::string>& env = {}) {
  argv.insert(argv.begin(), {"/usr/bin/timeout", "-s", "KILL", std::to_string(seconds)});
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = run_process(argv, env);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(argv[4] << " took " << took << " s; stderr: " << r.err);
  CHECK(r.exit_code != 137);  // killed by timeout: it hung
  return r;
}

void write_file(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string gzip(const std::string& data) {
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string page(const std::string& title, const std::string& text) {
  return "<html><head><title>" + title + "</title></head><body><main><h1>" + title + "</h1><p>" +
         text + "</p></main></body></html>";
}

std::string http_response(const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// An index of fixtures/site in its own directory: the stored data the bad
// inputs must leave intact. Built once, copied for each test case.
struct Store {
  TempDir dir;
  std::string index = dir / "index";

  Store() {
    static TempDir built;
    static bool ready = false;
    if (!ready) {
      ProcessResult r = run_process(
          {bin_path("medindex"), "--db", built / "index", "--quiet", source_path("fixtures/site")});
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      ready = true;
    }
    fs::copy(built / "index", index, fs::copy_options::recursive);
  }

  ProcessResult medindex(std::vector<std::string> args, int seconds = 60) {
    args.insert(args.begin(), {bin_path("medindex"), "--db", index});
    return run_bounded(args, seconds);
  }

  // The document count medindex --stats reports: the index still opens.
  uint64_t documents() {
    ProcessResult r = run_process({bin_path("medindex"), "--db", index, "--stats"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::istringstream in(r.out);
    std::string word;
    uint64_t count = 0;
    in >> word >> count;
    REQUIRE(word == "documents");
    return count;
  }

  // Ids of the results of `query` (through medsearch --format json).
  std::vector<std::string> search(const std::string& query) {
    ProcessResult r = run_process(
        {bin_path("medsearch"), "--db", index, "--format", "json", "--limit", "100", query});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto parsed = parse_json(r.out);
    REQUIRE(parsed);
    std::vector<std::string> ids;
    for (const auto& hit : parsed->find("results")->items()) ids.push_back(hit.text("id"));
    return ids;
  }
};

// A WARC file of `bodies` (URL -> HTTP response) in `dir`; its path.
std::string write_warc(const std::string& dir,
                       const std::vector<std::pair<std::string, std::string>>& responses) {
  auto warc = WarcWriter::open(dir);
  REQUIRE(warc);
  for (const auto& [url, response] : responses)
    REQUIRE(warc->write_exchange({url, "GET / HTTP/1.1\r\n\r\n", response, "", 0, ""}));
  return dir + "/crawl-00000.warc.gz";
}

std::vector<std::pair<std::string, std::string>> three_pages() {
  return {{"https://clinic.test/one", http_response(page("One", "zorblaxine first page"))},
          {"https://clinic.test/two", http_response(page("Two", "zorblaxine second page"))},
          {"https://clinic.test/three", http_response(page("Three", "zorblaxine third page"))}};
}

}  // namespace

TEST_CASE("truncated WARC gzip member", "[bad-input][medindex]") {
  catalogue_row("truncated WARC gzip member");
  Store s;
  uint64_t before = s.documents();
  TempDir dir;
  std::string whole = read_file(write_warc(dir / "w", three_pages()));
  std::string path = dir / "crawl.warc.gz";
  write_file(path, whole.substr(0, whole.size() - 40));
  ProcessResult r = s.medindex({"-v", path});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "skipped " + path + ": truncated gzip member at offset "));
  CHECK(s.documents() == before + 2);
}

TEST_CASE("truncated WARC record", "[bad-input][medindex]") {
  catalogue_row("truncated WARC record");
  Store s;
  uint64_t before = s.documents();
  TempDir dir;
  std::string gz = read_file(write_warc(dir / "w", three_pages()));
  // The same records uncompressed, the last one short of its Content-Length.
  std::string plain;
  {
    z_stream stream{};
    inflateInit2(&stream, 15 + 32);
    std::string out(1 << 20, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(gz.data());
    stream.avail_in = static_cast<uInt>(gz.size());
    while (stream.avail_in > 0) {
      stream.next_out = reinterpret_cast<Bytef*>(out.data());
      stream.avail_out = static_cast<uInt>(out.size());
      int rc = inflate(&stream, Z_NO_FLUSH);
      plain.append(out.data(), out.size() - stream.avail_out);
      if (rc == Z_STREAM_END)
        inflateReset(&stream);
      else if (rc != Z_OK)
        break;
    }
    inflateEnd(&stream);
  }
  std::string path = dir / "crawl.warc";
  write_file(path, plain.substr(0, plain.size() - 100));
  ProcessResult r = s.medindex({"-v", path});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "skipped " + path + ": truncated WARC record"));
  CHECK(contains(r.err, "(Content-Length "));
  CHECK(s.documents() == before + 2);
}

TEST_CASE("truncated gzip body in a WARC response", "[bad-input][medindex]") {
  catalogue_row("truncated gzip body in a WARC response");
  Store s;
  uint64_t before = s.documents();
  TempDir dir;
  std::string zipped = gzip(page("Zipped", "zorblaxine zipped page"));
  zipped.resize(zipped.size() / 2);
  std::string path = write_warc(
      dir / "w",
      {{"https://clinic.test/zipped", http_response(zipped, "Content-Encoding: gzip\r\n")},
       {"https://clinic.test/plain", http_response(page("Plain", "zorblaxine"))}});
  ProcessResult r = s.medindex({"-v", path});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err,
                 "skipped https://clinic.test/zipped: corrupt compressed body: truncated data\n"));
  CHECK(s.documents() == before + 1);
  CHECK(s.search("zorblaxine") == std::vector<std::string>{"https://clinic.test/plain"});
}

TEST_CASE("truncated gzip vocabulary", "[bad-input][medindex]") {
  catalogue_row("truncated gzip vocabulary");
  Store s;
  uint64_t before = s.documents();
  auto crps = s.search("reflex sympathetic dystrophy");  // found through the stored vocabulary
  TempDir dir;
  std::string mesh =
      "*NEWRECORD\nRECTYPE = D\nMH = Zorblax Syndrome\nENTRY = Zorbs\nUI = D999999\n\n";
  std::string zipped;
  for (int i = 0; i < 200; ++i) zipped += mesh;
  zipped = gzip(zipped);
  std::string path = dir / "d2024.bin.gz";
  write_file(path, zipped.substr(0, zipped.size() / 2));
  write_file(dir / "page.html", page("Zorbs", "zorbs in a page"));
  ProcessResult r = s.medindex({"--vocab", path, dir / "page.html"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "medindex: error: cannot read '" + path + "': unexpected end of file\n");
  CHECK(s.documents() == before);
  CHECK(s.search("reflex sympathetic dystrophy") == crps);
}

TEST_CASE("50 MB single-line HTML", "[bad-input][medindex]") {
  catalogue_row("50 MB single-line HTML");
  Store s;
  uint64_t before = s.documents();
  TempDir dir;
  std::string html =
      "<html><head><title>One long line</title></head><body><main><p>quixotry "
      "starts the page</p>";
  const std::string paragraph =
      "<p>Patients reported pain relief and better sleep after the infusion.</p>";
  while (html.size() < kHugePageBytes - 100) html += paragraph;
  html += "<p>zymurgy ends the page</p></main></body></html>";
  std::string path = dir / "huge.html";
  write_file(path, html);
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = s.medindex({path}, 120);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(
      contains(r.err, "medindex: cut file://" + path + ": longer than 8 MiB; indexed the first "));
  CHECK(contains(r.err, " of " + std::to_string(html.size()) + " bytes\n"));
  CHECK(contains(r.err, "medindex:   cut 1: longer than 8 MiB\n"));
  CHECK(s.documents() == before + 1);
  CHECK(s.search("quixotry") == std::vector<std::string>{"file://" + path});
  CHECK(s.search("zymurgy").empty());
  WARN("50 MB single-line HTML: medindex took " << took << " s");
}

TEST_CASE("100000 nested tags", "[bad-input][medindex]") {
  catalogue_row("100000 nested tags");
  Store s;
  uint64_t before = s.documents();
  TempDir dir;
  auto nested = [](const std::string& tag, const std::string& text) {
    std::string html = "<html><head><title>Nested " + tag + "</title></head><body>";
    for (int i = 0; i < 100000; ++i) html += "<" + tag + ">";
    html += text;
    for (int i = 0; i < 100000; ++i) html += "</" + tag + ">";
    return html + "</body></html>";
  };
  write_file(dir / "deep-div.html", nested("div", "A quixotry sentence deep in divs."));
  write_file(dir / "deep-b.html", nested("b", "A zymurgy sentence deep in bold."));
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = s.medindex({"-v", dir / "deep-div.html", dir / "deep-b.html"});
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(took < (kSanitized ? 40 : 10));
  CHECK(s.documents() == before + 2);
  CHECK(s.search("quixotry") == std::vector<std::string>{"file://" + dir / "deep-div.html"});
  CHECK(s.search("zymurgy") == std::vector<std::string>{"file://" + dir / "deep-b.html"});
}

TEST_CASE("invalid UTF-8", "[bad-input][medindex]") {
  catalogue_row("invalid UTF-8");
  Store s;
  uint64_t before = s.documents();
  TempDir dir;
  // A lone continuation byte, an overlong '/', a surrogate, a cut sequence, 0xFF.
  const std::string bad = "\x80 \xC0\xAF \xED\xA0\x80 \xE2\x82 \xFF";
  write_file(dir / "bad-utf8.html", page("Quixotry " + bad, "quixotry caf\xE9 " + bad + " end"));
  write_file(dir / "bad-utf8.jsonl", "{\"_id\":\"u1\",\"title\":\"Zymurgy " + bad +
                                         "\",\"text\":\"zymurgy notes " + bad + " end\"}\n");
  ProcessResult r = s.medindex({"-v", dir / "bad-utf8.html", dir / "bad-utf8.jsonl"});
  CHECK(r.exit_code == 0);
  CHECK(s.documents() == before + 2);
  for (const char* word : {"quixotry", "zymurgy"}) {
    ProcessResult found =
        run_process({bin_path("medsearch"), "--db", s.index, "--format", "json", word});
    INFO(word << ": " << found.err);
    CHECK(found.exit_code == 0);
    auto json = parse_json(found.out);
    REQUIRE(json);
    REQUIRE(json->find("results")->items().size() == 1);
    CHECK(contains(json->find("results")->items()[0].text("title"), "\xEF\xBF\xBD"));
  }
}

namespace {

std::vector<std::string> medcrawl_argv(const std::string& out, std::vector<std::string> args) {
  std::vector<std::string> argv = {bin_path("medcrawl"), "--out", out, "--delay", "0", "--quiet"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// A crawl directory that already holds a crawl of a small site on `server`:
// the stored data the hostile site must leave intact.
struct CrawlStore {
  TempDir site, out;
  std::unique_ptr<FixtureServer> first;
  std::map<std::string, FrontierEntry> before;

  CrawlStore() {
    write_file(site / "index.html", "<a href=\"a.html\">a</a>" + page("Home", "home"));
    write_file(site / "a.html", page("A", "a page"));
    first = std::make_unique<FixtureServer>(site.path());
    first->start();
    ProcessResult r = run_bounded(medcrawl_argv(out.path(), {first->url("/")}), 60);
    REQUIRE(r.exit_code == 0);
    before = entries();
    REQUIRE(before.size() >= 2);
  }

  std::map<std::string, FrontierEntry> entries() {
    auto frontier = Frontier::open(out / "frontier.sqlite");
    REQUIRE(frontier);
    auto all = frontier->entries();
    REQUIRE(all);
    std::map<std::string, FrontierEntry> by_url;
    for (auto& entry : *all) by_url[entry.url] = entry;
    return by_url;
  }

  // The entries of the first crawl are as they were.
  void check_intact() {
    auto now = entries();
    for (const auto& [url, entry] : before) {
      INFO(url);
      REQUIRE(now.count(url) == 1);
      CHECK(now[url].state == entry.state);
      CHECK(now[url].content_digest == entry.content_digest);
      CHECK(now[url].warc_offset == entry.warc_offset);
    }
    for (const auto& [url, entry] : now) CHECK(url.find('\0') == std::string::npos);
  }
};

}  // namespace

TEST_CASE("NUL in a URL", "[bad-input][medcrawl]") {
  catalogue_row("NUL in a URL");
  CrawlStore c;
  TempDir site;
  write_file(site / "index.html",
             std::string("<a href=\"/a%00b.html\">encoded</a> <a href=\"/raw") + '\0' +
                 "nul.html\">raw</a>" + page("Hostile", "links"));
  FixtureServer server(site.path());
  server.start();
  ProcessResult r = run_bounded(medcrawl_argv(c.out.path(), {server.url("/")}), 60);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  c.check_intact();
  auto now = c.entries();
  // Both are asked for, percent-encoded; the server has neither.
  CHECK(now[server.url("/a%00b.html")].reason == "http-404");
  CHECK(now[server.url("/raw%00nul.html")].reason == "http-404");
}

TEST_CASE("redirect loop", "[bad-input][medcrawl]") {
  catalogue_row("redirect loop");
  CrawlStore c;
  TempDir site;
  write_file(site / "index.html",
             "<a href=\"/self\">s</a><a href=\"/ping\">p</a>" + page("Loops", "loops"));
  write_file(
      site / "routes.tsv",
      "/self\t302\t/self\n/ping\t301\t/pong\n/pong\t301\t/ping\n/robots.txt\t302\t/robots.txt\n");
  FixtureServer server(site.path(), site / "routes.tsv");
  server.start();
  ProcessResult r = run_bounded(medcrawl_argv(c.out.path(), {server.url("/")}), 60);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  c.check_intact();
  std::map<std::string, int> asked;
  for (const auto& request : server.requests()) ++asked[request.path];
  CHECK(asked["/self"] == 1);
  CHECK(asked["/ping"] == 1);
  CHECK(asked["/pong"] == 1);
  CHECK(asked["/robots.txt"] == 6);  // the first ask and five redirects
  CHECK(asked["/index.html"] + asked["/"] >= 1);
}

TEST_CASE("10 MB robots.txt", "[bad-input][medcrawl]") {
  catalogue_row("10 MB robots.txt");
  CrawlStore c;
  TempDir site;
  write_file(site / "index.html",
             "<a href=\"/private/x.html\">x</a><a href=\"/open.html\">o</a>" + page("Home", "h"));
  write_file(site / "open.html", page("Open", "open"));
  write_file(site / "private/x.html", page("Private", "private"));
  std::string robots = "User-agent: *\nDisallow: /private/\n";
  while (robots.size() < 10'000'000 - 64) robots += "# a comment line to make the file large\n";
  robots.resize(10'000'000, '#');
  FixtureServer server(site.path());
  server.http().Get("/robots.txt", [&robots](const httplib::Request&, httplib::Response& response) {
    response.set_content(robots, "text/plain");
  });
  server.start();
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = run_bounded(medcrawl_argv(c.out.path(), {server.url("/")}), 60);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(took < 30);
  c.check_intact();
  auto now = c.entries();
  CHECK(now[server.url("/open.html")].state == UrlState::kFetched);
  CHECK(now[server.url("/private/x.html")].reason == "robots");
  for (const auto& request : server.requests()) CHECK(request.path != "/private/x.html");
}

TEST_CASE("RIS file without ER", "[bad-input][collection]") {
  catalogue_row("RIS file without ER");
  Store s;
  auto collection = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {bin_path("medsearch"), "collection", "--db", s.index});
    return run_bounded(args, 60);
  };
  REQUIRE(collection({"create", "c", "--query", "ketamine", "--top", "5"}).exit_code == 0);
  std::string before = collection({"export", "c", "--format", "jsonl"}).out;
  REQUIRE(!before.empty());
  TempDir dir;
  std::string path = dir / "cut.ris";
  write_file(path,
             "TY  - JOUR\r\nTI  - Ketamine for zorbs\r\nAU  - Smith, J\r\nPY  - 2021\r\n"
             "UR  - https://journal.test/zorbs\r\n");
  ProcessResult r = collection({"import", "c", path});
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "medsearch: error: '" + path + "': record at line 1 has no ER line (file cut short?)\n");
  CHECK(collection({"export", "c", "--format", "jsonl"}).out == before);
}

TEST_CASE("query of 100000 characters", "[bad-input][medsearch][cgi]") {
  catalogue_row("query of 100000 characters");
  Store s;
  std::string query;
  for (int i = 0; query.size() < 100000; ++i) query += "ketamine" + std::to_string(i) + " ";
  query.resize(100000);
  ProcessResult r = run_bounded({bin_path("medsearch"), "--db", s.index, query}, 60);
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "medsearch: error: the query is 100000 bytes long; at most 10000 are searched (see "
        "--help)\n");

  std::string config = s.dir / "medsearch.conf";
  write_file(config, "index = " + s.index + "\n");
  ProcessResult cgi =
      run_bounded({bin_path("medsearch.cgi")}, 60,
                  {"MEDSEARCH_CONFIG=" + config, "REQUEST_METHOD=GET", "QUERY_STRING=q=" + query});
  CHECK(cgi.out.rfind("Status: 400", 0) == 0);
  CHECK(contains(cgi.out, "The request is too long."));
  CHECK(!s.search("ketamine").empty());
}

TEST_CASE("control characters in q", "[bad-input][medsearch][cgi]") {
  catalogue_row("control characters in q");
  Store s;
  std::string config = s.dir / "medsearch.conf";
  write_file(config, "index = " + s.index + "\n");
  auto cgi = [&](const std::string& query) {
    return run_bounded(
        {bin_path("medsearch.cgi")}, 60,
        {"MEDSEARCH_CONFIG=" + config, "REQUEST_METHOD=GET", "QUERY_STRING=" + query});
  };
  auto no_controls = [](const std::string& text) {
    for (unsigned char c : text)
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return false;
    return true;
  };
  const std::string controls = "q=%00%01%02%07%08%0B%0C%0E%1B%7F";
  ProcessResult html = cgi(controls);
  CHECK(html.out.rfind("Status: 200", 0) == 0);
  CHECK(no_controls(html.out));
  CHECK(contains(html.out, "<main id=\"main\" class=\"landing\">"));  // as for an empty q

  ProcessResult mixed = cgi("q=keta%00mine%07%1B%5B31mpain%1B%5B2J&format=json");
  CHECK(mixed.out.rfind("Status: 200", 0) == 0);
  CHECK(no_controls(mixed.out));
  REQUIRE(contains(mixed.out, "\r\n\r\n"));
  CHECK(parse_json(mixed.out.substr(mixed.out.find("\r\n\r\n") + 4)));

  ProcessResult cli =
      run_bounded({bin_path("medsearch"), "--db", s.index, std::string("\x01\x07\x1b[2J\x7f")}, 60);
  CHECK(cli.exit_code == 0);
  CHECK(!s.search("ketamine").empty());
}

TEST_CASE("vocabulary with BOM and CRLF", "[bad-input][medindex]") {
  catalogue_row("vocabulary with BOM and CRLF");
  Store s;
  uint64_t before = s.documents();
  TempDir dir;
  write_file(dir / "vocab.tsv",
             "\xEF\xBB\xBFtest:zorblax\tZorblax syndrome\tzorbs|zorblaxia\r\n"
             "test:quix\tQuixotic pain\tquixotry\r\n");
  write_file(dir / "record.jsonl",
             "{\"_id\":\"v1\",\"title\":\"Living with quixotry\",\"text\":\"Notes on zorblaxia "
             "and quixotry.\"}\n");
  ProcessResult r = s.medindex({"--vocab", dir / "vocab.tsv", dir / "record.jsonl"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "vocabulary: 2 concepts from 1 file(s)"));
  CHECK(s.documents() == before + 1);
  CHECK(s.search("Zorblax syndrome") == std::vector<std::string>{"record:v1"});
  CHECK(s.search("Quixotic pain") == std::vector<std::string>{"record:v1"});
}

TEST_CASE("the catalogue in README.md is the table of these cases", "[bad-input]") {
  const std::string readme_path = source_path("tests/bad-input/README.md");
  const std::string begin = "<!-- catalogue: generated from bad_input_test.cc -->\n";
  const std::string end = "<!-- end of catalogue -->\n";
  std::string readme = read_file(readme_path);
  size_t from = readme.find(begin), to = readme.find(end);
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  from += begin.size();
  std::string table = catalogue_markdown();
  if (std::getenv("MEDSEARCH_UPDATE_CATALOGUE")) {
    readme.replace(from, to - from, table);
    std::ofstream(readme_path, std::ios::binary) << readme;
  }
  INFO("run with MEDSEARCH_UPDATE_CATALOGUE=1 to write this table into README.md:\n" << table);
  CHECK(readme.substr(from, to - from) == table);
  // Every row has its test case.
  std::set<std::string> names;
  for (const auto& test : Catch::getRegistryHub().getTestCaseRegistry().getAllTests())
    names.insert(test.name);
  for (const BadInput& row : kCatalogue) CHECK(names.count(row.name) == 1);
}
