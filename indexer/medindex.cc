// medindex: builds or updates a medsearch index from crawls, WARC files and
// local documents.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <filesystem>
#include <fstream>
#include <thread>

#include "medsearch/cli.h"
#include "medsearch/indexer.h"
#include "medsearch/schema.h"
#include "medsearch/vocabulary.h"

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

// The default vocabulary: the shipped core vocabulary, plus MeSH descriptor
// files (d20XX.bin or .bin.gz, as NLM distributes them) installed beside it.
std::vector<std::string> default_vocabulary_paths() {
  std::string core = Vocabulary::default_core_path();
  std::vector<std::string> paths{core};
  std::error_code ec;
  std::vector<std::string> mesh;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(core).parent_path(), ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("d20") && (name.ends_with(".bin") || name.ends_with(".bin.gz")))
      mesh.push_back(entry.path().string());
  }
  std::sort(mesh.begin(), mesh.end());
  paths.insert(paths.end(), mesh.begin(), mesh.end());
  return paths;
}

// The vocabulary for this run: --vocab files, or the one stored in the index,
// or (for a new index) the shipped core vocabulary plus MeSH if installed.
Result<std::shared_ptr<const Vocabulary>> choose_vocabulary(IndexWriter& writer,
                                                            const std::vector<std::string>& files,
                                                            bool none, bool quiet) {
  if (none) return std::shared_ptr<const Vocabulary>();
  if (files.empty()) {
    auto stored = writer.stored_vocabulary();
    if (!stored || *stored) return stored;
  }
  std::vector<std::string> paths = files;
  if (paths.empty()) paths = default_vocabulary_paths();
  auto vocabulary = std::make_shared<Vocabulary>();
  for (const auto& path : paths) {
    if (Status s = vocabulary->load_file(path); !s) return std::move(s).take_error();
  }
  vocabulary->compile();
  if (!quiet)
    std::fprintf(stderr, "%s: vocabulary: %zu concepts from %zu file(s)\n", kProgram,
                 vocabulary->concepts().size(), paths.size());
  return std::shared_ptr<const Vocabulary>(std::move(vocabulary));
}

void print_statistics(const IndexStatistics& s) {
  std::printf("documents        %llu\n", static_cast<unsigned long long>(s.documents));
  std::printf("terms            %llu\n", static_cast<unsigned long long>(s.unique_terms));
  std::printf("words indexed    %llu\n", static_cast<unsigned long long>(s.total_length));
  std::printf("concepts used    %llu of %llu in the vocabulary\n",
              static_cast<unsigned long long>(s.concepts_used),
              static_cast<unsigned long long>(s.vocabulary_concepts));
  std::printf("size             %.1f MiB\n", static_cast<double>(s.bytes_on_disk) / (1 << 20));
  std::printf("revision         %s\n", s.last_modified.c_str());
}

// The run's one-line summary and the reasons inputs were skipped, on stderr.
// `stored` is false when writing the index failed: the counts then say what
// the run did before the failure, of which the index keeps what was
// committed, and the line says so.
void print_summary(const IndexStats& stats, uint64_t documents, bool stored) {
  std::fprintf(stderr,
               "%s: %llu documents seen: %llu added, %llu replaced, %llu unchanged, "
               "%llu duplicates, %llu deleted, %llu skipped; %sindex has %llu documents\n",
               kProgram, static_cast<unsigned long long>(stats.seen),
               static_cast<unsigned long long>(stats.added),
               static_cast<unsigned long long>(stats.replaced),
               static_cast<unsigned long long>(stats.unchanged),
               static_cast<unsigned long long>(stats.duplicates),
               static_cast<unsigned long long>(stats.deleted),
               static_cast<unsigned long long>(stats.failed()),
               stored ? "" : "the changes since the last commit were not stored: the ",
               static_cast<unsigned long long>(documents));
  for (const auto& [reason, count] : stats.failures)
    std::fprintf(stderr, "%s:   skipped %llu: %s\n", kProgram,
                 static_cast<unsigned long long>(count), reason.c_str());
  for (const auto& [reason, count] : stats.cut)
    std::fprintf(stderr, "%s:   cut %llu: %s\n", kProgram, static_cast<unsigned long long>(count),
                 reason.c_str());
}

namespace fs = std::filesystem;

// The number of shards of the sharded index at `dir`, 0 if it is none.
Result<unsigned> existing_shards(const fs::path& dir) {
  std::error_code ec;
  fs::path vocabulary = dir / schema::kShardsVocabulary;
  if (!fs::exists(vocabulary, ec)) return 0u;
  auto writer = IndexWriter::open(vocabulary.string());
  if (!writer) return std::move(writer).take_error();
  auto count = (*writer)->metadata(std::string(schema::kMetaShards));
  if (!count) return std::move(count).take_error();
  return count->empty() ? 0u : static_cast<unsigned>(std::stoul(*count));
}

