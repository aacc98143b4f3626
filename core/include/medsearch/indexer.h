// The indexing pipeline: walks inputs (crawl directories, WARC files, local
// files and directories), extracts documents and writes them to the index.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "medsearch/index_writer.h"
#include "medsearch/result.h"

namespace medsearch {

// Counts of what a run did. `failures` groups skipped inputs by reason.
struct IndexStats {
  uint64_t seen = 0;
  uint64_t added = 0;
  uint64_t replaced = 0;
  uint64_t unchanged = 0;
  uint64_t deleted = 0;
  std::map<std::string, uint64_t> failures;
  uint64_t failed() const;
};

struct IndexerOptions {
  uint64_t flush_every = 1000;  // commit after this many changed documents
  // Called for each input that was not indexed: where, and why.
  std::function<void(const std::string& where, const std::string& why)> on_skip;
  // Called after each document (for progress display).
  std::function<void(const IndexStats&)> on_progress;
};

// Feeds documents to an IndexWriter. Borrows the writer, which must outlive it.
class Indexer {
 public:
  Indexer(IndexWriter& writer, IndexerOptions options);

  // Indexes one input: a crawl directory (with warc/), a .warc or .warc.gz
  // file, a directory of files (recursively), or a single HTML/XHTML/PDF/text
  // file. Fails only when the input itself cannot be read; bad documents
  // inside it are counted in stats() and reported through on_skip.
  Status add_input(const std::string& path);

  // Extracts and indexes one fetched document.
  void add_fetched(const std::string& url, const std::string& content_type,
                   const std::string& body);

  // Deletes the document with this id (URL) from the index.
  Status remove(const std::string& id);

  // Commits what is pending.
  Status finish();

  const IndexStats& stats() const { return stats_; }

 private:
  Status add_warc(const std::string& path);
  Status add_file(const std::string& path);
  void skip(const std::string& where, const std::string& why);
  void count_change();

  IndexWriter& writer_;
  IndexerOptions options_;
  IndexStats stats_;
  uint64_t pending_ = 0;
  Status write_error_;
};

}  // namespace medsearch
