#include "medsearch/evaluation.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace medsearch;

namespace {

// "n1".."nN": documents nobody judged.
std::vector<std::string> unjudged(int count) {
  std::vector<std::string> out;
  for (int i = 1; i <= count; ++i) out.push_back("n" + std::to_string(i));
  return out;
}

}  // namespace

TEST_CASE("evaluate_query on hand-computed rankings", "[evaluation]") {
  struct Case {
    const char* name;
    std::map<std::string, int> judgments;
    std::vector<std::string> ranking;
    double ndcg, recall, average_precision;
  };
  std::vector<std::string> rank_11 = unjudged(10);
  rank_11.push_back("r");
  std::vector<std::string> rank_101 = unjudged(100);
  rank_101.push_back("r");
  std::map<std::string, int> twelve_relevant;
  std::vector<std::string> twelve_in_order;
  for (int i = 0; i < 12; ++i) {
    twelve_relevant["r" + std::to_string(i)] = 1;
    twelve_in_order.push_back("r" + std::to_string(i));
  }
  const Case cases[] = {
      // Ideal: gains 2,1,1 at ranks 1,2,3: 2/log2(2) + 1/log2(3) + 1/log2(4)
      //   = 2 + 0.6309298 + 0.5 = 3.1309298.
      // Run: d2 (gain 1) at rank 1 -> 1/1; d1 (gain 2) at rank 3 -> 2/log2(4) = 1; DCG 2.
      // nDCG = 2 / 3.1309298 = 0.6387879. Recall: 2 of 3. AP: (1/1 + 2/3) / 3 = 5/9.
      {"graded, one miss between",
       {{"d1", 2}, {"d2", 1}, {"d3", 1}},
       {"d2", "x", "d1"},
       0.6387879,
       2.0 / 3,
       5.0 / 9},
      // The ideal order itself: DCG = IDCG, every relevant document found at once.
      {"ideal ranking", {{"d1", 2}, {"d2", 1}, {"d3", 1}}, {"d1", "d2", "d3"}, 1.0, 1.0, 1.0},
      // Equal grades in another order are still ideal.
      {"ties in the ideal order",
       {{"d1", 2}, {"d2", 1}, {"d3", 1}},
       {"d1", "d3", "d2"},
       1.0,
       1.0,
       1.0},
      // Rank 11 is past the nDCG cut-off: nDCG 0; Recall@100 1; AP = (1/11) / 1.
      {"relevant at rank 11", {{"r", 1}}, rank_11, 0.0, 1.0, 1.0 / 11},
      // Rank 101 is past the recall cut-off; AP counts the whole ranking: 1/101.
      {"relevant at rank 101", {{"r", 1}}, rank_101, 0.0, 0.0, 1.0 / 101},
      // Grades 0 and -1 are judged not relevant and gain nothing.
      // IDCG = 1 (c alone); DCG = 1/log2(3+1) = 0.5; AP = (1/3) / 1.
      {"non-relevant grades", {{"a", 0}, {"b", -1}, {"c", 1}}, {"a", "b", "c"}, 0.5, 1.0, 1.0 / 3},
      // Twelve relevant documents: the ideal DCG stops at rank 10 too, so the run's
      // first ten give nDCG 1; AP = 12 * 1 / 12.
      {"more relevant than the cut-off", twelve_relevant, twelve_in_order, 1.0, 1.0, 1.0},
      // Found only 2 of the 12 (ranks 1 and 2): DCG = 1 + 1/log2(3) = 1.6309298;
      // IDCG = sum over ranks 1..10 of 1/log2(r+1) = 1 + 0.6309298 + 0.5 + 0.4306766
      //   + 0.3868528 + 0.3562072 + 0.3333333 + 0.3154649 + 0.3010300 + 0.2890648
      //   = 4.5435594; nDCG = 1.6309298 / 4.5435594 = 0.3589542.
      // Recall 2/12; AP = (1 + 1) / 12.
      {"two of twelve", twelve_relevant, {"r0", "r1"}, 0.3589542, 2.0 / 12, 2.0 / 12},
      // Nothing retrieved.
      {"empty ranking", {{"d1", 1}}, {}, 0.0, 0.0, 0.0},
      // Nothing relevant: every metric is 0 (and evaluate_run skips the query).
      {"nothing relevant", {{"d1", 0}}, {"d1"}, 0.0, 0.0, 0.0},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    QueryMetrics m = evaluate_query(c.judgments, c.ranking);
    CHECK(m.ndcg == Approx(c.ndcg).margin(1e-7));
    CHECK(m.recall == Approx(c.recall).margin(1e-12));
    CHECK(m.average_precision == Approx(c.average_precision).margin(1e-12));
    CHECK(m.retrieved == c.ranking.size());
  }
}

