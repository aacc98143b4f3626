// Fault tests (issue 10): medcrawl and medindex killed with SIGKILL at random
// moments, both run out of disk space, and searches (CLI and CGI) while
// medindex commits. Each runs the real programs in a fresh directory.
//
// The kill delays come from a seeded PRNG. A failure names the seed; set
// MEDSEARCH_FAULT_SEED=N to run the same delays again.
#include <httplib.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/vfs.h>
#include <xapian.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "fixture_server.h"
#include "medsearch/frontier.h"
#include "medsearch/json.h"
#include "medsearch/schema.h"
#include "medsearch/warc.h"
#include "process.h"
#include "sample_index.h"

namespace medsearch {
namespace {

using testing::BackgroundProcess;
using testing::bin_path;
using testing::count_documents;
using testing::FixtureServer;
using testing::ProcessResult;
using testing::read_file;
using testing::run_process;
using testing::TempDir;
using testing::write_sample_records;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The seed of one test case's PRNG: MEDSEARCH_FAULT_SEED when set, else a
// random one. It goes to stderr (ctest shows it with a failure).
uint64_t fault_seed(const char* test) {
  uint64_t seed = 0;
  if (const char* text = std::getenv("MEDSEARCH_FAULT_SEED"); text && *text) {
    seed = std::strtoull(text, nullptr, 10);
  } else {
    seed = (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  }
  std::cerr << test << ": seed " << seed << " (MEDSEARCH_FAULT_SEED=" << seed << " replays it)\n";
  return seed;
}

milliseconds random_delay(std::mt19937_64& random, milliseconds low, milliseconds high) {
  return milliseconds(std::uniform_int_distribution<int64_t>(low.count(), high.count())(random));
}

void write_file(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// A program's stderr may hold its one error line, never a crash or a sanitizer report.
void check_no_crash(const std::string& err) {
  for (const char* sign : {"terminate called", "AddressSanitizer",
                           "runtime error:", "LeakSanitizer", "Segmentation fault", "Aborted"}) {
    INFO(sign);
    CHECK(err.find(sign) == std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// The crawl side: a site on the fixture server, and what its WARC files and
// frontier hold.

// The home page links to /page/1; /page/N links to /page/2N and /page/2N+1 up
// to `count`: a binary tree of `count` pages, each answering after `delay`,
// each with text of its own (no page is a copy of another) and `padding`
// bytes of hex digits that do not compress much, for WARC files that grow.
// Page 1 also links to `long_links` URLs of 3,000 bytes, over medcrawl's
// --max-url-length: never fetched, but each recorded in the frontier (as
// skipped), which makes the frontier grow by some 600 kB a hundred at once.
void add_tree_site(FixtureServer& server, const TempDir& site, int count, milliseconds delay,
                   size_t padding = 0, int long_links = 0) {
  write_file(site / "robots.txt", "User-agent: *\nDisallow:\n");
  write_file(site / "index.html",
             "<!doctype html><html><head><title>Home</title></head><body><p>The home page."
             "</p><a href=\"/page/1\">first</a></body></html>");
  server.http().Get(R"(/page/(\d+))", [count, delay, padding, long_links](
                                          const httplib::Request& request,
                                          httplib::Response& response) {
    std::this_thread::sleep_for(delay);
    int number = std::stoi(request.matches[1].str());
    if (number < 1 || number > count) {
      response.status = 404;
      return;
    }
    std::string n = std::to_string(number);
    std::string html = "<!doctype html><html><head><title>Page " + n +
                       "</title></head><body><h1>Page " + n + "</h1><p>Article number " + n +
                       " about pain topic" + n + ".</p>";
    for (int child : {2 * number, 2 * number + 1}) {
      if (child <= count) {
        html += "<p><a href=\"/page/" + std::to_string(child) + "\">more</a></p>";
      }
    }
    for (int i = 0; i < long_links && number == 1; ++i) {
      html += "<a href=\"/long/" + std::to_string(i) + "/" + std::string(3000, 'x') + "\">x</a>";
    }
    if (padding > 0) {
      std::mt19937 digits(static_cast<unsigned>(number));  // the same bytes at every fetch
      std::string noise(padding, '0');
      for (char& c : noise) c = "0123456789abcdef"[digits() % 16];
      html += "<p>" + noise + "</p>";
    }
    response.set_content(html + "</body></html>", "text/html; charset=utf-8");
  });
}

// Every page URL of a tree site: the home page and /page/1 .. /page/count.
std::vector<std::string> tree_site_urls(const FixtureServer& server, int count) {
  std::vector<std::string> urls = {server.url("/")};
  for (int i = 1; i <= count; ++i) urls.push_back(server.url("/page/" + std::to_string(i)));
  return urls;
}

std::vector<std::string> medcrawl_argv(const std::string& out, const FixtureServer& server) {
  return {bin_path("medcrawl"), "--out", out,       "--delay",      "0",
          "--max-depth",        "30",    "--quiet", server.url("/")};
}

// What the WARC files of a crawl hold.
struct WarcContents {
  std::map<std::string, int> responses;  // target URI -> response records
  // (file, offset) -> target URI, for the response records
  std::map<std::pair<std::string, uint64_t>, std::string> response_at;
  // A torn last record (a kill or a full disk in the middle of a write): the
  // file, and where the next medcrawl cuts it off. Everything before reads.
  std::string torn_file;
  uint64_t torn_at = 0;
  // Per file, the bytes of its whole records (those before any cut).
  std::map<std::string, std::string> whole;
};

// Reads every WARC file of crawl directory `out`. Every whole record must be
// valid (response blocks parse as HTTP). A record that does not read is
// accepted only at the end of the last file, where the rest of the file is
// one torn gzip member; it is left out, as the next medcrawl cuts it off
// together with the request record of its exchange.
WarcContents read_warcs(const std::string& out) {
  WarcContents contents;
  std::set<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(out + "/warc", ec)) {
    files.insert(entry.path().filename().string());
  }
  for (const std::string& name : files) {
    INFO("WARC file " << name);
    REQUIRE(contents.torn_file.empty());  // a torn record only at the end of the last file
    std::string path = out + "/warc/" + name;
    std::string bytes = read_file(path);
    auto reader = WarcReader::open(path);
    REQUIRE(reader.ok());
    struct Read {
      uint64_t offset;
      std::string type, uri;
    };
    std::vector<Read> records;
    uint64_t end = 0;
    while (true) {
      uint64_t offset = reader->offset();
      auto record = reader->next();
      if (!record.ok()) {
        INFO(record.error());
        // A record can read whole and still end in a torn gzip member; the
        // error then comes with the next read and points back at that record.
        uint64_t cut = offset;
        while (!records.empty() && records.back().offset >= cut) records.pop_back();
        if (!records.empty() && records.back().type == "request") {
          cut = records.back().offset;
          records.pop_back();
        }
        contents.torn_file = name;
        contents.torn_at = cut;
        end = cut;
        CHECK(cut < bytes.size());
        CHECK_FALSE(gunzip(std::string_view(bytes).substr(cut), 1 << 26).ok());
        break;
      }
      if (!*record) {
        end = offset;
        break;
      }
      const WarcRecord& r = **record;
      std::string type = r.header("WARC-Type");
      INFO("record at " << offset << ", " << type << " " << r.header("WARC-Target-URI"));
      CHECK((type == "warcinfo" || type == "request" || type == "response"));
      if (type == "response") CHECK(parse_http_response(r.block).ok());
      records.push_back({offset, type, r.header("WARC-Target-URI")});
    }
    for (const Read& record : records) {
      if (record.type != "response") continue;
      ++contents.responses[record.uri];
      contents.response_at[{name, record.offset}] = record.uri;
    }
    contents.whole[name] = bytes.substr(0, end);
  }
  return contents;
}

// What the checks after every kill remember, to judge the crawl at its end.
struct CrawlLedger {
  // URL -> response records in the WARC while the frontier did not record the
  // URL as done (written by a run killed before it recorded them), at the
  // latest check: the crawl fetches such a URL again.
  std::map<std::string, int> unrecorded;
  // URL -> requests answered by the server when the frontier first had it done:
  // it must never be requested after that.
  std::map<std::string, size_t> done_at;
  std::map<std::string, std::string> whole;  // the WARC files' whole records, as last seen
  int torn = 0;                              // checks that found a torn last record
};

bool is_done(UrlState state) { return state != UrlState::kQueued && state != UrlState::kFetching; }

// The state of crawl directory `out` after its crawler stopped (killed, or
// failed): the WARC files read, earlier records are unchanged, the frontier
// opens, and every URL it records as fetched points at that URL's response
// record. Opening the frontier queues again what was mid-fetch, as the next
// medcrawl would.
void check_crawl_state(const std::string& out, const FixtureServer& server, CrawlLedger& ledger) {
  WarcContents warc = read_warcs(out);
  if (!warc.torn_file.empty()) ++ledger.torn;
  for (const auto& [name, bytes] : ledger.whole) {
    INFO("WARC file " << name << " keeps its records");
    REQUIRE(warc.whole.count(name));
    CHECK(warc.whole[name].compare(0, bytes.size(), bytes) == 0);
  }
  ledger.whole = warc.whole;

  auto frontier = Frontier::open(out + "/frontier.sqlite");
  REQUIRE(frontier.ok());
  auto entries = frontier->entries();
  REQUIRE(entries.ok());
  size_t requests = server.requests().size();
  for (const FrontierEntry& entry : *entries) {
    INFO(entry.url << " " << to_string(entry.state) << " " << entry.reason << " " << entry.detail);
    bool too_long = entry.state == UrlState::kSkipped && entry.reason == "url-too-long";
    CHECK((entry.state == UrlState::kFetched || !is_done(entry.state) || too_long));
    if (entry.state == UrlState::kFetched) {
      auto at = warc.response_at.find({entry.warc_file, static_cast<uint64_t>(entry.warc_offset)});
      REQUIRE(at != warc.response_at.end());
      CHECK(at->second == entry.url);
      ledger.done_at.emplace(entry.url, requests);
    } else if (!too_long) {
      ledger.unrecorded[entry.url] = warc.responses[entry.url];
    }
  }
}

TEST_CASE("medcrawl killed with SIGKILL 20 times resumes to every page exactly once",
          "[faults][crawl]") {
  const uint64_t seed = fault_seed("medcrawl kill loop");
  INFO("MEDSEARCH_FAULT_SEED=" << seed << " replays this test's delays");
  std::mt19937_64 random(seed);
  TempDir site, out, index_dir;
  FixtureServer server(site.path());
  const int kPages = 120;
  add_tree_site(server, site, kPages, milliseconds(15));
  server.start();
  const std::vector<std::string> argv = medcrawl_argv(out.path(), server);
  CrawlLedger ledger;
  const int kKills = 20;
  int kills = 0, completed_runs = 0;
  std::string last_log;
  for (int run = 0; kills < kKills && run < 3 * kKills; ++run) {
    size_t before = server.requests().size();
    BackgroundProcess crawl(argv, out / "run.log");
    // Most kills land while pages are fetched; one in four during start-up
    // (opening the frontier, cutting a torn WARC record).
    bool early = std::uniform_int_distribution<int>(0, 3)(random) == 0;
    if (!early) {
      auto deadline = Clock::now() + std::chrono::seconds(20);
      while (server.requests().size() == before && !crawl.finished() && Clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(2));
      }
    }
    milliseconds delay = early ? random_delay(random, milliseconds(0), milliseconds(40))
                               : random_delay(random, milliseconds(0), milliseconds(150));
    std::this_thread::sleep_for(delay);
    crawl.signal(SIGKILL);
    int exit_code = crawl.wait();
    last_log = read_file(out / "run.log");
    INFO("run " << run << (early ? ", early" : "") << ", killed after " << delay.count()
                << " ms; its log:\n"
                << last_log);
    check_no_crash(last_log);
    if (exit_code == 0) {
      ++completed_runs;
    } else {
      REQUIRE(exit_code == 128 + SIGKILL);
      ++kills;
    }
    check_crawl_state(out.path(), server, ledger);
  }
  INFO(kills << " kills, " << completed_runs << " runs finished before their kill, " << ledger.torn
             << " torn WARC records seen");
  REQUIRE(kills == kKills);
  int refetched = 0;
  for (const auto& [url, copies] : ledger.unrecorded) refetched += copies > 0;
  std::cerr << "medcrawl kill loop: " << kills << " kills, " << completed_runs
            << " runs finished first, " << ledger.done_at.size()
            << " URLs done before the last run, " << refetched
            << " written but unrecorded at a kill, " << ledger.torn << " torn records\n";

  ProcessResult finish = run_process(argv);
  INFO(finish.err);
  REQUIRE(finish.exit_code == 0);
  check_crawl_state(out.path(), server, ledger);

  // Every page was fetched, and none was asked for again once recorded.
  auto frontier = Frontier::open(out / "frontier.sqlite");
  REQUIRE(frontier.ok());
  auto entries = frontier->entries();
  REQUIRE(entries.ok());
  std::map<std::string, FrontierEntry> by_url;
  for (const auto& entry : *entries) by_url[entry.url] = entry;
  auto log = server.requests();
  for (const std::string& url : tree_site_urls(server, kPages)) {
    INFO(url);
    REQUIRE(by_url.count(url));
    CHECK(by_url[url].state == UrlState::kFetched);
    REQUIRE(ledger.done_at.count(url));
    for (size_t i = ledger.done_at[url]; i < log.size(); ++i) {
      CHECK(server.url(log[i].path) != url);
    }
  }
  // "Once": the crawler records a page in the frontier only after its WARC
  // record is synced, so a page written by a run killed before it recorded
  // it is fetched again and is in the WARC twice; the frontier points at the
  // later copy. So each page has exactly one response record the frontier
  // points at, plus one for each killed run that wrote it unrecorded - and
  // no other copy; the index built from the WARC files has each page once.
  WarcContents warc = read_warcs(out.path());
  CHECK(warc.torn_file.empty());  // the last run cut any torn record off
  for (const std::string& url : tree_site_urls(server, kPages)) {
    INFO(url);
    CHECK(warc.responses[url] == 1 + ledger.unrecorded[url]);
  }

  std::string db = index_dir / "index";
  ProcessResult indexed =
      run_process({bin_path("medindex"), "--db", db, "--threads", "0", "--quiet", out.path()});
  INFO(indexed.err);
  REQUIRE(indexed.exit_code == 0);
  Xapian::Database database(db);
  CHECK(database.get_doccount() == static_cast<Xapian::doccount>(kPages + 1));
  for (const std::string& url : tree_site_urls(server, kPages)) {
    INFO(url);
    CHECK(database.get_termfreq(schema::unique_term(url)) == 1);
  }
}

// ---------------------------------------------------------------------------
// The index side.

// The "documents" and "terms" lines of medindex --stats.
std::string index_contents(const std::string& db) {
  ProcessResult stats = run_process({bin_path("medindex"), "--db", db, "--stats"});
  INFO(stats.err);
  REQUIRE(stats.exit_code == 0);
  std::istringstream lines(stats.out);
  std::string line, kept;
  while (std::getline(lines, line)) {
    if (line.rfind("documents", 0) == 0 || line.rfind("terms", 0) == 0 ||
        line.rfind("concepts", 0) == 0) {
      kept += line + "\n";
    }
  }
  return kept;
}

TEST_CASE("medindex killed with SIGKILL 20 times resumes to every record exactly once",
          "[faults][indexer]") {
  const uint64_t seed = fault_seed("medindex kill loop");
  INFO("MEDSEARCH_FAULT_SEED=" << seed << " replays this test's delays");
  std::mt19937_64 random(seed);
  // --threads 0: one writer committing every kFlush documents, whose next run
  // skips what is stored; --threads 2 into an empty index: a bulk build with
  // two shard writers merged at the end, which starts again from nothing
  // until a run gets through its merge.
  for (const char* threads : {"0", "2"}) {
    const bool bulk = std::string(threads) != "0";
    INFO("--threads " << threads);
    TempDir dir;
    const int kRecords = bulk ? 1500 : 3000;
    const uint64_t kFlush = 100;
    std::string records = dir / "records.jsonl";
    write_sample_records(records, kRecords);
    auto medindex = [&](const std::string& db) {
      return std::vector<std::string>{
          bin_path("medindex"), "--db",  db,        "--flush", std::to_string(kFlush),
          "--threads",          threads, "--quiet", records};
    };
    // An uninterrupted run: what the killed one must end up with, and how
    // long a run takes here, so that the kills spread over a whole run.
    auto started = Clock::now();
    ProcessResult reference = run_process(medindex(dir / "reference"));
    auto duration = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
    INFO(reference.err);
    REQUIRE(reference.exit_code == 0);
    // A resumed single-writer run skips what is stored, so it is shorter: its
    // kills come sooner. A run that finishes before its kill shortens the
    // delays further, so that kills keep landing inside runs.
    milliseconds longest = bulk ? duration * 11 / 10 : duration / 4;
    longest = std::max(longest, milliseconds(50));

    std::string db = dir / "index";
    const int kKills = 20;
    int kills = 0, completed_runs = 0;
    for (int run = 0; kills < kKills && run < 3 * kKills; ++run) {
      milliseconds delay = random_delay(random, milliseconds(5), longest);
      int exit_code;
      {
        BackgroundProcess indexing(medindex(db), dir / "run.log");
        std::this_thread::sleep_for(delay);
        indexing.signal(SIGKILL);
        exit_code = indexing.wait();
      }
      std::string log = read_file(dir / "run.log");
      INFO("run " << run << " killed after " << delay.count() << " ms of at most "
                  << longest.count() << "; its log:\n"
                  << log);
      check_no_crash(log);
      if (exit_code == 0) {
        ++completed_runs;
        longest = std::max(delay * 3 / 4, milliseconds(10));
      } else {
        REQUIRE(exit_code == 128 + SIGKILL);
        ++kills;
      }
      // The index opens, at a committed state: whole, and without copies.
      auto [documents, unique] = count_documents(db);
      CHECK(documents == unique);
      if (bulk) {
        // An interrupted bulk build leaves the index empty; a merged one is complete.
        CHECK((documents == 0 || documents == static_cast<uint64_t>(kRecords)));
      } else {
        CHECK((documents % kFlush == 0 || documents == static_cast<uint64_t>(kRecords)));
      }
    }
    INFO(kills << " kills, " << completed_runs << " runs finished before their kill");
    REQUIRE(kills == kKills);
    std::cerr << "medindex kill loop, --threads " << threads << ": " << kills << " kills, "
              << completed_runs << " runs finished first, " << count_documents(db).first << " of "
              << kRecords << " documents stored before the last run (a run takes "
              << duration.count() << " ms)\n";

    ProcessResult finish = run_process(medindex(db));
    INFO(finish.err);
    REQUIRE(finish.exit_code == 0);
    auto [documents, unique] = count_documents(db);
    CHECK(documents == static_cast<uint64_t>(kRecords));
    CHECK(unique == static_cast<uint64_t>(kRecords));
    CHECK(index_contents(db) == index_contents(dir / "reference"));
    // No shard directory of a bulk build is left behind.
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      CHECK(entry.path().filename().string().find(".bulk-") == std::string::npos);
    }
  }
}

TEST_CASE("medindex killed while it creates a new index leaves one the next run opens",
          "[faults][indexer]") {
  const uint64_t seed = fault_seed("medindex creation kills");
  INFO("MEDSEARCH_FAULT_SEED=" << seed << " replays this test's delays");
  std::mt19937_64 random(seed);
  TempDir dir;
  std::string records = dir / "records.jsonl";
  write_sample_records(records, 20);
  auto medindex = [&](const std::string& db) {
    return std::vector<std::string>{
        bin_path("medindex"), "--db", db, "--threads", "0", "--quiet", records};
  };
  // A whole run on 20 records is mostly start-up and creating the index;
  // the kills spread over it, so some land while Xapian writes the new
  // database's files (which, created in place, left tables without a
  // version file that no later run could open).
  auto started = Clock::now();
  ProcessResult reference = run_process(medindex(dir / "reference"));
  auto duration = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  INFO(reference.err);
  REQUIRE(reference.exit_code == 0);
  for (int run = 0; run < 30; ++run) {
    std::string db = dir / ("index-" + std::to_string(run));
    milliseconds delay = random_delay(random, milliseconds(0), duration);
    {
      BackgroundProcess indexing(medindex(db), dir / "run.log");
      std::this_thread::sleep_for(delay);
      indexing.signal(SIGKILL);
      indexing.wait();
    }
    ProcessResult next = run_process(medindex(db));
    INFO("run " << run << " killed after " << delay.count() << " ms of " << duration.count()
                << "; the next run:\n"
                << next.err);
    check_no_crash(read_file(dir / "run.log"));
    REQUIRE(next.exit_code == 0);
    CHECK(count_documents(db) == std::pair<uint64_t, uint64_t>{20, 20});
  }
  // No directory of a creation is left beside the indexes.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    CHECK(entry.path().filename().string().find(".new-") == std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// A full disk: the programs run with RLIMIT_FSIZE (run_process's
// max_file_bytes), under which a write past the limit fails with EFBIG as
// with ENOSPC on a full disk. Unlike a small file system it needs no root,
// and it stops every file at the limit: the index's tables, the WARC file,
// the frontier's database and its write-ahead log.

TEST_CASE(
    "medindex on a full disk stops at its last commit with a clear error and a rerun completes",
    "[faults][indexer][disk-full]") {
  const int kRecords = 3000;
  const uint64_t kLimit = 1 << 20;  // the index's largest table reaches it at about 500 records
  for (const char* threads : {"0", "2"}) {
    const bool bulk = std::string(threads) != "0";
    INFO("--threads " << threads);
    TempDir dir;
    write_sample_records(dir / "records.jsonl", kRecords);
    std::string db = dir / "index";
    std::vector<std::string> argv = {
        bin_path("medindex"), "--db", db, "--flush", "100", "--threads", threads, "--quiet",
        dir / "records.jsonl"};
    ProcessResult full = run_process(argv, {}, kLimit);
    INFO(full.err);
    check_no_crash(full.err);
    CHECK(full.exit_code == 1);
    CHECK(full.err.find("medindex: error: cannot commit the index: ") != std::string::npos);
    CHECK(full.err.find("File too large") != std::string::npos);
    // The index opens at its last commit: for one writer a multiple of
    // --flush; an interrupted bulk build leaves it empty.
    auto [documents, unique] = count_documents(db);
    CHECK(documents == unique);
    // The summary does not pass what the run did before the failure for stored.
    CHECK(full.err.find("the changes since the last commit were not stored: the index has " +
                        std::to_string(documents) + " documents") != std::string::npos);
    if (bulk) {
      CHECK(documents == 0);
    } else {
      CHECK(documents > 0);
      CHECK(documents < static_cast<uint64_t>(kRecords));
      CHECK(documents % 100 == 0);
    }
    CHECK_FALSE(index_contents(db).empty());

    ProcessResult rerun = run_process(argv);
    INFO(rerun.err);
    REQUIRE(rerun.exit_code == 0);
    CHECK(count_documents(db) == std::pair<uint64_t, uint64_t>(kRecords, kRecords));
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      CHECK(entry.path().filename().string().find(".bulk-") == std::string::npos);
    }
  }
}

TEST_CASE("medcrawl on a full disk stops with a clear error and a rerun completes the crawl",
          "[faults][crawl][disk-full]") {
  struct Case {
    const char* fills;  // the file that reaches the limit first
    int pages;          // of the tree site
    size_t padding;     // bytes of hex digits a page
    int long_links;     // over-long links on page 1
    uint64_t limit;     // RLIMIT_FSIZE
    const char* error;  // in the error line
    bool salvages;      // the pages archived before the failure are recorded
  };
  const Case cases[] = {
      // Pages of 150 kB (75 kB gzipped): the WARC file fills after five.
      {"the WARC file", 12, 150000, 0, 384 << 10, "/warc/crawl-00000.warc.gz': File too large",
       true},
      // Page 1 adds 600 kB to the frontier at once: its write-ahead log fills
      // while the WARC file holds two pages.
      // The frontier cannot record them then.
      {"the frontier", 12, 0, 100, 256 << 10, "frontier.sqlite': disk I/O error (File too large)",
       false},
  };
  for (const Case& c : cases) {
    INFO("filling " << c.fills);
    TempDir site, out, index_dir;
    FixtureServer server(site.path());
    add_tree_site(server, site, c.pages, milliseconds(0), c.padding, c.long_links);
    server.start();
    const std::vector<std::string> argv = medcrawl_argv(out.path(), server);
    ProcessResult full = run_process(argv, {}, c.limit);
    INFO(full.err);
    check_no_crash(full.err);
    CHECK(full.exit_code == 1);
    CHECK(full.err.rfind("medcrawl: error: ", 0) == 0);
    CHECK(full.err.find(c.error) != std::string::npos);
    CHECK(full.err.find("File too large") != std::string::npos);
    // The WARC file reads up to a torn last record at most, the frontier
    // opens, and what it records as fetched is in the WARC file.
    CrawlLedger ledger;
    check_crawl_state(out.path(), server, ledger);
    size_t fetched = ledger.done_at.size();
    CHECK(fetched < static_cast<size_t>(c.pages) + 1);
    if (c.salvages) {
      // Every whole response record in the WARC file is recorded: the rerun
      // fetches none of those pages again.
      for (const auto& [url, copies] : ledger.unrecorded) {
        INFO(url << " is in the WARC file but not recorded as fetched");
        CHECK(copies == 0);
      }
    }
    std::cerr << "medcrawl on a full disk, " << c.fills << ": " << fetched << " of " << c.pages + 1
              << " pages recorded, " << (ledger.torn ? "a torn WARC record" : "no torn WARC record")
              << "\n";

    std::vector<std::string> loud = argv;  // with progress lines, which report the cut
    loud.erase(std::find(loud.begin(), loud.end(), "--quiet"));
    size_t requests_before = server.requests().size();
    ProcessResult rerun = run_process(loud);
    INFO(rerun.err);
    REQUIRE(rerun.exit_code == 0);
    // What the failed run recorded is not fetched again.
    auto log = server.requests();
    for (size_t i = requests_before; i < log.size(); ++i) {
      INFO(log[i].path);
      CHECK(ledger.done_at.count(server.url(log[i].path)) == 0);
    }
    if (ledger.torn) CHECK(rerun.err.find("cut a torn record") != std::string::npos);
    check_crawl_state(out.path(), server, ledger);
    WarcContents warc = read_warcs(out.path());
    CHECK(warc.torn_file.empty());
    for (const std::string& url : tree_site_urls(server, c.pages)) {
      INFO(url);
      CHECK(ledger.done_at.count(url) == 1);
      CHECK(warc.responses[url] == 1 + ledger.unrecorded[url]);
    }
    std::string db = index_dir / "index";
    ProcessResult indexed =
        run_process({bin_path("medindex"), "--db", db, "--threads", "0", "--quiet", out.path()});
    INFO(indexed.err);
    REQUIRE(indexed.exit_code == 0);
    Xapian::Database database(db);
    CHECK(database.get_doccount() == static_cast<Xapian::doccount>(c.pages + 1));
    for (const std::string& url : tree_site_urls(server, c.pages)) {
      INFO(url);
      CHECK(database.get_termfreq(schema::unique_term(url)) == 1);
    }
  }
}

// ---------------------------------------------------------------------------
// Searches while medindex commits.

// A directory on a disk, where a commit waits for the disk to sync: $TMPDIR,
// unless that is a memory file system (then the build tree). There medindex
// would commit every fraction of a millisecond, faster than any reader of
// Xapian 1.4 can read a revision before two more commits discard it.
std::string disk_directory() {
  const char* tmp = std::getenv("TMPDIR");
  struct statfs info {};
  if (statfs(tmp && *tmp ? tmp : "/tmp", &info) == 0 && info.f_type == TMPFS_MAGIC) {
    return std::string(MEDSEARCH_BIN_DIR);
  }
  return "";
}

TEST_CASE("medsearch and medsearch.cgi answer while medindex commits after every document",
          "[faults][search]") {
  TempDir dir(disk_directory());
  std::string db = dir / "index";
  write_sample_records(dir / "first.jsonl", 300);
  ProcessResult first = run_process(
      {bin_path("medindex"), "--db", db, "--threads", "0", "--quiet", dir / "first.jsonl"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  std::string config = dir / "medsearch.conf";
  write_file(config, "index = " + db + "\nfacets = site,year,type,evidence,concept\n");
  // Records 300 to 20299, a commit after each: more than the searches below
  // take. Under AddressSanitizer a commit every 20 documents: a reader slowed
  // that much cannot finish one search between commits made as fast as the
  // writer can (Xapian 1.4 then discards the revision it reads, however often
  // it reopens); with Xapian's own speed it keeps up with a commit a document.
  write_sample_records(dir / "more.jsonl", 20000, 300);
  BackgroundProcess indexing({bin_path("medindex"), "--db", db, "--threads", "0", "--flush",
                              testing::kSanitized ? "20" : "1", "--quiet", dir / "more.jsonl"},
                             dir / "index.log");
  // Every search reads 100 documents, and counts facets over all matches:
  // long enough for several commits to land in the middle of it.
  std::set<double> totals;  // as the searches saw them
  int searches = 0;
  const int kRounds = 60;
  for (int round = 0; round < kRounds && !indexing.finished(); ++round) {
    INFO("round " << round);
    ProcessResult cli = run_process(
        {bin_path("medsearch"), "--db", db, "--format", "json", "--limit", "100", "pain OR sleep"});
    INFO(cli.err);
    CHECK(cli.exit_code == 0);
    CHECK(cli.err.empty());
    if (auto parsed = parse_json(cli.out); parsed && parsed->find("total")) {
      totals.insert(parsed->find("total")->as_number());
    } else {
      FAIL_CHECK("medsearch printed no JSON results: " << cli.out.substr(0, 200));
    }
    ProcessResult cgi = run_process({bin_path("medsearch.cgi")},
                                    {"MEDSEARCH_CONFIG=" + config, "REQUEST_METHOD=GET",
                                     "QUERY_STRING=q=pain+OR+sleep&format=json"});
    INFO(cgi.err);
    CHECK(cgi.exit_code == 0);
    CHECK(cgi.err.empty());
    CHECK(cgi.out.rfind("Status: 200 OK\r\n", 0) == 0);
    searches += 2;
  }
  // The searches ran while the index grew: they saw several revisions. (The
  // writer usually outlasts all the rounds; under ASan, committing less
  // often, it may finish a few rounds early.)
  INFO(searches << " searches saw " << totals.size() << " different totals");
  CHECK(searches >= 2 * kRounds / 2);
  CHECK(totals.size() >= 3);
  // What medindex committed is whole (it is killed now if still running).
  indexing.signal(SIGKILL);
  indexing.wait();
  auto [documents, unique] = count_documents(db);
  CHECK(documents == unique);
  CHECK(documents > 300);
}

}  // namespace
}  // namespace medsearch
