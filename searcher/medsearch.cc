// medsearch: ranked search over a medsearch index from the command line.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "medsearch/cli.h"
#include "medsearch/output.h"
#include "medsearch/searcher.h"

namespace po = boost::program_options;
using namespace medsearch;

namespace {

constexpr const char* kProgram = "medsearch";

int run(int argc, char** argv) {
  po::options_description visible(
      "Usage: medsearch [--db DIR]... [options] QUERY...\n\n"
      "Searches a medsearch index. The index is --db (several act as one), else\n"
      "$MEDSEARCH_DB, else var/index.\n\nOptions");
  std::vector<std::string> dbs;
  std::string format = "text", color = "auto";
  uint32_t limit = 10, offset = 0;
  visible.add_options()("help,h", "show this help")("version", "show the version")(
      "db,d", po::value(&dbs)->composing(), "index directory (repeatable)")(
      "format,f", po::value(&format)->default_value("text"), "output: text or json")(
      "limit,n", po::value(&limit)->default_value(10), "results to show (1-1000)")(
      "offset", po::value(&offset)->default_value(0), "results to skip")(
      "color", po::value(&color)->default_value("auto"), "highlight: auto, always or never");
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
    std::cout << visible << "\nExamples:\n"
              << "  medsearch --db var/index CRPS\n"
              << "  medsearch --db var/index '\"NMDA receptor\" ketamine'\n"
              << "  medsearch --db var/index --format json ketamine depression\n";
    return cli::kOk;
  }
  if (vm.count("version")) {
    cli::print_version(kProgram);
    return cli::kOk;
  }
  if (format != "text" && format != "json")
    throw cli::UsageError("--format must be text or json, not '" + format + "'");
  if (color != "auto" && color != "always" && color != "never")
    throw cli::UsageError("--color must be auto, always or never");
  if (limit < 1 || limit > 1000) throw cli::UsageError("--limit must be between 1 and 1000");
  std::string query;
  for (const auto& w : words) query += (query.empty() ? "" : " ") + w;
  if (query.empty()) throw cli::UsageError("no query given");
  if (dbs.empty()) {
    const char* env = std::getenv("MEDSEARCH_DB");
    dbs.push_back(env && *env ? env : "var/index");
  }

  auto searcher = Searcher::open(dbs);
  if (!searcher) return cli::error(kProgram, searcher.error());
  SearchOptions options;
  options.limit = limit;
  options.offset = offset;
  auto results = searcher->search(query, options);
  if (!results) return cli::error(kProgram, results.error());
  if (format == "json") {
    std::cout << results_to_json(*results) << "\n";
  } else {
    bool use_color = color == "always" || (color == "auto" && cli::stdout_is_terminal());
    std::cout << results_to_text(*results, use_color);
  }
  return cli::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  return cli::run(kProgram, [&] { return run(argc, argv); });
}
