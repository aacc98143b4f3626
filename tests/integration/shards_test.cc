// A sharded index over Xapian's remote backend, as users run it: the real
// medcrawl, medindex --shards, scripts/serve-shards (xapian-tcpsrv on
// 127.0.0.1) and medsearch. Searching the shards must give what one index of
// the same crawl gives: the same documents in the same order, the same
// scores, snippets, facets, totals and spelling suggestions.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "fixture_server.h"
#include "loopback.h"
#include "medsearch/json.h"
#include "medsearch/searcher.h"
#include "medsearch/text.h"
#include "process.h"

using namespace medsearch;
using namespace medsearch::testing;

namespace {

constexpr int kShards = 2;

// A first port of kShards free ones in a row, from the kernel's ephemeral range.
int free_ports() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int port = free_port();
    bool all = port > 0 && port + kShards < 65536;
    for (int k = 0; all && k < kShards; ++k) all = port_free(port + k);
    if (all) return port;
  }
  FAIL("no free ports");
  return 0;
}

// The shards of a directory written by medindex --shards, served by
// scripts/serve-shards on free ports (retrying when another test took them)
// until destroyed.
struct Served {
  std::string dir;
  ProcessResult run;
  int base_port = 0;

  explicit Served(std::string sharded) : dir(std::move(sharded)) {
    for (int attempt = 0; attempt < 3 && run.exit_code != 0; ++attempt) {
      base_port = free_ports();
      run = run_process(
          {source_path("scripts/serve-shards"), dir, "--base-port", std::to_string(base_port)});
    }
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
  }
  ~Served() { run_process({source_path("scripts/serve-shards"), dir, "--stop"}); }
  Served(const Served&) = delete;
  Served& operator=(const Served&) = delete;

  // The process id of shard k's server (from serve-shards' pidfile).
  int server_pid(int k) const {
    std::istringstream in(read_file(dir + "/serve-shards.pid"));
    int pid = 0, port = 0;
    for (int i = 0; i <= k; ++i) in >> pid >> port;
    return pid;
  }
};

// The fixture site crawled once, indexed as one index and as kShards shards,
// and (when served) the shards served by scripts/serve-shards.
struct Setup {
  TempDir dir;
  FixtureServer server{source_path("fixtures/site"), source_path("fixtures/routes.tsv")};
  std::string crawl = dir / "crawl";
  std::string single = dir / "single";
  std::string sharded = dir / "sharded";
  ProcessResult crawl_run, single_run, sharded_run;
  std::unique_ptr<Served> served;

  Setup() {
    server.start();
    crawl_run = run_process(
        {bin_path("medcrawl"), "--out", crawl, "--delay", "0", "--quiet", server.url("/")});
    single_run = run_process({bin_path("medindex"), "--db", single, "--quiet", crawl});
    sharded_run = run_process({bin_path("medindex"), "--shards", std::to_string(kShards), "--db",
                               sharded, "--quiet", crawl});
  }

  // Starts the shard servers, once.
  void serve() {
    if (!served) served = std::make_unique<Served>(sharded);
  }

  std::string remote_stub() const { return sharded + "/remote.stub"; }
  std::string local_stub() const { return sharded + "/local.stub"; }
  int server_pid(int k) const { return served->server_pid(k); }
};

Setup& setup() {
  static Setup shared;
  INFO(shared.crawl_run.err << shared.single_run.err << shared.sharded_run.err);
  REQUIRE(shared.crawl_run.exit_code == 0);
  REQUIRE(shared.single_run.exit_code == 0);
  REQUIRE(shared.sharded_run.exit_code == 0);
  return shared;
}

ProcessResult run_medsearch(const std::string& db, std::vector<std::string> args) {
  std::vector<std::string> argv{bin_path("medsearch"), "--db", db};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv);
}

