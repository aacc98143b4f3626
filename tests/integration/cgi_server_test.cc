// medsearch.cgi behind a real web server: lighttpd (Debian's package) started
// on 127.0.0.1 with tests/lighttpd/lighttpd.conf, serving the CGI through
// mod_cgi on one port and the same binary as FastCGI ("bin-path") on another,
// over an index of the fixture site built by the real medindex, and a
// collection made with the real `medsearch collection` and published.
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "loopback.h"
#include "medsearch/json.h"
#include "process.h"

using namespace medsearch;
using namespace medsearch::testing;

namespace {

constexpr const char* kLighttpd = "/usr/sbin/lighttpd";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// The index, the configuration and lighttpd, shared by the tests of this file.
struct Server {
  TempDir dir;
  std::string index = dir / "index";
  std::string config = dir / "medsearch.conf";
  std::string collections = dir / "collections.sqlite";  // the default: beside the index
  int cgi_port = free_port();
  int fastcgi_port = free_port();
  std::unique_ptr<BackgroundProcess> lighttpd;

  Server() {
    REQUIRE(access(kLighttpd, X_OK) == 0);  // installed by scripts/setup-deps
    ProcessResult indexed =
        run_process({bin_path("medindex"), "--db", index, "--quiet", source_path("fixtures/site"),
                     source_path("fixtures/records/records-sample.jsonl"),
                     source_path("fixtures/records/pubmed-sample.xml")});
    INFO(indexed.err);
    REQUIRE(indexed.exit_code == 0);
    for (std::vector<std::string> args :
         {std::vector<std::string>{"create", "CRPS reading", "--description", "Trials we read"},
          {"add", "CRPS reading", "https://example.org/trials/ketamine-crps"},
          {"mark", "CRPS reading", "https://example.org/trials/ketamine-crps", "include"},
          {"create", "private"}}) {
      args.insert(args.begin(), {bin_path("medsearch"), "collection", "--db", index});
      ProcessResult made = run_process(args);
      INFO(made.err);
      REQUIRE(made.exit_code == 0);
    }
    std::ofstream(config) << "index = " << index
                          << "\ntitle = Server test\nper_page = 5\n"
                             "facets = site,year,type,evidence,concept\n"
                             "collection = CRPS reading\n";
    std::filesystem::create_directories(dir / "www/cgi-bin");
    std::filesystem::create_symlink(bin_path("medsearch.cgi"), dir / "www/cgi-bin/medsearch.cgi");
    std::string conf = read_file(source_path("tests/lighttpd/lighttpd.conf"));
    REQUIRE(!conf.empty());
    conf = replace_all(conf, "@DIR@", dir.path());
    conf = replace_all(conf, "@CGI@", bin_path("medsearch.cgi"));
    conf = replace_all(conf, "@CONFIG@", config);
    conf = replace_all(conf, "@PORT_CGI@", std::to_string(cgi_port));
    conf = replace_all(conf, "@PORT_FASTCGI@", std::to_string(fastcgi_port));
    std::ofstream(dir / "lighttpd.conf") << conf;
    lighttpd = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{kLighttpd, "-D", "-f", dir / "lighttpd.conf"},
        dir / "lighttpd.out");
    for (int i = 0;
         i < 100 && !(accepts_connections(cgi_port) && accepts_connections(fastcgi_port)); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    INFO(read_file(dir / "lighttpd.out") << read_file(dir / "error.log"));
    REQUIRE(accepts_connections(cgi_port));
    REQUIRE(accepts_connections(fastcgi_port));
  }

  // SIGTERM, not SIGKILL: lighttpd then stops the FastCGI process it started.
  ~Server() {
    lighttpd->signal(SIGTERM);
    lighttpd->wait();
  }

  httplib::Client client(int port) const {
    httplib::Client c("127.0.0.1", port);
    c.set_url_encode(false);  // the tests send exactly the bytes they mean
    c.set_read_timeout(30, 0);
    return c;
  }
};

Server& server() {
  static Server s;
  return s;
}

constexpr const char* kPath = "/cgi-bin/medsearch.cgi";

httplib::Result get(int port, const std::string& query) {
  return server().client(port).Get(std::string(kPath) + "?" + query);
}

// A page without the one thing that differs from run to run: the search time.
std::string without_timing(const std::string& body) {
  return std::regex_replace(body, std::regex(R"(\(\d+\.\d+ seconds\))"), "(TIME seconds)");
}

}  // namespace

