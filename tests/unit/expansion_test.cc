// The expansion terms computed from the shards' term lists (core/src/expansion.h)
// against Xapian's own Enquire::get_eset, on real databases in temporary
// directories: the same terms, weights and order, over one database and over
// several, whether the databases are taken as local or as remote.
#include <xapian.h>

#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <sstream>

#include "expansion.h"
#include "process.h"

using medsearch::internal::expansion_terms;
using medsearch::internal::TermFreqCache;
using medsearch::testing::TempDir;

namespace {

// Words of a few letters, some frequent and some rare (a skewed draw), so
// that candidate terms have every kind of frequency and many weights tie.
std::string word(unsigned n) {
  std::string w = "w";
  for (; n > 0; n /= 26) w += static_cast<char>('a' + n % 26);
  return w;
}

// `shards` databases under `dir`, documents dealt round-robin as
// Database::add_database interleaves docids, so the same document has the
// same docid in the combined database as in `whole`.
void build(const TempDir& dir, int shards, int documents) {
  std::mt19937 random(20261121);
  std::vector<Xapian::WritableDatabase> dbs;
  for (int s = 0; s < shards; ++s)
    dbs.emplace_back(dir / ("shard-" + std::to_string(s)), Xapian::DB_CREATE_OR_OPEN);
  Xapian::WritableDatabase whole(dir / "whole", Xapian::DB_CREATE_OR_OPEN);
  for (int d = 0; d < documents; ++d) {
    Xapian::Document doc;
    std::uniform_int_distribution<int> length(5, 60);
    int words = length(random);
    for (int i = 0; i < words; ++i) {
      std::uniform_real_distribution<double> u(0, 1);
      double x = u(random);
      doc.add_term(word(static_cast<unsigned>(x * x * x * 400)));
    }
    doc.add_boolean_term("Ksite" + std::to_string(d % 3));  // wdf 0, refused below
    if (d % 7 == 0) doc.add_term("shared", 2);
    dbs[d % shards].add_document(doc);
    whole.add_document(doc);
  }
  for (auto& db : dbs) db.commit();
  whole.commit();
}

// The shards that build() wrote, and the one database they make together.
std::vector<Xapian::Database> open_shards(const TempDir& dir, int shards) {
  std::vector<Xapian::Database> parts;
  for (int s = 0; s < shards; ++s) parts.emplace_back(dir / ("shard-" + std::to_string(s)));
  return parts;
}

Xapian::Database combine(const std::vector<Xapian::Database>& parts) {
  Xapian::Database combined;
  for (const auto& part : parts) combined.add_database(part);
  return combined;
}

struct WordsOnly : Xapian::ExpandDecider {
  std::set<std::string> refused;
  bool operator()(const std::string& term) const override {
    return !term.empty() && term[0] != 'K' && refused.count(term) == 0;
  }
};

std::string describe(const Xapian::ESet& eset) {
  std::ostringstream out;
  for (auto it = eset.begin(); it != eset.end(); ++it) out << *it << ' ' << it.get_weight() << '\n';
  return out.str();
}

std::string describe(const std::vector<medsearch::internal::ExpansionTerm>& terms) {
  std::ostringstream out;
  for (const auto& t : terms) out << t.term << ' ' << t.weight << '\n';
  return out.str();
}

// The same weights in the same order, and the same terms but where several
// tie at the last place kept (get_eset then keeps the ones it met first).
void check_same(const Xapian::ESet& expected,
                const std::vector<medsearch::internal::ExpansionTerm>& got) {
  INFO("Xapian:\n" << describe(expected) << "computed:\n" << describe(got));
  REQUIRE(got.size() == expected.size());
  size_t i = 0;
  double last = got.empty() ? 0 : got.back().weight;
  for (auto it = expected.begin(); it != expected.end(); ++it, ++i) {
    CHECK(got[i].weight == Approx(it.get_weight()).epsilon(1e-12));
    if (got[i].weight != Approx(last).epsilon(1e-12)) CHECK(got[i].term == *it);
  }
}

// Exactly the same terms and weights.
void check_equal(const std::vector<medsearch::internal::ExpansionTerm>& expected,
                 const std::vector<medsearch::internal::ExpansionTerm>& got) {
  INFO("expected:\n" << describe(expected) << "computed:\n" << describe(got));
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].term == expected[i].term);
    CHECK(got[i].weight == expected[i].weight);
    CHECK(got[i].termfreq == expected[i].termfreq);
  }
}

// Each term's frequency is that of the whole (combined) index.
void check_termfreqs(const Xapian::Database& db,
                     const std::vector<medsearch::internal::ExpansionTerm>& got) {
  for (const auto& t : got) {
    INFO(t.term);
    CHECK(t.termfreq == db.get_termfreq(t.term));
  }
}

}  // namespace