// One result list in a form that compares across indexes: docids differ, and
// documents of equal score are ranked by docid, so within a run of equal
// scores (to 6 digits) the documents are put in URL order.
//
// Two known differences of Xapian 1.4 over several databases are left out:
// a wildcard is expanded in each shard, so its weight uses the shard's
// statistics (the documents found are compared, not their order); and the snippet's
// term weights are upper bounds that use each shard's shortest document, so
// of two passages of equal value another may be shown (whether a snippet
// marks a match is compared; `snippets`, if given, collects them by URL).
std::string canonical(const JsonValue& results,
                      std::map<std::string, std::string>* snippets = nullptr) {
  const bool wildcard = results.text("query").find('*') != std::string::npos;
  std::ostringstream out;
  out << "total=" << results.text("total") << " exact=" << results.find("total_exact")->as_bool()
      << " suggestion=" << results.text("suggestion") << " query=" << results.text("query")
      << "\nparsed=" << results.text("parsed") << "\n";
  for (const auto& [name, facet] : results.find("facets")->members()) {
    out << "facet " << name << " distinct=" << facet.text("distinct") << ":";
    for (const auto& v : facet.find("values")->items())
      out << " " << v.text("value") << "(" << v.text("label") << ")=" << v.text("count");
    out << "\n";
  }
  for (const auto& note : results.find("notes")->items())
    out << "note: " << note.as_string() << "\n";
  std::vector<std::pair<std::string, std::string>> hits;  // (score, the rest)
  for (const auto& hit : results.find("results")->items()) {
    char score[32];
    std::snprintf(score, sizeof score, "%.6f", wildcard ? 0.0 : hit.find("score")->as_number());
    std::string snippet = hit.text("snippet");
    if (snippets) (*snippets)[results.text("query") + " " + hit.text("url")] = snippet;
    bool marked = snippet.find("<mark>") != std::string::npos;
    hits.emplace_back(score, hit.text("url") + " similar=" + hit.text("similar") +
                                 (marked ? " marked" : " unmarked"));
  }
  for (size_t i = 0; i < hits.size();) {
    size_t j = i;
    while (j < hits.size() && hits[j].first == hits[i].first) ++j;
    std::sort(hits.begin() + static_cast<long>(i), hits.begin() + static_cast<long>(j));
    i = j;
  }
  for (const auto& [score, rest] : hits) out << score << " " << rest << "\n";
  return out.str();
}

// Each line of a JSON batch (--queries --format json) by query id, canonical.
std::map<std::string, std::string> batch(const std::string& db, const std::string& queries,
                                         std::map<std::string, std::string>* snippets) {
  std::vector<std::string> args;
  args.insert(args.end(), {"--queries", queries, "--format", "json", "--limit", "100", "--facets",
                           "site,year,type,evidence,concept", "--facet-values", "50"});
  ProcessResult r = run_medsearch(db, args);
  INFO(db << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  std::map<std::string, std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    auto parsed = parse_json(line);
    INFO(line);
    REQUIRE(parsed);
    out[parsed->text("qid")] = canonical(*parsed, snippets);
  }
  return out;
}

std::string one(const std::string& db, std::vector<std::string> args) {
  args.insert(args.end(), {"--format", "json", "--limit", "100"});
  ProcessResult r = run_medsearch(db, args);
  INFO(db << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  auto parsed = parse_json(r.out);
  REQUIRE(parsed);
  return canonical(*parsed);
}

// 50 queries: the fixture's expected rankings, concepts, fields, filters,
// operators and misspellings.
std::vector<std::string> queries() {
  std::vector<std::string> out;
  std::ifstream in(source_path("fixtures/expected/queries.tsv"));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::string query = split(line, '\t').front();
    if (std::find(out.begin(), out.end(), query) == out.end()) out.push_back(query);
  }
  for (const char* query : {"concept:crps",
                            "concept:ketamine",
                            "concept:\"complex regional pain syndrome\" ketamine",
                            "concept:nmda NOT ketamine",
                            "title:ketamine",
                            "title:\"neuropathic pain\"",
                            "author:smith",
                            "site:127.0.0.1 ketamine",
                            "type:research",
                            "type:clinic pain",
                            "evidence:rct",
                            "evidence:review OR evidence:meta-analysis",
                            "year:2024",
                            "year:2015..2023 ketamine",
                            "lang:en depression",
                            "ketamine -depression",
                            "ketamine AND pain",
                            "\"chronic pain\"",
                            "ketam*",
                            "NMDA NEAR receptor",
                            "ketamne",
                            "fibromyalga pain",
                            "neuropatic pain",
                            "depresion treatment",
                            "esketamine",
                            "Spravato",
                            "pain",
                            "migraine",
                            "opioids 2021[dp]",
                            "infusion",
                            "PTSD ketamine",
                            "memory",
                            "receptor antagonist",
                            "central sensitisation",
                            "treatment resistant depression",
                            "\"case report\""})
    if (out.size() < 50) out.push_back(query);
  return out;
}

}  // namespace

