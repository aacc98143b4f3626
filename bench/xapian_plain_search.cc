// xapian_plain_search: plain Xapian search, the peer medsearch's ranking and
// speed are measured against (eval/run, bench/query). For each query of a
// batch: a QueryParser with the English stemmer, STEM_SOME, default OP_OR,
// the database set and the default flags; an Enquire with the default BM25;
// the top k documents with their data. Prints a TREC run.
//
// The Xapian work is all it times: with --timings, each query's microseconds
// from parse_query to having read the document data of the top k. Reading the
// queries file (medsearch_core's load_queries) and finding each hit's id for
// the run are outside the timed section.
#include <xapian.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/cli.h"
#include "medsearch/evaluation.h"

namespace po = boost::program_options;
using namespace medsearch;

namespace {

constexpr const char* kProgram = "xapian_plain_search";

// The document's id for the run: its unique "Q" term without the prefix, and
// without the "record:" that medindex puts before a JSON Lines record's id.
std::string run_id(const Xapian::Document& doc, Xapian::docid docid) {
  Xapian::TermIterator it = doc.termlist_begin();
  it.skip_to("Q");
  if (it != doc.termlist_end() && (*it).starts_with("Q")) {
    std::string_view id = std::string_view(*it).substr(1);
    if (id.starts_with("record:")) id.remove_prefix(7);
    return std::string(id);
  }
  return "docid:" + std::to_string(docid);  // an index without unique terms
}

// One run column: whitespace becomes '_', as medsearch --format trec does.
std::string column(std::string text) {
  for (char& c : text)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = '_';
  return text.empty() ? "-" : text;
}

int run(int argc, char** argv) {
  po::options_description visible(
      "Usage: xapian_plain_search --db DIR --queries FILE [options]\n\n"
      "Runs a batch of queries (QUERY-ID<TAB>QUERY lines or JSON Lines {\"_id\", \"text\"})\n"
      "with plain Xapian (QueryParser: English stemmer, STEM_SOME, OP_OR; Enquire: BM25)\n"
      "and prints a TREC run.\n\nOptions");
  std::vector<std::string> dbs;
  std::string queries_path, timings_path, run_name = "xapian";
  unsigned limit = 10;
  visible.add_options()("help,h", "show this help")("db,d", po::value(&dbs)->composing(),
                                                    "index directory (repeatable)")(
      "queries", po::value(&queries_path), "queries file")(
      "limit,n", po::value(&limit)->default_value(10), "results per query (1-10000)")(
      "run-name", po::value(&run_name)->default_value("xapian"), "the run's tag")(
      "timings", po::value(&timings_path),
      "write QUERY-ID<TAB>microseconds per query (parse, match, read the top documents)");
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(visible).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << visible;
    return cli::kOk;
  }
  if (dbs.empty()) throw cli::UsageError("--db is required");
  if (queries_path.empty()) throw cli::UsageError("--queries is required");
  if (limit < 1 || limit > 10000) throw cli::UsageError("--limit must be between 1 and 10000");

  auto queries = load_queries(queries_path);
  if (!queries) return cli::error(kProgram, queries.error());
  std::ofstream timings;
  if (!timings_path.empty()) {
    timings.open(timings_path, std::ios::trunc);
    if (!timings) return cli::error(kProgram, "cannot write '" + timings_path + "'");
  }
  Xapian::Database db;
  for (const auto& path : dbs) db.add_database(Xapian::Database(path));

  Xapian::QueryParser parser;
  parser.set_stemmer(Xapian::Stem("english"));
  parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  parser.set_default_op(Xapian::Query::OP_OR);
  parser.set_database(db);
  Xapian::Enquire enquire(db);
  const std::string tag = column(run_name);
  std::string out, data;
  size_t data_bytes = 0;  // keeps the reads of document data from being optimised away
  for (const QueryLine& query : *queries) {
    auto start = std::chrono::steady_clock::now();
    enquire.set_query(parser.parse_query(query.text));
    Xapian::MSet mset = enquire.get_mset(0, limit);
    for (auto it = mset.begin(); it != mset.end(); ++it) {
      data = it.get_document().get_data();
      data_bytes += data.size();
    }
    auto elapsed = std::chrono::steady_clock::now() - start;
    if (timings.is_open()) {
      char micros[32];
      std::snprintf(micros, sizeof micros, "%.1f",
                    std::chrono::duration<double, std::micro>(elapsed).count());
      timings << query.id << '\t' << micros << '\n';
    }
    const std::string qid = column(query.id);
    unsigned rank = 0;
    for (auto it = mset.begin(); it != mset.end(); ++it) {
      char score[32];
      std::snprintf(score, sizeof score, "%.9g", it.get_weight());
      out += qid + " Q0 " + column(run_id(it.get_document(), *it)) + " " + std::to_string(++rank) +
             " " + score + " " + tag + "\n";
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  }
  if (std::fflush(stdout) != 0) return cli::error(kProgram, "writing the run failed");
  if (timings.is_open() && !timings.flush())
    return cli::error(kProgram, "writing '" + timings_path + "' failed");
  std::fprintf(stderr, "%s: %zu queries, %zu bytes of document data read\n", kProgram,
               queries->size(), data_bytes);
  return cli::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  return cli::run(kProgram, [&] {
    try {
      return run(argc, argv);
    } catch (const Xapian::Error& e) {
      return cli::error(kProgram, e.get_description());
    }
  });
}
