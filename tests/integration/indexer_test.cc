// medindex as users run it: records, crawls with pages that went away, and a
// second writer. (Runs killed at random moments: tests/integration/faults_test.cc.)
#include <xapian.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "fixture_server.h"
#include "medsearch/json.h"
#include "medsearch/schema.h"
#include "medsearch/warc.h"
#include "process.h"
#include "sample_index.h"

using namespace medsearch;
using namespace medsearch::testing;

namespace {

ProcessResult medindex(std::vector<std::string> args) {
  args.insert(args.begin(), bin_path("medindex"));
  return run_process(args);
}

JsonValue search(const std::string& db, const std::string& query) {
  ProcessResult r =
      run_process({bin_path("medsearch"), "--db", db, "--format", "json", "--limit", "100", query});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto parsed = parse_json(r.out);
  REQUIRE(parsed);
  return *parsed;
}

std::vector<std::string> result_ids(const JsonValue& results) {
  std::vector<std::string> out;
  for (const auto& hit : results.find("results")->items()) out.push_back(hit.text("id"));
  return out;
}

// The number before `what` in medindex's summary line ("... 12 added, ...").
uint64_t summary_count(const std::string& err, const std::string& what) {
  size_t at = err.find(" " + what);
  if (at == std::string::npos) return 0;
  size_t start = err.rfind(' ', at - 1);
  return std::stoull(err.substr(start + 1, at - start - 1));
}

std::string http_response(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("medindex reads JSON Lines and PubMed XML records", "[indexer]") {
  TempDir dir;
  std::string db = dir / "index";
  write_sample_records(dir / "records.jsonl", 30);
  ProcessResult r = medindex(
      {"--db", db, dir / "records.jsonl", source_path("fixtures/records/pubmed-sample.xml")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(summary_count(r.err, "added") > 30);  // the PubMed articles were added too

  auto fibro = result_ids(search(db, "fibromyalgia"));
  CHECK(fibro.size() >= 5);
  CHECK(std::find(fibro.begin(), fibro.end(), "record:r2") != fibro.end());

  auto pubmed = search(db, "type:research ketamine");
  bool any_pubmed = false;
  for (const auto& hit : pubmed.find("results")->items())
    any_pubmed = any_pubmed || hit.text("url").rfind("https://pubmed.ncbi.nlm.nih.gov/", 0) == 0;
  CHECK(any_pubmed);
}

TEST_CASE("PubMed XML inside a WARC is indexed article by article", "[indexer]") {
  TempDir dir;
  std::string xml = read_file(source_path("fixtures/records/pubmed-sample.xml"));
  {
    auto warc = WarcWriter::open(dir / "crawl");
    REQUIRE(warc);
    std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: " +
                           std::to_string(xml.size()) + "\r\n\r\n" + xml;
    REQUIRE(warc->write_exchange(
        {"https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi?db=pubmed&id=1",
         "GET /entrez/eutils/efetch.fcgi HTTP/1.1\r\n\r\n", response, "", 0, ""}));
  }
  std::string db = dir / "index";
  ProcessResult r = medindex({"--db", db, dir / "crawl"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(summary_count(r.err, "added") >= 4);
  for (const auto& id : result_ids(search(db, "ketamine")))
    CHECK(id.rfind("https://pubmed.ncbi.nlm.nih.gov/", 0) == 0);
}

TEST_CASE("noindex pages and sitemaps stay out, gzipped PubMed answers come in", "[indexer]") {
  TempDir dir;
  std::string xml = read_file(source_path("fixtures/records/pubmed-sample.xml"));
  std::string page =
      "<html><head><title>Ketamine and sleep</title></head><body><main><h1>Ketamine and "
      "sleep</h1><p>Patients asked whether ketamine infusions change sleep. The clinic "
      "explains what the studies found about sleep after an infusion.</p></main></body></html>";
  {
    auto warc = WarcWriter::open(dir / "crawl");
    REQUIRE(warc);
    auto exchange = [&](const std::string& url, const std::string& headers,
                        const std::string& body) {
      std::string response = "HTTP/1.1 200 OK\r\n" + headers +
                             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      REQUIRE(warc->write_exchange({url, "GET / HTTP/1.1\r\n\r\n", response, "", 0, ""}));
    };
    exchange("https://clinic.test/hidden", "Content-Type: text/html\r\nX-Robots-Tag: noindex\r\n",
             page);
    exchange("https://clinic.test/shown", "Content-Type: text/html\r\n", page + " ");
    exchange("https://clinic.test/sitemap.xml", "Content-Type: application/xml\r\n",
             "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/"
             "0.9\"><url><loc>https://clinic.test/shown</loc></url></urlset>");
    exchange("https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi?db=pubmed&id=1",
             "Content-Type: text/xml\r\nContent-Encoding: gzip\r\n", gzip_compress(xml));
  }
  std::string db = dir / "index";
  ProcessResult r = medindex({"--db", db, dir / "crawl"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // The noindex page is reported, the sitemap is not a document, and the
  // compressed PubMed answer gives its articles.
  CHECK(r.err.find("X-Robots-Tag noindex") != std::string::npos);
  CHECK(r.err.find("sitemap") == std::string::npos);
  std::vector<std::string> ids = result_ids(search(db, "sleep"));
  CHECK(std::find(ids.begin(), ids.end(), "https://clinic.test/shown") != ids.end());
  CHECK(std::find(ids.begin(), ids.end(), "https://clinic.test/hidden") == ids.end());
  CHECK(summary_count(r.err, "added") >= 5);
  bool pubmed = false;
  for (const auto& id : result_ids(search(db, "ketamine")))
    pubmed = pubmed || id.rfind("https://pubmed.ncbi.nlm.nih.gov/", 0) == 0;
  CHECK(pubmed);
}

TEST_CASE("medindex reads a WARC written by wget --warc-file", "[indexer]") {
  if (run_process({"/usr/bin/env", "sh", "-c", "command -v wget"}).exit_code != 0) {
    WARN("wget is not installed (scripts/setup-deps installs it); skipped");
    return;
  }
  TempDir dir;
  FixtureServer server(source_path("fixtures/site"), source_path("fixtures/routes.tsv"));
  server.start();
  ProcessResult wget =
      run_process({"/usr/bin/env", "wget", "--quiet", "--recursive", "--level=1", "--no-parent",
                   "--directory-prefix=" + (dir / "mirror"), "--warc-file=" + (dir / "site"),
                   "--warc-tempdir=" + dir.path(), server.url("/")});
  INFO(wget.err);
  REQUIRE(std::ifstream(dir / "site.warc.gz").good());
  std::string db = dir / "index";
  ProcessResult r = medindex({"--db", db, dir / "site.warc.gz"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(summary_count(r.err, "added") >= 10);
  auto ids = result_ids(search(db, "ketamine"));
  CHECK(ids.size() >= 5);
  for (const auto& id : ids) CHECK(id.rfind(server.url("/"), 0) == 0);
}

TEST_CASE("a second medindex on the same index gets a clear locked error", "[indexer]") {
  TempDir dir;
  write_sample_records(dir / "records.jsonl", 20000);
  BackgroundProcess first(
      {bin_path("medindex"), "--db", dir / "index", "--quiet", dir / "records.jsonl"},
      dir / "first.log");
  // Wait until the first writer has the index open.
  for (int i = 0; i < 200 && !std::ifstream(dir / "index/flintlock"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ProcessResult second = medindex({"--db", dir / "index", dir / "records.jsonl"});
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("locked by another writer") != std::string::npos);
  CHECK(first.wait() == 0);
}

TEST_CASE("a bulk build with shard writers gives the index a single writer gives", "[indexer]") {
  TempDir dir;
  write_sample_records(dir / "records.jsonl", 3000);
  {
    std::ofstream more(dir / "records.jsonl", std::ios::app);
    // A record given twice (the later one wins), and an exact copy under another id.
    more << "{\"_id\":\"r7\",\"title\":\"Revised study 7\",\"text\":\"Rewritten with "
            "zolmitriptan results.\"}\n";
    for (const char* id : {"copy-a", "copy-b", "copy-c"})
      more << "{\"_id\":\"" << id
           << "\",\"title\":\"Same report\",\"text\":\"Identical text about "
              "hemicrania continua and indomethacin.\"}\n";
  }
  ProcessResult single =
      medindex({"--db", dir / "single", "--threads", "0", dir / "records.jsonl"});
  ProcessResult bulk = medindex({"--db", dir / "bulk", "--threads", "2", dir / "records.jsonl"});
  INFO(single.err << bulk.err);
  REQUIRE(single.exit_code == 0);
  REQUIRE(bulk.exit_code == 0);
  CHECK(count_documents(dir / "bulk") == count_documents(dir / "single"));
  CHECK(count_documents(dir / "bulk").first == 3001);  // 3000 records + one of the three copies
  CHECK(summary_count(bulk.err, "duplicates") == 2);
  // Same matches; ties may rank in another order, as document ids differ.
  for (const char* query : {"zolmitriptan", "migraine sleep", "NMDA", "title:study ketamine",
                            "\"central sensitization\""}) {
    INFO(query);
    CHECK(search(dir / "bulk", query).find("total")->as_number() ==
          search(dir / "single", query).find("total")->as_number());
  }
  CHECK(result_ids(search(dir / "bulk", "zolmitriptan")) == std::vector<std::string>{"record:r7"});
  // One of the copies is kept (the single writer keeps the first it saw; the
  // merge of a bulk build cannot know which shard saw its copy first).
  CHECK(result_ids(search(dir / "bulk", "hemicrania")).size() == 1);
  // The vocabulary and spelling data came through the merge: the same
  // suggestion, from the same word frequencies.
  // (A bulk build stores its vocabulary once, in the merged index.)
  ProcessResult stats = medindex({"--db", dir / "bulk", "--stats"});
  CHECK(stats.out.find("of 0 in the vocabulary") == std::string::npos);
  auto vocabulary_line = [](const std::string& out) {
    size_t at = out.find("in the vocabulary");
    REQUIRE(at != std::string::npos);
    size_t begin = out.rfind('\n', at);
    return out.substr(begin == std::string::npos ? 0 : begin + 1, at - begin);
  };
  CHECK(vocabulary_line(stats.out) ==
        vocabulary_line(medindex({"--db", dir / "single", "--stats"}).out));
  for (const char* typo : {"zolmitriptn", "indometacin"}) {
    INFO(typo);
    std::string bulk_suggestion(search(dir / "bulk", typo).text("suggestion"));
    CHECK_FALSE(bulk_suggestion.empty());
    CHECK(bulk_suggestion == search(dir / "single", typo).text("suggestion"));
  }
}

TEST_CASE("pages the crawl found gone are deleted; a torn WARC costs one record", "[indexer]") {
  TempDir dir;
  std::string page =
      "<html><head><title>Ketamine clinic hours</title></head><body><main><p>The infusion suite "
      "is open on weekdays for ketamine appointments.</p></main></body></html>";
  {
    auto warc = WarcWriter::open(dir / "crawl1");
    REQUIRE(warc);
    REQUIRE(warc->write_exchange({"http://clinic.test/hours", "GET /hours HTTP/1.1\r\n\r\n",
                                  http_response(200, page), "", 0, ""}));
  }
  std::string db = dir / "index";
  REQUIRE(medindex({"--db", db, dir / "crawl1"}).exit_code == 0);
  CHECK(result_ids(search(db, "ketamine")) == std::vector<std::string>{"http://clinic.test/hours"});

  {
    auto warc = WarcWriter::open(dir / "crawl2");
    REQUIRE(warc);
    REQUIRE(warc->write_exchange({"http://clinic.test/hours", "GET /hours HTTP/1.1\r\n\r\n",
                                  http_response(404, "gone"), "", 0, ""}));
  }
  ProcessResult r = medindex({"--db", db, dir / "crawl2"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("1 deleted") != std::string::npos);
  CHECK(result_ids(search(db, "ketamine")).empty());

  // A WARC file cut short: what precedes the cut is indexed, the cut is reported.
  std::string torn = read_file(dir / "crawl1/crawl-00000.warc.gz");
  std::ofstream(dir / "torn.warc.gz", std::ios::binary) << torn.substr(0, torn.size() - 20);
  ProcessResult partial = medindex({"--db", dir / "index2", dir / "torn.warc.gz"});
  INFO(partial.err);
  CHECK(partial.exit_code == 0);
  CHECK(partial.err.find("skipped 1") != std::string::npos);
}

TEST_CASE("medindex --stats and --compact", "[indexer]") {
  TempDir dir;
  std::string db = dir / "index";
  write_sample_records(dir / "records.jsonl", 40);
  REQUIRE(medindex({"--db", db, dir / "records.jsonl"}).exit_code == 0);
  ProcessResult stats = medindex({"--db", db, "--stats"});
  CHECK(stats.exit_code == 0);
  CHECK(stats.out.find("documents        40") != std::string::npos);
  CHECK(stats.out.find("concepts used") != std::string::npos);
  CHECK(medindex({"--db", db, "--compact"}).exit_code == 0);
  CHECK(result_ids(search(db, "migraine")).size() >= 6);
  ProcessResult missing = medindex({"--db", dir / "nothing", "--stats"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.rfind("medindex: error: no index at", 0) == 0);
}