TEST_CASE("Remote shards give the results of one index", "[shards]") {
  Setup& s = setup();
  s.serve();
  std::vector<std::string> list = queries();
  REQUIRE(list.size() == 50);
  std::string file = s.dir / "queries.tsv";
  {
    std::ofstream out(file);
    for (size_t i = 0; i < list.size(); ++i) out << "Q" << i + 1 << "\t" << list[i] << "\n";
  }
  std::map<std::string, std::string> expected_snippets, snippets;
  auto expected = batch(s.single, file, &expected_snippets);
  REQUIRE(expected.size() == 50);
  size_t with_hits = 0;
  for (const auto& [qid, text] : expected) with_hits += text.find(" similar=") != text.npos;
  CHECK(with_hits >= 40);  // the comparison is not of empty lists
  for (const std::string& db : {s.remote_stub(), s.local_stub(), s.sharded}) {
    auto got = batch(db, file, &snippets);
    REQUIRE(got.size() == 50);
    for (const auto& [qid, text] : expected) {
      INFO(db << " " << qid << " " << list[std::stoul(qid.substr(1)) - 1]);
      CHECK(got[qid] == text);
    }
    // Nearly every snippet is the very same passage.
    size_t same = 0;
    for (const auto& [hit, snippet] : expected_snippets) same += snippets[hit] == snippet;
    INFO(db << ": " << same << " of " << expected_snippets.size() << " snippets the same");
    CHECK(same * 100 >= expected_snippets.size() * 97);
  }
  SECTION("more like this, auto-correct, no collapse and filters as options") {
    std::vector<std::vector<std::string>> cases = {
        {"--like", s.server.url("/learn/crps-explained.html")},
        {"--like", s.server.url("/articles/ketamine-fibromyalgia-rct.html"), "pain"},
        {"--auto-correct", "ketamne fibromyalga"},
        {"--no-collapse", "ketamine"},
        {"--type", "research", "--year", "2015..2025", "--facets", "concept,year", "pain"},
        {"--bm25", "1.2,0.75", "ketamine depression"},
    };
    for (const auto& args : cases) {
      std::string want = one(s.single, args);
      INFO(args.front() << " " << args.back());
      CHECK(one(s.remote_stub(), args) == want);
      CHECK(one(s.local_stub(), args) == want);
    }
  }
}

TEST_CASE("Pseudo-relevance feedback over remote shards gives the results of one index",
          "[shards]") {
  // Feedback needs 1000 documents (the fixture site has far fewer): records
  // of words drawn from a small vocabulary, some frequent and some rare.
  TempDir dir;
  const char* words[] = {"ketamine",     "infusion",      "pain",
                         "chronic",      "neuropathic",   "receptor",
                         "nmda",         "depression",    "migraine",
                         "opioid",       "dose",          "trial",
                         "placebo",      "randomised",    "cohort",
                         "fibromyalgia", "allodynia",     "hyperalgesia",
                         "lidocaine",    "magnesium",     "gabapentin",
                         "pregabalin",   "amitriptyline", "duloxetine",
                         "spinal",       "cord",          "stimulation",
                         "nerve",        "block",         "injection",
                         "sleep",        "anxiety",       "fatigue",
                         "quality",      "life",          "function",
                         "crps",         "sympathetic",   "dystrophy",
                         "esketamine",   "memantine",     "dextromethorphan",
                         "tolerance",    "withdrawal",    "cognition",
                         "dissociation", "blood",         "pressure"};
  const int kWords = sizeof words / sizeof words[0];
  std::mt19937 random(4242);
  {
    std::ofstream out(dir / "records.jsonl");
    for (int i = 0; i < 1200; ++i) {
      std::uniform_int_distribution<int> length(8, 40);
      std::string text;
      for (int n = length(random); n > 0; --n) {
        double x = std::uniform_real_distribution<double>(0, 1)(random);
        text += std::string(words[static_cast<int>(x * x * kWords)]) + " ";
      }
      out << "{\"_id\": \"R" << i << "\", \"title\": \"Record " << i << "\", \"text\": \"" << text
          << "\"}\n";
    }
  }
  std::string single = dir / "single", sharded = dir / "sharded";
  ProcessResult a =
      run_process({bin_path("medindex"), "--db", single, "--quiet", dir / "records.jsonl"});
  ProcessResult b = run_process({bin_path("medindex"), "--shards", std::to_string(kShards), "--db",
                                 sharded, "--quiet", dir / "records.jsonl"});
  INFO(a.err << b.err);
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  Served served(sharded);

  std::string file = dir / "queries.tsv";
  {
    std::ofstream out(file);
    for (int i = 0; i < 30; ++i)
      out << "F" << i << "\t" << words[(i * 7) % kWords] << " " << words[(i * 11 + 3) % kWords]
          << "\n";
  }
  auto expected = batch(single, file, nullptr);
  REQUIRE(expected.size() == 30);
  auto got = batch(sharded + "/remote.stub", file, nullptr);
  REQUIRE(got.size() == 30);
  // An estimated total is not compared: Xapian estimates each shard's part
  // (the feedback terms make most totals estimates here).
  auto estimate_left_out = [](std::string text) {
    if (text.find(" exact=0 ") != std::string::npos)
      text.replace(0, text.find(' '), "total=(estimated)");
    return text;
  };
  for (const auto& [qid, text] : expected) {
    INFO(qid);
    CHECK(estimate_left_out(got[qid]) == estimate_left_out(text));
  }
  // The feedback changed the results, so the comparison is of it.
  ProcessResult plain = run_medsearch(
      single, {"--queries", file, "--format", "json", "--limit", "100", "--facets",
               "site,year,type,evidence,concept", "--facet-values", "50", "--no-feedback"});
  REQUIRE(plain.exit_code == 0);
  size_t changed = 0;
  std::istringstream in(plain.out);
  for (std::string line; std::getline(in, line);) {
    auto parsed = parse_json(line);
    REQUIRE(parsed);
    changed += canonical(*parsed) != expected[parsed->text("qid")];
  }
  CHECK(changed >= 10);
}

