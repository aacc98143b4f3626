#include "expansion.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <unordered_map>

namespace medsearch::internal {

namespace {

constexpr double kExpandK = 1.0;  // Xapian's default for the TradEWeight scheme
constexpr Xapian::doccount kUnknown = static_cast<Xapian::doccount>(-1);

struct Candidate {
  const std::string* term = nullptr;  // the key of its entry in the hash (nodes never move)
  double multiplier = 0;              // sum over relevant documents of the wdf part
  Xapian::doccount rtermfreq = 0;     // relevant documents with the term
  Xapian::doccount* freqs = nullptr;  // term frequency per part, or kUnknown (n of them)
  Xapian::doccount own = kUnknown;    // freqs of a single part (never moved: kept in a deque)
  double weight = 0;
  bool exact = false;
};

// TradEWeight::get_weight of Xapian 1.4, written with the same operations in
// the same order so that the weights agree to the last bit.
double trad_weight(const Candidate& c, Xapian::doccount termfreq, Xapian::doccount dbsize,
                   Xapian::doccount rsize) {
  double reldocs_without_term = rsize - c.rtermfreq;
  double num = (c.rtermfreq + 0.5) * (dbsize - termfreq - reldocs_without_term + 0.5);
  double denom = (termfreq - c.rtermfreq + 0.5) * (reldocs_without_term + 0.5);
  return c.multiplier * std::log(num / denom);
}

// The weight from the frequencies known so far: exact when every part's is
// known, else an upper bound (the weight falls as the term frequency grows,
// and each unknown part adds to it).
void weigh(Candidate& c, size_t parts, Xapian::doccount dbsize, Xapian::doccount rsize) {
  Xapian::doccount known = 0;
  c.exact = true;
  for (size_t i = 0; i < parts; ++i) {
    if (c.freqs[i] == kUnknown)
      c.exact = false;
    else
      known += c.freqs[i];
  }
  c.weight = trad_weight(c, known, dbsize, rsize);
}

}  // namespace

Xapian::doccount TermFreqCache::get(size_t part_index, const Xapian::Database& part,
                                    const std::string& term) {
  if (parts_.size() <= part_index) parts_.resize(part_index + 1);
  auto& part_freqs = parts_[part_index];
  if (auto it = part_freqs.find(term); it != part_freqs.end()) return it->second;
  Xapian::doccount freq = part.get_termfreq(term);
  if (size_ >= max_terms_) clear();
  part_freqs.emplace(term, freq);
  ++size_;
  return freq;
}

std::vector<ExpansionTerm> expansion_terms(
    const Xapian::Database& db, const std::vector<Xapian::Database>& parts,
    const std::vector<bool>& remote, const std::vector<Xapian::docid>& rset, Xapian::termcount size,
    const Xapian::ExpandDecider& decider, TermFreqCache* cache) {
  std::vector<ExpansionTerm> out;
  if (rset.empty() || size == 0 || parts.empty()) return out;
  const size_t n = parts.size();
  const Xapian::doccount dbsize = db.get_doccount();
  const Xapian::doccount rsize = static_cast<Xapian::doccount>(rset.size());
  const double avlen = db.get_avlength();
  // A term's frequency in local part i, from the cache when there is one.
  auto local_freq = [&](size_t i, const std::string& term) {
    return cache ? cache->get(i, parts[i], term) : parts[i].get_termfreq(term);
  };

  // One pass over each relevant document's term list, in its own database:
  // wdf, and the term's frequency in that database. Candidates are found by
  // a hash and kept in a deque (stable addresses), each with its n
  // frequencies: its own for one part, else allocated n at a time.
  std::deque<Candidate> candidates;
  std::deque<std::unique_ptr<Xapian::doccount[]>> freqs;
  std::unordered_map<std::string, Candidate*> by_term;
  by_term.reserve(1024);
  std::vector<std::pair<Candidate*, Xapian::termcount>> terms;
  for (Xapian::docid did : rset) {
    size_t p = (did - 1) % n;
    Xapian::docid local = (did - 1) / n + 1;
    const Xapian::Database& part = parts[p];
    terms.clear();
    Xapian::termcount doclen = 0;  // the sum of the wdfs, as Xapian keeps it
    for (auto it = part.termlist_begin(local); it != part.termlist_end(local); ++it) {
      Xapian::termcount wdf = it.get_wdf();
      doclen += wdf;
      std::string term = *it;
      if (!decider(term)) continue;
      auto [found, added] = by_term.try_emplace(std::move(term), nullptr);
      if (added) {
        Candidate& made = candidates.emplace_back();
        made.term = &found->first;
        made.freqs = n == 1 ? &made.own : freqs.emplace_back(new Xapian::doccount[n]).get();
        std::fill(made.freqs, made.freqs + n, kUnknown);
        found->second = &made;
      }
      Candidate& c = *found->second;
      // A local part's frequencies are looked up below, in term order.
      if (remote[p]) c.freqs[p] = it.get_termfreq();
      terms.emplace_back(&c, wdf);
    }
    for (auto& [c, wdf] : terms) {
      // Boolean terms have wdf 0; Xapian counts them as 1.
      Xapian::termcount w = wdf == 0 ? 1 : wdf;
      ++c->rtermfreq;
      c->multiplier += (kExpandK + 1) * w / (kExpandK * doclen / avlen + w);
    }
  }

  // Frequencies in the local databases, in term order, so that consecutive
  // lookups landing in one B-tree block find it in Xapian's cursor instead
  // of reading it again (3% fewer block reads over a 500-query batch).
  std::vector<std::pair<const std::string*, Candidate*>> ranked;
  ranked.reserve(candidates.size());
  for (Candidate& c : candidates) ranked.emplace_back(c.term, &c);
  std::sort(ranked.begin(), ranked.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (auto& [term, c] : ranked)
    for (size_t i = 0; i < n; ++i)
      if (c->freqs[i] == kUnknown && !remote[i]) c->freqs[i] = local_freq(i, *term);
  for (Candidate& c : candidates) weigh(c, n, dbsize, rsize);

  // Remote shards are asked only about candidates that may be among the
  // best `size`: while an upper bound is among them (or ties the last), those
  // bounds are made exact. Each shard is asked by its own thread (its own
  // connection).
  auto better = [](const auto& a, const auto& b) {
    if (a.second->weight != b.second->weight) return a.second->weight > b.second->weight;
    return *a.first > *b.first;  // Xapian's ESet order for equal weights
  };
  for (bool first = true;; first = false) {
    size_t top = std::min<size_t>(ranked.size(), size);
    // The first round also asks about the next `size` best bounds: fewer rounds.
    size_t batch = first ? std::min<size_t>(ranked.size(), size_t{size} * 2) : top;
    std::partial_sort(ranked.begin(), ranked.begin() + batch, ranked.end(), better);
    double last = top > 0 ? ranked[top - 1].second->weight : 0;
    std::vector<std::future<void>> asked;
    std::vector<Candidate*> updated;
    for (size_t i = 0; i < n; ++i) {
      if (!remote[i]) continue;
      std::vector<std::pair<const std::string*, Candidate*>> wanted;
      for (size_t k = 0; k < ranked.size(); ++k)
        if (ranked[k].second->freqs[i] == kUnknown &&
            (k < batch || ranked[k].second->weight >= last))
          wanted.push_back(ranked[k]);
      if (wanted.empty()) continue;
      for (const auto& w : wanted) updated.push_back(w.second);
      // Each thread uses one shard's database, and nothing else touches it
      // until the futures are waited for.
      asked.push_back(std::async(std::launch::async, [&part = parts[i], i, wanted] {
        for (const auto& [term, c] : wanted) c->freqs[i] = part.get_termfreq(*term);
      }));
    }
    if (asked.empty()) break;
    std::exception_ptr failed;
    for (auto& f : asked) {
      try {
        f.get();
      } catch (...) {
        if (!failed) failed = std::current_exception();
      }
    }
    if (failed) std::rethrow_exception(failed);
    for (Candidate* c : updated) weigh(*c, n, dbsize, rsize);
  }

  // The best `size` with a positive weight; of equal weights, the lexically
  // greater term first. (Every candidate still bounded weighs less than them.)
  size_t keep = std::min<size_t>(ranked.size(), size);
  std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end(), better);
  for (size_t k = 0; k < keep && ranked[k].second->weight > 0; ++k) {
    Xapian::doccount termfreq = 0;  // every part's is known for these
    for (size_t i = 0; i < n; ++i) termfreq += ranked[k].second->freqs[i];
    out.push_back({*ranked[k].first, ranked[k].second->weight, termfreq});
  }
  return out;
}

}  // namespace medsearch::internal
