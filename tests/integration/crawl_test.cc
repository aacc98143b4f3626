// medcrawl as a user runs it, against small sites built in each test and served
// by the fixture server on 127.0.0.1.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "fixture_server.h"
#include "medsearch/fetcher.h"
#include "medsearch/frontier.h"
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

std::map<std::string, FrontierEntry> frontier_by_path(const std::string& out,
                                                      const FixtureServer& server) {
  auto frontier = Frontier::open(out + "/frontier.sqlite");
  REQUIRE(frontier.ok());
  auto entries = frontier->entries();
  REQUIRE(entries.ok());
  std::map<std::string, FrontierEntry> by_path;
  std::string origin = server.url("");
  for (auto& entry : *entries) {
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
      {"/index.html", UrlState::kFetched, "", 200, 2},
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

}  // namespace
}  // namespace medsearch
