// British -> American spelling folding, so that "tumour" and "tumor", "anaesthesia" and
// "anesthesia", "randomised" and "randomized" index and match as the same word.
// Pure functions over UTF-8 strings; thread-safe; no global state is modified.
#pragma once

#include <string>
#include <string_view>

namespace medsearch {

// The American spelling used for matching of one lowercase word, or `word` unchanged.
// A rule set (-ise/-isation, -yse, -our, -tre/-bre, -logue, sulph, medical ae/oe
// morphemes) with exception lists, plus a word list for irregular cases (defence,
// labelled, ageing, grey, programme...). Idempotent: fold(fold(w)) == fold(w).
std::string fold_spelling(std::string_view word);

// Same as fold_spelling, in place; returns true if `word` changed. Allocates nothing
// when the word needs no change (the common case), so it is cheap enough to call for
// every indexed word.
bool fold_spelling_in_place(std::string& word);

}  // namespace medsearch
