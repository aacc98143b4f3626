// medindex: builds or updates a medsearch index from crawls, WARC files and
// local documents.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "medsearch/cli.h"
#include "medsearch/indexer.h"

namespace po = boost::program_options;
using namespace medsearch;

namespace {

constexpr const char* kProgram = "medindex";

// Progress on stderr: a rewritten line on a terminal, a line every few seconds otherwise.
class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet), terminal_(cli::stderr_is_terminal()) {}
  void update(const IndexStats& stats) {
    if (quiet_) return;
    auto now = std::chrono::steady_clock::now();
    auto interval = terminal_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
    if (now - last_ < interval) return;
    last_ = now;
    double seconds = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "%s%s: %llu documents, %.0f/s, %llu skipped%s", terminal_ ? "\r" : "",
                 kProgram, static_cast<unsigned long long>(stats.seen),
                 seconds > 0 ? static_cast<double>(stats.seen) / seconds : 0.0,
                 static_cast<unsigned long long>(stats.failed()), terminal_ ? "  " : "\n");
    dirty_ = terminal_;
  }
  void done() {
    if (dirty_) std::fputc('\n', stderr);
  }

 private:
  bool quiet_, terminal_, dirty_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

int run(int argc, char** argv) {
  po::options_description visible(
      "Usage: medindex --db DIR [options] INPUT...\n\n"
      "Indexes crawl directories (from medcrawl), WARC files, and HTML,\n"
      "XHTML, PDF and text files or directories of them.\n\nOptions");
  std::string db;
  uint64_t flush = 1000;
  std::vector<std::string> deletes;
  visible.add_options()("help,h", "show this help")("version", "show the version")(
      "db,d", po::value(&db), "index directory (created if missing); default $MEDSEARCH_DB")(
      "flush", po::value(&flush)->default_value(1000), "commit every N changed documents")(
      "delete", po::value(&deletes)->composing(),
      "delete the document with this URL or id (repeatable)")(
      "quiet,q", "no progress lines; errors and the summary only")(
      "verbose,v", "print every skipped input with its reason");
  po::options_description hidden;
  std::vector<std::string> inputs;
  hidden.add_options()("input", po::value(&inputs)->composing());
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("input", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
  po::notify(vm);

  if (vm.count("help")) {
    std::cout << visible << "\nExamples:\n"
              << "  medindex --db var/index var/crawl\n"
              << "  medindex --db var/index articles/*.pdf notes.html\n"
              << "  medindex --db var/index --delete https://example.org/old-page\n";
    return cli::kOk;
  }
  if (vm.count("version")) {
    cli::print_version(kProgram);
    return cli::kOk;
  }
  if (db.empty()) {
    if (const char* env = std::getenv("MEDSEARCH_DB")) db = env;
  }
  if (db.empty()) throw cli::UsageError("--db is required");
  if (inputs.empty() && deletes.empty())
    throw cli::UsageError("nothing to index: give INPUT paths");
  if (flush == 0) throw cli::UsageError("--flush must be at least 1");

  auto writer = IndexWriter::open(db);
  if (!writer) return cli::error(kProgram, writer.error());

  bool quiet = vm.count("quiet") > 0;
  bool verbose = vm.count("verbose") > 0;
  Progress progress(quiet);
  IndexerOptions options;
  options.flush_every = flush;
  options.on_progress = [&progress](const IndexStats& stats) { progress.update(stats); };
  options.on_skip = [verbose](const std::string& where, const std::string& why) {
    if (verbose) std::fprintf(stderr, "%s: skipped %s: %s\n", kProgram, where.c_str(), why.c_str());
  };
  Indexer indexer(**writer, options);

  int exit_code = cli::kOk;
  for (const auto& id : deletes) {
    if (Status s = indexer.remove(id); !s) exit_code = cli::error(kProgram, s.error());
  }
  for (const auto& input : inputs) {
    if (Status s = indexer.add_input(input); !s) exit_code = cli::error(kProgram, s.error());
  }
  if (Status s = indexer.finish(); !s) exit_code = cli::error(kProgram, s.error());
  progress.done();

  const IndexStats& stats = indexer.stats();
  std::fprintf(stderr,
               "%s: %llu documents seen: %llu added, %llu replaced, %llu unchanged, %llu deleted, "
               "%llu skipped; index has %llu documents\n",
               kProgram, static_cast<unsigned long long>(stats.seen),
               static_cast<unsigned long long>(stats.added),
               static_cast<unsigned long long>(stats.replaced),
               static_cast<unsigned long long>(stats.unchanged),
               static_cast<unsigned long long>(stats.deleted),
               static_cast<unsigned long long>(stats.failed()),
               static_cast<unsigned long long>((*writer)->document_count()));
  for (const auto& [reason, count] : stats.failures)
    std::fprintf(stderr, "%s:   skipped %llu: %s\n", kProgram,
                 static_cast<unsigned long long>(count), reason.c_str());
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  return cli::run(kProgram, [&] { return run(argc, argv); });
}
