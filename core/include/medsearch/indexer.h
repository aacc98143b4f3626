// The indexing pipeline: walks inputs (crawl directories, WARC files, JSON
// Lines and PubMed XML records, local documents), extracts documents, builds
// their index terms on builder threads and stores them through the one
// IndexWriter, in input order.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "medsearch/index_writer.h"
#include "medsearch/result.h"

namespace medsearch {

// Counts of what a run did. `failures` groups skipped inputs by reason.
struct IndexStats {
  uint64_t seen = 0;
  uint64_t added = 0;
  uint64_t replaced = 0;
  uint64_t unchanged = 0;
  uint64_t duplicates = 0;  // exact copies of another document, not stored
  uint64_t deleted = 0;
  std::map<std::string, uint64_t> failures;
  std::map<std::string, uint64_t> cut;  // documents indexed in part, by reason
  uint64_t failed() const;
};

// Pages and text files longer than this are indexed from their first
// kMaxDocumentBytes: a 50 MB page would otherwise cost a gigabyte of memory
// and twenty seconds, for words past the eight millionth byte.
inline constexpr size_t kMaxDocumentBytes = 8 * 1024 * 1024;

// The longest commit interval of a bulk shard writer (measured fastest; see
// docs/performance.md).
inline constexpr uint64_t kBulkShardFlush = 1000;

struct IndexerOptions {
  // Commit after this many changed documents. Xapian buffers the changes of
  // an interval in memory, in maps whose cost per posting grows with their
  // size, so short intervals are faster as well as leaner (docs/performance.md).
  uint64_t flush_every = 2000;
  // Builder threads that extract and build index terms while the writer
  // stores; 0 does everything on the calling thread.
  unsigned threads = 1;
  // Bulk build into an empty index: this many shard writers work in parallel,
  // each with the documents whose id hashes to it, and are merged into the
  // index by finish(). 0 or 1: one writer. An interrupted bulk build leaves
  // the index empty; run it again. Shards commit every
  // min(flush_every / bulk_shards, kBulkShardFlush) documents: they are not
  // visible to readers, so their interval is chosen for speed alone.
  unsigned bulk_shards = 0;
  // Kept shards (medindex --shards): each document goes to the writer its id
  // hashes to (fnv1a64(id) % size, as bulk shards), so that a new version
  // replaces the old in the same shard; each writer has its own thread, and
  // the `writer` given to the Indexer stores nothing (its vocabulary tags the
  // documents). finish() commits them and removes copies across them
  // (IndexWriter::reconcile_shards). The writers must outlive the Indexer.
  std::vector<IndexWriter*> shards;
  // Called for each input that was not indexed: where, and why. Called from
  // the writer's thread, never concurrently.
  std::function<void(const std::string& where, const std::string& why)> on_skip;
  // Called for each document indexed in part (longer than kMaxDocumentBytes):
  // where, and what was left out. From the writer's thread, never concurrently.
  std::function<void(const std::string& where, const std::string& why)> on_cut;
  // Called after each document, from the writer's thread (for progress display).
  std::function<void(const IndexStats&)> on_progress;
};

// Feeds documents to an IndexWriter, tagging them with the writer's
// vocabulary. Borrows the writer, which must outlive it. Use from one thread.
class Indexer {
 public:
  Indexer(IndexWriter& writer, IndexerOptions options);
  ~Indexer();

  // Whether an Indexer made with these builds `writer`'s index in bulk: into
  // an empty index, with options.bulk_shards shard writers that finish()
  // merges into it, storing the writer's vocabulary then.
  static bool builds_in_bulk(const IndexWriter& writer, const IndexerOptions& options);

  // Indexes one input: a crawl directory (with warc/), a .warc or .warc.gz
  // file, a JSON Lines file, a PubMed XML file, a directory of any of these
  // (recursively), or a single HTML/XHTML/PDF/text file. Fails only when the
  // input itself cannot be read; bad documents inside it are counted in
  // stats() and reported through on_skip.
  Status add_input(const std::string& path);

  // Deletes the document with this id (URL), in order with the documents added.
  void remove(const std::string& id);

  // Waits for all documents to be stored and commits. Returns the first
  // storage error of the run, if any (storage errors stop the run).
  Status finish();

  // Valid after finish().
  const IndexStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace medsearch