TEST_CASE("lighttpd serves medsearch.cgi as a CGI with the right status and headers",
          "[cgi][server]") {
  Server& s = server();
  auto page = get(s.cgi_port, "q=ketamine+crps");
  REQUIRE(page);
  INFO(read_file(s.dir / "error.log") << read_file(s.dir / "cgi-stderr.log"));
  CHECK(page->status == 200);
  CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(page->get_header_value("X-Content-Type-Options") == "nosniff");
  CHECK(page->get_header_value("Referrer-Policy") == "same-origin");
  CHECK(page->get_header_value("Content-Security-Policy")
            .rfind("default-src 'none'; style-src 'self';", 0) == 0);
  CHECK(page->body.find("<a href=\"https://example.org/trials/ketamine-crps\">") !=
        std::string::npos);
  CHECK(page->body.find("<span class=\"Z3988\"") != std::string::npos);
  CHECK(page->body.find("href=\"/cgi-bin/medsearch.cgi?css=1\"") != std::string::npos);

  auto head = s.client(s.cgi_port).Head(std::string(kPath) + "?q=ketamine");
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(head->body.empty());

  auto css = get(s.cgi_port, "css=1");
  REQUIRE(css);
  CHECK(css->status == 200);
  CHECK(css->get_header_value("Content-Type") == "text/css; charset=utf-8");

  auto opensearch = get(s.cgi_port, "opensearch=1");
  REQUIRE(opensearch);
  CHECK(opensearch->get_header_value("Content-Type") ==
        "application/opensearchdescription+xml; charset=utf-8");
  CHECK(opensearch->body.find("template=\"http://127.0.0.1:" + std::to_string(s.cgi_port) +
                              "/cgi-bin/medsearch.cgi?q={searchTerms}\"") != std::string::npos);

  // lighttpd itself refuses invalid UTF-8 in the URL and re-encodes a stray
  // '%' (its default http-parseopts); the CGI's own checks are the rest.
  auto invalid = get(s.cgi_port, "q=%FF");
  REQUIRE(invalid);
  CHECK(invalid->status == 400);
  for (const std::string& bad :
       std::vector<std::string>{"q=x&type=blog", "q=x&sort=size", "q=" + std::string(1001, 'x')}) {
    INFO(bad.substr(0, 20));
    auto r = get(s.cgi_port, bad);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(r->body.find("The request could not be read") != std::string::npos);
  }
  auto post = s.client(s.cgi_port).Post(kPath, "q=x", "application/x-www-form-urlencoded");
  REQUIRE(post);
  CHECK(post->status == 405);
  CHECK(post->get_header_value("Allow") == "GET, HEAD");
}

TEST_CASE("lighttpd serves format=json exactly as medsearch --format json prints it",
          "[cgi][server]") {
  Server& s = server();
  auto r = get(s.cgi_port, "q=ketamine&type=research&sort=-date&format=json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "application/json");
  ProcessResult cli = run_process({bin_path("medsearch"), "--db", s.index, "--format", "json",
                                   "--limit", "5", "--type", "research", "--sort", "-date",
                                   "--facets", "site,year,type,evidence,concept", "ketamine"});
  REQUIRE(cli.exit_code == 0);
  CHECK(r->body == cli.out);
  auto parsed = parse_json(r->body);
  REQUIRE(parsed);
  CHECK(parsed->find("results")->items().size() == 5);
}

TEST_CASE("FastCGI under lighttpd answers exactly as the CGI does", "[cgi][server][fastcgi]") {
  Server& s = server();
  const char* requests[] = {
      "",
      "q=ketamine+crps",
      "q=ketamine&page=2&sort=date",
      "q=ketamine&type=research&evidence=rct&year=2015..2025",
      "q=neuropatic+pian",
      "q=ketamine+AND+%28",
      "concept=crps&format=json",
      "q=ketamine&format=json",
      "like=https%3A%2F%2Fexample.org%2Ftrials%2Fketamine-crps",
      "q=%3Cscript%3E&site=%22%3E%3Cb%3E",
      "css=1",
      "q=%zz",
      "q=x&type=blog&format=json",
  };
  for (int round = 0; round < 2; ++round) {  // the second round hits the open index
    for (const char* query : requests) {
      INFO(query << " (round " << round << ")");
      auto cgi = get(s.cgi_port, query);
      auto fastcgi = get(s.fastcgi_port, query);
      REQUIRE(cgi);
      REQUIRE(fastcgi);
      CHECK(fastcgi->status == cgi->status);
      for (const char* header :
           {"Content-Type", "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"})
        CHECK(fastcgi->get_header_value(header) == cgi->get_header_value(header));
      CHECK(without_timing(fastcgi->body) == without_timing(cgi->body));
    }
  }
  auto head = s.client(s.fastcgi_port).Head(std::string(kPath) + "?q=ketamine");
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->body.empty());
  auto post = s.client(s.fastcgi_port).Post(kPath, "q=x", "application/x-www-form-urlencoded");
  REQUIRE(post);
  CHECK(post->status == 405);
}

