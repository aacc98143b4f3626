// The real medeval on the hand-made runs and judgments of fixtures/eval/,
// whose README derives every expected figure by hand.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "process.h"

using namespace medsearch::testing;

namespace {

std::string fixture(const std::string& name) { return source_path("fixtures/eval/" + name); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The whitespace-separated fields of the first line starting with `start`.
std::vector<std::string> row(const std::string& output, const std::string& start) {
  for (const auto& line : lines_of(output)) {
    if (line.rfind(start, 0) != 0) continue;
    std::istringstream in(line);
    std::vector<std::string> fields;
    for (std::string field; in >> field;) fields.push_back(field);
    return fields;
  }
  return {};
}

}  // namespace

TEST_CASE("medeval prints the hand-computed metrics, ratios and per-query changes", "[medeval]") {
  ProcessResult r =
      run_process({bin_path("medeval"), "--queries", fixture("queries.tsv"), fixture("qrels.txt"),
                   fixture("run-a.trec"), fixture("run-b.trec")});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("3 queries with relevant documents") != std::string::npos);
  CHECK(row(r.out, "run-a ") == std::vector<std::string>{"run-a", "0.8302", "1.0000", "0.8333",
                                                         "1.000x", "1.000x", "1.000x"});
  CHECK(row(r.out, "run-b ") == std::vector<std::string>{"run-b", "0.4600", "0.5000", "0.5000",
                                                         "0.554x", "0.500x", "0.600x"});
  CHECK(r.out.find("note: run-a: 1 query without relevant judgments (not scored)") !=
        std::string::npos);
  // (1 + 0.3800938) / 2 = 0.6900469 over the two queries run-b answered.
  CHECK(r.out.find("note: run-b: no results for 1 judged query (scored 0); nDCG@10 over the 2 "
                   "answered: 0.6900") != std::string::npos);
  CHECK(r.out.find("run-b against run-a, nDCG@10 per query: 1 better, 2 worse, 0 equal") !=
        std::string::npos);
  // Largest change first, each with the query's text.
  CHECK(row(r.out, "  +0.1403") ==
        std::vector<std::string>{"+0.1403", "q1", "0.8597", "->", "1.0000", "ketamine", "pain"});
  size_t losses = r.out.find("Losses (2):");
  size_t q3 = r.out.find("  -0.6309  q3 ");
  size_t q2 = r.out.find("  -0.6199  q2 ");
  REQUIRE(losses != std::string::npos);
  CHECK(losses < q3);
  CHECK(q3 < q2);
  CHECK(q2 != std::string::npos);
}

TEST_CASE("medeval reads BEIR qrels and prints per-query metrics", "[medeval]") {
  ProcessResult r = run_process(
      {bin_path("medeval"), "--per-query", fixture("qrels.tsv"), fixture("run-b.trec")});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(row(r.out, "run-b\tq1") ==
        std::vector<std::string>{"run-b", "q1", "1.0000", "1.0000", "1.0000", "2", "2"});
  CHECK(row(r.out, "run-b\tq2") ==
        std::vector<std::string>{"run-b", "q2", "0.3801", "0.5000", "0.5000", "2", "2"});
  CHECK(row(r.out, "run-b\tq3") ==
        std::vector<std::string>{"run-b", "q3", "0.0000", "0.0000", "0.0000", "1", "0"});
  // One run: nothing to compare.
  CHECK(r.out.find("against") == std::string::npos);
}

TEST_CASE("medeval reports bad input on one line with the right exit status", "[medeval]") {
  TempDir dir;
  {
    std::ofstream bad(dir / "bad.trec");
    bad << "q1 Q0 D1 1 2.0 x\nq1 Q0 D2 2 x\n";
  }
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string error;
  };
  const Case cases[] = {
      {{fixture("qrels.txt")}, 2, "medeval: error: give a qrels file and at least one run"},
      {{fixture("qrels.txt"), dir / "none.trec"}, 1, "medeval: error: cannot open '"},
      {{fixture("qrels.txt"), dir / "bad.trec"},
       1,
       "bad.trec: line 2: expected QUERY-ID Q0 DOC-ID RANK SCORE RUN-NAME, not 5 fields"},
      {{fixture("run-a.trec"), fixture("run-a.trec")},
       1,
       "run-a.trec: line 1: expected QUERY-ID 0 DOC-ID RELEVANCE or QUERY-ID DOC-ID RELEVANCE, "
       "not 6 fields"},
      {{"--top", "x", fixture("qrels.txt"), fixture("run-a.trec")}, 2, "medeval: error:"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv{bin_path("medeval")};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    ProcessResult r = run_process(argv);
    INFO(c.error << "\n" << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.err.find(c.error) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}
