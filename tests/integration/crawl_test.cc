// medcrawl as a user runs it, against small sites built in each test and served
// by the fixture server on 127.0.0.1.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "fixture_server.h"
#include "loopback.h"
#include "medsearch/crawl_scope.h"
#include "medsearch/fetcher.h"
#include "medsearch/frontier.h"
#include "medsearch/url.h"
#include "medsearch/warc.h"
#include "process.h"

extern char** environ;

namespace medsearch {
namespace {

using testing::BackgroundProcess;
using testing::bin_path;
using testing::FixtureServer;
using testing::read_file;
using testing::RequestLogEntry;
using testing::run_process;
using testing::TempDir;

void write_file(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// Writes `files` (path relative to the site root -> content) below `root`.
void write_site(const TempDir& root, const std::map<std::string, std::string>& files) {
  for (const auto& [path, content] : files) write_file(root / path, content);
}

std::string page(const std::string& title, const std::vector<std::string>& hrefs) {
  std::string html = "<!doctype html><html><head><title>" + title + "</title></head><body><h1>" +
                     title + "</h1><p>Some text about " + title + ".</p>";
  for (const auto& href : hrefs) html += "<p><a href=\"" + href + "\">" + href + "</a></p>";
  return html + "</body></html>";
}

// The little site most tests crawl: robots.txt keeps out /private/, /old
// redirects to /moved.html, a link goes to a missing page, an image, a PDF,
// a text file, a mailto: and another host.
void write_small_site(const TempDir& root) {
  write_site(root, {{"robots.txt", "User-agent: *\nDisallow: /private/\n"},
                    {"index.html",
                     page("Home", {"a.html", "/private/secret.html", "missing.html", "image.png",
                                   "/old", "doc.pdf", "notes.txt", "mailto:someone@example.org",
                                   "http://other.invalid/page.html", "a.html#section"})},
                    {"a.html", page("A", {"index.html", "sub/b.html"})},
                    {"sub/b.html", page("B", {"../a.html", "./c.html?x=1"})},
                    {"sub/c.html", page("C", {})},
                    {"moved.html", page("Moved", {})},
                    {"private/secret.html", page("Secret", {})},
                    {"image.png", "\x89PNG\r\n\x1a\nnot really"},
                    {"doc.pdf", "%PDF-1.4\n% a tiny not-quite PDF\n%%EOF\n"},
                    {"notes.txt", "plain text notes\n"}});
  write_file(root / "routes.tsv", "# path\tstatus\tlocation\n/old\t301\t/moved.html\n");
}

std::vector<std::string> requested_paths(const std::vector<RequestLogEntry>& log, size_t from = 0) {
  std::vector<std::string> paths;
  for (size_t i = from; i < log.size(); ++i) paths.push_back(log[i].path);
  return paths;
}

// Response records in all WARC files of a crawl: target URI -> count. Fails
// the test if any file does not read cleanly to its end.
std::map<std::string, int> warc_responses(const std::string& out,
                                          std::map<std::string, uint64_t>* offsets = nullptr) {
  std::map<std::string, int> responses;
  for (const auto& entry : std::filesystem::directory_iterator(out + "/warc")) {
    auto reader = WarcReader::open(entry.path().string());
    REQUIRE(reader.ok());
    while (true) {
      uint64_t offset = reader->offset();
      auto record = reader->next();
      INFO(entry.path().string());
      REQUIRE(record.ok());
      if (!*record) break;
      if ((*record)->header("WARC-Type") != "response") continue;
      std::string uri = (*record)->header("WARC-Target-URI");
      ++responses[uri];
      if (offsets) (*offsets)[uri] = offset;
    }
  }
  return responses;
}

// The frontier of a crawl by path. Every URL must be on `server` unless
// `other_servers` (then the URLs of other servers are left out).
std::map<std::string, FrontierEntry> frontier_by_path(const std::string& out,
                                                      const FixtureServer& server,
                                                      bool other_servers = false) {
  auto frontier = Frontier::open(out + "/frontier.sqlite");
  REQUIRE(frontier.ok());
  auto entries = frontier->entries();
  REQUIRE(entries.ok());
  std::map<std::string, FrontierEntry> by_path;
  std::string origin = server.url("");
  for (auto& entry : *entries) {
    if (other_servers && entry.url.rfind(origin + "/", 0) != 0) continue;
    REQUIRE(entry.url.rfind(origin, 0) == 0);
    by_path[entry.url.substr(origin.size())] = entry;
  }
  return by_path;
}

TEST_CASE("Fetcher: bodies decoded, raw bytes kept, caps and filters applied", "[crawl][fetcher]") {
  TempDir site;
  write_site(site, {{"page.html", page("Page", {})}});
  FixtureServer server(site.path());
  auto& http = server.http();
  http.Get("/chunked", [](const httplib::Request&, httplib::Response& response) {
    response.set_chunked_content_provider("text/plain", [](size_t, httplib::DataSink& sink) {
      sink.write("hello ", 6);
      sink.write("world", 5);
      sink.done();
      return true;
    });
  });
  http.Get("/gzip", [](const httplib::Request&, httplib::Response& response) {
    response.set_header("Content-Encoding", "gzip");
    response.set_content(gzip_compress("<p>zipped</p>"), "text/html");
  });
  http.Get("/big", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(std::string(5000, 'x'), "text/plain");
  });
  // The fixture server gzips text when asked, so binary types test the cap on the wire.
  http.Get("/big-binary", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(std::string(5000, 'b'), "application/octet-stream");
  });
  http.Get("/big-binary-chunked", [](const httplib::Request&, httplib::Response& response) {
    response.set_chunked_content_provider("application/octet-stream",
                                          [](size_t, httplib::DataSink& sink) {
                                            std::string part(1000, 'y');
                                            for (int i = 0; i < 5; ++i)
                                              sink.write(part.data(), part.size());
                                            sink.done();
                                            return true;
                                          });
  });
  http.Get("/image", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(std::string(100, 'i'), "image/png");
  });
  http.Get("/redirect", [](const httplib::Request&, httplib::Response& response) {
    response.status = 302;
    response.set_header("Location", "/page.html");
  });
  http.Get("/slow", [](const httplib::Request&, httplib::Response& response) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    response.set_content("slow", "text/plain");
  });
  server.start();

  FetcherOptions options;
  options.max_body_bytes = 1000;
  options.user_agent = "medcrawl-test/1";
  options.want_content_type = [](std::string_view type) { return type.rfind("image/", 0) != 0; };
  struct Case {
    std::string url;
    int status;
    std::string body;
    std::string aborted;  // "" for a whole response
  };
  const Case cases[] = {
      {server.url("/page.html"), 200, read_file(site / "page.html"), ""},
      {server.url("/chunked"), 200, "hello world", ""},
      {server.url("/gzip"), 200, "<p>zipped</p>", ""},
      {server.url("/redirect"), 302, "", ""},
      {server.url("/missing"), 404, "", ""},
      {server.url("/big"), 200, "", "too-large"},
      {server.url("/big-binary"), 0, "", "too-large"},
      {server.url("/big-binary-chunked"), 200, "", "too-large"},
      {server.url("/image"), 200, "", "content-type"},
  };
  Fetcher fetcher(options);
  for (size_t i = 0; i < std::size(cases); ++i) fetcher.start(i, cases[i].url);
  std::map<uint64_t, FetchResult> results;
  for (int i = 0; i < 100 && fetcher.active() > 0; ++i) {
    for (auto& result : fetcher.poll(100)) results[result.token] = std::move(result);
  }
  REQUIRE(results.size() == std::size(cases));
  for (size_t i = 0; i < std::size(cases); ++i) {
    const Case& c = cases[i];
    const FetchResult& result = results[i];
    INFO(c.url << ": " << result.error);
    CHECK(result.url == c.url);
    if (c.status != 0) CHECK(result.status == c.status);
    CHECK(result.aborted == c.aborted);
    CHECK(result.ok() == c.aborted.empty());
    if (!c.aborted.empty()) continue;
    if (c.status != 404) CHECK(result.body == c.body);
    CHECK(result.ip_address == "127.0.0.1");
    CHECK(result.raw_request.rfind("GET ", 0) == 0);
    CHECK(result.raw_request.find("User-Agent: medcrawl-test/1\r\n") != std::string::npos);
    CHECK(result.raw_request.find("Accept-Encoding: gzip, deflate\r\n") != std::string::npos);
    CHECK(result.raw_response.rfind("HTTP/1.1 " + std::to_string(c.status), 0) == 0);
    // The raw response decodes to the same body: what the WARC record holds.
    auto decoded = parse_http_response(result.raw_response);
    REQUIRE(decoded.ok());
    CHECK(decoded->body == result.body);
  }
  CHECK(results[1].raw_response.find("Transfer-Encoding: chunked") != std::string::npos);
  CHECK(results[2].header("content-encoding") == "gzip");
  CHECK(results[3].header("Location") == "/page.html");  // not followed

  // Transfers run concurrently on one thread.
  auto start = std::chrono::steady_clock::now();
  for (uint64_t token = 0; token < 3; ++token) fetcher.start(token, server.url("/slow"));
  size_t finished = 0;
  while (fetcher.active() > 0) finished += fetcher.poll(100).size();
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  CHECK(finished == 3);
  CHECK(took.count() < 0.85);

  // No server: an error and no status.
  FetchResult refused = fetch_url("http://127.0.0.1:1/");
  CHECK_FALSE(refused.ok());
  CHECK(refused.status == 0);
  CHECK(refused.aborted.empty());
}