TEST_CASE("FastCGI sees documents added to the index after it opened it",
          "[cgi][server][fastcgi]") {
  Server& s = server();
  auto before = get(s.fastcgi_port, "q=zorblaxine&format=json");
  REQUIRE(before);
  auto parsed = parse_json(before->body);
  REQUIRE(parsed);
  CHECK(parsed->text("total") == "0");
  std::ofstream(s.dir / "new.jsonl")
      << R"({"_id": "new-1", "url": "https://example.org/new", "title": "Zorblaxine for migraine", "text": "A new drug called zorblaxine was tried for migraine in a small study of adults."})"
      << "\n";
  ProcessResult added =
      run_process({bin_path("medindex"), "--db", s.index, "--quiet", s.dir / "new.jsonl"});
  REQUIRE(added.exit_code == 0);
  auto after = get(s.fastcgi_port, "q=zorblaxine&format=json");
  REQUIRE(after);
  auto reparsed = parse_json(after->body);
  REQUIRE(reparsed);
  CHECK(reparsed->text("total") == "1");
}

TEST_CASE("medsearch.cgi run as a CGI logs setup errors without showing paths", "[cgi][fastcgi]") {
  ProcessResult help = run_process({bin_path("medsearch.cgi"), "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("FastCGI") != std::string::npos);
  CHECK(help.out.find("\"bin-path\"") != std::string::npos);

  TempDir dir;
  struct Case {
    std::string config;  // "" for no configuration file at all
    const char* logged;
  };
  const Case cases[] = {
      {"index = " + (dir / "missing-index") + "\n", "missing-index"},
      {"index = /x\ndatabase = /y\n", "unknown key 'database'"},
      {"index = /x\ntemplates = " + (dir / "no-templates") + "\n", "no-templates/page.html"},
      {"", "cannot read configuration file"},
  };
  for (const Case& c : cases) {
    INFO(c.config);
    std::string config = dir / "medsearch.conf";
    std::filesystem::remove(config);
    if (!c.config.empty()) std::ofstream(config) << c.config;
    ProcessResult r = run_process(
        {bin_path("medsearch.cgi")},
        {"MEDSEARCH_CONFIG=" + config, "REQUEST_METHOD=GET", "QUERY_STRING=q=ketamine"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("Status: 500 Internal Server Error\r\n", 0) == 0);
    CHECK(r.out.find(dir.path()) == std::string::npos);
    CHECK(r.err.rfind("medsearch.cgi: error: ", 0) == 0);
    CHECK(r.err.find(c.logged) != std::string::npos);
  }
}

TEST_CASE("CGI and FastCGI serve a published collection identically, without writing",
          "[cgi][server][fastcgi][collection]") {
  Server& s = server();
  auto modified = [&] {
    struct stat info {};
    REQUIRE(stat(s.collections.c_str(), &info) == 0);
    return std::pair{info.st_mtim.tv_sec, info.st_mtim.tv_nsec};
  };
  std::string bytes = read_file(s.collections);
  REQUIRE_FALSE(bytes.empty());
  auto mtime = modified();
  struct Case {
    const char* query;
    int status;
    const char* shows;
  };
  const Case cases[] = {
      {"collection=CRPS+reading", 200, "<a href=\"https://example.org/trials/ketamine-crps\">"},
      {"collection=CRPS+reading&format=json", 200, "\"total\":1"},
      {"collection=CRPS+reading&page=9", 200, "1 included item"},
      {"collection=private", 404, "There is no published collection by that name."},
      {"collection=nothing&format=json", 404, "There is no published collection by that name."},
      {"collection=CRPS+reading&q=ketamine", 400, "not both"},
  };
  for (const Case& c : cases) {
    INFO(c.query);
    auto cgi = get(s.cgi_port, c.query);
    auto fastcgi = get(s.fastcgi_port, c.query);
    REQUIRE(cgi);
    REQUIRE(fastcgi);
    INFO(read_file(s.dir / "error.log") << read_file(s.dir / "cgi-stderr.log"));
    CHECK(cgi->status == c.status);
    CHECK(cgi->body.find(c.shows) != std::string::npos);
    CHECK(fastcgi->status == cgi->status);
    for (const char* header :
         {"Content-Type", "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"})
      CHECK(fastcgi->get_header_value(header) == cgi->get_header_value(header));
    CHECK(fastcgi->body == cgi->body);
  }
  auto page = get(s.cgi_port, "collection=CRPS+reading");
  REQUIRE(page);
  CHECK(page->body.find("<p class=\"description\">Trials we read</p>") != std::string::npos);
  CHECK(page->body.find("<span class=\"Z3988\"") != std::string::npos);
  auto json = parse_json(get(s.fastcgi_port, "collection=CRPS+reading&format=json")->body);
  REQUIRE(json);
  CHECK(json->text("collection") == "CRPS reading");
  REQUIRE(json->find("items")->items().size() == 1);
  CHECK(json->find("items")->items()[0].text("url") == "https://example.org/trials/ketamine-crps");
  for (int port : {s.cgi_port, s.fastcgi_port}) {
    auto head = s.client(port).Head(std::string(kPath) + "?collection=CRPS+reading");
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(head->body.empty());
  }
  CHECK(read_file(s.collections) == bytes);
  CHECK(modified() == mtime);
  for (const char* suffix : {"-journal", "-wal", "-shm"})
    CHECK_FALSE(std::filesystem::exists(s.collections + suffix));
}