TEST_CASE("A long-running searcher reconnects to a restarted shard and takes back a missing one",
          "[shards]") {
  TempDir dir;
  {
    std::ofstream out(dir / "records.jsonl");
    for (int i = 0; i < 60; ++i)
      out << "{\"_id\": \"R" << i << "\", \"title\": \"Record " << i
          << "\", \"text\": \"Ketamine infusion note " << i << ".\"}\n";
  }
  std::string sharded = dir / "sharded";
  ProcessResult index = run_process(
      {bin_path("medindex"), "--shards", "2", "--db", sharded, "--quiet", dir / "records.jsonl"});
  INFO(index.err);
  REQUIRE(index.exit_code == 0);
  Served served(sharded);
  const int pid = served.server_pid(1), port = served.base_port + 1;  // shard 1's server
  // Shard 1's server ended, with the processes it forked for connections
  // (serve-shards starts each server in a process group of its own).
  auto stop_shard = [&](int server) {
    kill(-server, SIGKILL);
    for (int i = 0; i < 200 && accepts_connections(port); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE_FALSE(accepts_connections(port));
  };
  // Shard 1 served again on its port, by a server of this test's.
  auto start_shard = [&] {
    auto server = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"/usr/bin/xapian-tcpsrv", "--quiet", "--interface", "127.0.0.1",
                                 "--port", std::to_string(port), sharded + "/shard-1"},
        dir / "tcpsrv.log");
    for (int i = 0; i < 300 && !accepts_connections(port); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(accepts_connections(port));
    return server;
  };
  SearchOptions options;
  options.limit = 100;

  auto searcher = Searcher::open({sharded + "/remote.stub"});
  REQUIRE(searcher.ok());
  auto before = searcher->search("ketamine", options);
  REQUIRE(before.ok());
  CHECK(before->total == 60);
  stop_shard(pid);
  auto restarted = start_shard();
  // The old connection to shard 1 is gone; the search connects again.
  auto after = searcher->search("ketamine", options);
  INFO((after ? "" : after.error()));
  REQUIRE(after.ok());
  CHECK(after->total == 60);
  CHECK(after->notes.empty());

  // Opened while shard 1 is down, with allow_partial: half the documents,
  // then all of them once it answers again.
  restarted.reset();  // killed, with the connection it forked
  for (int i = 0; i < 200 && accepts_connections(port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  OpenOptions partial;
  partial.allow_partial = true;
  partial.retry_missing_ms = 0;
  auto patient = Searcher::open({sharded + "/remote.stub"}, partial);
  REQUIRE(patient.ok());
  auto half = patient->search("ketamine", options);
  REQUIRE(half.ok());
  CHECK(half->total > 0);
  CHECK(half->total < 60);
  REQUIRE(half->notes.size() == 1);
  auto back = start_shard();
  auto whole = patient->search("ketamine", options);
  REQUIRE(whole.ok());
  CHECK(whole->total == 60);
  CHECK(whole->notes.empty());
}

TEST_CASE("A shard that does not answer is named and allow-partial searches the others",
          "[shards]") {
  Setup& s = setup();
  s.serve();
  std::string stub = read_file(s.remote_stub());
  std::string second = split(split(stub, '\n').at(2), ' ').at(1);  // "127.0.0.1:PORT"

  // Stopped: the request times out rather than hanging.
  kill(s.server_pid(1), SIGSTOP);
  auto start = std::chrono::steady_clock::now();
  ProcessResult stopped = run_medsearch(s.remote_stub(), {"--shard-timeout", "1", "ketamine"});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  kill(s.server_pid(1), SIGCONT);
  CHECK(stopped.exit_code == 1);
  CHECK(stopped.err.find("shard 'remote " + second + "' does not answer") != std::string::npos);
  CHECK(seconds < 8);

  // Killed: an error naming it, or partial results with a warning and a note.
  kill(s.server_pid(1), SIGKILL);
  ProcessResult killed = run_medsearch(s.remote_stub(), {"ketamine"});
  CHECK(killed.exit_code == 1);
  CHECK(killed.err.find("shard 'remote " + second + "' does not answer") != std::string::npos);
  CHECK(killed.err.find("--allow-partial") != std::string::npos);

  ProcessResult partial = run_medsearch(
      s.remote_stub(), {"--allow-partial", "--format", "json", "--limit", "100", "pain"});
  INFO(partial.err);
  REQUIRE(partial.exit_code == 0);
  CHECK(partial.err.find("warning: shard 'remote " + second + "'") != std::string::npos);
  auto results = parse_json(partial.out);
  REQUIRE(results);
  REQUIRE(results->find("notes")->items().size() == 1);
  CHECK(results->find("notes")->items()[0].as_string().starts_with("partial results: shard"));
  // What the first shard alone holds: fewer than all, all of them in the full results.
  std::string all = one(s.single, {"pain"});
  size_t hits = results->find("results")->items().size(), all_hits = 0;
  for (size_t at = all.find(" similar="); at != all.npos; at = all.find(" similar=", at + 1))
    ++all_hits;
  CHECK(hits > 0);
  CHECK(hits < all_hits);
  for (const auto& hit : results->find("results")->items())
    CHECK(all.find(hit.text("url") + " ") != std::string::npos);
}

TEST_CASE("medindex keeps its number of shards and replaces a document in its own shard",
          "[shards]") {
  TempDir dir;
  std::string db = dir / "index";
  std::string records = dir / "records.jsonl";
  auto write_records = [&](const std::string& text) {
    std::ofstream out(records, std::ios::trunc);
    for (int i = 0; i < 20; ++i)
      out << "{\"_id\": \"R" << i << "\", \"title\": \"Record " << i
          << "\", \"text\": \"Ketamine note number " << i << " " << (i == 7 ? text : "plain")
          << ".\"}\n";
  };
  write_records("magnesium");
  ProcessResult first = run_process({bin_path("medindex"), "--shards", "3", "--db", db, records});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(read_file(db + "/local.stub") ==
        "# medindex --shards 3: the shards searched as one\n"
        "auto shard-0\nauto shard-1\nauto shard-2\n");
  write_records("zinc");
  ProcessResult again =
      run_process({bin_path("medindex"), "--shards", "3", "--db", db, "--quiet", records});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find("1 replaced, 19 unchanged") != std::string::npos);
  CHECK(again.err.find("index has 20 documents") != std::string::npos);
  CHECK(one(db, {"zinc"}).find("total=1 ") != std::string::npos);
  CHECK(one(db, {"magnesium"}).find("total=0 ") != std::string::npos);

  ProcessResult other = run_process({bin_path("medindex"), "--shards", "2", "--db", db, records});
  CHECK(other.exit_code == 1);
  CHECK(other.err.find("holds 3 shards, not 2") != std::string::npos);
  ProcessResult plain = run_process({bin_path("medindex"), "--db", db, records});
  CHECK(plain.exit_code == 1);
  CHECK(plain.err.find("is a sharded index of 3 shards; add --shards 3") != std::string::npos);
}
