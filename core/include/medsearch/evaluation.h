// Ranking evaluation: query batches, TREC relevance judgments (qrels) and TREC
// runs in; trec_eval-style nDCG@10, Recall@100 and average precision out.
// Plain data and pure functions; no dependency beyond the standard library.
// The conventions are documented in docs/output-formats.md ("Evaluation").
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/result.h"

namespace medsearch {

// One query of a batch.
struct QueryLine {
  std::string id;
  std::string text;
};

// Parses a batch of queries: lines "ID<TAB>query", or JSON Lines objects with
// "_id" (or "id") and "text". The form is chosen by the first non-blank line
// ('{' means JSON Lines). Blank lines are skipped, a UTF-8 BOM and CR line ends
// are accepted; a malformed line or a repeated id fails, naming the line.
Result<std::vector<QueryLine>> parse_queries(std::string_view data);
// The same for the file at `path`.
Result<std::vector<QueryLine>> load_queries(const std::string& path);

// Relevance judgments: query id -> document id -> graded relevance. A grade
// above 0 is relevant; 0 and negative grades are judged not relevant.
using Qrels = std::map<std::string, std::map<std::string, int>>;

// Parses qrels: TREC "QID ITER DOCID REL" lines, or the three-column form
// "QID DOCID REL" (tab- or space-separated, as BEIR/NFCorpus ship it, with an
// optional header line such as "query-id corpus-id score"). A judgment given
// twice with different grades is an error.
Result<Qrels> parse_qrels(std::string_view data);
Result<Qrels> load_qrels(const std::string& path);

// A run: query id -> document ids in the order trec_eval ranks them (score
// descending, equal scores by document id descending); the rank column of the
// file is ignored, as trec_eval ignores it.
using Run = std::map<std::string, std::vector<std::string>>;

// Parses a TREC run: "QID Q0 DOCID RANK SCORE TAG" lines, whitespace-separated.
// A document listed twice for one query is an error.
Result<Run> parse_run(std::string_view data);
Result<Run> load_run(const std::string& path);

inline constexpr size_t kNdcgDepth = 10;
inline constexpr size_t kRecallDepth = 100;

// The metrics of one query.
struct QueryMetrics {
  std::string query_id;
  double ndcg = 0;               // nDCG@kNdcgDepth
  double recall = 0;             // Recall@kRecallDepth
  double average_precision = 0;  // over the whole ranking
  size_t relevant = 0;           // judged relevant documents (grade > 0)
  size_t retrieved = 0;          // documents the run returned
  bool in_run = false;           // false: the run has no line for the query
};

// nDCG@10 with gain = grade and discount log2(rank + 1), normalised by the
// ideal ranking of all the query's judgments; Recall@100 = relevant in the top
// 100 / all relevant; average precision = sum of precision at each relevant
// document's rank / all relevant. All three are 0 when nothing is relevant.
QueryMetrics evaluate_query(const std::map<std::string, int>& judgments,
                            const std::vector<std::string>& ranking);

// The metrics of a run, following `trec_eval -c`: one entry per query of the
// qrels with at least one relevant document (in query id order); a query the
// run lacks scores 0. Queries of the run without judgments are not scored.
struct RunMetrics {
  std::vector<QueryMetrics> queries;
  double ndcg = 0, recall = 0, map = 0;  // means over `queries`
  size_t missing = 0;                    // scored queries the run lacks
  size_t unscored = 0;  // run queries absent from the qrels or with nothing relevant
};

RunMetrics evaluate_run(const Qrels& qrels, const Run& run);

// A query on which two runs differ in nDCG@10.
struct QueryChange {
  std::string query_id;
  double before = 0;  // nDCG@10 of the first run
  double after = 0;   // nDCG@10 of the second run
};

// The queries `after` improves (wins) and worsens (losses) against `before`,
// each sorted by the size of the nDCG@10 change, largest first (then by
// query id). Both must come from evaluate_run with the same qrels.
struct Comparison {
  std::vector<QueryChange> wins;
  std::vector<QueryChange> losses;
  size_t ties = 0;
};
Comparison compare_runs(const RunMetrics& before, const RunMetrics& after);

}  // namespace medsearch