TEST_CASE("expansion terms equal the ESet of Xapian over one database", "[search][expansion]") {
  TempDir dir;
  build(dir, 1, 400);
  Xapian::Database db(dir / "shard-0");
  Xapian::Enquire enquire(db);
  WordsOnly decider;
  decider.refused = {word(3)};  // as a query term is refused
  for (std::vector<Xapian::docid> rset : std::vector<std::vector<Xapian::docid>>{
           {1}, {5, 9}, {2, 3, 40, 77}, {100, 101, 102, 103, 250, 399}}) {
    Xapian::RSet xapian_rset;
    for (Xapian::docid did : rset) xapian_rset.add_document(did);
    for (Xapian::termcount size : {1u, 5u, 20u, 40u}) {
      INFO("rset of " << rset.size() << ", size " << size);
      Xapian::ESet eset =
          enquire.get_eset(size, xapian_rset, Xapian::Enquire::INCLUDE_QUERY_TERMS, &decider);
      REQUIRE(eset.size() > 0);
      check_same(eset, expansion_terms(db, {db}, {false}, rset, size, decider));
      check_termfreqs(db, expansion_terms(db, {db}, {false}, rset, size, decider));
      // Taken as remote, a single database already gives every frequency.
      check_same(eset, expansion_terms(db, {db}, {true}, rset, size, decider));
      check_termfreqs(db, expansion_terms(db, {db}, {true}, rset, size, decider));
    }
  }
}

TEST_CASE("expansion terms equal the exact ESet of Xapian over several databases",
          "[search][expansion]") {
  TempDir dir;
  const int kShards = 3;
  build(dir, kShards, 600);
  std::vector<Xapian::Database> parts = open_shards(dir, kShards);
  Xapian::Database combined = combine(parts);
  Xapian::Database whole(dir / "whole");
  WordsOnly decider;
  for (std::vector<Xapian::docid> rset :
       std::vector<std::vector<Xapian::docid>>{{4}, {1, 2}, {7, 8, 9, 30}, {11, 14, 17, 20, 23}}) {
    Xapian::RSet xapian_rset;
    for (Xapian::docid did : rset) xapian_rset.add_document(did);
    for (Xapian::termcount size : {5u, 20u}) {
      INFO("rset of " << rset.size() << ", size " << size);
      Xapian::ESet exact = Xapian::Enquire(combined).get_eset(
          size, xapian_rset,
          Xapian::Enquire::USE_EXACT_TERMFREQ | Xapian::Enquire::INCLUDE_QUERY_TERMS, &decider);
      auto one_index = expansion_terms(whole, {whole}, {false}, rset, size, decider);
      check_same(exact, one_index);
      check_termfreqs(whole, one_index);
      // The shards searched as one give exactly what one index of them gives,
      // local or remote (the threads asking the shards about bounded terms).
      check_equal(one_index,
                  expansion_terms(combined, parts, {false, false, false}, rset, size, decider));
      check_equal(one_index,
                  expansion_terms(combined, parts, {true, true, true}, rset, size, decider));
      check_equal(one_index,
                  expansion_terms(combined, parts, {false, true, true}, rset, size, decider));
    }
  }
}

TEST_CASE("expansion terms with a term frequency cache are the same", "[search][expansion]") {
  TempDir dir;
  const int kShards = 2;
  build(dir, kShards, 500);
  std::vector<Xapian::Database> parts = open_shards(dir, kShards);
  Xapian::Database combined = combine(parts);
  WordsOnly decider;
  // One cache for every call, as a searcher keeps it between queries; the
  // small one fills up and starts again many times.
  TermFreqCache cache, small(50);
  for (std::vector<Xapian::docid> rset :
       std::vector<std::vector<Xapian::docid>>{{4}, {1, 2}, {7, 8, 9, 30}, {1, 2}, {4}}) {
    auto uncached = expansion_terms(combined, parts, {false, false}, rset, 20, decider);
    REQUIRE(!uncached.empty());
    check_equal(uncached,
                expansion_terms(combined, parts, {false, false}, rset, 20, decider, &cache));
    check_equal(uncached,
                expansion_terms(combined, parts, {false, false}, rset, 20, decider, &small));
    CHECK(small.size() <= 50);
    // Remote parts give their frequencies with the term list; none is cached.
    TermFreqCache unused;
    check_equal(uncached,
                expansion_terms(combined, parts, {true, true}, rset, 20, decider, &unused));
    CHECK(unused.size() == 0);
  }
  CHECK(cache.size() > 0);

  SECTION("a cache cleared after the index changed gives the new frequencies") {
    // Documents holding the terms of document 4 change every candidate's frequency.
    std::vector<std::string> terms(combined.termlist_begin(4), combined.termlist_end(4));
    std::vector<Xapian::docid> rset{4};
    auto before = expansion_terms(combined, parts, {false, false}, rset, 20, decider, &cache);
    {
      Xapian::WritableDatabase writer(dir / "shard-0", Xapian::DB_OPEN);
      for (int i = 0; i < 200; ++i) {
        Xapian::Document doc;
        for (size_t t = i % 3; t < terms.size(); t += 3) doc.add_term(terms[t]);
        writer.add_document(doc);
      }
      writer.commit();
    }
    REQUIRE(combined.reopen());
    auto after = expansion_terms(combined, parts, {false, false}, rset, 20, decider);
    REQUIRE(after[0].weight != before[0].weight);
    // Kept, the cache would give the old frequencies; cleared, the new.
    cache.clear();
    check_equal(after, expansion_terms(combined, parts, {false, false}, rset, 20, decider, &cache));
  }
}

TEST_CASE("expansion terms of nothing are empty", "[search][expansion]") {
  TempDir dir;
  build(dir, 1, 20);
  Xapian::Database db(dir / "shard-0");
  WordsOnly decider;
  CHECK(expansion_terms(db, {db}, {false}, {}, 20, decider).empty());
  CHECK(expansion_terms(db, {db}, {false}, {1}, 0, decider).empty());
}
