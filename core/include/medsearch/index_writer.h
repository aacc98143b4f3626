// Writes documents into a Xapian index following the one schema (schema.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "medsearch/document.h"
#include "medsearch/result.h"

namespace medsearch {

enum class PutOutcome { kAdded, kReplaced, kUnchanged };

// A single writer of one index. Xapian allows one writer per database: a second
// open fails with "locked by another writer". Not thread-safe. Changes become
// visible to readers at commit(); the destructor commits what is pending.
class IndexWriter {
 public:
  // Opens the index at `path`, creating it (and its directory) if missing.
  static Result<std::unique_ptr<IndexWriter>> open(const std::string& path);
  ~IndexWriter();

  // Adds `doc`, or replaces the document with the same id. A document whose
  // stored content is unchanged is left alone (kUnchanged). Requires doc.id.
  Result<PutOutcome> put(const Document& doc);

  // Deletes the document with this id. Returns false if there was none.
  Result<bool> remove(const std::string& id);

  Status commit();
  uint64_t document_count() const;

 private:
  struct Impl;
  explicit IndexWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medsearch