TEST_CASE("evaluate_run averages over judged queries; missing queries score 0", "[evaluation]") {
  Qrels qrels{{"q1", {{"d1", 1}}},
              {"q2", {{"d2", 1}, {"d3", 2}}},
              {"q3", {{"d4", 0}}}};  // nothing relevant: not scored
  Run run{{"q1", {"d1"}}, {"q4", {"x"}}};
  RunMetrics m = evaluate_run(qrels, run);
  REQUIRE(m.queries.size() == 2);
  CHECK(m.queries[0].query_id == "q1");
  CHECK(m.queries[0].in_run);
  CHECK(m.queries[1].query_id == "q2");
  CHECK_FALSE(m.queries[1].in_run);
  CHECK(m.queries[1].relevant == 2);
  // q1 is perfect (1, 1, 1) and q2 is missing (0, 0, 0): means of 0.5.
  CHECK(m.ndcg == Approx(0.5));
  CHECK(m.recall == Approx(0.5));
  CHECK(m.map == Approx(0.5));
  CHECK(m.missing == 1);
  CHECK(m.unscored == 1);  // q4 has no judgments
}

TEST_CASE("parse_run orders by score like trec_eval, not by the rank column", "[evaluation]") {
  // Ranks say a, b, c; scores say b first, then a and c tied at 1.5, which
  // trec_eval breaks by document id, descending: c before a.
  auto run = parse_run(
      "q1 Q0 a 1 1.5 test\n"
      "q1\tQ0\tb\t2\t2.0\ttest\r\n"
      "\n"
      "q1 Q0 c 3 1.5 test\n"
      "q2 Q0 z 1 -3e-1 test\n");
  REQUIRE(run);
  CHECK(run->at("q1") == std::vector<std::string>{"b", "c", "a"});
  CHECK(run->at("q2") == std::vector<std::string>{"z"});
}

TEST_CASE("malformed runs, qrels and query files fail naming the line", "[evaluation]") {
  struct Case {
    const char* input;
    const char* error;
  };
  const Case run_errors[] = {
      {"q1 Q0 a 1 1.0\n", "line 1: expected QUERY-ID Q0 DOC-ID RANK SCORE RUN-NAME, not 5 fields"},
      {"q1 Q0 a 1 1.0 r\nq1 Q0 b 2 high r\n", "line 2: score 'high' is not a number"},
      {"q1 Q0 a 1 1.0 r\nq1 Q0 a 2 0.5 r\n", "line 2: document 'a' listed twice for query 'q1'"},
      {"q1 Q0 a 1 nan r\n", "line 1: score 'nan' is not a number"},
  };
  for (const auto& c : run_errors) {
    INFO(c.input);
    auto run = parse_run(c.input);
    REQUIRE_FALSE(run);
    CHECK(run.error() == c.error);
  }
  const Case qrels_errors[] = {
      // A header is accepted on the first line only.
      {"q1 d1 1\nquery-id corpus-id score\n", "line 2: relevance 'score' is not an integer"},
      {"q1 0 d1 1\nq1 0 d2 yes\n", "line 2: relevance 'yes' is not an integer"},
      {"q1 d1 1\nq1 d1 2\n",
       "line 2: document 'd1' judged twice for query 'q1' with different grades"},
      {"q1 0 d1 1 extra\n",
       "line 1: expected QUERY-ID 0 DOC-ID RELEVANCE or QUERY-ID DOC-ID RELEVANCE, not 5 fields"},
  };
  for (const auto& c : qrels_errors) {
    INFO(c.input);
    auto qrels = parse_qrels(c.input);
    REQUIRE_FALSE(qrels);
    CHECK(qrels.error() == c.error);
  }
  const Case query_errors[] = {
      {"q1\tfirst\nq2 second\n",
       "line 2: expected QUERY-ID<TAB>QUERY (or JSON Lines from the first line on)"},
      {"q1\tfirst\nq1\tagain\n", "line 2: query id 'q1' repeats"},
      {"q1\t  \n", "line 1: query 'q1' is empty"},
      {"{\"_id\": \"q1\", \"text\": \"a\"}\n{\"_id\": \"q2\"}\n",
       "line 2: the query has no \"text\" string"},
      {"{\"text\": \"a\"}\n", "line 1: the query has no \"_id\""},
      {"{\"_id\": \"q1\", \"text\": \"a\"}\n[1]\n",
       "line 2: a query must be a JSON object with \"_id\" and \"text\""},
  };
  for (const auto& c : query_errors) {
    INFO(c.input);
    auto queries = parse_queries(c.input);
    REQUIRE_FALSE(queries);
    CHECK(queries.error() == c.error);
  }
}