// bench/crawl's servers: the site held in memory, each text file gzipped
// once. What a client gets must not change, compressed or not.
TEST_CASE("fixture server --cache answers as without it", "[crawl][fetcher]") {
  TempDir site;
  write_site(site, {{"index.html", page("Home", {"%ORIGIN%/a.html"})},
                    {"a.html", page("A", {})},
                    {"robots.txt", "User-agent: *\nDisallow: /private/\n"},
                    {"doc.pdf", "%PDF-1.4 not text"}});
  FixtureServer plain(site.path());
  plain.start();
  FixtureServer cached(site.path());
  cached.set_cache_files(true);
  cached.start();
  Fetcher fetcher;
  uint64_t token = 0;
  std::map<uint64_t, FetchResult> results;
  for (const FixtureServer* server : {&plain, &cached}) {
    for (const char* path : {"/", "/index.html", "/a.html", "/robots.txt", "/doc.pdf", "/none"}) {
      RequestOptions gzip, identity;
      identity.compressed = false;
      fetcher.start(token++, server->url(path), gzip);
      fetcher.start(token++, server->url(path), identity);
    }
  }
  for (int i = 0; i < 100 && fetcher.active() > 0; ++i) {
    for (auto& result : fetcher.poll(100)) results[result.token] = std::move(result);
  }
  REQUIRE(results.size() == token);
  const uint64_t half = token / 2;
  for (uint64_t i = 0; i < half; ++i) {
    const FetchResult& want = results[i];
    const FetchResult& got = results[half + i];
    INFO(got.url);
    REQUIRE(got.ok());
    CHECK(got.status == want.status);
    CHECK(got.header("Content-Type") == want.header("Content-Type"));
    std::string expected = want.body;  // each server writes its own origin
    const std::string plain_origin = plain.url(""), cached_origin = cached.url("");
    for (size_t at = expected.find(plain_origin); at != std::string::npos;
         at = expected.find(plain_origin, at + cached_origin.size()))
      expected.replace(at, plain_origin.size(), cached_origin);
    CHECK(got.body == expected);
    CHECK(got.header("Content-Encoding") == want.header("Content-Encoding"));
  }
  // The origin is filled in for the Host asked for, compressed or not.
  CHECK(results[half].body.find(cached.url("/a.html")) != std::string::npos);
  CHECK(results[half].header("Content-Encoding") == "gzip");
  CHECK(results[half + 1].header("Content-Encoding").empty());
  CHECK(results[half + 6].body.find("Disallow: /private/") != std::string::npos);
  CHECK(results[half + 10].status == 404);
}

TEST_CASE("medcrawl crawls a small site, obeying robots.txt", "[crawl]") {
  TempDir site, out;
  write_small_site(site);
  FixtureServer server(site.path(), site / "routes.tsv");
  server.start();

  auto result =
      run_process({bin_path("medcrawl"), "--out", out.path(), "--delay", "0", server.url("/")});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find("crawl summary") != std::string::npos);

  auto log = server.requests();
  std::multiset<std::string> paths;
  for (const auto& entry : log) {
    paths.insert(entry.path);
    CHECK(entry.user_agent.rfind("medcrawl/", 0) == 0);
  }
  CHECK(paths.count("/robots.txt") == 1);
  CHECK(log.front().path == "/robots.txt");
  for (const auto& path : paths) {
    INFO(path);
    CHECK(path.rfind("/private/", 0) != 0);
    CHECK(paths.count(path) == 1);  // nothing fetched twice
  }

  struct Expected {
    const char* path;
    UrlState state;
    const char* reason;
    int status;
    int depth;
  };
  const Expected expected[] = {
      {"/", UrlState::kFetched, "", 200, 0},
      {"/a.html", UrlState::kFetched, "", 200, 1},
      {"/sub/b.html", UrlState::kFetched, "", 200, 2},
      {"/sub/c.html?x=1", UrlState::kFetched, "", 200, 3},
      {"/old", UrlState::kFetched, "redirect", 301, 1},
      {"/moved.html", UrlState::kFetched, "", 200, 1},
      {"/doc.pdf", UrlState::kFetched, "", 200, 1},
      {"/notes.txt", UrlState::kFetched, "", 200, 1},
      {"/missing.html", UrlState::kFailed, "http-404", 404, 1},
      {"/image.png", UrlState::kSkipped, "content-type", 200, 1},
      {"/private/secret.html", UrlState::kSkipped, "robots", 0, 1},
      // The same bytes as "/": recorded as a duplicate of the first copy.
      {"/index.html", UrlState::kFetched, "duplicate", 200, 2},
  };
  auto frontier = frontier_by_path(out.path(), server);
  CHECK(frontier.size() == std::size(expected));  // no mailto:, no other host, no fragment
  std::map<std::string, uint64_t> offsets;
  auto responses = warc_responses(out.path(), &offsets);
  for (const Expected& e : expected) {
    INFO(e.path);
    REQUIRE(frontier.count(e.path) == 1);
    const FrontierEntry& entry = frontier[e.path];
    CHECK(entry.state == e.state);
    CHECK(entry.reason == e.reason);
    CHECK(entry.http_status == e.status);
    CHECK(entry.depth == e.depth);
    bool archived = e.status != 0 && e.state != UrlState::kSkipped;
    CHECK(responses.count(entry.url) == (archived ? 1u : 0u));
    if (archived) {
      CHECK(entry.warc_file == "crawl-00000.warc.gz");
      CHECK(entry.warc_offset == static_cast<int64_t>(offsets[entry.url]));
      CHECK(entry.content_digest.rfind("sha1:", 0) == 0);
    }
  }
  CHECK(frontier["/index.html"].detail == server.url("/"));
  CHECK(frontier["/old"].redirects == 0);
  CHECK(frontier["/moved.html"].redirects == 1);
  CHECK(frontier["/moved.html"].referrer == server.url("/old"));
  CHECK(frontier["/image.png"].content_type == "image/png");
  CHECK(responses.count(server.url("/robots.txt")) == 1);

  // The response records hold the pages as served.
  auto reader = WarcReader::open(out / "warc/crawl-00000.warc.gz");
  REQUIRE(reader.ok());
  bool found_home = false;
  while (auto record = reader->next()) {
    if (!*record) break;
    if ((*record)->header("WARC-Type") != "response" ||
        (*record)->header("WARC-Target-URI") != server.url("/")) {
      continue;
    }
    auto http = parse_http_response((*record)->block);
    REQUIRE(http.ok());
    CHECK(http->status == 200);
    CHECK(http->body == read_file(site / "index.html"));
    found_home = true;
  }
  CHECK(found_home);

  SECTION("a second run with the same --out fetches nothing again") {
    size_t before = server.requests().size();
    auto again =
        run_process({bin_path("medcrawl"), "--out", out.path(), "--delay", "0", server.url("/")});
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    for (const auto& path : requested_paths(server.requests(), before)) {
      INFO(path);
      CHECK(path == "/robots.txt");
    }
    CHECK(again.err.find("requests this run: 0 pages") != std::string::npos);
    CHECK(warc_responses(out.path()).at(server.url("/")) == 1);
  }
}

TEST_CASE("medcrawl limits pages and depth", "[crawl]") {
  TempDir site;
  write_small_site(site);
  FixtureServer server(site.path(), site / "routes.tsv");
  server.start();
  struct Case {
    std::vector<std::string> options;
    std::set<std::string> fetched_paths;  // pages requested (robots.txt aside)
  };
  const Case cases[] = {
      {{"--max-depth", "0"}, {"/"}},
      {{"--max-pages", "1"}, {"/"}},
      {{"--max-pages", "3", "--quiet"}, {"/", "/a.html", "/missing.html"}},
  };
  for (const Case& c : cases) {
    TempDir out;
    size_t before = server.requests().size();
    std::vector<std::string> argv = {bin_path("medcrawl"), "--out", out.path(), "--delay", "0"};
    argv.insert(argv.end(), c.options.begin(), c.options.end());
    argv.push_back(server.url("/"));
    auto result = run_process(argv);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    std::set<std::string> paths;
    for (const auto& path : requested_paths(server.requests(), before)) {
      if (path != "/robots.txt") paths.insert(path);
    }
    CHECK(paths.size() == c.fetched_paths.size());
    for (const auto& path : c.fetched_paths) CHECK(paths.count(path) == 1);
  }
}

TEST_CASE("medcrawl waits between requests to a host", "[crawl]") {
  struct Case {
    const char* delay;
    const char* robots_txt;
    double min_gap_seconds;
  };
  const Case cases[] = {
      {"0.3", "User-agent: *\nDisallow:\n", 0.25},
      {"0", "User-agent: *\nCrawl-delay: 0.3\n", 0.25},            // Crawl-delay honoured
      {"0.3", "User-agent: medcrawl\nCrawl-delay: 0.01\n", 0.25},  // never below --delay
  };
  for (const Case& c : cases) {
    INFO("--delay " << c.delay << ", robots.txt " << c.robots_txt);
    TempDir site, out;
    write_site(site, {{"robots.txt", c.robots_txt},
                      {"index.html", page("Home", {"a.html", "b.html"})},
                      {"a.html", page("A", {})},
                      {"b.html", page("B", {})}});
    FixtureServer server(site.path());
    server.start();
    auto result = run_process({bin_path("medcrawl"), "--out", out.path(), "--delay", c.delay,
                               "--quiet", server.url("/")});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    auto log = server.requests();
    REQUIRE(log.size() == 4);
    // Gaps between the page requests (the first request, robots.txt, sets the delay).
    for (size_t i = 2; i < log.size(); ++i) {
      std::chrono::duration<double> gap = log[i].time - log[i - 1].time;
      CHECK(gap.count() >= c.min_gap_seconds);
    }
  }
}

TEST_CASE("medcrawl reports usage errors with exit code 2", "[crawl]") {
  TempDir out;
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {{"http://127.0.0.1:1/"}, "--out"},
      {{"--out", out.path(), "ftp://example.org/"}, "bad seed URL"},
      {{"--out", out.path(), "--delay", "-1", "http://127.0.0.1:1/"}, "--delay"},
      {{"--out", out.path(), "--concurrency", "0", "http://127.0.0.1:1/"}, "--concurrency"},
      {{"--out", out.path(), "--no-such-option"}, "no-such-option"},
      {{"--out", out.path(), "--seeds", out / "missing-seeds.txt"}, "seeds"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {bin_path("medcrawl")};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto result = run_process(argv);
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.err.rfind("medcrawl: error: ", 0) == 0);
    CHECK(result.err.find(c.message) != std::string::npos);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  }
  auto nothing = run_process({bin_path("medcrawl"), "--out", out / "empty"});
  CHECK(nothing.exit_code == 1);
  CHECK(nothing.err.find("nothing to crawl") != std::string::npos);
  auto help = run_process({bin_path("medcrawl"), "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--max-pages") != std::string::npos);
}

// A site of slow pages /slow/1 -> /slow/2 -> ... -> /slow/N, each taking
// `delay` to answer, so a crawl can be stopped in the middle.
void add_slow_pages(FixtureServer& server, int count, std::chrono::milliseconds delay) {
  server.http().Get(R"(/slow/(\d+))", [count, delay](const httplib::Request& request,
                                                     httplib::Response& response) {
    std::this_thread::sleep_for(delay);
    int number = std::stoi(request.matches[1].str());
    std::vector<std::string> links;
    if (number < count) links.push_back("/slow/" + std::to_string(number + 1));
    links.push_back("/slow/" + std::to_string(number) + "/leaf");
    response.set_content(page("Slow " + std::to_string(number), links), "text/html; charset=utf-8");
  });
  server.http().Get(R"(/slow/(\d+)/leaf)",
                    [](const httplib::Request&, httplib::Response& response) {
                      response.set_content("leaf", "text/plain");
                    });
}

