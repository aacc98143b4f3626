// medsearch: ranked search over a medsearch index from the command line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "collection_cli.h"
#include "medsearch/cli.h"
#include "medsearch/evaluation.h"
#include "medsearch/output.h"
#include "medsearch/searcher.h"
#include "medsearch/text.h"

namespace po = boost::program_options;
using namespace medsearch;

namespace {

constexpr const char* kProgram = "medsearch";

// How results are printed, one query or a batch (docs/output-formats.md).
struct OutputSettings {
  std::string format;    // text, json, jsonl, csv or trec
  std::string run_name;  // the TREC run tag
  bool color = false;
  bool batch = false;
  bool explain = false;  // text: print how the query was understood
};

// Prints the results of one query (`query_id` is "" for a single query outside a batch).
void print_results(const OutputSettings& out, const SearchResults& results,
                   const std::string& query_id) {
  if (out.format == "json") {
    std::cout << (out.batch ? results_to_batch_json(results, query_id) : results_to_json(results))
              << "\n";
  } else if (out.format == "jsonl") {
    std::cout << results_to_jsonl(results, query_id);
  } else if (out.format == "csv") {
    std::cout << results_to_csv(results, query_id);
  } else if (out.format == "trec") {
    std::cout << results_to_trec(results, query_id.empty() ? "1" : query_id, out.run_name);
  } else {
    if (out.batch) std::cout << "[" << query_id << "] ";
    std::cout << results_to_text(results, out.color, out.explain);
    if (out.batch) std::cout << "\n";
  }
}

std::string query_too_long(const std::string& query) {
  return "the query is " + std::to_string(query.size()) + " bytes long; at most " +
         std::to_string(kMaxQueryBytes) + " are searched";
}

// Runs every query of `queries_path` in this one process, printing each
// query's results in turn; with `timings_path`, writes "QID<TAB>microseconds"
// per query, timed around Searcher::search (parsing, matching, snippets) only.
// A query that fails is reported on stderr and the batch goes on.
int run_batch(Searcher& searcher, const SearchOptions& options, const OutputSettings& out,
              const std::string& queries_path, const std::string& timings_path) {
  auto queries = load_queries(queries_path);
  if (!queries) return cli::error(kProgram, queries.error());
  std::ofstream timings;
  if (!timings_path.empty()) {
    timings.open(timings_path, std::ios::trunc);
    if (!timings) return cli::error(kProgram, "cannot write timings to '" + timings_path + "'");
  }
  if (out.format == "csv") std::cout << results_csv_header();
  int status = cli::kOk;
  for (const QueryLine& query : *queries) {
    if (query.text.size() > kMaxQueryBytes) {
      status = cli::error(kProgram, "query " + query.id + ": " + query_too_long(query.text));
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    auto results = searcher.search(query.text, options);
    auto elapsed = std::chrono::steady_clock::now() - start;
    if (!results) {
      status = cli::error(kProgram, "query " + query.id + ": " + results.error());
      continue;
    }
    if (timings.is_open()) {
      char micros[32];
      std::snprintf(micros, sizeof micros, "%.1f",
                    std::chrono::duration<double, std::micro>(elapsed).count());
      timings << query.id << '\t' << micros << '\n';
    }
    print_results(out, *results, query.id);
  }
  std::cout.flush();
  if (timings.is_open() && !timings.flush())
    return cli::error(kProgram, "writing '" + timings_path + "' failed");
  return status;
}

int run(int argc, char** argv) {
  po::options_description visible(
      "Usage: medsearch [--db DIR]... [options] QUERY...\n\n"
      "Searches a medsearch index. The index is --db (several act as one), else\n"
      "$MEDSEARCH_DB, else var/index.\n\nOptions");
  std::vector<std::string> dbs;
  std::string format = "text", color = "auto";
  std::string queries_path, run_name = "medsearch", timings_path;
  uint32_t limit = 10, offset = 0;
  std::string sort = "relevance", facets, like, years;
  std::vector<std::string> sites, types, evidence, concepts;
  size_t facet_values = 10;
  std::string bm25;
  double shard_timeout = OpenOptions{}.timeout_ms / 1000.0;
  visible.add_options()("help,h", "show this help")("version", "show the version")(
      "db,d", po::value(&dbs)->composing(),
      "index directory, or Xapian stub file of shards (repeatable)")(
      "allow-partial", "with shards: search those that answer, with a warning, if some do not")(
      "shard-timeout", po::value(&shard_timeout)->default_value(shard_timeout),
      "seconds a remote shard may take to answer before the search fails naming it")(
      "format,f", po::value(&format)->default_value("text"),
      "output: text, json, jsonl, csv or trec (docs/output-formats.md)")(
      "limit,n", po::value(&limit)->default_value(10), "results to show (1-1000)")(
      "offset", po::value(&offset)->default_value(0), "results to skip")(
      "sort", po::value(&sort)->default_value("relevance"),
      "relevance, date (oldest first) or -date (newest first)")(
      "site", po::value(&sites)->composing(), "only this host (repeatable: any of them)")(
      "type", po::value(&types)->composing(),
      "only this type: research, clinic, news, other (repeatable)")(
      "evidence", po::value(&evidence)->composing(),
      "only this evidence: rct, meta-analysis, review, guideline, case-report, observational")(
      "year", po::value(&years), "only these years: 2021, 2015..2024, 2020.. or ..2019")(
      "concept", po::value(&concepts)->composing(),
      "only documents about this concept, an id or a name (repeatable: all of them)")(
      "facets", po::value(&facets),
      "count the matches by site,year,type,evidence,concept (comma-separated)")(
      "facet-values", po::value(&facet_values)->default_value(10), "values shown per facet")(
      "like", po::value(&like), "more like this document (URL, id or docid)")(
      "explain", "show how the query was understood")(
      "bm25", po::value(&bm25),
      "BM25 parameters K1,B (for evaluation; default: tuned on NFCorpus)")(
      "auto-correct", "search the spelling suggestion instead, when there is one")(
      "no-collapse", "show near-duplicates as separate results")(
      "no-feedback", "no pseudo-relevance feedback (faster; ranks by the query's words alone)")(
      "color", po::value(&color)->default_value("auto"), "highlight: auto, always or never")(
      "queries", po::value(&queries_path),
      "run a batch: a file of QUERY-ID<TAB>QUERY lines or JSON Lines {\"_id\", \"text\"}")(
      "run-name", po::value(&run_name)->default_value("medsearch"), "the tag of --format trec")(
      "timings", po::value(&timings_path),
      "with --queries: write QUERY-ID<TAB>microseconds per query, timed around the search");
  po::options_description hidden;
  std::vector<std::string> words;
  hidden.add_options()("query", po::value(&words)->composing());
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("query", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
  po::notify(vm);

  if (vm.count("help")) {
    std::cout
        << visible << "\nExamples:\n"
        << "  medsearch --db var/index CRPS\n"
        << "  medsearch --db var/index '\"NMDA receptor\" ketamine'\n"
        << "  medsearch --db var/index --format json ketamine depression\n"
        << "  medsearch --db var/index --explain 'title:\"neuropathic pain\" year:2015..2024'\n"
        << "  medsearch --db var/index --facets type,year,concept --sort -date ketamine\n"
        << "  medsearch --db var/index --queries queries.tsv --format trec --limit 100\n"
        << "  medsearch --db var/shards/remote.stub --allow-partial ketamine   (docs/scaling.md)\n";
    return cli::kOk;
  }
  if (vm.count("version")) {
    cli::print_version(kProgram);
    return cli::kOk;
  }
  if (format != "text" && format != "json" && format != "jsonl" && format != "csv" &&
      format != "trec")
    throw cli::UsageError("--format must be text, json, jsonl, csv or trec, not '" + format + "'");
  if (color != "auto" && color != "always" && color != "never")
    throw cli::UsageError("--color must be auto, always or never");
  if (limit < 1 || limit > 1000) throw cli::UsageError("--limit must be between 1 and 1000");
  std::string query;
  for (const auto& w : words) query += (query.empty() ? "" : " ") + w;
  if (!queries_path.empty() && !query.empty())
    throw cli::UsageError("give a query or --queries FILE, not both");
  if (queries_path.empty() && !timings_path.empty())
    throw cli::UsageError("--timings needs --queries");
  bool has_filter = !like.empty() || !sites.empty() || !types.empty() || !evidence.empty() ||
                    !years.empty() || !concepts.empty();
  if (query.empty() && queries_path.empty() && !has_filter) throw cli::UsageError("no query given");
  if (query.size() > kMaxQueryBytes) throw cli::UsageError(query_too_long(query));
  auto sort_order = parse_sort_order(sort);
  if (!sort_order) throw cli::UsageError("--sort: " + sort_order.error());
  std::vector<std::string> facet_names;
  for (const auto& name : split(facets, ',')) {
    std::string trimmed(trim(name));
    if (!trimmed.empty()) facet_names.push_back(trimmed);  // checked by validate_search_options
  }
  if (facet_values < 1 || facet_values > 1000)
    throw cli::UsageError("--facet-values must be between 1 and 1000");
  if (dbs.empty()) {
    const char* env = std::getenv("MEDSEARCH_DB");
    dbs.push_back(env && *env ? env : "var/index");
  }

  if (!(shard_timeout > 0 && shard_timeout <= 3600))
    throw cli::UsageError("--shard-timeout must be between 0 and 3600 seconds");
  OpenOptions open_options;
  open_options.allow_partial = vm.count("allow-partial") > 0;
  open_options.timeout_ms = static_cast<unsigned>(shard_timeout * 1000);
  open_options.connect_timeout_ms =
      std::min(open_options.connect_timeout_ms, open_options.timeout_ms);
  auto searcher = Searcher::open(dbs, open_options);
  if (!searcher) return cli::error(kProgram, searcher.error());
  for (const auto& why : searcher->missing_shards())
    std::fprintf(stderr, "%s: warning: %s; searching the other shards\n", kProgram, why.c_str());
  SearchOptions options;
  options.limit = limit;
  options.offset = offset;
  options.sort = *sort_order;
  options.sites = sites;
  options.types = types;
  options.evidence = evidence;
  options.years = years;
  options.concepts = concepts;
  options.facets = facet_names;
  options.facet_values = facet_values;
  options.like = like;
  if (!bm25.empty()) {
    auto parts = split(bm25, ',');
    char* end = nullptr;
    if (parts.size() != 2) throw cli::UsageError("--bm25 wants K1,B, e.g. 1.2,0.75");
    options.bm25_k1 = std::strtod(parts[0].c_str(), &end);
    bool ok = end && *end == '\0';
    options.bm25_b = std::strtod(parts[1].c_str(), &end);
    ok = ok && end && *end == '\0';
    if (!ok || options.bm25_k1 < 0 || options.bm25_b < 0 || options.bm25_b > 1)
      throw cli::UsageError("--bm25 wants K1,B with K1 >= 0 and 0 <= B <= 1, not '" + bm25 + "'");
  }
  options.auto_correct = vm.count("auto-correct") > 0;
  options.collapse = vm.count("no-collapse") == 0;
  options.feedback = vm.count("no-feedback") == 0;
  if (Status valid = validate_search_options(options); !valid) throw cli::UsageError(valid.error());
  OutputSettings out;
  out.explain = vm.count("explain") > 0;
  out.format = format;
  out.run_name = run_name;
  out.color = color == "always" || (color == "auto" && cli::stdout_is_terminal());
  out.batch = !queries_path.empty();
  if (out.batch) return run_batch(*searcher, options, out, queries_path, timings_path);
  auto results = searcher->search(query, options);
  if (!results) return cli::error(kProgram, results.error());
  if (format == "csv") std::cout << results_csv_header();
  print_results(out, *results, "");
  return cli::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "collection")  // docs/collections.md
    return cli::run(kProgram, [&] { return cli::run_collection_command(argc - 1, argv + 1); });
  return cli::run(kProgram, [&] { return run(argc, argv); });
}
