// The search function: one query in, ranked results out. The command line and
// the CGI both call this; they differ only in how they print. The query
// language is documented in docs/query-language.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/document.h"
#include "medsearch/result.h"

namespace medsearch {

enum class SortOrder {
  kRelevance,
  kDate,            // oldest first ("date")
  kDateDescending,  // newest first ("-date")
};

// BM25 parameters used when SearchOptions leaves them at -1.
inline constexpr double kDefaultBm25K1 = 1.0;
inline constexpr double kDefaultBm25B = 0.6;

// "relevance", "date" or "-date".
Result<SortOrder> parse_sort_order(std::string_view text);

// The facets a search can count, in the order they are shown.
// The longest query medsearch searches (the CGI allows kCgiMaxQueryBytes):
// a longer one is a mistake, such as a whole file pasted, and would take
// seconds to parse into thousands of terms.
inline constexpr size_t kMaxQueryBytes = 10000;

inline constexpr const char* kFacetNames[] = {"site", "year", "type", "evidence", "concept"};

struct SearchOptions {
  uint32_t offset = 0;
  uint32_t limit = 10;
  size_t snippet_bytes = 240;
  SortOrder sort = SortOrder::kRelevance;
  // Near-duplicates (equal collapse keys) are shown once, with a count.
  bool collapse = true;
  // Run the spelling suggestion instead of the query when there is one.
  bool auto_correct = false;
  // Look for a spelling suggestion (a few term-frequency lookups; more only
  // for unknown or rare words).
  bool suggest = true;
  // Facets to count over the whole match set (names from kFacetNames), and
  // how many values of each to return, most frequent first.
  std::vector<std::string> facets;
  size_t facet_values = 10;
  // Filters, applied as if written in the query: any of `sites` (host), any
  // of `types`, any of `evidence`, a year or range ("2021", "2015..2024",
  // "2020..", "..2019"), and every one of `concepts` (ids or names, as
  // concept:). They restrict the matches and do not weigh in the ranking.
  std::vector<std::string> sites, types, evidence, concepts;
  std::string years;
  // Pseudo-relevance feedback: the query is run again with the most telling
  // words and concepts of its first results added at a lower weight (only
  // when sorting by relevance, in indexes of 1,000 documents or more). Better
  // rankings on the NFCorpus dev set, at the cost of a second match. Free
  // text may find new documents this way; a query with operators, fields or
  // filters is only reordered.
  bool feedback = true;
  // BM25's term-frequency saturation (k1) and length normalisation (b); the
  // defaults were chosen on the NFCorpus dev set (eval/run,
  // docs/performance.md). Negative: the default.
  double bm25_k1 = -1, bm25_b = -1;
  // More like this: a document's URL, id or docid. With query text too, the
  // results must match the text and are ranked by likeness as well.
  std::string like;
};

// How a query was understood, for --explain (in the manner of PubMed's
// "Search details").
struct ExplainedConcept {
  std::string text;  // the words of the query
  std::string id;
  std::string name;                   // preferred name
  std::vector<std::string> variants;  // as searched (the first few)
  size_t variant_count = 0;           // all of them
};

struct Explanation {
  std::vector<ExplainedConcept> concepts;
  std::vector<std::string> fields;    // "title: neuropathic pain"
  std::vector<std::string> filters;   // "year 2015..2024", "evidence: rct"
  std::vector<std::string> spelling;  // "neuropatic -> neuropathic"
  std::string like;                   // the document "more like this" started from
  std::string query;                  // Xapian's description of the query run
};

struct FacetValue {
  std::string value;  // as in the index ("D020918", "2021", "research")
  std::string label;  // for people (the concept's name; else the value)
  uint64_t count = 0;
};

struct Facet {
  std::string name;
  std::vector<FacetValue> values;  // most frequent first
  uint64_t distinct = 0;           // values in the whole match set
};

struct SearchHit {
  uint32_t rank = 0;  // 1-based, counting from the first result of the whole set
  double score = 0;
  uint32_t docid = 0;
  uint32_t similar = 0;  // near-duplicates folded into this result
  Document doc;          // stored fields; text is not filled (see snippet)
  std::string snippet;   // HTML-escaped text with <mark>...</mark> around matches
};

struct SearchResults {
  std::string query;   // as run (the correction, when auto-corrected)
  std::string parsed;  // how the query was understood (Xapian's description)
  // Documents matching the query as typed, filters included (exact when
  // facets were counted): what the facets count.
  uint64_t total = 0;
  bool total_exact = false;
  // Documents the feedback's terms rank after or among them without matching
  // the query as typed (an estimate); 0 when the feedback only reorders.
  uint64_t related = 0;
  std::string suggestion;      // "Did you mean": a corrected query, or empty
  std::string corrected_from;  // the query as typed, when auto-corrected
  Explanation explain;
  std::vector<Facet> facets;
  std::vector<SearchHit> hits;
  std::vector<std::string> notes;  // messages for the user (e.g. syntax fell back to words)
};

// Checks the values of the options that are not free text (facet names,
// types, evidence, years), so that a front end can report a bad one as a
// usage error before opening an index.
Status validate_search_options(const SearchOptions& options);

// How Searcher::open reaches the shards of a stub file (docs/scaling.md).
struct OpenOptions {
  // A remote shard ("remote HOST:PORT") must accept the connection within
  // connect_timeout_ms, and answer every request within timeout_ms; else the
  // open or the search fails naming it, rather than waiting.
  unsigned connect_timeout_ms = 3000;
  unsigned timeout_ms = 10000;
  // Search the shards that answer, with a note in every result, instead of failing.
  bool allow_partial = false;
  // With allow_partial, a search at least this long after the shards were
  // last connected tries the ones left out again, so that a long-running
  // process (FastCGI, a --queries batch) takes a shard back once it answers.
  unsigned retry_missing_ms = 5000;
};

// A read-only view of one or more indexes searched as one. Not thread-safe;
// use one Searcher per thread. Reopens the indexes when they change under it.
class Searcher {
 public:
  // Opens the indexes; fails with a message if any is missing, unreadable or
  // written with another schema version. A path may be an index directory, a
  // Xapian stub file (lines "auto PATH", relative to the stub's directory, or
  // "remote HOST:PORT"), or a directory written by medindex --shards (its
  // local.stub). A directory "vocabulary" beside a stub file is the index's
  // vocabulary database: concepts and spelling suggestions come from it, as
  // remote shards in Xapian 1.4 give no spelling data.
  static Result<Searcher> open(const std::vector<std::string>& paths,
                               const OpenOptions& options = {});
  Searcher(Searcher&&) noexcept;
  Searcher& operator=(Searcher&&) noexcept;
  ~Searcher();

  // Fails only when the index cannot be read or an option is invalid (an
  // unknown facet, a bad --like document); bad query syntax gives results
  // for the plain words and a note.
  Result<SearchResults> search(const std::string& query, const SearchOptions& options);
  uint64_t document_count() const;
  // The shards left out because they did not answer (OpenOptions::allow_partial),
  // each as "remote HOST:PORT: why".
  const std::vector<std::string>& missing_shards() const;

 private:
  struct Impl;
  explicit Searcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medsearch