// medindex --shards N: N shard indexes written in parallel (a document to the
// shard its id hashes to), the vocabulary database beside them and local.stub.
int run_sharded(const std::string& db, unsigned shard_count, IndexerOptions options,
                const std::vector<std::string>& vocab_files, bool no_vocab, bool quiet,
                const std::vector<std::string>& deletes, const std::vector<std::string>& inputs) {
  const fs::path dir(db);
  std::error_code ec;
  if (fs::exists(dir / "iamglass", ec))
    return cli::error(kProgram, "'" + db +
                                    "' is a single index; write the shards into a new "
                                    "directory (medindex --shards N --db NEW INPUT...)");
  auto existing = existing_shards(dir);
  if (!existing) return cli::error(kProgram, existing.error());
  if (*existing != 0 && *existing != shard_count)
    return cli::error(kProgram, "'" + db + "' holds " + std::to_string(*existing) +
                                    " shards, not " + std::to_string(shard_count) +
                                    "; a document's shard depends on their number: index the "
                                    "inputs again into a new directory to change it");
  auto vocabulary_writer = IndexWriter::open((dir / schema::kShardsVocabulary).string());
  if (!vocabulary_writer) return cli::error(kProgram, vocabulary_writer.error());
  IndexWriter& lexicon = **vocabulary_writer;
  auto vocabulary = choose_vocabulary(lexicon, vocab_files, no_vocab, quiet);
  if (!vocabulary) return cli::error(kProgram, vocabulary.error());
  const std::string count_text = std::to_string(shard_count);
  std::vector<std::unique_ptr<IndexWriter>> shards;
  std::vector<IndexWriter*> targets;
  std::string stub = "# medindex --shards " + count_text + ": the shards searched as one\n";
  for (unsigned k = 0; k < shard_count; ++k) {
    std::string name = std::string(schema::kShardPrefix) + std::to_string(k);
    auto shard = IndexWriter::open((dir / name).string());
    if (!shard) return cli::error(kProgram, shard.error());
    if (Status s = (*shard)->set_vocabulary(*vocabulary); !s)
      return cli::error(kProgram, s.error());
    if (Status s = (*shard)->set_metadata(std::string(schema::kMetaShards), count_text); !s)
      return cli::error(kProgram, s.error());
    targets.push_back(shard->get());
    shards.push_back(std::move(*shard));
    stub += "auto " + name + "\n";
  }
  if (Status s = lexicon.set_vocabulary(*vocabulary); !s) return cli::error(kProgram, s.error());
  if (Status s = lexicon.set_metadata(std::string(schema::kMetaShards), count_text); !s)
    return cli::error(kProgram, s.error());
  if (Status s = lexicon.commit(); !s) return cli::error(kProgram, s.error());

  options.bulk_shards = 0;
  options.shards = targets;
  Indexer indexer(lexicon, options);
  int exit_code = cli::kOk;
  for (const auto& id : deletes) indexer.remove(id);
  for (const auto& input : inputs) {
    if (Status s = indexer.add_input(input); !s) exit_code = cli::error(kProgram, s.error());
  }
  Status finished = indexer.finish();
  if (!finished) exit_code = cli::error(kProgram, finished.error());
  // Spelling suggestions over remote shards come from the vocabulary database.
  if (Status s = lexicon.replace_spelling(targets); !s) exit_code = cli::error(kProgram, s.error());
  std::ofstream out(dir / schema::kShardsLocalStub, std::ios::trunc);
  if (!(out << stub) || !out.flush())
    exit_code =
        cli::error(kProgram, "cannot write '" + (dir / schema::kShardsLocalStub).string() + "'");

  uint64_t documents = 0;
  std::string sizes;
  for (IndexWriter* shard : targets) {
    documents += shard->document_count();
    sizes += (sizes.empty() ? "" : " + ") + std::to_string(shard->document_count());
  }
  print_summary(indexer.stats(), documents, finished.ok());
  if (!quiet)
    std::fprintf(stderr, "%s: %u shards (%s documents); search them with --db %s\n", kProgram,
                 shard_count, sizes.c_str(), (dir / schema::kShardsLocalStub).c_str());
  return exit_code;
}

