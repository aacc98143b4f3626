// medsearch's output formats and batch mode, as programs read them: the real
// medindex and medsearch on fixtures/eval/, every format parsed back.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "csv_reader.h"
#include "medsearch/evaluation.h"
#include "medsearch/json.h"
#include "process.h"

using namespace medsearch;
using namespace medsearch::testing;

namespace {

std::string fixture(const std::string& name) { return source_path("fixtures/eval/" + name); }

// The index of fixtures/eval/corpus.jsonl, built once for the tests of this file.
struct Index {
  TempDir dir;
  std::string path = dir / "index";
  ProcessResult build =
      run_process({bin_path("medindex"), "--db", path, "--quiet", fixture("corpus.jsonl")});

  ProcessResult search(std::vector<std::string> args) {
    std::vector<std::string> argv{bin_path("medsearch"), "--db", path};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
  }
};

Index& index() {
  static Index shared;
  INFO(shared.build.err);
  REQUIRE(shared.build.exit_code == 0);
  return shared;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

const std::set<std::string> kCorpusIds{"D1", "D2", "D3", "D4", "D5", "D6"};

}  // namespace

TEST_CASE("a single query's JSON object keeps its schema", "[search-cli]") {
  ProcessResult r = index().search({"--format", "json", "ketamine pain"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto parsed = parse_json(r.out);
  REQUIRE(parsed);
  for (const char* key : {"query", "parsed", "total", "notes", "results"})
    CHECK(parsed->find(key) != nullptr);
  CHECK(parsed->find("qid") == nullptr);  // only in batch mode
  CHECK(parsed->text("query") == "ketamine pain");
  const auto& results = parsed->find("results")->items();
  REQUIRE(results.size() >= 2);
  CHECK(results[0].text("rank") == "1");
  CHECK(results[0].text("id").rfind("record:", 0) == 0);
}

TEST_CASE("a batch in TREC form is a run medeval scores, with the corpus ids", "[search-cli]") {
  for (const char* queries : {"queries.tsv", "queries.jsonl"}) {
    INFO(queries);
    ProcessResult r = index().search({"--queries", fixture(queries), "--format", "trec", "--limit",
                                      "100", "--run-name", "fixture run"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::set<std::string> qids;
    std::map<std::string, int> last_rank;
    for (const auto& line : lines_of(r.out)) {
      std::istringstream in(line);
      std::string qid, q0, doc, tag, extra;
      int rank = 0;
      double score = 0;
      REQUIRE((in >> qid >> q0 >> doc >> rank >> score >> tag));
      CHECK_FALSE(in >> extra);
      CHECK(q0 == "Q0");
      CHECK(kCorpusIds.count(doc) == 1);  // the record's _id, not "record:D1"
      CHECK(tag == "fixture_run");
      CHECK(rank == ++last_rank[qid]);
      qids.insert(qid);
    }
    CHECK(qids == std::set<std::string>{"q1", "q2", "q3"});
    auto run = parse_run(r.out);
    REQUIRE(run);
    auto qrels = load_qrels(fixture("qrels.tsv"));
    REQUIRE(qrels);
    RunMetrics m = evaluate_run(*qrels, *run);
    // Every judged document shares words with its query, so all are found.
    CHECK(m.missing == 0);
    CHECK(m.recall == 1.0);
  }
}

TEST_CASE("batch JSON is one object per query per line, with qid", "[search-cli]") {
  ProcessResult r = index().search({"--queries", fixture("queries.tsv"), "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 3);
  const char* qids[] = {"q1", "q2", "q3"};
  const char* texts[] = {"ketamine pain", "statins breast cancer", "vitamin D, \"bones\""};
  for (size_t i = 0; i < 3; ++i) {
    auto parsed = parse_json(lines[i]);
    REQUIRE(parsed);
    CHECK(parsed->text("qid") == qids[i]);
    CHECK(parsed->text("query") == texts[i]);
    for (const char* key : {"parsed", "total", "notes", "results"})
      CHECK(parsed->find(key) != nullptr);
    CHECK_FALSE(parsed->find("results")->items().empty());
  }
}

TEST_CASE("JSON Lines output is one result a line, with qid in batch mode", "[search-cli]") {
  ProcessResult batch =
      index().search({"--queries", fixture("queries.jsonl"), "--format", "jsonl", "--limit", "2"});
  INFO(batch.err);
  REQUIRE(batch.exit_code == 0);
  std::map<std::string, int> per_query;
  for (const auto& line : lines_of(batch.out)) {
    auto parsed = parse_json(line);
    REQUIRE(parsed);
    std::string qid = parsed->text("qid");
    CHECK(parsed->text("rank") == std::to_string(++per_query[qid]));
    for (const char* key : {"query", "id", "title", "url", "score", "snippet"})
      CHECK(parsed->find(key) != nullptr);
  }
  // The same results as the same batch in TREC form.
  ProcessResult trec =
      index().search({"--queries", fixture("queries.jsonl"), "--format", "trec", "--limit", "2"});
  REQUIRE(trec.exit_code == 0);
  std::map<std::string, int> trec_per_query;
  for (const auto& line : lines_of(trec.out)) ++trec_per_query[line.substr(0, line.find(' '))];
  CHECK(per_query == trec_per_query);
  CHECK(per_query.size() == 3);

  ProcessResult single = index().search({"--format", "jsonl", "statins"});
  REQUIRE(single.exit_code == 0);
  auto lines = lines_of(single.out);
  REQUIRE(lines.size() == 1);
  auto parsed = parse_json(lines[0]);
  REQUIRE(parsed);
  CHECK(parsed->find("qid") == nullptr);
  CHECK(parsed->text("id") == "record:D5");
}

TEST_CASE("CSV has one header and quotes fields as RFC 4180 says", "[search-cli]") {
  ProcessResult r =
      index().search({"--queries", fixture("queries.tsv"), "--format", "csv", "--limit", "3"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto records = parse_csv(r.out);
  REQUIRE(records.size() > 3);
  const std::vector<std::string> header{"qid", "query", "rank",    "id",      "score",  "title",
                                        "url", "site",  "date",    "authors", "type",   "evidence",
                                        "doi", "pmid",  "journal", "snippet", "similar"};
  CHECK(records[0] == header);
  bool saw_quoted_query = false;
  for (size_t i = 1; i < records.size(); ++i) {
    REQUIRE(records[i].size() == header.size());
    CHECK(records[i][0] != "qid");  // the header is printed once
    if (records[i][0] == "q3") {
      CHECK(records[i][1] == "vitamin D, \"bones\"");
      saw_quoted_query = true;
    }
  }
  CHECK(saw_quoted_query);
  CHECK(records[1][0] == "q1");
  CHECK(records[1][2] == "1");
}

TEST_CASE("text batches label each query; --timings writes one line a query", "[search-cli]") {
  TempDir dir;
  ProcessResult r =
      index().search({"--queries", fixture("queries.tsv"), "--timings", dir / "timings.tsv"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("[q1] ") != std::string::npos);
  CHECK(r.out.find("[q3] ") != std::string::npos);
  auto lines = lines_of(read_file(dir / "timings.tsv"));
  REQUIRE(lines.size() == 3);
  const char* qids[] = {"q1", "q2", "q3"};
  for (size_t i = 0; i < 3; ++i) {
    auto tab = lines[i].find('\t');
    REQUIRE(tab != std::string::npos);
    CHECK(lines[i].substr(0, tab) == qids[i]);
    CHECK(std::stod(lines[i].substr(tab + 1)) > 0);
  }
}

TEST_CASE("bad batch options and files give one message and the right status", "[search-cli]") {
  TempDir dir;
  {
    std::ofstream bad(dir / "bad.tsv");
    bad << "q1\tketamine\nno tab here\n";
  }
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string error;
  };
  const Case cases[] = {
      {{"--format", "xml", "pain"}, 2, "--format must be text, json, jsonl, csv or trec"},
      {{"--queries", fixture("queries.tsv"), "pain"}, 2, "give a query or --queries FILE"},
      {{"--timings", dir / "t.tsv", "pain"}, 2, "--timings needs --queries"},
      {{"--queries", dir / "missing.tsv"}, 1, "cannot open '"},
      {{"--queries", dir / "bad.tsv"}, 1, "bad.tsv: line 2: expected QUERY-ID<TAB>QUERY"},
  };
  for (const auto& c : cases) {
    ProcessResult r = index().search(c.args);
    INFO(c.error << "\n" << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.err.find(c.error) != std::string::npos);
    CHECK(r.out.empty());
  }
}