size_t count_paths(const std::vector<RequestLogEntry>& log, const std::string& prefix) {
  size_t count = 0;
  for (const auto& entry : log) count += entry.path.rfind(prefix, 0) == 0;
  return count;
}

void wait_for_requests(const FixtureServer& server, const std::string& prefix, size_t count) {
  for (int i = 0; i < 300 && count_paths(server.requests(), prefix) < count; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(count_paths(server.requests(), prefix) >= count);
}

TEST_CASE("medcrawl killed mid-crawl resumes without fetching anything twice", "[crawl]") {
  TempDir site, out;
  write_site(site, {{"robots.txt", "User-agent: *\nDisallow:\n"},
                    {"index.html", page("Home", {"/slow/1"})}});
  FixtureServer server(site.path());
  const int kPages = 6;
  add_slow_pages(server, kPages, std::chrono::milliseconds(150));
  server.start();
  std::vector<std::string> argv = {bin_path("medcrawl"), "--out", out.path(),     "--delay", "0",
                                   "--max-depth",        "20",    server.url("/")};
  {
    BackgroundProcess crawl(argv, out / "first-run.log");
    wait_for_requests(server, "/slow/", 4);
    crawl.signal(SIGKILL);
    CHECK(crawl.wait() == 128 + SIGKILL);
  }
  // What the killed run had recorded as done must not be requested again.
  std::set<std::string> done_before;
  {
    auto frontier = Frontier::open(out / "frontier.sqlite");
    REQUIRE(frontier.ok());
    auto entries = frontier->entries();
    REQUIRE(entries.ok());
    for (const auto& entry : *entries) {
      if (entry.state != UrlState::kQueued && entry.state != UrlState::kFetching) {
        done_before.insert(entry.url.substr(server.url("").size()));
      }
    }
  }
  REQUIRE_FALSE(done_before.empty());
  size_t before = server.requests().size();

  auto result = run_process(argv);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto log = server.requests();
  for (const auto& path : requested_paths(log, before)) {
    INFO(path);
    CHECK(done_before.count(path) == 0);
  }
  // Over both runs, a URL was requested twice at most: only if it was in flight at the kill.
  std::map<std::string, int> times;
  for (const auto& entry : log) ++times[entry.path];
  for (const auto& [path, count] : times) {
    INFO(path);
    if (path != "/robots.txt") CHECK(count <= 2);
  }
  auto frontier = frontier_by_path(out.path(), server);
  for (int i = 1; i <= kPages; ++i) {
    std::string path = "/slow/" + std::to_string(i);
    INFO(path);
    CHECK(frontier[path].state == UrlState::kFetched);
    CHECK(frontier[path + "/leaf"].state == UrlState::kFetched);
  }
  // Every WARC file reads cleanly to its end, and every fetched page is in it.
  auto responses = warc_responses(out.path());
  for (const auto& [path, entry] : frontier) {
    INFO(path);
    if (entry.state == UrlState::kFetched) CHECK(responses.count(entry.url) == 1);
  }
}

TEST_CASE("medcrawl stops cleanly on SIGTERM", "[crawl]") {
  TempDir site, out;
  write_site(site, {{"robots.txt", "User-agent: *\nDisallow:\n"},
                    {"index.html", page("Home", {"/slow/1"})}});
  FixtureServer server(site.path());
  add_slow_pages(server, 20, std::chrono::milliseconds(200));
  server.start();
  std::vector<std::string> argv = {bin_path("medcrawl"), "--out", out.path(), "--delay", "0",
                                   server.url("/")};
  int exit_code;
  {
    BackgroundProcess crawl(argv, out / "run.log");
    wait_for_requests(server, "/slow/", 2);
    crawl.signal(SIGTERM);
    exit_code = crawl.wait();
  }
  std::string output = read_file(out / "run.log");
  INFO(output);
  CHECK(exit_code == 1);
  CHECK(output.find("medcrawl: error: interrupted") != std::string::npos);
  CHECK(output.find("crawl summary") != std::string::npos);
  // The transfer in flight was finished and recorded: nothing is left mid-fetch.
  auto frontier = Frontier::open(out / "frontier.sqlite");
  REQUIRE(frontier.ok());
  CHECK(frontier->requeued_on_open() == 0);
  auto counts = frontier->count_by_state();
  REQUIRE(counts.ok());
  CHECK(counts->count(UrlState::kFetching) == 0);
  CHECK(counts->at(UrlState::kQueued) > 0);  // the rest is left for a later run
  warc_responses(out.path());                // reads cleanly
  auto writer = WarcWriter::open(out / "warc");
  REQUIRE(writer.ok());
  CHECK(writer->truncated_bytes() == 0);
}

// One record as the independent reader (tests/support/warc_check.py) sees it.
struct CheckedRecord {
  std::string type, uri, status, id, payload_digest, refers_to;
};

// Reads every WARC file of a crawl with the independent reader, which fails
// the test on any deviation from WARC 1.1; returns the records in order.
std::vector<CheckedRecord> independent_warc_read(const std::string& out) {
  std::vector<std::string> argv = {"/usr/bin/env", "python3",
                                   testing::source_path("tests/support/warc_check.py")};
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(out + "/warc")) {
    files.insert(entry.path().string());
  }
  argv.insert(argv.end(), files.begin(), files.end());
  auto result = run_process(argv);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  std::vector<CheckedRecord> records;
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    CheckedRecord record;
    std::getline(fields, record.type, '\t');
    std::getline(fields, record.uri, '\t');
    std::getline(fields, record.status, '\t');
    std::getline(fields, record.id, '\t');
    std::getline(fields, record.payload_digest, '\t');
    std::getline(fields, record.refers_to, '\t');
    records.push_back(record);
  }
  return records;
}

std::vector<std::string> medcrawl_argv(const TempDir& out, std::vector<std::string> options) {
  std::vector<std::string> argv = {bin_path("medcrawl"), "--out", out.path(), "--delay", "0"};
  argv.insert(argv.end(), options.begin(), options.end());
  return argv;
}

void serve(FixtureServer& server, const std::string& path, int status, const std::string& body,
           const std::string& type = "text/html; charset=utf-8",
           std::vector<std::pair<std::string, std::string>> headers = {}) {
  server.http().Get(path, [=](const httplib::Request&, httplib::Response& response) {
    response.status = status;
    for (const auto& [name, value] : headers) response.set_header(name, value);
    response.set_content(body, type);
  });
}

TEST_CASE("medcrawl --sitemaps reads robots.txt Sitemap lines, indexes and gzipped sitemaps",
          "[crawl][sitemap]") {
  TempDir site;
  auto urlset = [](std::vector<std::string> paths) {
    std::string xml =
        R"(<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">)";
    for (const auto& path : paths) xml += "<url><loc>%ORIGIN%" + path + "</loc></url>";
    return xml + "</urlset>";
  };
  write_site(site, {{"robots.txt",
                     "User-agent: *\nDisallow: /private/\nSitemap: %ORIGIN%/maps/index.xml\n"},
                    {"index.html", page("Home", {"linked.html"})},
                    {"linked.html", page("Linked", {})},
                    {"only-in-a.html", page("Only in sitemap A", {})},
                    {"only-in-b.html", page("Only in sitemap B", {})},
                    {"private/listed.html", page("Listed but disallowed", {})},
                    {"maps/index.xml",
                     "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
                     "<sitemap><loc>%ORIGIN%/maps/a.xml</loc></sitemap>"
                     "<sitemap><loc>%ORIGIN%/maps/b.xml.gz</loc></sitemap></sitemapindex>"},
                    {"maps/a.xml", urlset({"/only-in-a.html", "/private/listed.html"})}});
  // The gzipped sitemap is served as a file (application/gzip), not Content-Encoding.
  std::string b =
      "<urlset><url><loc>http://127.0.0.1:1/elsewhere.html</loc></url>"
      "<url><loc>ORIGIN/only-in-b.html</loc></url></urlset>";
  FixtureServer server(site.path());
  server.start();
  b.replace(b.find("ORIGIN"), 6, server.url(""));
  write_file(site / "maps/b.xml.gz", gzip_compress(b));

  SECTION("without --sitemaps only links are followed") {
    TempDir out;
    auto result = run_process(medcrawl_argv(out, {server.url("/")}));
    REQUIRE(result.exit_code == 0);
    auto frontier = frontier_by_path(out.path(), server);
    CHECK(frontier.count("/only-in-a.html") == 0);
    CHECK(count_paths(server.requests(), "/maps/") == 0);
  }
  SECTION("with --sitemaps the listed pages are crawled too") {
    TempDir out;
    auto result = run_process(medcrawl_argv(out, {"--sitemaps", server.url("/")}));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    auto frontier = frontier_by_path(out.path(), server);
    CHECK(frontier["/only-in-a.html"].state == UrlState::kFetched);
    CHECK(frontier["/only-in-a.html"].referrer == server.url("/maps/a.xml"));
    CHECK(frontier["/only-in-b.html"].state == UrlState::kFetched);
    CHECK(frontier["/private/listed.html"].state == UrlState::kSkipped);  // robots.txt still rules
    CHECK(frontier["/private/listed.html"].reason == "robots");
    CHECK(frontier["/linked.html"].state == UrlState::kFetched);
    CHECK(frontier.count("/maps/a.xml") == 0);  // sitemaps are read, not recorded as pages
    CHECK(result.err.find("sitemap " + server.url("/maps/b.xml.gz") +
                          ": 1 URLs, 1 on other hosts") != std::string::npos);
    auto paths = requested_paths(server.requests());
    CHECK(std::count(paths.begin(), paths.end(), "/maps/index.xml") == 1);
    CHECK(std::count(paths.begin(), paths.end(), "/private/listed.html") == 0);
    // Sitemaps are archived like any other exchange.
    auto records = independent_warc_read(out.path());
    CHECK(std::count_if(records.begin(), records.end(), [&](const CheckedRecord& r) {
            return r.type == "response" && r.uri == server.url("/maps/b.xml.gz");
          }) == 1);
  }
}

