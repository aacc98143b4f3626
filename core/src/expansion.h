// Internal: query expansion terms (an ESet) computed from the shards' own
// term lists. Not part of the public API.
#pragma once

#include <xapian.h>

#include <string>
#include <vector>

namespace medsearch::internal {

struct ExpansionTerm {
  std::string term;
  double weight = 0;
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
// the shards are local or remote.
std::vector<ExpansionTerm> expansion_terms(const Xapian::Database& db,
                                           const std::vector<Xapian::Database>& parts,
                                           const std::vector<bool>& remote,
                                           const std::vector<Xapian::docid>& rset,
                                           Xapian::termcount size,
                                           const Xapian::ExpandDecider& decider);

}  // namespace medsearch::internal
