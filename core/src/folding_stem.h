// Internal: the stemmer used at index and query time. It folds British to
// American spelling before English stemming, so "sensitisation" and
// "sensitization" share one stemmed term. Not part of the public API.
#pragma once

#include <xapian.h>

#include <string>
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

}  // namespace medsearch::internal
