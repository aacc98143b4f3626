// medeval: ranking quality of TREC runs against relevance judgments (qrels):
// nDCG@10, Recall@100 and MAP per run, ratios to the first run, and the
// queries on which the last run wins and loses against the first.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "medsearch/cli.h"
#include "medsearch/evaluation.h"

namespace po = boost::program_options;
using namespace medsearch;

namespace {

constexpr const char* kProgram = "medeval";

// A run's name in the table: its file name without the extension.
std::string run_name(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

// "1.234x", or "-" when the baseline is 0.
std::string ratio(double value, double baseline) {
  if (baseline <= 0) return "-";
  char out[32];
  std::snprintf(out, sizeof out, "%.3fx", value / baseline);
  return out;
}

// "1 query", "2 queries".
std::string count(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void print_changes(const char* heading, const std::vector<QueryChange>& changes, size_t top,
                   const std::map<std::string, std::string>& query_text) {
  std::printf("%s (%zu):\n", heading, changes.size());
  for (size_t i = 0; i < changes.size() && i < top; ++i) {
    const QueryChange& c = changes[i];
    auto text = query_text.find(c.query_id);
    std::printf("  %+.4f  %-14s %.4f -> %.4f%s%s\n", c.after - c.before, c.query_id.c_str(),
                c.before, c.after, text == query_text.end() ? "" : "  ",
                text == query_text.end() ? "" : text->second.c_str());
  }
}

int run(int argc, char** argv) {
  po::options_description visible(
      "Usage: medeval [options] QRELS RUN [RUN...]\n\n"
      "Evaluates TREC runs (QID Q0 DOCID RANK SCORE TAG) against relevance judgments\n"
      "(QID 0 DOCID REL, or QID<TAB>DOCID<TAB>REL with a header as BEIR ships them):\n"
      "nDCG@10, Recall@100 and MAP as trec_eval -c computes them, averaged over the\n"
      "queries with at least one relevant document. The first run is the baseline of\n"
      "the ratios; with two or more runs, the queries on which the last run gains and\n"
      "loses nDCG@10 against the first are listed, largest changes first.\n\nOptions");
  std::string queries_path;
  size_t top = 10;
  visible.add_options()("help,h", "show this help")("version", "show the version")(
      "queries", po::value(&queries_path),
      "queries file (QUERY-ID<TAB>QUERY or JSON Lines) to show the text of listed queries")(
      "top", po::value(&top)->default_value(10), "wins and losses to list each way")(
      "per-query", "also print each query's metrics for every run (tab-separated)");
  po::options_description hidden;
  std::vector<std::string> files;
  hidden.add_options()("file", po::value(&files)->composing());
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("file", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << visible << "\nExample:\n"
              << "  medeval --queries queries.jsonl qrels-dev.tsv baseline.trec medsearch.trec\n";
    return cli::kOk;
  }
  if (vm.count("version")) {
    cli::print_version(kProgram);
    return cli::kOk;
  }
  if (files.size() < 2) throw cli::UsageError("give a qrels file and at least one run");

  auto qrels = load_qrels(files[0]);
  if (!qrels) return cli::error(kProgram, qrels.error());
  std::map<std::string, std::string> query_text;
  if (!queries_path.empty()) {
    auto queries = load_queries(queries_path);
    if (!queries) return cli::error(kProgram, queries.error());
    for (auto& q : *queries) query_text[q.id] = q.text;
  }
  std::vector<std::string> names;
  std::vector<RunMetrics> metrics;
  for (size_t i = 1; i < files.size(); ++i) {
    auto run = load_run(files[i]);
    if (!run) return cli::error(kProgram, run.error());
    names.push_back(run_name(files[i]));
    metrics.push_back(evaluate_run(*qrels, *run));
  }
  if (metrics[0].queries.empty())
    return cli::error(kProgram, files[0] + ": no query has a relevant document");

  size_t width = 8;
  for (const auto& name : names) width = std::max(width, name.size());
  std::printf("%zu queries with relevant documents in %s\n\n", metrics[0].queries.size(),
              files[0].c_str());
  std::printf("%-*s %8s %10s %8s %8s %10s %8s\n", static_cast<int>(width), "run", "nDCG@10",
              "Recall@100", "MAP", "nDCG", "Recall", "MAP");
  std::printf("%-*s %8s %10s %8s %8s %10s %8s\n", static_cast<int>(width), "", "", "", "", "ratio",
              "ratio", "ratio");
  const RunMetrics& base = metrics[0];
  for (size_t i = 0; i < metrics.size(); ++i) {
    const RunMetrics& m = metrics[i];
    std::printf("%-*s %8.4f %10.4f %8.4f %8s %10s %8s\n", static_cast<int>(width), names[i].c_str(),
                m.ndcg, m.recall, m.map, ratio(m.ndcg, base.ndcg).c_str(),
                ratio(m.recall, base.recall).c_str(), ratio(m.map, base.map).c_str());
  }
  for (size_t i = 0; i < metrics.size(); ++i) {
    if (metrics[i].missing) {
      // BEIR and pytrec_eval average over the queries a run answered only;
      // showing that figure too makes published baselines comparable.
      double answered_ndcg = 0;
      size_t answered = 0;
      for (const auto& q : metrics[i].queries)
        if (q.in_run) answered_ndcg += q.ndcg, ++answered;
      std::printf("note: %s: no results for %s (scored 0); nDCG@10 over the %zu answered: %.4f\n",
                  names[i].c_str(),
                  count(metrics[i].missing, "judged query", "judged queries").c_str(), answered,
                  answered ? answered_ndcg / static_cast<double>(answered) : 0.0);
    }
    if (metrics[i].unscored)
      std::printf("note: %s: %s without relevant judgments (not scored)\n", names[i].c_str(),
                  count(metrics[i].unscored, "query", "queries").c_str());
  }

  if (vm.count("per-query")) {
    std::printf("\nrun\tquery\tnDCG@10\tRecall@100\tAP\trelevant\tretrieved\n");
    for (size_t i = 0; i < metrics.size(); ++i)
      for (const auto& q : metrics[i].queries)
        std::printf("%s\t%s\t%.4f\t%.4f\t%.4f\t%zu\t%zu\n", names[i].c_str(), q.query_id.c_str(),
                    q.ndcg, q.recall, q.average_precision, q.relevant, q.retrieved);
  }

  if (metrics.size() >= 2) {
    Comparison c = compare_runs(metrics.front(), metrics.back());
    std::printf("\n%s against %s, nDCG@10 per query: %zu better, %zu worse, %zu equal\n",
                names.back().c_str(), names.front().c_str(), c.wins.size(), c.losses.size(),
                c.ties);
    print_changes("Wins", c.wins, top, query_text);
    print_changes("Losses", c.losses, top, query_text);
  }
  return cli::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  return cli::run(kProgram, [&] { return run(argc, argv); });
}