int run(int argc, char** argv) {
  po::options_description visible(
      "Usage: medindex --db DIR [options] INPUT...\n"
      "       medindex --db DIR --stats | --compact\n\n"
      "Indexes crawl directories (from medcrawl), WARC files, JSON Lines and PubMed\n"
      "XML records, and HTML, XHTML, PDF and text files or directories of them.\n"
      "Re-indexing replaces changed documents and skips unchanged ones.\n\nOptions");
  std::string db;
  uint64_t flush = IndexerOptions{}.flush_every;
  unsigned threads = std::min(2u, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::string> deletes, vocab_files;
  unsigned shard_count = 0;
  visible.add_options()("help,h", "show this help")("version", "show the version")(
      "db,d", po::value(&db), "index directory (created if missing); default $MEDSEARCH_DB")(
      "shards", po::value(&shard_count),
      "write N shard indexes into the --db directory, in parallel, for xapian-tcpsrv "
      "(docs/scaling.md)")("flush", po::value(&flush)->default_value(flush),
                           "commit every N changed documents")(
      "threads,j", po::value(&threads), "builder threads beside the writer (0: one thread in all)")(
      "vocab", po::value(&vocab_files)->composing(),
      "vocabulary file (repeatable): core TSV, MeSH d20XX.bin, OBO, abbreviation TSV; "
      "default: the one stored in the index, else the shipped core vocabulary")(
      "no-vocab", "no medical vocabulary (plain text search)")(
      "delete", po::value(&deletes)->composing(),
      "delete the document with this URL or id (repeatable)")(
      "stats", "print document count, terms, concepts and size, then exit")(
      "compact", "compact the index in place, then exit")(
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
              << "  medindex --db var/index articles/*.pdf notes.html pubmed.xml records.jsonl\n"
              << "  medindex --db var/index --vocab data/vocabulary/core.tsv --vocab d2024.bin "
                 "corpus.jsonl\n"
              << "  medindex --db var/index --delete https://example.org/old-page\n"
              << "  medindex --db var/index --stats\n";
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
  if (flush == 0) throw cli::UsageError("--flush must be at least 1");
  if (vm.count("vocab") && vm.count("no-vocab"))
    throw cli::UsageError("--vocab and --no-vocab exclude each other");

  // A sharded index (medindex --shards) is read through its local stub.
  const fs::path local_stub = fs::path(db) / schema::kShardsLocalStub;
  const bool sharded =
      (fs::exists(local_stub) || fs::exists(fs::path(db) / schema::kShardsVocabulary)) &&
      !fs::exists(fs::path(db) / "iamglass");
  if (vm.count("shards") && (shard_count < 1 || shard_count > 1024))
    throw cli::UsageError("--shards must be between 1 and 1024");
  if (vm.count("stats")) {
    if (!std::filesystem::exists(db)) return cli::error(kProgram, "no index at '" + db + "'");
    auto stats = index_statistics(sharded ? local_stub.string() : db);
    if (!stats) return cli::error(kProgram, stats.error());
    print_statistics(*stats);
    return cli::kOk;
  }
  if (vm.count("compact")) {
    if (!std::filesystem::exists(db)) return cli::error(kProgram, "no index at '" + db + "'");
    if (sharded) return cli::error(kProgram, "--compact works on one index: compact each shard");
    if (Status s = compact_index(db); !s) return cli::error(kProgram, s.error());
    return cli::kOk;
  }
  if (inputs.empty() && deletes.empty())
    throw cli::UsageError("nothing to index: give INPUT paths");

  bool quiet = vm.count("quiet") > 0;
  bool verbose = vm.count("verbose") > 0;
  if (sharded && !vm.count("shards")) {
    auto existing = existing_shards(db);
    return cli::error(kProgram, "'" + db + "' is a sharded index" +
                                    (existing && *existing
                                         ? " of " + std::to_string(*existing) +
                                               " shards; add --shards " + std::to_string(*existing)
                                         : "; add --shards N"));
  }
  Progress progress(quiet);
  IndexerOptions options;
  options.flush_every = flush;
  options.threads = threads;
  options.on_progress = [&progress](const IndexStats& stats) { progress.update(stats); };
  options.on_skip = [verbose](const std::string& where, const std::string& why) {
    if (verbose) std::fprintf(stderr, "%s: skipped %s: %s\n", kProgram, where.c_str(), why.c_str());
  };
  options.on_cut = [quiet](const std::string& where, const std::string& why) {
    if (!quiet) std::fprintf(stderr, "%s: cut %s: %s\n", kProgram, where.c_str(), why.c_str());
  };
  if (vm.count("shards")) {
    int code = run_sharded(db, shard_count, options, vocab_files, vm.count("no-vocab") > 0, quiet,
                           deletes, inputs);
    progress.done();
    return code;
  }
  auto writer = IndexWriter::open(db);
  if (!writer) return cli::error(kProgram, writer.error());
  auto vocabulary = choose_vocabulary(**writer, vocab_files, vm.count("no-vocab") > 0, quiet);
  if (!vocabulary) return cli::error(kProgram, vocabulary.error());
  // Into an empty index, as many shard writers as builder threads, merged at the end.
  options.bulk_shards = threads >= 2 ? threads : 0;
  // A bulk build stores the vocabulary in the merged index, at the end.
  if (Indexer::builds_in_bulk(**writer, options))
    (*writer)->use_vocabulary(*vocabulary);
  else if (Status s = (*writer)->set_vocabulary(*vocabulary); !s)
    return cli::error(kProgram, s.error());
  Indexer indexer(**writer, options);

  int exit_code = cli::kOk;
  for (const auto& id : deletes) indexer.remove(id);
  for (const auto& input : inputs) {
    if (Status s = indexer.add_input(input); !s) exit_code = cli::error(kProgram, s.error());
  }
  Status finished = indexer.finish();
  if (!finished) exit_code = cli::error(kProgram, finished.error());
  progress.done();

  print_summary(indexer.stats(), (*writer)->document_count(), finished.ok());
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  return cli::run(kProgram, [&] { return run(argc, argv); });
}
