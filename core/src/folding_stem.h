// Internal: the stemmer used at index and query time. It folds British to
// American spelling before English stemming, so "sensitisation" and
// "sensitization" share one stemmed term. Not part of the public API.
#pragma once

#include <xapian.h>

#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "medsearch/spelling.h"

namespace medsearch::internal {

// Not thread-safe (it caches): each DocumentBuilder and Searcher makes its own.
class FoldingStemImplementation : public Xapian::StemImplementation {
 public:
  std::string operator()(const std::string& word) override {
    // Words repeat a lot in text, and stemming was 8% of indexing instructions
    // (bench/index profile): remember recent stems.
    if (auto it = cache_.find(word); it != cache_.end()) return it->second;
    std::string stem = english_(fold_spelling(word));
    if (cache_.size() >= kMaxCached) cache_.clear();
    cache_.emplace(word, stem);
    return stem;
  }
  std::string get_description() const override { return "medsearch folding english"; }

 private:
  static constexpr size_t kMaxCached = 1 << 17;
  Xapian::Stem english_{"english"};
  std::unordered_map<std::string, std::string> cache_;
};

// A new Xapian::Stem using the folding stemmer (Xapian takes ownership).
inline Xapian::Stem folding_stemmer() { return Xapian::Stem(new FoldingStemImplementation); }

// The folding stemmer for the snippets of one query. Xapian stems every word
// of a result's text to compare it with the query's stemmed terms. The
// English (Porter2) stemmer changes only the end of a word longer than three
// letters, and spelling folding keeps a word's first two letters too, but
// for "ae"/"oe" among them ("haem" -> "hem", "oedema" -> "edema") and
// "sceptic" -> "skeptic". So a longer word that starts like none of the
// query's terms, and is not one of those, cannot match one: it is returned
// as it is, neither folded nor stemmed. The snippets are the same; the
// stemmer was most of their cost in a CGI process, where no stem is cached
// yet.
class SnippetStemImplementation : public Xapian::StemImplementation {
 public:
  // `starts`: the first two bytes of each of the query's terms, stemmed
  // ("Z" prefix removed) or not.
  SnippetStemImplementation(Xapian::Stem stemmer, std::set<std::string> starts)
      : stemmer_(std::move(stemmer)), starts_(std::move(starts)) {}
  std::string operator()(const std::string& word) override {
    if (word.size() > 3 && !starts_.count(word.substr(0, 2)) && !folds_start(word)) return word;
    return stemmer_(word);
  }
  std::string get_description() const override { return "medsearch snippet folding english"; }

 private:
  // Whether spelling folding may change the first two letters of `word`.
  static bool folds_start(std::string_view word) {
    auto digraph = [](std::string_view two) { return two == "ae" || two == "oe"; };
    return digraph(word.substr(0, 2)) || digraph(word.substr(1, 2)) || word.substr(0, 4) == "scep";
  }
  Xapian::Stem stemmer_;
  std::set<std::string> starts_;
};

// The snippet stemmer for `query`'s terms (see SnippetStemImplementation).
inline Xapian::Stem snippet_stemmer(const Xapian::Stem& stemmer, const Xapian::Query& query) {
  std::set<std::string> starts;
  for (auto it = query.get_unique_terms_begin(); it != query.get_unique_terms_end(); ++it) {
    const std::string term = *it;  // TermIterator gives a string by value
    const size_t from = !term.empty() && term[0] == 'Z' ? 1 : 0;
    starts.emplace(term.substr(from, 2));
  }
  return Xapian::Stem(new SnippetStemImplementation(stemmer, std::move(starts)));
}

}  // namespace medsearch::internal