TEST_CASE("medcrawl --sitemaps falls back to /sitemap.xml", "[crawl][sitemap]") {
  TempDir site, out;
  write_site(site,
             {{"index.html", page("Home", {})},
              {"orphan.html", page("Orphan", {})},
              {"sitemap.xml", "<urlset><url><loc>%ORIGIN%/orphan.html</loc></url></urlset>"}});
  FixtureServer server(site.path());
  server.start();
  auto result = run_process(medcrawl_argv(out, {"--sitemaps", server.url("/")}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(frontier_by_path(out.path(), server)["/orphan.html"].state == UrlState::kFetched);
}

TEST_CASE("medcrawl keeps to its scope and refuses private addresses", "[crawl][scope]") {
  TempDir site;
  FixtureServer server(site.path());
  server.start();
  std::string port = std::to_string(server.port());
  std::string long_path = "/long/" + std::string(100, 'x') + ".html";
  write_site(site,
             {{"index.html",
               page("Home", {"/articles/a.html", "/articles/a.html?print=1", "/about.html",
                             long_path, "http://localhost:" + port + "/via-localhost.html",
                             "file:///etc/passwd", "ftp://127.0.0.1/x", "http://other.invalid/x"})},
              {"articles/a.html", page("A", {})},
              {"about.html", page("About", {})},
              {"via-localhost.html", page("Via localhost", {})},
              {long_path.substr(1), page("Long", {})}});
  struct Case {
    std::vector<std::string> options;
    std::map<std::string, std::string> reasons;  // path -> expected reason ("" fetched, "-" absent)
  };
  const Case cases[] = {
      {{},
       {{"/articles/a.html", ""},
        {"/about.html", ""},
        {long_path, ""},
        {"/via-localhost.html", "-"}}},
      {{"--allow-domain", "localhost"},
       {{"/articles/a.html", ""}, {"/via-localhost.html", "private-address"}}},
      {{"--allow-domain", "localhost", "--allow-private"}, {{"/via-localhost.html", ""}}},
      {{"--include", "/articles/", "--exclude", "print=", "--max-url-length", "60"},
       {{"/articles/a.html", ""},
        {"/articles/a.html?print=1", "excluded"},
        {"/about.html", "not-included"},
        {long_path, "url-too-long"}}},
  };
  for (const Case& c : cases) {
    TempDir out;
    std::vector<std::string> options = c.options;
    options.push_back(server.url("/"));
    size_t before = server.requests().size();
    auto result = run_process(medcrawl_argv(out, options));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    auto entries = Frontier::open(out / "frontier.sqlite")->entries();
    REQUIRE(entries.ok());
    std::map<std::string, FrontierEntry> by_path;
    for (const auto& entry : *entries) {
      CHECK(entry.url.rfind("http", 0) == 0);  // never file:, ftp: or another scheme
      CHECK(entry.url.find("other.invalid") == std::string::npos);
      by_path[entry.url.substr(entry.url.find('/', 8))] = entry;
    }
    bool localhost_requested = false;
    for (const auto& entry : requested_paths(server.requests(), before)) {
      if (entry == "/via-localhost.html") localhost_requested = true;
    }
    for (const auto& [path, reason] : c.reasons) {
      INFO(path);
      if (reason == "-") {
        CHECK(by_path.count(path) == 0);
      } else if (reason.empty()) {
        REQUIRE(by_path.count(path) == 1);
        CHECK(by_path[path].state == UrlState::kFetched);
      } else {
        REQUIRE(by_path.count(path) == 1);
        CHECK(by_path[path].state == UrlState::kSkipped);
        CHECK(by_path[path].reason == reason);
      }
    }
    bool private_allowed =
        std::find(c.options.begin(), c.options.end(), "--allow-private") != c.options.end();
    CHECK(localhost_requested == private_allowed);
  }
}

TEST_CASE("Fetcher refuses to connect to private addresses when told to", "[crawl][fetcher]") {
  TempDir site;
  write_site(site, {{"index.html", page("Home", {})}});
  FixtureServer server(site.path());
  server.start();
  Fetcher fetcher;
  RequestOptions refuse;
  refuse.allow_private_address = false;
  // "localhost" resolves to loopback: refused on the address actually connected to.
  fetcher.start(1, "http://localhost:" + std::to_string(server.port()) + "/", refuse);
  fetcher.start(2, server.url("/"));
  std::map<uint64_t, FetchResult> results;
  while (fetcher.active() > 0) {
    for (auto& result : fetcher.poll(100)) results[result.token] = std::move(result);
  }
  CHECK(results[1].aborted == "private-address");
  CHECK(results[1].error.find("private address") != std::string::npos);
  CHECK(results[2].ok());
  // The server logs a request just after answering it.
  for (int i = 0; i < 100 && server.requests().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(server.requests().size() == 1);
}

TEST_CASE("medcrawl stops a calendar trap with the per-host and URL length caps",
          "[crawl][scope]") {
  TempDir site;
  write_site(site, {{"index.html", page("Home", {"/calendar?month=1", "/deeper/"})}});
  FixtureServer server(site.path());
  // Every month links to the next and the previous: an infinite URL space.
  server.http().Get("/calendar", [](const httplib::Request& request, httplib::Response& response) {
    int month = std::stoi(request.get_param_value("month"));
    response.set_content(
        page("Month " + std::to_string(month), {"/calendar?month=" + std::to_string(month + 1),
                                                "/calendar?month=" + std::to_string(month - 1)}),
        "text/html");
  });
  // Every page links one level deeper: URLs grow without end.
  server.http().Get(R"(/deeper/.*)", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(page("Deeper", {"more/"}), "text/html");
  });
  server.start();
  TempDir out;
  auto result =
      run_process(medcrawl_argv(out, {"--max-pages-per-host", "12", "--max-url-length", "60",
                                      "--max-depth", "1000", "--max-pages", "0", server.url("/")}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto log = server.requests();
  CHECK(log.size() == 13);  // robots.txt and 12 pages
  auto entries = Frontier::open(out / "frontier.sqlite")->entries();
  REQUIRE(entries.ok());
  std::map<std::string, int> reasons;
  for (const auto& entry : *entries) {
    if (entry.state == UrlState::kSkipped) ++reasons[entry.reason];
  }
  CHECK(reasons["host-page-limit"] > 0);
  CHECK(result.err.find("host-page-limit") != std::string::npos);

  SECTION("the URL length cap alone ends the growing URLs") {
    TempDir out2;
    auto again = run_process(medcrawl_argv(
        out2, {"--max-url-length", "60", "--max-depth", "1000", server.url("/deeper/")}));
    REQUIRE(again.exit_code == 0);
    auto deeper = Frontier::open(out2 / "frontier.sqlite")->entries();
    REQUIRE(deeper.ok());
    size_t fetched = 0, too_long = 0;
    for (const auto& entry : *deeper) {
      fetched += entry.state == UrlState::kFetched;
      too_long += entry.reason == "url-too-long";
    }
    CHECK(fetched > 3);
    CHECK(too_long == 1);
  }
}

TEST_CASE("medcrawl backs off on 429 and 503, honouring Retry-After", "[crawl][politeness]") {
  TempDir site, out;
  write_site(site, {{"robots.txt", "User-agent: *\nDisallow:\n"},
                    {"index.html", page("Home", {"/busy", "/down"})}});
  FixtureServer server(site.path());
  auto busy_calls = std::make_shared<std::atomic<int>>(0);
  // Busy once (429, Retry-After: 1), then fine.
  server.http().Get("/busy", [busy_calls](const httplib::Request&, httplib::Response& response) {
    if ((*busy_calls)++ == 0) {
      response.status = 429;
      response.set_header("Retry-After", "1");
      response.set_content("slow down", "text/plain");
      return;
    }
    response.set_content(page("Busy", {}), "text/html");
  });
  // Always down: given up after --max-retries... retries (3 by default).
  serve(server, "/down", 503, "down", "text/plain", {{"Retry-After", "0"}});
  server.start();
  auto result = run_process(medcrawl_argv(out, {server.url("/")}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto log = server.requests();
  std::vector<std::chrono::steady_clock::time_point> busy_times;
  for (const auto& entry : log) {
    if (entry.path == "/busy") busy_times.push_back(entry.time);
  }
  REQUIRE(busy_times.size() == 2);
  std::chrono::duration<double> waited = busy_times[1] - busy_times[0];
  CHECK(waited.count() >= 0.95);
  CHECK(count_paths(log, "/down") == 4);
  auto frontier = frontier_by_path(out.path(), server);
  CHECK(frontier["/busy"].state == UrlState::kFetched);
  CHECK(frontier["/busy"].http_status == 200);
  CHECK(frontier["/down"].state == UrlState::kFailed);
  CHECK(frontier["/down"].reason == "http-503");
  // index, /busy twice, /down four times; four answers were retried.
  CHECK(result.err.find("requests this run: 7 pages (4 answered 429/503)") != std::string::npos);
  CHECK(result.err.find("waiting 1 s") != std::string::npos);
}

TEST_CASE("medcrawl skips hosts whose Crawl-delay is over --max-crawl-delay",
          "[crawl][politeness]") {
  TempDir site, out;
  write_site(
      site, {{"robots.txt", "User-agent: *\nCrawl-delay: 45\n"}, {"index.html", page("Home", {})}});
  FixtureServer server(site.path());
  server.start();
  auto result = run_process(medcrawl_argv(out, {server.url("/")}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(requested_paths(server.requests()) == std::vector<std::string>{"/robots.txt"});
  auto frontier = frontier_by_path(out.path(), server);
  CHECK(frontier["/"].state == UrlState::kSkipped);
  CHECK(frontier["/"].reason == "crawl-delay");
  CHECK(result.err.find("Crawl-delay 45 s, more than --max-crawl-delay 30") != std::string::npos);
}

TEST_CASE("medcrawl follows robots.txt redirects and caches robots.txt across runs",
          "[crawl][robots]") {
  TempDir site, out;
  write_site(site, {{"real-robots.txt", "User-agent: *\nDisallow: /hidden\n"},
                    {"index.html", page("Home", {"hidden.html", "shown.html"})},
                    {"hidden.html", page("Hidden", {})},
                    {"shown.html", page("Shown", {})}});
  write_file(site / "routes.tsv",
             "/robots.txt\t301\t/moved-robots.txt\n/moved-robots.txt\t302\t/real-robots.txt\n");
  FixtureServer server(site.path(), site / "routes.tsv");
  server.start();
  auto result = run_process(medcrawl_argv(out, {server.url("/")}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto frontier = frontier_by_path(out.path(), server);
  CHECK(frontier["/hidden.html"].reason == "robots");
  CHECK(frontier["/shown.html"].state == UrlState::kFetched);
  CHECK(frontier.count("/real-robots.txt") == 0);
  size_t before = server.requests().size();
  // A new seed on the same host: robots.txt comes from the cache (fresh for 24 hours).
  write_file(site / "new.html", page("New", {"hidden.html"}));
  auto again = run_process(medcrawl_argv(out, {server.url("/new.html")}));
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(requested_paths(server.requests(), before) == std::vector<std::string>{"/new.html"});
  CHECK(again.err.find("(cached)") != std::string::npos);
}

TEST_CASE("medcrawl waits while robots.txt answers 5xx and asks again later", "[crawl][robots]") {
  TempDir site_a, site_b, out;
  write_site(site_a, {{"index.html", page("A", {"a2.html"})}, {"a2.html", page("A2", {})}});
  write_site(site_b, {{"robots.txt", "User-agent: *\nDisallow:\n"},
                      {"index.html", page("B", {"/slow/1"})}});
  FixtureServer a(site_a.path()), b(site_b.path());
  auto robots_calls = std::make_shared<std::atomic<int>>(0);
  a.http().Get("/robots.txt", [robots_calls](const httplib::Request&, httplib::Response& response) {
    if ((*robots_calls)++ == 0) {
      response.status = 503;
      response.set_content("maintenance", "text/plain");
      return;
    }
    response.set_content("User-agent: *\nDisallow: /a2\n", "text/plain");
  });
  // B keeps the crawl going for about a second: long enough for A's retry.
  add_slow_pages(b, 5, std::chrono::milliseconds(200));
  a.start();
  b.start();
  auto result = run_process(
      medcrawl_argv(out, {"--robots-retry", "0.3", "--max-depth", "20", a.url("/"), b.url("/")}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto log = a.requests();
  REQUIRE(log.size() >= 2);
  CHECK(log[0].path == "/robots.txt");
  CHECK(log[1].path == "/robots.txt");  // no page before robots.txt was readable
  std::chrono::duration<double> gap = log[1].time - log[0].time;
  CHECK(gap.count() >= 0.25);
  auto frontier = frontier_by_path(out.path(), a, /*other_servers=*/true);
  CHECK(frontier["/"].state == UrlState::kFetched);
  CHECK(frontier["/a2.html"].reason == "robots");
  CHECK(result.err.find("asking again in 0.3 s") != std::string::npos);

  SECTION("a host whose robots.txt stays unreachable keeps its URLs queued") {
    TempDir c_site, c_out;
    write_site(c_site, {{"index.html", page("C", {})}});
    FixtureServer c(c_site.path());
    serve(c, "/robots.txt", 500, "broken", "text/plain");
    c.start();
    auto run = run_process(medcrawl_argv(c_out, {"--robots-retry", "0", c.url("/")}));
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(requested_paths(c.requests()) ==
          std::vector<std::string>{"/robots.txt", "/robots.txt", "/robots.txt"});
    CHECK(frontier_by_path(c_out.path(), c)["/"].state == UrlState::kQueued);
    CHECK(run.err.find("its URLs stay queued") != std::string::npos);
  }
}

// RFC 9309 2.5: a crawler must parse at least the first 500 KiB of a
// robots.txt. One larger than --max-body-bytes was taken as unreachable
// (everything disallowed, asked again, then the host paused); now its start
// is read and obeyed, however the server frames and compresses it.
TEST_CASE("medcrawl obeys the first rules of a robots.txt larger than the body cap",
          "[crawl][robots]") {
  const std::string rules = "User-agent: *\nDisallow: /private/\n";
  const size_t kSize = 12'000'000;  // over the default --max-body-bytes (10 MiB)
  std::string repeated = rules, random_hex = rules;
  while (repeated.size() < kSize) repeated += "# a comment that compresses well\n";
  std::mt19937 digits(20240501);
  while (random_hex.size() < kSize) {
    random_hex += "# ";
    for (int i = 0; i < 64; ++i) random_hex += "0123456789abcdef"[digits() % 16];
    random_hex += '\n';
  }
  // A rule far past what is read: obeying it would keep out every page.
  repeated += "Disallow: /\n";
  random_hex += "Disallow: /\n";
  struct Case {
    const char* name;
    const std::string* body;
    bool gzip;     // sent gzipped (the server compresses text/plain)
    bool chunked;  // sent with chunked transfer-encoding
    bool cut;      // longer than medcrawl reads as sent: its WARC record is truncated
  };
  const Case cases[] = {
      {"plain, with Content-Length", &random_hex, false, false, true},
      {"chunked", &random_hex, false, true, true},
      {"gzipped, cut inside the compressed stream", &random_hex, true, false, true},
      {"gzipped, small as sent but over the cap once inflated", &repeated, true, false, false},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    TempDir site, out;
    write_site(site, {{"index.html", page("Home", {"public.html", "private/secret.html"})},
                      {"public.html", page("Public", {})},
                      {"private/secret.html", page("Secret", {})}});
    FixtureServer server(site.path());
    const std::string* body = c.body;
    // text/plain is compressed by the server when asked; octet-stream is not.
    const char* type = c.gzip ? "text/plain" : "application/octet-stream";
    if (c.chunked) {
      server.http().Get("/robots.txt", [body, type](const httplib::Request&,
                                                    httplib::Response& response) {
        response.set_chunked_content_provider(type, [body](size_t offset, httplib::DataSink& sink) {
          if (offset >= body->size()) {
            sink.done();
            return true;
          }
          size_t size = std::min<size_t>(65536, body->size() - offset);
          return sink.write(body->data() + offset, size);
        });
      });
    } else {
      serve(server, "/robots.txt", 200, *body, type);
    }
    server.start();
    auto result = run_process(medcrawl_argv(out, {server.url("/")}));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    auto paths = requested_paths(server.requests());
    CHECK(std::count(paths.begin(), paths.end(), "/robots.txt") == 1);
    CHECK(result.err.find("unreachable") == std::string::npos);
    CHECK(result.err.find("only its first") != std::string::npos);
    auto frontier = frontier_by_path(out.path(), server);
    CHECK(frontier["/public.html"].state == UrlState::kFetched);
    CHECK(frontier["/private/secret.html"].state == UrlState::kSkipped);
    CHECK(frontier["/private/secret.html"].reason == "robots");
    CHECK(std::find(paths.begin(), paths.end(), "/private/secret.html") == paths.end());
    // The robots.txt exchange is archived; a record cut short says so.
    int robots_records = 0;
    for (const auto& entry : std::filesystem::directory_iterator(out / "warc")) {
      auto reader = WarcReader::open(entry.path().string());
      REQUIRE(reader.ok());
      while (true) {
        auto record = reader->next();
        REQUIRE(record.ok());
        if (!*record) break;
        if ((*record)->header("WARC-Type") != "response" ||
            (*record)->header("WARC-Target-URI") != server.url("/robots.txt")) {
          continue;
        }
        ++robots_records;
        CHECK((*record)->header("WARC-Truncated") == (c.cut ? "length" : ""));
        CHECK((*record)->block.size() < (c.cut ? 1100000u : kSize));
      }
    }
    CHECK(robots_records == 1);
  }
}

TEST_CASE("medcrawl respects meta robots and X-Robots-Tag noindex and nofollow",
          "[crawl][robots]") {
  TempDir site, out;
  write_site(site,
             {{"index.html", page("Home", {"meta-noindex.html", "meta-nofollow.html",
                                           "/header-nofollow", "/header-noindex", "/other-bot"})},
              {"meta-noindex.html",
               "<html><head><meta name=\"robots\" content=\"noindex\"></head><body>"
               "<a href=\"from-noindex.html\">x</a></body></html>"},
              {"meta-nofollow.html",
               "<html><head><meta name=\"robots\" content=\"nofollow\"></head><body>"
               "<a href=\"never-1.html\">x</a></body></html>"},
              {"from-noindex.html", page("Followed from a noindex page", {})},
              {"from-other-bot.html", page("Followed", {})}});
  FixtureServer server(site.path());
  serve(server, "/header-nofollow", 200, page("H", {"never-2.html"}), "text/html",
        {{"X-Robots-Tag", "nofollow"}});
  serve(server, "/header-noindex", 200, page("N", {}), "text/html",
        {{"X-Robots-Tag", "noindex, noarchive"}});
  serve(server, "/other-bot", 200, page("O", {"from-other-bot.html"}), "text/html",
        {{"X-Robots-Tag", "otherbot: none"}});
  server.start();
  auto result = run_process(medcrawl_argv(out, {server.url("/")}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto frontier = frontier_by_path(out.path(), server);
  CHECK(frontier["/meta-noindex.html"].reason == "noindex");
  CHECK(frontier["/header-noindex"].reason == "noindex");
  CHECK(frontier["/other-bot"].reason == "");
  CHECK(frontier["/from-noindex.html"].state == UrlState::kFetched);  // noindex still follows
  CHECK(frontier["/from-other-bot.html"].state == UrlState::kFetched);
  CHECK(frontier.count("/never-1.html") == 0);
  CHECK(frontier.count("/never-2.html") == 0);
}

// A host's queue is read 16 URLs at a time, and the URLs taken stay queued
// in the frontier until their outcomes are written with the next WARC sync:
// reading on must neither request one twice nor stop early.
TEST_CASE("medcrawl requests each URL of a large host once, reading its queue in parts",
          "[crawl]") {
  TempDir site, out;
  constexpr int kPages = 40;
  std::map<std::string, std::string> files = {{"robots.txt", "User-agent: *\nDisallow:\n"}};
  std::vector<std::string> children;
  for (int i = 1; i <= kPages; ++i) {
    std::string path = "/p/" + std::to_string(i);
    children.push_back(path + ".html");
    files["p/" + std::to_string(i) + ".html"] =
        page("Page " + std::to_string(i), {path + "/leaf.html", "/index.html"});
    files["p/" + std::to_string(i) + "/leaf.html"] = page("Leaf " + std::to_string(i), {"/"});
  }
  files["index.html"] = page("Home", children);
  write_site(site, files);
  FixtureServer server(site.path());
  server.start();
  auto result = run_process(medcrawl_argv(out, {server.url("/")}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  std::map<std::string, int> times;
  for (const auto& path : requested_paths(server.requests())) ++times[path];
  CHECK(times.size() == 2 + 2 * kPages + 1);  // robots.txt, /, /index.html, pages, leaves
  for (const auto& [path, count] : times) {
    INFO(path);
    CHECK(count == 1);
  }
  for (const auto& [path, entry] : frontier_by_path(out.path(), server)) {
    INFO(path);
    CHECK(entry.state == UrlState::kFetched);
  }
}

TEST_CASE("medcrawl follows redirect chains up to 5 hops and survives loops", "[crawl]") {
  TempDir site, out;
  write_site(site, {{"index.html", page("Home", {"/r1", "/loop-a", "/to-file", "/to-private"})},
                    {"end.html", page("End", {})},
                    {"far.html", page("Far", {})}});
  write_file(site / "routes.tsv",
             "/r1\t301\t/r2\n/r2\t302\t/r3\n/r3\t307\t/r4\n/r4\t308\t/r5\n/r5\t301\t/end.html\n"
             "/far1\t301\t/far2\n/far2\t301\t/far3\n/far3\t301\t/far4\n/far4\t301\t/far5\n"
             "/far5\t301\t/far6\n/far6\t301\t/far.html\n"
             "/loop-a\t302\t/loop-b\n/loop-b\t302\t/loop-a\n"
             "/to-file\t302\tfile:///etc/passwd\n/to-private\t302\thttp://10.0.0.1/x\n");
  write_file(site / "index.html",
             page("Home", {"/r1", "/far1", "/loop-a", "/to-file", "/to-private"}));
  FixtureServer server(site.path(), site / "routes.tsv");
  server.start();
  auto result = run_process(medcrawl_argv(out, {server.url("/")}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto frontier = frontier_by_path(out.path(), server);
  CHECK(frontier["/end.html"].state == UrlState::kFetched);  // five hops: followed
  CHECK(frontier["/end.html"].redirects == 5);
  CHECK(frontier["/far6"].detail.find("too many redirects") != std::string::npos);
  CHECK(frontier.count("/far.html") == 0);  // six hops: not followed
  CHECK(frontier["/loop-b"].state == UrlState::kFetched);
  CHECK(frontier["/to-file"].detail.find("bad Location") != std::string::npos);
  CHECK(frontier["/to-private"].detail.find("out of scope") != std::string::npos);
  auto paths = requested_paths(server.requests());
  CHECK(std::count(paths.begin(), paths.end(), "/loop-a") == 1);
  CHECK(std::count(paths.begin(), paths.end(), "/loop-b") == 1);
}

TEST_CASE("medcrawl copes with gzip, oversized bodies, slow servers and broken HTML", "[crawl]") {
  TempDir site, out;
  // Broken markup and bytes that are not UTF-8, around links that must still be found.
  write_site(site, {{"index.html", page("Home", {"/zipped", "/huge", "/slow", "broken.html"})},
                    {"broken.html",
                     "<html><body><p>caf\xe9 \xff\xfe<b><i>unclosed <a href=\"after-broken.html\">"
                     "ok</a><table><tr><td><a href='also.html'>x</td></div></span></body>"},
                    {"after-broken.html", page("After", {})},
                    {"also.html", page("Also", {})},
                    {"from-zipped.html", page("From zipped", {})}});
  FixtureServer server(site.path());
  server.http().Get("/zipped", [](const httplib::Request&, httplib::Response& response) {
    response.set_header("Content-Encoding", "gzip");
    response.set_content(gzip_compress(page("Zipped", {"from-zipped.html"})), "text/html");
  });
  serve(server, "/huge", 200, std::string(5000, 'x'), "application/pdf");
  server.http().Get("/slow", [](const httplib::Request&, httplib::Response& response) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    response.set_content("late", "text/plain");
  });
  server.start();
  auto result = run_process(
      medcrawl_argv(out, {"--max-body-bytes", "2000", "--timeout", "0.5", server.url("/")}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto frontier = frontier_by_path(out.path(), server);
  CHECK(frontier["/zipped"].state == UrlState::kFetched);
  CHECK(frontier["/from-zipped.html"].state == UrlState::kFetched);
  CHECK(frontier["/huge"].state == UrlState::kSkipped);
  CHECK(frontier["/huge"].reason == "too-large");
  CHECK(frontier["/slow"].state == UrlState::kFailed);
  CHECK(frontier["/slow"].reason == "network");
  CHECK(frontier["/broken.html"].state == UrlState::kFetched);
  CHECK(frontier["/after-broken.html"].state == UrlState::kFetched);
  CHECK(frontier["/also.html"].state == UrlState::kFetched);
  // The gzip response is archived as received and reads back with a valid payload digest.
  auto records = independent_warc_read(out.path());
  CHECK(std::count_if(records.begin(), records.end(), [&](const CheckedRecord& r) {
          return r.type == "response" && r.uri == server.url("/zipped");
        }) == 1);
}

TEST_CASE("medcrawl --recrawl revisits with conditional GETs: 304, changed, gone",
          "[crawl][recrawl]") {
  TempDir site, out;
  write_site(site, {{"robots.txt", "User-agent: *\nDisallow:\n"},
                    {"index.html", page("Home", {"/same", "/changes", "/removed", "/withdrawn"})}});
  FixtureServer server(site.path());
  auto pass = std::make_shared<std::atomic<int>>(1);
  server.http().Get("/same", [](const httplib::Request& request, httplib::Response& response) {
    if (request.get_header_value("If-None-Match") == "\"v1\"") {
      response.status = 304;
      response.set_header("ETag", "\"v1\"");
      return;
    }
    response.set_header("ETag", "\"v1\"");
    response.set_content(page("Same", {}), "text/html");
  });
  server.http().Get(
      "/changes", [pass](const httplib::Request& request, httplib::Response& response) {
        response.set_header("Last-Modified", *pass == 1 ? "Mon, 01 Jan 2024 00:00:00 GMT"
                                                        : "Tue, 02 Jan 2024 00:00:00 GMT");
        if (*pass == 1 || request.get_header_value("If-Modified-Since").empty()) {
          response.set_content(page("Changes v" + std::to_string(*pass), {}), "text/html");
          return;
        }
        response.set_content(page("Changes v2", {}), "text/html");
      });
  server.http().Get("/removed", [pass](const httplib::Request&, httplib::Response& response) {
    if (*pass == 1) {
      response.set_content(page("Removed soon", {}), "text/html");
    } else {
      response.status = 404;
      response.set_content("gone", "text/plain");
    }
  });
  server.http().Get("/withdrawn", [pass](const httplib::Request&, httplib::Response& response) {
    if (*pass == 1) {
      response.set_content(page("Withdrawn soon", {}), "text/html");
    } else {
      response.status = 410;
      response.set_content("withdrawn", "text/plain");
    }
  });
  server.start();
  auto first = run_process(medcrawl_argv(out, {server.url("/")}));
  REQUIRE(first.exit_code == 0);
  auto original = independent_warc_read(out.path());
  *pass = 2;
  size_t before = server.requests().size();
  auto second = run_process(medcrawl_argv(out, {"--recrawl", server.url("/")}));
  INFO(second.err);
  REQUIRE(second.exit_code == 0);
  CHECK(second.err.find("recrawl: 5 URLs queued again") != std::string::npos);
  auto log = server.requests();
  std::map<std::string, RequestLogEntry> requests;
  for (size_t i = before; i < log.size(); ++i) requests[log[i].path] = log[i];
  CHECK(requests["/same"].if_none_match == "\"v1\"");
  CHECK(requests["/changes"].if_modified_since == "Mon, 01 Jan 2024 00:00:00 GMT");
  CHECK(requests["/same"].status == 304);

  auto frontier = frontier_by_path(out.path(), server);
  CHECK(frontier["/same"].state == UrlState::kFetched);
  CHECK(frontier["/same"].reason == "not-modified");
  CHECK(frontier["/same"].http_status == 304);
  CHECK(frontier["/changes"].state == UrlState::kFetched);
  CHECK(frontier["/changes"].last_modified == "Tue, 02 Jan 2024 00:00:00 GMT");
  CHECK(frontier["/removed"].state == UrlState::kGone);
  CHECK(frontier["/removed"].reason == "http-404");
  CHECK(frontier["/withdrawn"].state == UrlState::kGone);

  // The archive: a revisit record naming the first response of /same, and a
  // new response for /changes.
  auto records = independent_warc_read(out.path());
  auto find = [&](const std::vector<CheckedRecord>& list, const std::string& type,
                  const std::string& path) {
    std::vector<CheckedRecord> found;
    for (const auto& r : list) {
      if (r.type == type && r.uri == server.url(path)) found.push_back(r);
    }
    return found;
  };
  auto first_same = find(original, "response", "/same");
  auto revisits = find(records, "revisit", "/same");
  REQUIRE(first_same.size() == 1);
  REQUIRE(revisits.size() == 1);
  CHECK(revisits[0].refers_to == first_same[0].id);
  CHECK(revisits[0].payload_digest == first_same[0].payload_digest);
  CHECK(revisits[0].status == "304");
  CHECK(find(records, "response", "/changes").size() == 2);
  CHECK(find(records, "response", "/removed").back().status == "404");

  SECTION("a finished recrawl is not resumed: the next --recrawl starts again") {
    size_t mark = server.requests().size();
    auto third = run_process(medcrawl_argv(out, {"--recrawl", server.url("/")}));
    REQUIRE(third.exit_code == 0);
    auto log_after = server.requests();
    std::vector<RequestLogEntry> third_run(log_after.begin() + static_cast<long>(mark),
                                           log_after.end());
    CHECK(count_paths(third_run, "/same") == 1);
    CHECK(count_paths(third_run, "/removed") == 0);  // gone stays gone
  }
}

// A local stand-in for NCBI E-utilities, answering in its documented XML
// formats from the PubMed records of fixtures/records/pubmed-sample.xml.
class EutilsServer {
 public:
  explicit EutilsServer(const TempDir& root) : server_(root.path()) {
    std::string xml = read_file(testing::source_path("fixtures/records/pubmed-sample.xml"));
    for (size_t at = xml.find("<PubmedArticle>"); at != std::string::npos;
         at = xml.find("<PubmedArticle>", at + 1)) {
      size_t end = xml.find("</PubmedArticle>", at) + std::string("</PubmedArticle>").size();
      std::string article = xml.substr(at, end - at);
      size_t pmid = article.find("<PMID Version=\"1\">") + 18;
      ids_.push_back(article.substr(pmid, article.find('<', pmid) - pmid));
      articles_[ids_.back()] = article;
    }
    // esearch answers at most kPage ids at a time, so the crawler must page.
    server_.http().Get("/eutils/esearch.fcgi", [this](const httplib::Request& request,
                                                      httplib::Response& response) {
      terms_.push_back(request.get_param_value("term"));
      size_t start = std::stoul(request.get_param_value("retstart"));
      size_t max = std::min<size_t>(std::stoul(request.get_param_value("retmax")), kPage);
      std::string body =
          "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<!DOCTYPE eSearchResult>\n"
          "<eSearchResult><Count>" +
          std::to_string(ids_.size()) + "</Count><RetMax>" + std::to_string(max) +
          "</RetMax><RetStart>" + std::to_string(start) + "</RetStart><IdList>\n";
      for (size_t i = start; i < ids_.size() && i < start + max; ++i) {
        body += "<Id>" + ids_[i] + "</Id>\n";
      }
      body += "</IdList><TranslationSet/><QueryTranslation>x</QueryTranslation></eSearchResult>\n";
      response.set_content(body, "text/xml; charset=UTF-8");
    });
    server_.http().Get("/eutils/efetch.fcgi", [this](const httplib::Request& request,
                                                     httplib::Response& response) {
      std::string body = "<?xml version=\"1.0\" ?>\n<PubmedArticleSet>\n";
      std::istringstream ids(request.get_param_value("id"));
      std::string id;
      while (std::getline(ids, id, ',')) body += articles_.at(id) + "\n";
      response.set_content(body + "</PubmedArticleSet>\n", "text/xml; charset=UTF-8");
    });
    server_.start();
  }
  static constexpr size_t kPage = 3;

  FixtureServer& server() { return server_; }
  const std::vector<std::string>& ids() const { return ids_; }
  const std::vector<std::string>& terms() const { return terms_; }

 private:
  FixtureServer server_;
  std::vector<std::string> ids_;
  std::map<std::string, std::string> articles_;
  std::vector<std::string> terms_;
};

TEST_CASE("medcrawl --pubmed fetches records through E-utilities at most 3 per second",
          "[crawl][pubmed]") {
  TempDir root, out;
  EutilsServer eutils(root);
  REQUIRE(eutils.ids().size() == 5);
  auto result = run_process(medcrawl_argv(
      out, {"--pubmed", "ketamine AND (pain OR crps)", "--pubmed-base",
            eutils.server().url("/eutils/"), "--pubmed-max", "5", "--pubmed-batch", "2"}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto log = eutils.server().requests();
  // Two esearch pages (3 + 2 ids), then efetch in batches of 2: [1,2] [3] [4,5].
  std::vector<std::string> kinds;
  for (const auto& entry : log) kinds.push_back(entry.path.substr(0, entry.path.find('?')));
  CHECK(std::count(kinds.begin(), kinds.end(), "/eutils/esearch.fcgi") == 2);
  CHECK(std::count(kinds.begin(), kinds.end(), "/eutils/efetch.fcgi") == 3);
  CHECK(std::count(kinds.begin(), kinds.end(), "/robots.txt") == 0);  // an API, not a site
  CHECK(eutils.terms().at(0) == "ketamine AND (pain OR crps)");
  for (size_t i = 1; i < log.size(); ++i) {
    std::chrono::duration<double> gap = log[i].time - log[i - 1].time;
    CHECK(gap.count() >= 0.3);  // at most 3 requests per second
  }
  // Every record is archived once, in efetch answers the indexer reads.
  std::string archived;
  auto reader = WarcReader::open(out / "warc/crawl-00000.warc.gz");
  REQUIRE(reader.ok());
  while (true) {
    auto record = reader->next();
    REQUIRE(record.ok());
    if (!*record) break;
    if ((*record)->header("WARC-Type") == "response" &&
        (*record)->target_uri().find("efetch.fcgi") != std::string::npos) {
      archived += parse_http_response((*record)->block)->body;
    }
  }
  for (const auto& id : eutils.ids()) {
    INFO(id);
    CHECK(archived.find("<PMID Version=\"1\">" + id + "</PMID>") != std::string::npos);
  }
  independent_warc_read(out.path());
  auto entries = Frontier::open(out / "frontier.sqlite")->entries();
  REQUIRE(entries.ok());
  for (const auto& entry : *entries) {
    INFO(entry.url);
    CHECK(entry.state == UrlState::kFetched);
    CHECK(entry.url.find("tool=medcrawl") != std::string::npos);
  }

  SECTION("the crawl directory indexes into one document per article") {
    TempDir db;
    auto indexed = run_process({bin_path("medindex"), "--db", db.path(), out.path()});
    INFO(indexed.err);
    REQUIRE(indexed.exit_code == 0);
    for (const auto& id : eutils.ids()) {
      auto found = run_process({bin_path("medsearch"), "--db", db.path(), "pmid:" + id});
      INFO(id << ": " << found.out << found.err);
      CHECK(found.exit_code == 0);
      CHECK(found.out.find(id) != std::string::npos);
    }
  }
}

TEST_CASE("medcrawl --pubmed with --api-key may go faster; bad options are usage errors",
          "[crawl][pubmed]") {
  TempDir root, out;
  EutilsServer eutils(root);
  auto result = run_process(medcrawl_argv(
      out, {"--pubmed", "ketamine", "--api-key", "secret", "--pubmed-base",
            eutils.server().url("/eutils/"), "--pubmed-max", "3", "--pubmed-batch", "1"}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto log = eutils.server().requests();
  REQUIRE(log.size() == 4);  // esearch, then three single-record efetches
  std::chrono::duration<double> span = log.back().time - log.front().time;
  CHECK(span.count() >= 0.29);  // 10 per second: three gaps of 0.1 s
  CHECK(span.count() < 0.9);    // faster than 3 per second would allow
  for (const auto& entry : log) CHECK(entry.path.find("api_key=secret") != std::string::npos);
  // Under --shard, only the crawler whose shard holds the E-utilities host asks it.
  TempDir other_out;
  std::string other_shard = std::to_string(1 - shard_of_host("127.0.0.1", 2)) + "/2";
  auto elsewhere =
      run_process(medcrawl_argv(other_out, {"--pubmed", "ketamine", "--shard", other_shard,
                                            "--pubmed-base", eutils.server().url("/eutils/")}));
  CHECK(elsewhere.exit_code == 1);
  CHECK(elsewhere.err.find("PubMed (127.0.0.1) belongs to another shard") != std::string::npos);
  CHECK(elsewhere.err.find("no seed URL belongs to this shard") != std::string::npos);
  CHECK(eutils.server().requests().size() == log.size());
  for (std::vector<std::string> bad : {std::vector<std::string>{"--pubmed", ""},
                                       {"--pubmed", "x", "--pubmed-batch", "0"},
                                       {"--pubmed", "x", "--pubmed-base", "ftp://x/"}}) {
    TempDir bad_out;
    auto failed = run_process(medcrawl_argv(bad_out, bad));
    INFO(failed.err);
    CHECK(failed.exit_code != 0);
    CHECK(failed.err.rfind("medcrawl: error: ", 0) == 0);
  }
}

TEST_CASE("medcrawl --shard I/N splits hosts between crawlers", "[crawl][shard]") {
  // Four hosts: 127.0.0.1 to 127.0.0.4 (all loopback on Linux), each its own site.
  std::vector<std::unique_ptr<TempDir>> sites;
  std::vector<std::unique_ptr<FixtureServer>> servers;
  std::vector<std::string> seeds;
  for (int i = 1; i <= 4; ++i) {
    sites.push_back(std::make_unique<TempDir>());
    write_site(*sites.back(), {{"index.html", page("Host " + std::to_string(i), {"a.html"})},
                               {"a.html", page("A", {})}});
    servers.push_back(std::make_unique<FixtureServer>(sites.back()->path()));
    servers.back()->start(0, "127.0.0." + std::to_string(i));
    seeds.push_back(servers.back()->url("/"));
  }
  std::map<std::string, int> crawled_by;  // host -> shard
  for (int shard = 0; shard < 2; ++shard) {
    TempDir out;
    std::vector<std::string> options = {"--shard", std::to_string(shard) + "/2"};
    options.insert(options.end(), seeds.begin(), seeds.end());
    auto result = run_process(medcrawl_argv(out, options));
    INFO(result.err);
    if (result.exit_code != 0) {
      CHECK(result.err.find("no seed URL belongs to this shard") != std::string::npos);
      continue;
    }
    auto entries = Frontier::open(out / "frontier.sqlite")->entries();
    REQUIRE(entries.ok());
    for (const auto& entry : *entries) {
      auto url = parse_url(entry.url);
      REQUIRE(url.ok());
      CHECK(shard_of_host(url->host, 2) == shard);
      CHECK(entry.state == UrlState::kFetched);
      auto [it, inserted] = crawled_by.emplace(url->host, shard);
      CHECK(it->second == shard);
    }
  }
  CHECK(crawled_by.size() == 4);  // together the shards crawled every host, each once
  for (auto& server : servers) {
    std::set<std::string> paths;
    for (const auto& entry : server->requests()) paths.insert(entry.path);
    CHECK(paths == std::set<std::string>{"/robots.txt", "/", "/a.html"});
  }
}

TEST_CASE("medcrawl reports progress: periodic lines, --verbose, --quiet", "[crawl]") {
  TempDir site;
  write_site(site, {{"robots.txt", "User-agent: *\nDisallow:\n"},
                    {"index.html", page("Home", {"/slow/1"})}});
  FixtureServer server(site.path());
  add_slow_pages(server, 4, std::chrono::milliseconds(100));
  server.start();
  struct Case {
    std::vector<std::string> options;
    bool progress_lines;
    bool url_lines;
  };
  const Case cases[] = {
      {{"--progress-interval", "0.1"}, true, false},
      {{"--verbose"}, false, true},
      {{"--quiet", "--progress-interval", "0.1"}, false, false},
  };
  for (const Case& c : cases) {
    TempDir out;
    std::vector<std::string> options = c.options;
    options.insert(options.end(), {"--max-depth", "20", server.url("/")});
    auto result = run_process(medcrawl_argv(out, options));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    bool has_progress = result.err.find("progress: ") != std::string::npos;
    CHECK(has_progress == c.progress_lines);
    if (has_progress) {
      CHECK(result.err.find(" queued, 0 errors, ") != std::string::npos);
      CHECK(result.err.find(" pages/s, ") != std::string::npos);
    }
    CHECK((result.err.find("fetched 200 " + server.url("/slow/2")) != std::string::npos) ==
          c.url_lines);
    // The summary ends every run, by status and by host.
    CHECK(result.err.find("by status: 200 9") != std::string::npos);
    CHECK(result.err.find("    127.0.0.1:" + std::to_string(server.port()) + ": fetched 9") !=
          std::string::npos);
  }
}

TEST_CASE("medcrawl obeys robots.txt variants, RFC 9309 examples included", "[crawl][robots]") {
  struct Case {
    const char* robots_txt;
    std::map<std::string, bool> fetched;  // path -> requested?
  };
  const Case cases[] = {
      // RFC 9309 5.1 (the group for our product token, not "*").
      {"User-Agent: *\nDisallow: *.gif$\nDisallow: /example/\nAllow: /publications/\n\n"
       "User-Agent: medcrawl\nAllow: /\nDisallow: /example/page.html\nDisallow: /*.gif$\n",
       {{"/example/page.html", false},
        {"/example/other.html", true},
        {"/pic.gif", false},
        {"/pic.gif?x", true}}},
      // RFC 9309 2.2.2: longest match wins; Allow wins a tie.
      {"User-agent: *\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n",
       {{"/example/page/", true}, {"/example/page/disallowed.gif", false}}},
      {"User-agent: *\nDisallow: /a\nAllow: /a\n", {{"/a", true}}},
      // Percent-encoding and case: the path is compared byte for byte after normalising.
      {"User-agent: *\nDisallow: /%7Efoo/\nDisallow: /Private\n",
       {{"/~foo/x", false}, {"/private", true}, {"/Private", false}}},
      // "$" anchors; "*" in the middle.
      {"User-agent: *\nDisallow: /*/print$\nDisallow: /q?*session=\n",
       {{"/a/print", false}, {"/a/print/", true}, {"/q?x=1&session=2", false}, {"/q?x=1", true}}},
      // Other agents' groups do not apply; an empty Disallow allows everything.
      {"User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow:\n", {{"/anything", true}}},
      {"User-agent: MEDCRAWL\nDisallow: /\n", {{"/anything", false}}},
  };
  for (const Case& c : cases) {
    INFO(c.robots_txt);
    TempDir site, out;
    std::vector<std::string> hrefs;
    for (const auto& [path, fetched] : c.fetched) hrefs.push_back(path);
    write_site(site, {{"robots.txt", c.robots_txt}, {"index.html", page("Home", hrefs)}});
    FixtureServer server(site.path());
    server.start();
    auto result = run_process(medcrawl_argv(out, {server.url("/")}));
    REQUIRE(result.exit_code == 0);
    auto paths = requested_paths(server.requests());
    for (const auto& [path, fetched] : c.fetched) {
      INFO(path);
      CHECK((std::count(paths.begin(), paths.end(), path) == 1) == fetched);
    }
  }
}

TEST_CASE("medcrawl cuts a torn WARC record off before resuming", "[crawl]") {
  TempDir site, out;
  write_site(site, {{"index.html", page("Home", {"a.html"})}, {"a.html", page("A", {})}});
  FixtureServer server(site.path());
  server.start();
  REQUIRE(run_process(medcrawl_argv(out, {server.url("/")})).exit_code == 0);
  std::string warc = out / "warc/crawl-00000.warc.gz";
  std::string whole = read_file(warc);
  // What a kill in the middle of a write leaves: half a gzip member.
  std::string member =
      gzip_compress("WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 100\r\n\r\n");
  {
    std::ofstream append(warc, std::ios::binary | std::ios::app);
    append << member.substr(0, member.size() / 2);
  }
  write_file(site / "b.html", page("B", {}));
  auto result = run_process(medcrawl_argv(out, {server.url("/b.html")}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find("cut a torn record (" + std::to_string(member.size() / 2) + " bytes)") !=
        std::string::npos);
  auto records = independent_warc_read(out.path());  // reads cleanly to the end
  CHECK(records.back().uri == server.url("/b.html"));
  CHECK(read_file(warc).compare(0, whole.size(), whole) == 0);  // earlier records untouched
}

TEST_CASE("medcrawl records exact copies as duplicates, honouring canonical links", "[crawl]") {
  TempDir site, out;
  std::string copy =
      "<html><head><link rel=canonical href=\"/copy-b.html\"></head><body>same</body></html>";
  write_site(site, {{"index.html", page("Home", {"copy-a.html", "plain-1.html"})},
                    {"copy-a.html", copy},
                    {"copy-b.html", copy},
                    {"plain-1.html", page("Plain", {"plain-2.html"})},
                    {"plain-2.html", page("Plain", {"plain-2.html"})}});
  // plain-2 differs from plain-1 only in its link: make them byte-identical.
  write_file(site / "plain-1.html", page("Plain", {"plain-2.html"}));
  write_file(site / "plain-2.html", page("Plain", {"plain-2.html"}));
  FixtureServer server(site.path());
  server.start();
  auto result = run_process(medcrawl_argv(out, {server.url("/")}));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto frontier = frontier_by_path(out.path(), server);
  // Both copies name copy-b canonical: copy-a, fetched first, is the duplicate.
  CHECK(frontier["/copy-a.html"].reason == "duplicate");
  CHECK(frontier["/copy-a.html"].detail == server.url("/copy-b.html"));
  CHECK(frontier["/copy-b.html"].reason == "");
  CHECK(frontier["/copy-b.html"].state == UrlState::kFetched);
  // Without canonical links the first copy is the original.
  CHECK(frontier["/plain-1.html"].reason == "");
  CHECK(frontier["/plain-2.html"].reason == "duplicate");
  CHECK(frontier["/plain-2.html"].detail == server.url("/plain-1.html"));
}

TEST_CASE("medcrawl WARC records match what wget --warc-file writes", "[crawl][wget]") {
  if (!std::filesystem::exists("/usr/bin/wget")) {
    WARN("wget not installed: skipped");
    return;
  }
  TempDir site, out, wget_dir;
  write_site(site, {{"index.html", page("Home", {"doc.pdf"})},
                    {"doc.pdf", "%PDF-1.4\n" + std::string(3000, 'p') + "\n%%EOF\n"}});
  FixtureServer server(site.path());
  server.start();
  REQUIRE(run_process(medcrawl_argv(out, {server.url("/")})).exit_code == 0);
  auto wget =
      run_process({"/usr/bin/wget", "--quiet", "--recursive", "--level=2", "--directory-prefix",
                   wget_dir.path(), "--warc-file", wget_dir / "wget", server.url("/")});
  REQUIRE(std::filesystem::exists(wget_dir / "wget.warc.gz"));
  // The same payload digest for the same uncompressed body, by two writers.
  std::map<std::string, std::string> ours, theirs;
  for (const auto& record : independent_warc_read(out.path())) {
    if (record.type == "response") ours[record.uri] = record.payload_digest;
  }
  auto reader = WarcReader::open(wget_dir / "wget.warc.gz");
  REQUIRE(reader.ok());
  std::set<std::string> wget_types;
  while (true) {
    auto record = reader->next();
    REQUIRE(record.ok());
    if (!*record) break;
    wget_types.insert((*record)->header("WARC-Type"));
    if ((*record)->header("WARC-Type") == "response") {
      theirs[(*record)->target_uri()] = (*record)->header("WARC-Payload-Digest");
    }
  }
  for (const char* type : {"warcinfo", "request", "response"}) CHECK(wget_types.count(type) == 1);
  std::string pdf = server.url("/doc.pdf");
  REQUIRE(ours.count(pdf) == 1);
  REQUIRE(theirs.count(pdf) == 1);
  CHECK(ours[pdf] == theirs[pdf]);
  CHECK(ours[pdf] == warc_sha1_digest(read_file(site / "doc.pdf")));
}

// nghttpd (Debian's nghttp2-server) speaks only HTTP/2, over TLS: a crawl of
// it shows that medcrawl negotiates HTTP/2 where it is offered, checks the
// certificate against --cacert, and writes records WARC readers accept.
TEST_CASE("medcrawl speaks HTTP/2 to an https server that offers it", "[crawl][http2]") {
  const std::string nghttpd = "/usr/sbin/nghttpd", openssl = "/usr/bin/openssl";
  REQUIRE(access(nghttpd.c_str(), X_OK) == 0);  // installed by scripts/setup-deps
  REQUIRE(access(openssl.c_str(), X_OK) == 0);
  TempDir tls, site, out;
  auto made =
      run_process({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                   "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                   "-keyout", tls / "key.pem", "-out", tls / "cert.pem"});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  write_site(site, {{"index.html", page("Home", {"/a.html", "/private/p.html"})},
                    {"a.html", page("Ketamine infusions", {"/"})},
                    {"private/p.html", page("Private", {})},
                    {"robots.txt", "User-agent: *\nDisallow: /private/\n"}});
  const int port = testing::free_port();
  BackgroundProcess server({nghttpd, "--htdocs=" + site.path(), "-a", "127.0.0.1",
                            std::to_string(port), tls / "key.pem", tls / "cert.pem"},
                           tls / "nghttpd.log");
  for (int i = 0; i < 100 && !testing::accepts_connections(port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  INFO(read_file(tls / "nghttpd.log"));
  REQUIRE(testing::accepts_connections(port));
  const std::string origin = "https://127.0.0.1:" + std::to_string(port);
  // Crawls from the home page with `options`; the frontier by URL.
  auto crawl = [&](std::vector<std::string> options) {
    options.push_back(origin + "/");
    auto result = run_process(medcrawl_argv(out, options));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    auto frontier = Frontier::open(out / "frontier.sqlite");
    REQUIRE(frontier.ok());
    auto entries = frontier->entries();
    REQUIRE(entries.ok());
    std::map<std::string, FrontierEntry> by_url;
    for (auto& entry : *entries) by_url[entry.url] = entry;
    return by_url;
  };

  SECTION("a certificate it cannot verify fails the transfers, and nothing is archived") {
    auto by_url = crawl({});
    CHECK(!by_url.empty());
    for (const auto& [url, entry] : by_url) CHECK(entry.state != UrlState::kFetched);
    CHECK(warc_responses(out.path()).empty());
  }

  SECTION("with --cacert the site is crawled over HTTP/2") {
    auto by_url = crawl({"--cacert", tls / "cert.pem"});
    CHECK(by_url[origin + "/"].state == UrlState::kFetched);
    CHECK(by_url[origin + "/a.html"].state == UrlState::kFetched);
    CHECK(by_url[origin + "/a.html"].http_status == 200);
    CHECK(by_url[origin + "/private/p.html"].reason == "robots");

    // Every request and response record says h2, in HTTP/1.1 syntax.
    auto reader = WarcReader::open(out / "warc/crawl-00000.warc.gz");
    REQUIRE(reader.ok());
    int exchanges = 0;
    while (true) {
      auto record = reader->next();
      REQUIRE(record.ok());
      if (!*record) break;
      const std::string type = (*record)->header("WARC-Type");
      if (type == "warcinfo") continue;
      INFO(type << " " << (*record)->header("WARC-Target-URI"));
      CHECK((*record)->header("WARC-Protocol") == "h2");
      const std::string& block = (*record)->block;
      const std::string first_line = block.substr(0, block.find("\r\n"));
      if (type == "request") {
        CHECK(first_line.size() > 9);
        CHECK(first_line.substr(first_line.size() - 9) == " HTTP/1.1");
        continue;
      }
      REQUIRE(type == "response");
      CHECK(first_line.rfind("HTTP/1.1 ", 0) == 0);
      if ((*record)->header("WARC-Target-URI") == origin + "/a.html") {
        auto http = parse_http_response(block);
        REQUIRE(http.ok());
        CHECK(http->status == 200);
        CHECK(http->body == read_file(site / "a.html"));
      }
      ++exchanges;
    }
    CHECK(exchanges == 3);  // robots.txt, / and /a.html
    // The independent reader accepts the records.
    std::set<std::string> read;
    for (const auto& record : independent_warc_read(out.path()))
      if (record.type == "response") read.insert(record.uri + " " + record.status);
    CHECK(read == std::set<std::string>{origin + "/ 200", origin + "/a.html 200",
                                        origin + "/robots.txt 200"});
  }
}

}  // namespace
}  // namespace medsearch