TEST_CASE("parse_qrels reads the TREC and the BEIR forms", "[evaluation]") {
  auto trec = parse_qrels("q1 0 d1 2\nq1 0 d2 0\nq2 0 d1 1\nq1 0 d1 2\n");
  REQUIRE(trec);
  CHECK(*trec == Qrels{{"q1", {{"d1", 2}, {"d2", 0}}}, {"q2", {{"d1", 1}}}});
  // NFCorpus (BEIR): a header, then QUERY-ID<TAB>CORPUS-ID<TAB>SCORE.
  auto beir = parse_qrels("\xEF\xBB\xBFquery-id\tcorpus-id\tscore\r\nPLAIN-1\tMED-2421\t2\r\n");
  REQUIRE(beir);
  CHECK(*beir == Qrels{{"PLAIN-1", {{"MED-2421", 2}}}});
}

TEST_CASE("parse_queries detects tab-separated and JSON Lines batches", "[evaluation]") {
  auto tsv = parse_queries("q1\tketamine  infusion \n\nq 2\tCRPS\tpain\r\n");
  REQUIRE(tsv);
  REQUIRE(tsv->size() == 2);
  CHECK((*tsv)[0].id == "q1");
  CHECK((*tsv)[0].text == "ketamine  infusion");
  CHECK((*tsv)[1].id == "q 2");
  CHECK((*tsv)[1].text == "CRPS\tpain");  // only the first tab separates

  auto jsonl = parse_queries(
      "{\"_id\": \"PLAIN-1\", \"text\": \"Why Deep Fried Foods May Cause Cancer\"}\n"
      "{\"id\": 7, \"text\": \"DDT\", \"extra\": [1]}\n");
  REQUIRE(jsonl);
  REQUIRE(jsonl->size() == 2);
  CHECK((*jsonl)[0].id == "PLAIN-1");
  CHECK((*jsonl)[0].text == "Why Deep Fried Foods May Cause Cancer");
  CHECK((*jsonl)[1].id == "7");
  CHECK((*jsonl)[1].text == "DDT");
}

TEST_CASE("compare_runs lists wins and losses, largest change first", "[evaluation]") {
  RunMetrics before, after;
  auto add = [](RunMetrics& m, const char* id, double ndcg) {
    QueryMetrics q;
    q.query_id = id;
    q.ndcg = ndcg;
    m.queries.push_back(q);
  };
  add(before, "a", 0.5), add(after, "a", 0.6);  // +0.1
  add(before, "b", 0.2), add(after, "b", 0.9);  // +0.7
  add(before, "c", 0.8), add(after, "c", 0.3);  // -0.5
  add(before, "d", 0.4), add(after, "d", 0.4);  // tie
  add(before, "e", 0.6), add(after, "e", 0.5);  // -0.1
  Comparison c = compare_runs(before, after);
  REQUIRE(c.wins.size() == 2);
  CHECK(c.wins[0].query_id == "b");
  CHECK(c.wins[1].query_id == "a");
  REQUIRE(c.losses.size() == 2);
  CHECK(c.losses[0].query_id == "c");
  CHECK(c.losses[0].before == 0.8);
  CHECK(c.losses[0].after == 0.3);
  CHECK(c.losses[1].query_id == "e");
  CHECK(c.ties == 1);
}
