// Internal: the stemmer used at index and query time. It folds British to
// American spelling before English stemming, so "sensitisation" and
// "sensitization" share one stemmed term. Not part of the public API.
#pragma once

#include <xapian.h>

#include <string>

#include "medsearch/spelling.h"

namespace medsearch::internal {

class FoldingStemImplementation : public Xapian::StemImplementation {
 public:
  std::string operator()(const std::string& word) override { return english_(fold_spelling(word)); }
  std::string get_description() const override { return "medsearch folding english"; }

 private:
  Xapian::Stem english_{"english"};
};

// A new Xapian::Stem using the folding stemmer (Xapian takes ownership).
inline Xapian::Stem folding_stemmer() { return Xapian::Stem(new FoldingStemImplementation); }

}  // namespace medsearch::internal
