// Writes documents into a Xapian index following the one schema (schema.h).
//
// Work is split in two so that it can run on two cores: a DocumentBuilder
// turns a Document into index terms (tokenising, stemming, concept tagging;
// one builder per thread), and the single IndexWriter stores what builders
// prepared.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "medsearch/document.h"
#include "medsearch/result.h"

namespace medsearch {

class Vocabulary;

enum class PutOutcome { kAdded, kReplaced, kUnchanged, kDuplicate };

// A document turned into index terms, ready for IndexWriter::write. Movable.
class PreparedDocument {
 public:
  PreparedDocument();
  PreparedDocument(PreparedDocument&&) noexcept;
  PreparedDocument& operator=(PreparedDocument&&) noexcept;
  ~PreparedDocument();
  const std::string& id() const;

 private:
  friend class DocumentBuilder;
  friend class IndexWriter;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Builds index terms for documents. Not thread-safe: use one per thread. The
// vocabulary is shared read-only and must outlive the builder.
class DocumentBuilder {
 public:
  // `vocabulary` may be null (no concept tagging).
  explicit DocumentBuilder(std::shared_ptr<const Vocabulary> vocabulary);
  ~DocumentBuilder();
  DocumentBuilder(DocumentBuilder&&) noexcept;

  // Requires doc.id.
  PreparedDocument build(const Document& doc);

  // The word position after which build() puts the words of doc.text (and
  // their concept terms): the title and authors, laid out as build() lays
  // them out, come before it. A concept term with a position above it names
  // the concept in the text, not only in the title.
  static uint32_t text_position(const Document& doc);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What `medindex --stats` prints.
struct IndexStatistics {
  uint64_t documents = 0;
  uint64_t unique_terms = 0;   // distinct terms of all kinds
  uint64_t concepts_used = 0;  // distinct concept terms (XC...)
  uint64_t vocabulary_concepts = 0;
  uint64_t total_length = 0;  // words indexed
  uint64_t bytes_on_disk = 0;
  std::string last_modified;  // revision number, as text
};

// The single writer of one index. Xapian allows one writer per database: a
// second open fails with "locked by another writer". Not thread-safe.
// Changes become visible to readers at commit(); the destructor commits.
// A process killed at any moment leaves the index as of the last commit.
class IndexWriter {
 public:
  // Opens the index at `path`, creating it (and its directory) if missing.
  static Result<std::unique_ptr<IndexWriter>> open(const std::string& path);
  ~IndexWriter();

  // The vocabulary stored with the index (the one its documents were tagged
  // with), or null if it has none.
  Result<std::shared_ptr<const Vocabulary>> stored_vocabulary();

  // Makes `vocabulary` the index's vocabulary: stored in the index (so the
  // searcher expands queries with exactly the same concepts) and its
  // single-word variants added to Xapian's synonym table. Documents indexed
  // earlier keep their concept terms until they are indexed again (their
  // content hash includes the vocabulary's fingerprint).
  Status set_vocabulary(std::shared_ptr<const Vocabulary> vocabulary);
  // Makes `vocabulary` the one documents are built with from now on, without
  // storing it: for a bulk build (Indexer::builds_in_bulk), whose
  // absorb_shards() stores it in the merged index. Stored first, it would be
  // thrown away with the empty index the merge replaces.
  void use_vocabulary(std::shared_ptr<const Vocabulary> vocabulary);
  std::shared_ptr<const Vocabulary> vocabulary() const;

  // Stores a prepared document: adds it, or replaces the document with the same
  // id. Unchanged content is left alone (kUnchanged); a new id whose text is
  // exactly that of another document is not stored (kDuplicate).
  Result<PutOutcome> write(PreparedDocument&& doc);

  // Builds and writes in one step (uses an internal builder).
  Result<PutOutcome> put(const Document& doc);

  // Deletes the document with this id. Returns false if there was none.
  Result<bool> remove(const std::string& id);

  // The id of the earlier document that `write` found to be an exact copy.
  const std::string& last_duplicate_of() const;

  Status commit();
  // Spelling data is gathered in memory and written at every commit, so that
  // it matches the committed documents. A bulk shard, which readers never
  // see before it is merged, may defer it to its last commit: one write per
  // distinct word instead of one per word and commit.
  void defer_spelling(bool defer);
  uint64_t document_count() const;
  const std::string& path() const;

  // Bulk builds: replaces this (empty) index with the merge of `shards`
  // (indexes written by other IndexWriters, closed), by compaction into a new
  // directory swapped in atomically. Then stores the vocabulary again, and
  // removes the exact copies that landed in different shards (returned) and
  // gives cross-shard near-copies one collapse key. Requires document_count() == 0.
  Result<uint64_t> absorb_shards(const std::vector<std::string>& shards);

  // Shards written by separate writers and searched as one (medindex
  // --shards): removes the exact copies that landed in different shards but
  // the first (lowest shard, then docid: the order of a merged index) and
  // gives near-copies in different shards the first one's collapse key, as
  // absorb_shards does for a bulk build; then commits every shard. Returns
  // the number of copies removed.
  static Result<uint64_t> reconcile_shards(const std::vector<IndexWriter*>& shards);

  // Replaces this index's spelling data with the sum of the `sources'`
  // (a sharded index's vocabulary database gets its shards'), and commits.
  Status replace_spelling(const std::vector<IndexWriter*>& sources);

  // User metadata of the index (Xapian's), e.g. schema::kMetaShards.
  Result<std::string> metadata(const std::string& key) const;
  Status set_metadata(const std::string& key, const std::string& value);

  // Counts for --stats.
  Result<IndexStatistics> statistics();

 private:
  struct Impl;
  explicit IndexWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Rewrites the index at `path` compactly (Xapian's compaction), in place:
// the compacted copy replaces the original only when it is complete. Fails
// if another writer holds the index.
Status compact_index(const std::string& path);

// Reads statistics without taking the write lock. `path` may be a stub file
// (a sharded index's local.stub); its directory's size is counted then.
Result<IndexStatistics> index_statistics(const std::string& path);

}  // namespace medsearch
