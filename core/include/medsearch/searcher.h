// The search function: one query in, ranked results out. The command line and
// the CGI both call this; they differ only in how they print.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "medsearch/document.h"
#include "medsearch/result.h"

namespace medsearch {

struct SearchOptions {
  uint32_t offset = 0;
  uint32_t limit = 10;
  size_t snippet_bytes = 240;
};

struct SearchHit {
  uint32_t rank = 0;  // 1-based, counting from the first result of the whole set
  double score = 0;
  uint32_t docid = 0;
  Document doc;         // stored fields; text is not filled (see snippet)
  std::string snippet;  // HTML-escaped text with <mark>...</mark> around matches
};

struct SearchResults {
  std::string query;
  std::string parsed;  // how the query was understood (Xapian's description)
  uint64_t total = 0;  // estimated number of matches
  std::vector<SearchHit> hits;
  std::vector<std::string> notes;  // messages for the user (e.g. syntax fell back to words)
};

// A read-only view of one or more indexes searched as one. Not thread-safe;
// use one Searcher per thread. Reopens the indexes when they change under it.
class Searcher {
 public:
  // Opens the indexes; fails with a message if any is missing or unreadable.
  static Result<Searcher> open(const std::vector<std::string>& paths);
  Searcher(Searcher&&) noexcept;
  Searcher& operator=(Searcher&&) noexcept;
  ~Searcher();

  Result<SearchResults> search(const std::string& query, const SearchOptions& options);
  uint64_t document_count() const;

 private:
  struct Impl;
  explicit Searcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medsearch
