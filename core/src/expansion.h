// Internal: query expansion terms (an ESet) computed from the shards' own
// term lists. Not part of the public API.
#pragma once

#include <xapian.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace medsearch::internal {

struct ExpansionTerm {
  std::string term;
  double weight = 0;
  Xapian::doccount termfreq = 0;  // documents of the whole index with the term
};

// Term frequencies looked up in the local parts of one revision of an index,
// kept for the searches after: finding a term's frequency costs a B-tree
// lookup (usually a block read), and the feedback's candidate terms, most of
// them common words, recur from one query to the next. Worth it in a process
// that searches many times (FastCGI, medsearch --queries). The owner clears
// it whenever the index is reopened at a newer revision. At most `max_terms`
// are kept (about 100 bytes each); when full it starts again empty.
class TermFreqCache {
 public:
  explicit TermFreqCache(size_t max_terms = size_t{1} << 18) : max_terms_(max_terms) {}
  void clear() {
    for (auto& part : parts_) part.clear();
    size_ = 0;
  }
  // The frequency of `term` in `part`, the part_index-th part.
  Xapian::doccount get(size_t part_index, const Xapian::Database& part, const std::string& term);
  size_t size() const { return size_; }

 private:
  std::vector<std::unordered_map<std::string, Xapian::doccount>> parts_;
  size_t max_terms_;
  size_t size_ = 0;
};

// The `size` best terms accepted by `decider` to expand a query with, given
// the relevant documents `rset` (docids of `db`), best first: what
// Enquire::get_eset(size, rset, USE_EXACT_TERMFREQ | INCLUDE_QUERY_TERMS,
// &decider) returns with Xapian 1.4's default expansion scheme (TradEWeight,
// k = 1): the same weights, and of equal weights the lexically greater term
// first. (Where terms tie at the last place kept, get_eset's choice depends
// on the order it meets them; here the greater terms are kept.) To leave out
// a query's own terms, as get_eset does by default, the decider refuses them.
//
// `parts` are the databases `db` was made of, in order (one for a single
// index), `remote` says which are remote. Xapian's get_eset asks a remote
// database for every candidate term's collection frequency, and over several
// databases for its term frequency too: a network round trip per term and
// shard, hundreds per query. Here a shard holding a relevant document gives
// the frequencies of its terms with that document's term list (one round
// trip). The other remote shards are asked, in parallel, only about terms
// that may be among the best: a term's weight falls as its frequency grows,
// so its frequency in the shards that gave one bounds its weight from above,
// and only terms whose bound reaches the best `size` are asked about, until
// the best `size` are all exact. The result is exact, and the same whether
// the shards are local or remote. With a `cache`, the local parts' term
// frequencies are taken from it and kept in it.
std::vector<ExpansionTerm> expansion_terms(
    const Xapian::Database& db, const std::vector<Xapian::Database>& parts,
    const std::vector<bool>& remote, const std::vector<Xapian::docid>& rset, Xapian::termcount size,
    const Xapian::ExpandDecider& decider, TermFreqCache* cache = nullptr);

}  // namespace medsearch::internal
