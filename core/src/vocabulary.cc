#include "medsearch/vocabulary.h"

#include <xapian.h>
#include <zlib.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "medsearch/spelling.h"
#include "medsearch/text.h"

namespace medsearch {
namespace {

namespace unicode = Xapian::Unicode;

// Xapian's TermGenerator drops words longer than this many bytes.
constexpr size_t kMaxWordBytes = 64;
// A capitalised single-word variant of at most this many characters is an abbreviation
// that matches only capitalised text.
constexpr size_t kMaxAbbreviationChars = 6;
// Abbreviations of at most this many characters are not matched in shouted text
// ("ALL PATIENTS") where they are more likely words than abbreviations.
constexpr size_t kMaxShortAbbreviationChars = 3;
// Variants longer than this many words are not matched (they are definitions, not names).
constexpr size_t kMaxVariantTokens = 24;
constexpr std::string_view kSerialisedMagic = "medsearch-vocabulary 1";

// ---------------------------------------------------------------------------------------
// Characters.

struct Decoded {
  unsigned ch = 0;
  size_t size = 0;  // bytes
};

// decode() of a character that is not ASCII.
Decoded decode_multibyte(std::string_view text, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned first = byte(pos);
  size_t size = 0;
  unsigned ch = 0;
  if (first >= 0xc2 && first <= 0xdf) {
    size = 2;
    ch = first & 0x1f;
  } else if (first >= 0xe0 && first <= 0xef) {
    size = 3;
    ch = first & 0x0f;
  } else if (first >= 0xf0 && first <= 0xf4) {
    size = 4;
    ch = first & 0x07;
  } else {
    return {first, 1};
  }
  if (pos + size > text.size()) return {first, 1};
  for (size_t i = 1; i < size; ++i) {
    if ((byte(pos + i) & 0xc0) != 0x80) return {first, 1};
    ch = (ch << 6) | (byte(pos + i) & 0x3f);
  }
  // Overlong forms, surrogates and values beyond U+10FFFF are invalid.
  if ((size == 3 && (ch < 0x800 || (ch >= 0xd800 && ch <= 0xdfff))) ||
      (size == 4 && (ch < 0x10000 || ch > 0x10ffff))) {
    return {first, 1};
  }
  return {ch, size};
}

// The character at `pos` (which must be < text.size()). An invalid UTF-8 sequence reads
// as one Latin-1 character per byte, as Xapian::Utf8Iterator reads it. ASCII, most of
// medical text, is decoded inline.
inline Decoded decode(std::string_view text, size_t pos) {
  const unsigned first = static_cast<unsigned char>(text[pos]);
  if (first < 0x80) return {first, 1};
  return decode_multibyte(text, pos);
}

// Xapian::Unicode::is_wordchar(ch): letters, marks, digits and connector punctuation.
// ASCII is answered here (letters, digits, '_'), without Xapian's table lookup.
inline bool is_wordchar(unsigned ch) {
  if (ch < 0x80)
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
  return unicode::is_wordchar(ch);
}

bool is_ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }

bool is_zero_width(unsigned ch) {
  return (ch >= 0x200b && ch <= 0x200d) || ch == 0x2060 || ch == 0xfeff;
}

// Characters that join two words into one, as in Xapian ("don't", "AT&T").
bool is_infix(unsigned ch) {
  return ch == '\'' || ch == '&' || ch == 0xb7 || ch == 0x5f4 || ch == 0x2027 || ch == 0x2019 ||
         ch == 0x201b;
}

// Characters that join two digits into one number, as in Xapian ("3.5", "10,000").
bool is_digit_infix(unsigned ch) {
  switch (ch) {
    case ',':
    case '.':
    case ';':
    case 0x037e:
    case 0x0589:
    case 0x060d:
    case 0x07f8:
    case 0x2044:
    case 0xfe10:
    case 0xfe13:
    case 0xfe14:
      return true;
    default:
      return false;
  }
}

bool is_digit(unsigned ch) { return unicode::get_category(ch) == unicode::DECIMAL_DIGIT_NUMBER; }

bool is_apostrophe(unsigned ch) { return ch == '\'' || ch == 0x2019 || ch == 0x201b; }

// ASCII spellings of accented Latin letters U+00C0..U+017F (after lowercasing).
constexpr const char* kLatinFold[] = {
    "",  "",  "",   "",   "",  "",  "",  "",  "",   "",  "",  "",  "",  "",   "",  "",  "",  "",
    "",  "",  "",   "",   "",  "",  "",  "",  "",   "",  "",  "",  "",  "ss", "a", "a", "a", "a",
    "a", "a", "ae", "c",  "e", "e", "e", "e", "i",  "i", "i", "i", "d", "n",  "o", "o", "o", "o",
    "o", "",  "o",  "u",  "u", "u", "u", "y", "th", "y", "",  "a", "",  "a",  "",  "a", "",  "c",
    "",  "c", "",   "c",  "",  "c", "",  "d", "",   "d", "",  "e", "",  "e",  "",  "e", "",  "e",
    "",  "e", "",   "g",  "",  "g", "",  "g", "",   "g", "",  "h", "",  "h",  "",  "i", "",  "i",
    "",  "i", "",   "i",  "",  "i", "",  "",  "",   "j", "",  "k", "k", "",   "l", "",  "l", "",
    "l", "",  "l",  "",   "l", "",  "n", "",  "n",  "",  "n", "",  "",  "n",  "",  "o", "",  "o",
    "",  "o", "",   "oe", "",  "r", "",  "r", "",   "r", "",  "s", "",  "s",  "",  "s", "",  "s",
    "",  "t", "",   "t",  "",  "t", "",  "u", "",   "u", "",  "u", "",  "u",  "",  "u", "",  "u",
    "",  "w", "",   "y",  "",  "",  "z", "",  "z",  "",  "z", "",
};

// Greek letters common in medical names, spelt out so "TNF-α" matches "TNF-alpha".
const char* greek_name(unsigned ch) {
  switch (ch) {
    case 0x3b1:
      return "alpha";
    case 0x3b2:
      return "beta";
    case 0x3b3:
      return "gamma";
    case 0x3b4:
      return "delta";
    case 0x3b5:
      return "epsilon";
    case 0x3b8:
      return "theta";
    case 0x3ba:
      return "kappa";
    case 0x3bb:
      return "lambda";
    case 0xb5:  // micro sign
    case 0x3bc:
      return "mu";
    case 0x3c3:
      return "sigma";
    case 0x3c4:
      return "tau";
    case 0x3c9:
      return "omega";
    default:
      return nullptr;
  }
}

// Appends the lowercase, accent-folded form of `ch` to `out`.
void append_folded(std::string& out, unsigned ch) {
  if (ch < 0x80) {
    out += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch);
    return;
  }
  ch = unicode::tolower(ch);
  if (ch >= 0xc0 && ch < 0x180 && kLatinFold[ch - 0xc0][0] != '\0') {
    out += kLatinFold[ch - 0xc0];
  } else if (const char* name = greek_name(ch)) {
    out += name;
  } else {
    unicode::append_utf8(out, ch);
  }
}

// ---------------------------------------------------------------------------------------
// Normalisation.

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Words ending in s that are not plurals (or whose plural reading would merge them with
// a different word).
const std::unordered_set<std::string_view>& singular_exceptions() {
  static const std::unordered_set<std::string_view> words = {
      "alias",      "always", "ascites",   "atlas",      "besides",    "bias",     "biceps",
      "canvas",     "caries", "chaos",     "cosmos",     "deferens",   "diabetes", "does",
      "ethos",      "feces",  "forceps",   "gas",        "glans",      "goes",     "herpes",
      "hras",       "kras",   "kudos",     "lens",       "logos",      "measles",  "mumps",
      "news",       "nras",   "pancreas",  "pathos",     "perhaps",    "pons",     "pubes",
      "quadriceps", "rabies", "rickets",   "scabies",    "series",     "shingles", "species",
      "sometimes",  "thus",   "towards",   "triceps",    "whereas",    "yes",      "calories",
      "cookies",    "movies", "theses",    "afterwards", "backwards",  "forwards", "upwards",
      "downwards",  "aches",  "headaches", "backaches",  "toothaches", "earaches",
  };
  return words;
}

bool has_vowel(std::string_view word) {
  return word.find_first_of("aeiouy") != std::string_view::npos;
}

// receptors -> receptor, therapies -> therapy, abscesses -> abscess, meta-analyses ->
// analysis; leaves analysis, diabetes, mellitus, and words of 3 letters or fewer.
void singularize(std::string& word) {
  const size_t n = word.size();
  if (n <= 3 || word.back() != 's' || !has_vowel(word)) return;
  std::string_view w = word;
  if (ends_with(w, "ss") || ends_with(w, "us") || ends_with(w, "is")) return;
  if (singular_exceptions().count(w)) return;
  if (ends_with(w, "yses")) {  // analyses -> analysis
    word.replace(n - 2, 2, "is");
  } else if (ends_with(w, "ies") && n >= 5) {
    word.replace(n - 3, 3, "y");
  } else if (ends_with(w, "sses") || ends_with(w, "xes") || ends_with(w, "ches") ||
             ends_with(w, "shes") || ends_with(w, "zzes")) {
    word.resize(n - 2);
  } else {
    word.resize(n - 1);
  }
}

struct WordForm {
  std::string norm;
  bool upper = false;
  size_t chars = 0;  // characters, not bytes
  size_t capitals = 0;
};

// Normalises one word as written (a token's text).
WordForm normalize(std::string_view word, bool acronym = false) {
  WordForm form;
  form.norm.reserve(word.size());
  bool has_upper = false;
  size_t lower_count = 0;
  bool last_lower_is_final_s = false;
  for (size_t pos = 0; pos < word.size();) {
    const Decoded d = decode(word, pos);
    pos += d.size;
    if (is_zero_width(d.ch) || (acronym && d.ch == '.')) continue;
    ++form.chars;
    if (is_apostrophe(d.ch)) {
      form.norm += '\'';
      continue;
    }
    const auto category = d.ch < 0x80 ? (d.ch >= 'A' && d.ch <= 'Z'   ? unicode::UPPERCASE_LETTER
                                         : d.ch >= 'a' && d.ch <= 'z' ? unicode::LOWERCASE_LETTER
                                                                      : unicode::OTHER_SYMBOL)
                                      : unicode::get_category(d.ch);
    if (category == unicode::UPPERCASE_LETTER || category == unicode::TITLECASE_LETTER) {
      has_upper = true;
      ++form.capitals;
    } else if (category == unicode::LOWERCASE_LETTER) {
      ++lower_count;
      last_lower_is_final_s = d.ch == 's' && pos == word.size();
    }
    append_folded(form.norm, d.ch);
  }
  form.upper = has_upper && lower_count == 0;
  // Possessive: "Alzheimer's" -> "alzheimer"; other apostrophes vanish ("don't" -> "dont").
  if (ends_with(form.norm, "'s")) form.norm.resize(form.norm.size() - 2);
  form.norm.erase(std::remove(form.norm.begin(), form.norm.end(), '\''), form.norm.end());
  // A capitalised abbreviation is kept as written: CRPS is not the plural of CRP. Longer
  // capitalised words are shouted text ("TUMOURS") and normalised as usual.
  if (form.upper && form.chars <= kMaxAbbreviationChars) return form;
  if (has_upper && lower_count == 1 && last_lower_is_final_s) {
    // Plural abbreviations: "NMDARs" -> "nmdar", "RCTs" -> "rct".
    form.norm.pop_back();
    return form;
  }
  fold_spelling_in_place(form.norm);
  singularize(form.norm);
  return form;
}

// normalize(word) through a cache of the words this thread normalised lately.
// Text repeats its words, and a vocabulary its variants' words: normalising
// one costs about 1,200 instructions (decoding, spelling folding, the
// singular), looking it up here about a tenth of that. The reference is good
// until the next call on the same thread.
const WordForm& normalize_cached(std::string_view word) {
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  constexpr size_t kMaxWords = size_t{1} << 16;  // a few MiB a thread at most
  thread_local std::unordered_map<std::string, WordForm, Hash, std::equal_to<>> cache;
  if (auto it = cache.find(word); it != cache.end()) return it->second;
  if (cache.size() >= kMaxWords) cache.clear();
  return cache.emplace(std::string(word), normalize(word)).first->second;
}

// "Receptors, N-Methyl-D-Aspartate" -> "N-Methyl-D-Aspartate Receptors": a variant with
// exactly one ", " outside parentheses is an inverted heading. Others are returned as is.
std::string_view natural_order(std::string_view variant, std::string& storage) {
  size_t comma = std::string_view::npos;
  int depth = 0;
  for (size_t i = 0; i + 1 < variant.size(); ++i) {
    const char c = variant[i];
    if (c == '(' || c == '[') ++depth;
    if ((c == ')' || c == ']') && depth > 0) --depth;
    if (c == ',' && variant[i + 1] == ' ' && depth == 0) {
      if (comma != std::string_view::npos) return variant;
      comma = i;
    }
  }
  if (comma == std::string_view::npos) return variant;
  storage.assign(trim(variant.substr(comma + 2)));
  storage += ' ';
  storage += trim(variant.substr(0, comma));
  return storage;
}

struct AbbreviationForm {
  bool needs_capitals = false;
  bool is_short = false;  // not matched in shouted text
};

// Whether a one-word variant is an abbreviation that must match case: written in
// capitals, or with two or more capitals (SAMe is not "same"), in at most 6 characters.
AbbreviationForm abbreviation_form(const Token& token) {
  const WordForm form = normalize(token.text);
  AbbreviationForm result;
  result.needs_capitals =
      form.chars <= kMaxAbbreviationChars && (token.upper || form.capitals >= 2);
  result.is_short =
      result.needs_capitals && token.upper && form.chars <= kMaxShortAbbreviationChars;
  return result;
}

// The matching key of a variant: its normalised words joined by spaces, in natural order.
struct VariantKey {
  std::string key;
  // An abbreviation written in capitals (CRPS) or with inner capitals (SAMe, mTOR): it
  // matches only text written the same way or all in capitals.
  bool needs_capitals = false;
  bool short_abbreviation = false;
  size_t token_count = 0;
};

VariantKey variant_key(std::string_view variant) {
  std::string storage;
  const std::string_view natural = natural_order(variant, storage);
  const std::vector<Token> tokens = tokenize(natural);
  VariantKey result;
  result.token_count = tokens.size();
  for (const Token& token : tokens) {
    if (!result.key.empty()) result.key += ' ';
    result.key += token.norm;
  }
  if (tokens.size() == 1) {
    const AbbreviationForm form = abbreviation_form(tokens[0]);
    result.needs_capitals = form.needs_capitals;
    result.short_abbreviation = form.is_short;
  }
  return result;
}

// `text` with tabs, newlines and runs of spaces folded to one space, trimmed.
std::string clean_field(std::string_view text) { return collapse_whitespace(text); }

// ---------------------------------------------------------------------------------------
// Lines of an input file: BOM and CR removed, numbered from 1.

class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
  }
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line = text_.substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = end + 1;
    ++number_;
    return true;
  }
  size_t number() const { return number_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t number_ = 0;
};

Error line_error(const std::string& source, size_t line, const std::string& message) {
  return fail(source + ":" + std::to_string(line) + ": " + message);
}

// Precedence of concept ids when two concepts merge: the lower rank keeps its id.
int id_rank(std::string_view id) {
  if (id.substr(0, 5) == "abbr:") return 3;
  if (id.substr(0, 5) == "DOID:") return 2;
  const bool mesh_ui =
      id.size() >= 7 && (id[0] == 'D' || id[0] == 'C') &&
      std::all_of(id.begin() + 1, id.end(), [](char c) { return c >= '0' && c <= '9'; });
  return mesh_ui ? 1 : 0;
}

bool is_mesh_ui(std::string_view id) { return id_rank(id) == 1; }

bool valid_id(std::string_view id) {
  return !id.empty() &&
         std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c < 0x7f && c != '|'; });
}

bool all_capitals_word(std::string_view text) {
  if (text.size() < 2 || text.find(' ') != std::string_view::npos) return false;
  bool letter = false;
  for (char c : text) {
    if (c >= 'a' && c <= 'z') return false;
    letter |= is_ascii_upper(c);
  }
  return letter;
}

// Whether `abbreviation` can stand for `expansion` (lowercase): its letters appear in
// order in the expansion, starting with its first letter ("CRPS" for "complex regional
// pain syndromes", not "CBP3" for "liver").
bool abbreviates(std::string_view abbreviation, std::string_view expansion) {
  std::string letters;
  for (char c : abbreviation) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c >= 'a' && c <= 'z') letters += c;
  }
  const size_t start = expansion.find_first_not_of(" -(");
  if (letters.empty() || start == std::string_view::npos || expansion[start] != letters[0]) {
    return false;
  }
  size_t at = start + 1;
  for (size_t i = 1; i < letters.size(); ++i, ++at) {
    at = expansion.find(letters[i], at);
    if (at == std::string_view::npos) return false;
  }
  return true;
}

bool has_capital(std::string_view text) {
  return std::any_of(text.begin(), text.end(), is_ascii_upper);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Tokenising.

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  const size_t n = text.size();
  size_t pos = 0;
  while (pos < n) {
    Decoded d = decode(text, pos);
    if (!is_wordchar(d.ch)) {
      pos += d.size;
      continue;
    }
    const size_t start = pos;
    // Acronyms: "U.S.A." or "U.S.A" is one word when not followed by a word character.
    if (is_ascii_upper(text[pos]) && pos + 2 < n && text[pos + 1] == '.' &&
        is_ascii_upper(text[pos + 2])) {
      size_t q = pos;
      size_t letters = 0;
      while (q < n && is_ascii_upper(text[q])) {
        ++letters;
        ++q;
        if (q < n && text[q] == '.') {
          ++q;
          if (q < n && is_ascii_upper(text[q])) continue;
        }
        break;
      }
      const bool ends_word = q >= n || !is_wordchar(decode(text, q).ch);
      if (letters >= 2 && ends_word) {
        Token token;
        token.text = text.substr(start, q - start);
        token.offset = start;
        WordForm form = normalize(token.text, /*acronym=*/true);
        token.norm = std::move(form.norm);
        token.upper = true;
        tokens.push_back(std::move(token));
        pos = q;
        continue;
      }
    }
    unsigned previous = 0;
    while (pos < n) {
      d = decode(text, pos);
      if (is_wordchar(d.ch) || is_zero_width(d.ch)) {
        previous = d.ch;
        pos += d.size;
        continue;
      }
      if (pos + d.size < n) {
        const Decoded next = decode(text, pos + d.size);
        const bool joins = (is_infix(d.ch) && is_wordchar(next.ch)) ||
                           (is_digit_infix(d.ch) && is_digit(previous) && is_digit(next.ch));
        if (joins) {
          previous = next.ch;
          pos += d.size + next.size;
          continue;
        }
      }
      break;
    }
    // "C++", "C#", "CD4+": up to three + or # ending a word.
    size_t suffix_end = pos;
    while (suffix_end < n && (text[suffix_end] == '+' || text[suffix_end] == '#')) ++suffix_end;
    if (suffix_end > pos && suffix_end - pos <= 3 &&
        (suffix_end >= n || !is_wordchar(decode(text, suffix_end).ch))) {
      pos = suffix_end;
    }
    if (pos - start > kMaxWordBytes) continue;
    Token token;
    token.text = text.substr(start, pos - start);
    token.offset = start;
    const WordForm& form = normalize_cached(token.text);
    token.norm = form.norm;
    token.upper = form.upper;
    tokens.push_back(std::move(token));
  }
  return tokens;
}

std::string normalize_word(std::string_view word) {
  std::vector<Token> tokens = tokenize(word);
  if (tokens.size() == 1 && tokens[0].text.size() == word.size()) return std::move(tokens[0].norm);
  return normalize(word).norm;
}

// ---------------------------------------------------------------------------------------
// The vocabulary.

namespace {

// One way a trie node can end a match.
struct Terminal {
  uint32_t concept_index = 0;
  uint32_t exact_form = 0;  // index into Impl::exact_forms: mixed-case variant as written
  bool needs_capitals = false;
  bool short_abbreviation = false;
  bool ambiguous = false;
  bool operator==(const Terminal&) const = default;
};

// An ambiguous variant the text defines: trie node and concept.
struct Definition {
  uint32_t node = 0;
  uint32_t concept_index = 0;
  bool operator==(const Definition&) const = default;
};

constexpr uint32_t kNoWord = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kNoNode = std::numeric_limits<uint32_t>::max();

}  // namespace

struct Vocabulary::Impl {
  std::vector<Concept> concepts;
  // Loading state: a concept merged into another points to it (union-find); dead ones are
  // removed by compact() at the end of each load.
  std::vector<uint32_t> parent;
  bool has_dead = false;
  std::unordered_map<std::string, uint32_t> ids;                  // id and xrefs -> concept
  std::unordered_map<std::string, std::vector<uint32_t>> by_key;  // variant key -> concepts
  // "<concept>\x1f<key>\x1f<C if capitals>" -> ambiguous? ; deduplicates variants.
  std::unordered_map<std::string, bool> seen;
  // Abbreviation keys the project's TSV lists as unambiguous -> the concept ids listing them.
  std::unordered_map<std::string, std::vector<std::string>> pinned;
  // "<concept id>\x1f<key>" of variants the project's TSV marks ambiguous: no other source
  // makes them unambiguous.
  std::unordered_set<std::string> kept_ambiguous;

  // The matcher.
  bool compiled = false;
  bool precompiled = false;  // from_compiled(): ambiguity already settled
  std::unordered_map<std::string, uint32_t> words;
  std::unordered_map<uint64_t, uint32_t> edges;  // (node << 32 | word) -> child node
  std::vector<std::vector<Terminal>> terminals;  // per node
  std::vector<std::string> exact_forms{""};      // mixed-case abbreviations as written
  size_t max_depth = 0;

  // is_spelling_word()'s words, made at its first call (the indexer's builder
  // threads share the vocabulary), after loading.
  std::once_flag spelling_once;
  std::unordered_set<std::string> spelling_words;
  const std::unordered_set<std::string>& spelling_set() {
    std::call_once(spelling_once, [this] {
      for (const Concept& c : concepts)
        for (const std::string& v : c.variants)
          for (const Token& token : tokenize(v))
            if (token.norm.size() >= 3 && !token.upper)
              spelling_words.insert(ascii_lower(token.text));
    });
    return spelling_words;
  }

  uint32_t root(uint32_t index) {
    while (parent[index] != index) {
      parent[index] = parent[parent[index]];
      index = parent[index];
    }
    return index;
  }

  uint32_t create(const std::string& id, const std::string& name) {
    const auto index = static_cast<uint32_t>(concepts.size());
    Concept& c = concepts.emplace_back();
    c.id = id;
    c.name = clean_field(name);
    parent.push_back(index);
    ids[id] = index;
    compiled = false;
    add_variant(index, c.name, false);
    return index;
  }

  // The concept with this id, created if none. An id that a lower-precedence concept only
  // claims as an xref (a DO term's MeSH xref) gets its own concept, which absorbs it.
  uint32_t concept_for(const std::string& id, const std::string& name) {
    auto it = ids.find(id);
    if (it == ids.end()) return create(id, name);
    const uint32_t existing = root(it->second);
    if (concepts[existing].id == id || id_rank(concepts[existing].id) <= id_rank(id)) {
      return existing;
    }
    const uint32_t fresh = create(id, name);
    return unite(fresh, existing);
  }

  // Records that concept `index` is also known as `xref`, merging with its owner if any.
  uint32_t claim(uint32_t index, const std::string& xref) {
    index = root(index);
    auto it = ids.find(xref);
    if (it == ids.end()) {
      ids[xref] = index;
      concepts[index].xrefs.push_back(xref);
      return index;
    }
    const uint32_t other = root(it->second);
    return other == index ? index : unite(index, other);
  }

  // Merges two concepts; the one with the higher-precedence id survives.
  uint32_t unite(uint32_t a, uint32_t b) {
    a = root(a);
    b = root(b);
    if (a == b) return a;
    const int rank_a = id_rank(concepts[a].id);
    const int rank_b = id_rank(concepts[b].id);
    if (rank_b < rank_a || (rank_b == rank_a && b < a)) std::swap(a, b);
    Concept loser = std::move(concepts[b]);
    concepts[b] = Concept{};
    parent[b] = a;
    has_dead = true;
    compiled = false;
    ids[loser.id] = a;
    concepts[a].xrefs.push_back(loser.id);
    for (std::string& xref : loser.xrefs) {
      ids[xref] = a;
      concepts[a].xrefs.push_back(std::move(xref));
    }
    for (const std::string& v : loser.variants) add_variant(a, v, false);
    for (const std::string& v : loser.ambiguous) add_variant(a, v, true);
    return a;
  }

  // Adds a variant to a concept unless it has one that normalises the same; an ambiguous
  // variant given again as unambiguous becomes unambiguous.
  void add_variant(uint32_t index, std::string_view written, bool ambiguous) {
    index = root(index);
    std::string text = clean_field(written);
    if (text.empty()) return;
    const VariantKey key = variant_key(text);
    if (key.key.empty()) return;
    if (!ambiguous && !kept_ambiguous.empty() &&
        kept_ambiguous.count(concepts[index].id + '\x1f' + key.key)) {
      ambiguous = true;
    }
    std::string seen_key = std::to_string(index);
    seen_key += '\x1f';
    seen_key += key.key;
    if (key.needs_capitals)
      seen_key +=
          "\x1f"
          "C";
    auto [it, inserted] = seen.emplace(std::move(seen_key), ambiguous);
    Concept& c = concepts[index];
    compiled = false;
    if (inserted) {
      (ambiguous ? c.ambiguous : c.variants).push_back(std::move(text));
      std::vector<uint32_t>& owners = by_key[key.key];
      if (std::find(owners.begin(), owners.end(), index) == owners.end()) owners.push_back(index);
      return;
    }
    if (it->second && !ambiguous) {
      it->second = false;
      move_variant(c.ambiguous, c.variants, key);
    }
  }

  // The project's TSV marks a variant ambiguous: it stays so whatever other sources say.
  void keep_ambiguous(uint32_t index, std::string_view written) {
    index = root(index);
    const VariantKey key = variant_key(clean_field(written));
    kept_ambiguous.insert(concepts[index].id + '\x1f' + key.key);
    std::string seen_key = std::to_string(index) + '\x1f' + key.key;
    if (key.needs_capitals)
      seen_key +=
          "\x1f"
          "C";
    auto it = seen.find(seen_key);
    if (it != seen.end() && !it->second) {
      it->second = true;
      move_variant(concepts[index].variants, concepts[index].ambiguous, key);
    }
  }

  // Moves the variant of `from` that normalises like `key` to `to`.
  static void move_variant(std::vector<std::string>& from, std::vector<std::string>& to,
                           const VariantKey& key) {
    auto same = std::find_if(from.begin(), from.end(), [&](const std::string& v) {
      const VariantKey k = variant_key(v);
      return k.key == key.key && k.needs_capitals == key.needs_capitals;
    });
    if (same == from.end()) return;
    to.push_back(std::move(*same));
    from.erase(same);
  }

  // Living concepts whose variants normalise like `key`.
  std::vector<uint32_t> owners_of(const std::string& key) {
    std::vector<uint32_t> result;
    auto it = by_key.find(key);
    if (it == by_key.end()) return result;
    for (uint32_t index : it->second) {
      const uint32_t r = root(index);
      if (std::find(result.begin(), result.end(), r) == result.end()) result.push_back(r);
    }
    return result;
  }

  // Rebuilds the indexes from `concepts` (after removing merged concepts, or unserialising).
  void rebuild_indexes() {
    parent.resize(concepts.size());
    ids.clear();
    by_key.clear();
    seen.clear();
    for (uint32_t i = 0; i < concepts.size(); ++i) {
      parent[i] = i;
      ids[concepts[i].id] = i;
      for (const std::string& xref : concepts[i].xrefs) ids.emplace(xref, i);
      for (int pass = 0; pass < 2; ++pass) {
        for (const std::string& v : pass == 0 ? concepts[i].variants : concepts[i].ambiguous) {
          const VariantKey key = variant_key(v);
          std::string seen_key = std::to_string(i) + '\x1f' + key.key;
          if (key.needs_capitals)
            seen_key +=
                "\x1f"
                "C";
          seen.emplace(std::move(seen_key), pass == 1);
          std::vector<uint32_t>& owners = by_key[key.key];
          if (owners.empty() || owners.back() != i) owners.push_back(i);
        }
      }
    }
    has_dead = false;
  }

  // Removes merged concepts; called at the end of each load, so concept indexes are stable
  // between loads.
  void compact() {
    if (!has_dead) return;
    std::vector<Concept> alive;
    alive.reserve(concepts.size());
    for (uint32_t i = 0; i < concepts.size(); ++i) {
      if (parent[i] == i) alive.push_back(std::move(concepts[i]));
    }
    concepts = std::move(alive);
    rebuild_indexes();
  }

  void pin(const std::string& key, const std::string& concept_id) {
    std::vector<std::string>& owners = pinned[key];
    if (std::find(owners.begin(), owners.end(), concept_id) == owners.end()) {
      owners.push_back(concept_id);
    }
  }

  bool pinned_to(const std::string& key, const std::string& concept_id) const {
    auto it = pinned.find(key);
    return it != pinned.end() &&
           std::find(it->second.begin(), it->second.end(), concept_id) != it->second.end();
  }

  uint32_t word_id(const std::string& norm) const {
    auto it = words.find(norm);
    return it == words.end() ? kNoWord : it->second;
  }

  uint32_t child(uint32_t node, uint32_t word) const {
    if (word == kNoWord) return kNoNode;
    auto it = edges.find(uint64_t(node) << 32 | word);
    return it == edges.end() ? kNoNode : it->second;
  }

  void compile();
  // Capitalised abbreviations shared by several concepts become ambiguous (compile()).
  void settle_abbreviations();
  void build_trie();
  std::vector<ConceptMatch> match_pass(const std::vector<Token>& tokens,
                                       const std::vector<uint32_t>& word_ids,
                                       const MatchOptions& options,
                                       const std::vector<Definition>& defined) const;
  std::vector<Definition> find_definitions(std::string_view text, const std::vector<Token>& tokens,
                                           const std::vector<uint32_t>& word_ids,
                                           const std::vector<ConceptMatch>& matches) const;
};

namespace {

// The text between token `i` and token `i + 1` (or the end of the text), trimmed.
std::string_view gap_after(std::string_view text, const std::vector<Token>& tokens, size_t i) {
  const size_t from = tokens[i].offset + tokens[i].text.size();
  const size_t to = i + 1 < tokens.size() ? tokens[i + 1].offset : text.size();
  return trim(text.substr(from, to - from));
}

bool opens_parenthesis(std::string_view gap) { return gap == "(" || gap == "["; }

bool closes_parenthesis(std::string_view gap) {
  return !gap.empty() && (gap[0] == ')' || gap[0] == ']' || gap[0] == ',' || gap[0] == ';');
}

// "RCTs", "NMDARs": capitals and a plural s, which match the capitalised abbreviation.
bool capitals_plural(std::string_view word) {
  if (word.size() < 3 || word.back() != 's') return false;
  word.remove_suffix(1);
  return std::any_of(word.begin(), word.end(), is_ascii_upper) &&
         std::none_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// A token written in capitals among shouted words ("ALL PATIENTS"), where a short
// capitalised abbreviation is more likely a word.
bool shouted(const std::vector<Token>& tokens, size_t i) {
  bool any_neighbour = false;
  for (size_t j : {i - 1, i + 1}) {
    if (j >= tokens.size()) continue;  // i - 1 wraps around for i == 0
    any_neighbour = true;
    if (!tokens[j].upper || tokens[j].text.size() < 2) return false;
  }
  return any_neighbour;
}

}  // namespace

void Vocabulary::Impl::compile() {
  if (compiled) return;
  compact();
  if (!precompiled) settle_abbreviations();
  build_trie();
  compiled = true;
}

void Vocabulary::Impl::settle_abbreviations() {
  // Capitalised abbreviations shared by several concepts become ambiguous, unless the
  // project's TSV lists them for a concept (that concept keeps them unambiguous).
  std::unordered_map<std::string, std::vector<uint32_t>> abbreviation_owners;
  for (uint32_t i = 0; i < concepts.size(); ++i) {
    for (const std::string& v : concepts[i].variants) {
      // Only one-word variants of a few characters can be abbreviations; skip the rest cheaply.
      if (v.size() > 4 * kMaxAbbreviationChars || v.find(' ') != std::string::npos) continue;
      const VariantKey key = variant_key(v);
      if (!key.needs_capitals) continue;
      std::vector<uint32_t>& owners = abbreviation_owners[key.key];
      if (owners.empty() || owners.back() != i) owners.push_back(i);
    }
  }
  for (const auto& [key, owners] : abbreviation_owners) {
    if (owners.size() < 2) continue;
    for (uint32_t i : owners) {
      if (pinned_to(key, concepts[i].id)) continue;
      Concept& c = concepts[i];
      for (auto it = c.variants.begin(); it != c.variants.end();) {
        const VariantKey k = variant_key(*it);
        if (k.needs_capitals && k.key == key) {
          c.ambiguous.push_back(std::move(*it));
          it = c.variants.erase(it);
          seen[std::to_string(i) + '\x1f' + key +
               "\x1f"
               "C"] = true;
        } else {
          ++it;
        }
      }
    }
  }
}

void Vocabulary::Impl::build_trie() {
  words.clear();
  edges.clear();
  terminals.assign(1, {});
  exact_forms.assign(1, "");
  max_depth = 0;
  for (uint32_t i = 0; i < concepts.size(); ++i) {
    for (int pass = 0; pass < 2; ++pass) {
      for (const std::string& v : pass == 0 ? concepts[i].variants : concepts[i].ambiguous) {
        std::string storage;
        const std::vector<Token> tokens = tokenize(natural_order(v, storage));
        if (tokens.empty() || tokens.size() > kMaxVariantTokens) continue;
        uint32_t node = 0;
        for (const Token& token : tokens) {
          const auto [word, unused] =
              words.emplace(token.norm, static_cast<uint32_t>(words.size()));
          (void)unused;
          const auto [edge, added] = edges.emplace(uint64_t(node) << 32 | word->second,
                                                   static_cast<uint32_t>(terminals.size()));
          if (added) terminals.emplace_back();
          node = edge->second;
        }
        Terminal terminal;
        terminal.concept_index = i;
        terminal.ambiguous = pass == 1;
        if (tokens.size() == 1) {
          const AbbreviationForm form = abbreviation_form(tokens[0]);
          terminal.needs_capitals = form.needs_capitals;
          terminal.short_abbreviation = form.is_short;
          if (form.needs_capitals && !tokens[0].upper) {
            terminal.exact_form = static_cast<uint32_t>(exact_forms.size());
            exact_forms.emplace_back(tokens[0].text);
          }
        }
        std::vector<Terminal>& at = terminals[node];
        if (std::find(at.begin(), at.end(), terminal) == at.end()) at.push_back(terminal);
        max_depth = std::max(max_depth, tokens.size());
      }
    }
  }
}

std::vector<ConceptMatch> Vocabulary::Impl::match_pass(
    const std::vector<Token>& tokens, const std::vector<uint32_t>& word_ids,
    const MatchOptions& options, const std::vector<Definition>& defined) const {
  auto applies = [&](const Terminal& t, uint32_t node, size_t first) {
    if (t.needs_capitals && options.abbreviations_need_capitals) {
      const bool same_case = tokens[first].upper || capitals_plural(tokens[first].text) ||
                             (t.exact_form != 0 && tokens[first].text == exact_forms[t.exact_form]);
      if (!same_case) return false;
      if (t.short_abbreviation && shouted(tokens, first)) return false;
    }
    if (t.ambiguous && options.ambiguous_need_definition) {
      const Definition d{node, t.concept_index};
      return std::find(defined.begin(), defined.end(), d) != defined.end();
    }
    return true;
  };
  std::vector<ConceptMatch> matches;
  const size_t n = tokens.size();
  for (size_t i = 0; i < n;) {
    uint32_t node = 0;
    size_t best_length = 0;
    uint32_t best_node = 0;
    for (size_t j = i; j < n && j - i < max_depth; ++j) {
      node = child(node, word_ids[j]);
      if (node == kNoNode) break;
      for (const Terminal& t : terminals[node]) {
        if (applies(t, node, i)) {
          best_length = j - i + 1;
          best_node = node;
          break;
        }
      }
    }
    if (best_length == 0) {
      ++i;
      continue;
    }
    if (options.nested) {
      // Every applicable variant starting here, each concept once, then the next token.
      const size_t first_new = matches.size();
      node = 0;
      for (size_t j = i; j < n && j - i < max_depth; ++j) {
        node = child(node, word_ids[j]);
        if (node == kNoNode) break;
        for (const Terminal& t : terminals[node]) {
          if (!applies(t, node, i)) continue;
          auto same = std::find_if(
              matches.begin() + first_new, matches.end(),
              [&](const ConceptMatch& m) { return m.concept_index == t.concept_index; });
          if (same == matches.end()) matches.push_back({i, j - i + 1, t.concept_index});
        }
      }
      ++i;
      continue;
    }
    const size_t first_new = matches.size();
    for (const Terminal& t : terminals[best_node]) {
      if (!applies(t, best_node, i)) continue;
      const bool duplicate =
          std::any_of(matches.begin() + first_new, matches.end(),
                      [&](const ConceptMatch& m) { return m.concept_index == t.concept_index; });
      if (!duplicate) matches.push_back({i, best_length, t.concept_index});
    }
    i += best_length;
  }
  return matches;
}

std::vector<Definition> Vocabulary::Impl::find_definitions(
    std::string_view text, const std::vector<Token>& tokens, const std::vector<uint32_t>& word_ids,
    const std::vector<ConceptMatch>& matches) const {
  std::vector<Definition> defined;
  auto add = [&](uint32_t node, uint32_t concept_index) {
    for (const Terminal& t : terminals[node]) {
      if (t.ambiguous && t.concept_index == concept_index) {
        const Definition d{node, concept_index};
        if (std::find(defined.begin(), defined.end(), d) == defined.end()) defined.push_back(d);
      }
    }
  };
  const size_t n = tokens.size();
  for (const ConceptMatch& m : matches) {
    const size_t last = m.first_token + m.token_count - 1;
    // "treatment-resistant depression (TRD)"
    if (last + 1 < n && opens_parenthesis(gap_after(text, tokens, last))) {
      uint32_t node = 0;
      for (size_t j = last + 1; j < n && j - last <= max_depth; ++j) {
        node = child(node, word_ids[j]);
        if (node == kNoNode) break;
        if (closes_parenthesis(gap_after(text, tokens, j))) add(node, m.concept_index);
      }
    }
    // "TRD (treatment-resistant depression)"
    if (m.first_token >= 1 && opens_parenthesis(gap_after(text, tokens, m.first_token - 1)) &&
        closes_parenthesis(gap_after(text, tokens, last))) {
      const size_t end = m.first_token;  // the abbreviation ends just before
      for (size_t start = end; start-- > 0 && end - start <= max_depth;) {
        uint32_t node = 0;
        for (size_t j = start; j < end && node != kNoNode; ++j) node = child(node, word_ids[j]);
        if (node != kNoNode) add(node, m.concept_index);
        // The abbreviation does not reach over punctuation other than hyphens and slashes.
        const std::string_view gap = start > 0 ? gap_after(text, tokens, start - 1) : "";
        if (!gap.empty() && gap != "-" && gap != "/") break;
      }
    }
  }
  return defined;
}

Vocabulary::Vocabulary() : impl_(std::make_unique<Impl>()) {}
Vocabulary::~Vocabulary() = default;
Vocabulary::Vocabulary(Vocabulary&&) noexcept = default;
Vocabulary& Vocabulary::operator=(Vocabulary&&) noexcept = default;

const std::vector<Concept>& Vocabulary::concepts() const { return impl_->concepts; }

bool Vocabulary::compiled() const { return impl_->compiled; }

bool Vocabulary::is_spelling_word(const std::string& word) const {
  return impl_->spelling_set().count(word) > 0;
}

void Vocabulary::compile() { impl_->compile(); }

const Concept* Vocabulary::find(std::string_view id_or_name) const {
  Impl& impl = *impl_;
  if (auto it = impl.ids.find(std::string(id_or_name)); it != impl.ids.end()) {
    return &impl.concepts[impl.root(it->second)];
  }
  const VariantKey key = variant_key(id_or_name);
  if (key.key.empty()) return nullptr;
  const std::vector<uint32_t> owners = impl.owners_of(key.key);
  return owners.empty() ? nullptr : &impl.concepts[owners.front()];
}

std::vector<ConceptMatch> Vocabulary::match(std::string_view text, const std::vector<Token>& tokens,
                                            const MatchOptions& options) const {
  assert(impl_->compiled && "Vocabulary::compile() must be called before match()");
  if (!impl_->compiled || tokens.empty()) return {};
  std::vector<uint32_t> word_ids;
  word_ids.reserve(tokens.size());
  for (const Token& token : tokens) word_ids.push_back(impl_->word_id(token.norm));
  std::vector<ConceptMatch> matches = impl_->match_pass(tokens, word_ids, options, {});
  if (!options.ambiguous_need_definition) return matches;
  const std::vector<Definition> defined = impl_->find_definitions(text, tokens, word_ids, matches);
  if (defined.empty()) return matches;
  return impl_->match_pass(tokens, word_ids, options, defined);
}

// ---------------------------------------------------------------------------------------
// Loading.

Status Vocabulary::load_tsv(std::string_view text, const std::string& source_name) {
  Impl& impl = *impl_;
  LineReader reader(text);
  std::string_view line;
  while (reader.next(line)) {
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    const std::vector<std::string> fields = split(line, '\t');
    if (fields.size() < 2 || fields.size() > 4) {
      return line_error(source_name, reader.number(),
                        "expected id<TAB>name[<TAB>variants[<TAB>attributes]], got " +
                            std::to_string(fields.size()) + " field(s)");
    }
    const std::string id(trim(fields[0]));
    const std::string name = clean_field(fields[1]);
    if (!valid_id(id)) {
      return line_error(source_name, reader.number(),
                        "invalid concept id '" + id + "' (printable ASCII without spaces)");
    }
    if (name.empty()) return line_error(source_name, reader.number(), "empty preferred name");
    std::vector<std::string> mesh_ids;
    if (fields.size() == 4) {
      for (const std::string& attribute : split(clean_field(fields[3]), ' ')) {
        if (attribute.empty()) continue;
        const size_t eq = attribute.find('=');
        const std::string key = attribute.substr(0, std::min(eq, attribute.size()));
        if (eq == std::string::npos || (key != "mesh" && key != "xref")) {
          return line_error(
              source_name, reader.number(),
              "unknown attribute '" + attribute + "' (expected mesh=D... or xref=...)");
        }
        for (const std::string& value : split(attribute.substr(eq + 1), ',')) {
          if (key == "mesh" && !is_mesh_ui(value)) {
            return line_error(source_name, reader.number(),
                              "invalid MeSH id '" + value + "' (expected D followed by digits)");
          }
          if (!valid_id(value)) {
            return line_error(source_name, reader.number(), "invalid xref '" + value + "'");
          }
          mesh_ids.push_back(value);
        }
      }
    }
    uint32_t index = impl.concept_for(id, name);
    for (const std::string& xref : mesh_ids) index = impl.claim(index, xref);
    impl.add_variant(index, name, false);
    if (fields.size() >= 3) {
      for (const std::string& raw : split(fields[2], '|')) {
        std::string variant = clean_field(raw);
        if (variant.empty()) continue;
        const bool ambiguous = variant.back() == '?';
        if (ambiguous) variant.pop_back();
        const VariantKey key = variant_key(variant);
        if (key.key.empty()) {
          return line_error(source_name, reader.number(), "variant '" + variant + "' has no words");
        }
        const std::string& concept_id = impl.concepts[impl.root(index)].id;
        if (!ambiguous && key.needs_capitals) impl.pin(key.key, concept_id);
        impl.add_variant(index, variant, ambiguous);
        if (ambiguous) impl.keep_ambiguous(index, variant);
      }
    }
  }
  impl.compact();
  return {};
}

namespace {

// MeSH entry "CRPS (Complex Regional Pain Syndromes)": both parts when one of them is a
// capitalised abbreviation, else the entry as a whole.
std::vector<std::string> mesh_entry_parts(std::string_view entry) {
  const size_t open = entry.rfind(" (");
  if (open != std::string_view::npos && !entry.empty() && entry.back() == ')') {
    const std::string_view outside = trim(entry.substr(0, open));
    const std::string_view inside = trim(entry.substr(open + 2, entry.size() - open - 3));
    const std::string expansion_outside = ascii_lower(outside);
    const std::string expansion_inside = ascii_lower(inside);
    if (inside.find('(') == std::string_view::npos &&
        ((all_capitals_word(outside) && abbreviates(outside, expansion_inside)) ||
         (all_capitals_word(inside) && abbreviates(inside, expansion_outside)))) {
      return {std::string(outside), std::string(inside)};
    }
  }
  return {std::string(entry)};
}

}  // namespace

Status Vocabulary::load_mesh(std::string_view text, const std::string& source_name) {
  Impl& impl = *impl_;
  struct Record {
    size_t line = 0;
    std::string ui, heading;
    std::vector<std::string> entries;
  };
  Record record;
  bool in_record = false;
  auto flush = [&]() -> Status {
    if (!in_record) return {};
    if (record.ui.empty() || record.heading.empty()) {
      return line_error(source_name, record.line, "MeSH record without MH or UI");
    }
    const uint32_t index = impl.concept_for(record.ui, record.heading);
    impl.add_variant(index, record.heading, false);
    for (const std::string& entry : record.entries) {
      for (const std::string& part : mesh_entry_parts(entry)) impl.add_variant(index, part, false);
    }
    return {};
  };
  LineReader reader(text);
  std::string_view line;
  while (reader.next(line)) {
    if (trim(line).empty()) continue;
    if (line == "*NEWRECORD") {
      if (Status s = flush(); !s) return s;
      record = Record{};
      record.line = reader.number();
      in_record = true;
      continue;
    }
    const size_t eq = line.find(" = ");
    if (!in_record || eq == std::string_view::npos) {
      return line_error(source_name, reader.number(),
                        in_record ? "expected 'FIELD = value'" : "expected *NEWRECORD");
    }
    const std::string_view field = line.substr(0, eq);
    std::string_view value = line.substr(eq + 3);
    if (field == "ENTRY" || field == "PRINT ENTRY") {
      value = trim(value.substr(0, value.find('|')));  // later |-fields are codes
      if (!value.empty()) record.entries.emplace_back(value);
    } else if (field == "MH") {
      record.heading = clean_field(value);
    } else if (field == "UI") {
      record.ui = std::string(trim(value));
      if (!is_mesh_ui(record.ui)) {
        return line_error(source_name, reader.number(), "invalid MeSH UI '" + record.ui + "'");
      }
    }
  }
  if (Status s = flush(); !s) return s;
  impl.compact();
  return {};
}

namespace {

// The quoted text at the start of an OBO synonym value, and the scope after it.
bool parse_obo_synonym(std::string_view value, std::string& text, std::string& scope) {
  if (value.empty() || value[0] != '"') return false;
  text.clear();
  size_t i = 1;
  for (; i < value.size() && value[i] != '"'; ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) ++i;
    text += value[i];
  }
  if (i >= value.size()) return false;
  std::string_view rest = trim(value.substr(i + 1));
  scope = std::string(rest.substr(0, rest.find(' ')));
  return true;
}

}  // namespace

Status Vocabulary::load_obo(std::string_view text, const std::string& source_name) {
  Impl& impl = *impl_;
  struct Term {
    size_t line = 0;
    std::string id, name;
    std::vector<std::string> synonyms, mesh;
    bool obsolete = false;
  };
  Term term;
  bool in_term = false;
  auto flush = [&]() -> Status {
    if (!in_term || term.obsolete) return {};
    if (term.id.empty() || term.name.empty()) {
      return line_error(source_name, term.line, "[Term] without id or name");
    }
    uint32_t index;
    auto known = std::find_if(term.mesh.begin(), term.mesh.end(),
                              [&](const std::string& ui) { return impl.ids.count(ui) > 0; });
    if (known != term.mesh.end()) {
      index = impl.claim(impl.ids[*known], term.id);
    } else {
      index = impl.concept_for(term.id, term.name);
      // Only the first MeSH xref: claiming two would merge two MeSH descriptors later.
      if (!term.mesh.empty()) index = impl.claim(index, term.mesh.front());
    }
    impl.add_variant(index, term.name, false);
    for (const std::string& synonym : term.synonyms) impl.add_variant(index, synonym, false);
    return {};
  };
  LineReader reader(text);
  std::string_view line;
  std::string synonym, scope;
  while (reader.next(line)) {
    line = trim(line);
    if (line.empty() || line[0] == '!') continue;
    if (line[0] == '[') {
      if (Status s = flush(); !s) return s;
      term = Term{};
      term.line = reader.number();
      in_term = line == "[Term]";
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return line_error(source_name, reader.number(), "expected 'tag: value'");
    }
    if (!in_term) continue;  // header and [Typedef] stanzas
    const std::string_view tag = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (tag == "id") {
      term.id = std::string(value);
    } else if (tag == "name") {
      term.name = clean_field(value);
    } else if (tag == "synonym") {
      if (!parse_obo_synonym(value, synonym, scope)) {
        return line_error(source_name, reader.number(),
                          "malformed synonym (expected \"text\" SCOPE)");
      }
      if (scope == "EXACT" || scope == "RELATED") term.synonyms.push_back(synonym);
    } else if (tag == "xref" && value.substr(0, 4) == "MSH:") {
      std::string_view ui = value.substr(4);
      ui = ui.substr(0, ui.find(' '));
      if (is_mesh_ui(ui)) term.mesh.emplace_back(ui);
    } else if (tag == "is_obsolete" && value == "true") {
      term.obsolete = true;
    }
  }
  if (Status s = flush(); !s) return s;
  impl.compact();
  return {};
}

Status Vocabulary::load_abbreviations(std::string_view text, const std::string& source_name) {
  Impl& impl = *impl_;
  LineReader reader(text);
  std::string_view line;
  if (!reader.next(line) || !starts_with_nocase(line, "abbreviation\t")) {
    return line_error(source_name, 1, "expected header 'abbreviation<TAB>meaning'");
  }
  // Abbreviation as written -> its distinct meanings (by key), in file order.
  struct Meaning {
    std::string text, key;
  };
  std::vector<std::pair<std::string, std::vector<Meaning>>> groups;
  std::unordered_map<std::string, size_t> group_of;
  while (reader.next(line)) {
    if (trim(line).empty()) continue;
    const std::vector<std::string> fields = split(line, '\t');
    if (fields.size() < 2 || trim(fields[0]).empty() || trim(fields[1]).empty()) {
      return line_error(source_name, reader.number(), "expected abbreviation<TAB>meaning");
    }
    std::string abbreviation = clean_field(fields[0]);
    // "before meals (ante cibum)" -> "before meals": the parenthesis explains.
    std::string meaning = clean_field(fields[1]);
    if (meaning[0] == '[') continue;  // a note, not a meaning
    if (size_t open = meaning.find(" ("); open != std::string::npos) meaning.resize(open);
    const VariantKey key = variant_key(meaning);
    if (key.key.empty()) continue;
    auto [it, inserted] = group_of.emplace(abbreviation, groups.size());
    if (inserted) groups.emplace_back(std::move(abbreviation), std::vector<Meaning>{});
    std::vector<Meaning>& meanings = groups[it->second].second;
    const bool known = std::any_of(meanings.begin(), meanings.end(),
                                   [&](const Meaning& m) { return m.key == key.key; });
    if (!known) meanings.push_back({meaning, key.key});
  }
  for (const auto& [abbreviation, meanings] : groups) {
    const VariantKey abbreviation_key = variant_key(abbreviation);
    if (abbreviation_key.key.empty() || normalize(abbreviation).chars < 2) continue;
    const bool pinned = impl.pinned.count(abbreviation_key.key) > 0;
    // Two-character abbreviations (MS, RA, PT, OR) collide with too much: always ambiguous.
    const bool ambiguous = meanings.size() > 1 || normalize(abbreviation).chars <= 2;
    for (const Meaning& meaning : meanings) {
      const std::vector<uint32_t> owners = impl.owners_of(meaning.key);
      for (uint32_t index : owners) {
        const bool unambiguous =
            pinned ? impl.pinned_to(abbreviation_key.key, impl.concepts[index].id) : !ambiguous;
        impl.add_variant(index, abbreviation, !unambiguous);
      }
      if (owners.empty() && !ambiguous && !pinned && has_capital(abbreviation)) {
        std::string id = "abbr:" + meaning.key;
        std::replace(id.begin(), id.end(), ' ', '_');
        const uint32_t index = impl.concept_for(id, meaning.text);
        impl.add_variant(index, abbreviation, false);
      }
    }
  }
  impl.compact();
  return {};
}

Status Vocabulary::load_file(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return fail("cannot open '" + path + "': " + std::strerror(errno ? errno : ENOMEM));
  }
  std::string data;
  char buffer[1 << 16];
  int got;
  while ((got = gzread(file, buffer, sizeof buffer)) > 0) data.append(buffer, size_t(got));
  int code = Z_OK;
  std::string message = gzerror(file, &code);
  if (message.starts_with(path + ": ")) message.erase(0, path.size() + 2);
  // gzread reports a gzip file cut short as a plain end of file; gzerror
  // tells (Z_BUF_ERROR), and half a MeSH file must not pass for a whole one.
  if (got < 0 || code == Z_BUF_ERROR) {
    gzclose(file);
    return fail("cannot read '" + path + "': " + message);
  }
  gzclose(file);
  std::string_view text = data;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const size_t first = text.find_first_not_of(" \t\r\n");
  const std::string_view start = first == std::string_view::npos ? "" : text.substr(first);
  if (start.substr(0, 10) == "*NEWRECORD") return load_mesh(data, path);
  if (start.substr(0, 15) == "format-version:" || start.substr(0, 6) == "[Term]") {
    return load_obo(data, path);
  }
  if (starts_with_nocase(start, "abbreviation\t")) return load_abbreviations(data, path);
  return load_tsv(data, path);
}

Status Vocabulary::load_core() { return load_file(default_core_path()); }

std::string Vocabulary::default_core_path() {
  constexpr const char* kRelative = "vocabulary/core.tsv";
  if (const char* dir = std::getenv("MEDSEARCH_DATA_DIR"); dir != nullptr && *dir != '\0') {
    return std::string(dir) + "/" + kRelative;
  }
#ifdef MEDSEARCH_SOURCE_DATA_DIR
  return std::string(MEDSEARCH_SOURCE_DATA_DIR) + "/" + kRelative;
#else
  std::error_code error;
  const std::filesystem::path program = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return std::string("data/") + kRelative;
  return (program.parent_path() / "../../data" / kRelative).lexically_normal().string();
#endif
}

// ---------------------------------------------------------------------------------------
// Serialising.

namespace {

// A concept as the lines of serialise(): "C\tid\tname", then V, A and X lines.
void append_concept_lines(std::string& out, const Concept& c) {
  out += "C\t" + c.id + '\t' + c.name + '\n';
  for (const std::string& v : c.variants) out += "V\t" + v + '\n';
  for (const std::string& v : c.ambiguous) out += "A\t" + v + '\n';
  for (const std::string& x : c.xrefs) out += "X\t" + x + '\n';
}

}  // namespace

std::string Vocabulary::serialise() const {
  std::string out(kSerialisedMagic);
  out += '\n';
  for (const Concept& c : impl_->concepts) append_concept_lines(out, c);
  std::vector<std::pair<std::string, std::string>> pins;
  for (const auto& [key, owners] : impl_->pinned) {
    for (const std::string& id : owners) pins.emplace_back(key, id);
  }
  std::sort(pins.begin(), pins.end());
  for (const auto& [key, id] : pins) out += "P\t" + key + '\t' + id + '\n';
  std::vector<std::string> kept(impl_->kept_ambiguous.begin(), impl_->kept_ambiguous.end());
  std::sort(kept.begin(), kept.end());
  for (const std::string& entry : kept) {
    const size_t separator = entry.find('\x1f');
    out += "Q\t" + entry.substr(separator + 1) + '\t' + entry.substr(0, separator) + '\n';
  }
  return out;
}

Result<Vocabulary> Vocabulary::unserialise(std::string_view data) {
  Vocabulary vocabulary;
  Impl& impl = *vocabulary.impl_;
  LineReader reader(data);
  std::string_view line;
  auto error = [&](const std::string& message) {
    return fail("serialised vocabulary, line " + std::to_string(reader.number()) + ": " + message);
  };
  if (!reader.next(line) || line != kSerialisedMagic) {
    return fail("serialised vocabulary: unknown format (expected '" +
                std::string(kSerialisedMagic) + "')");
  }
  while (reader.next(line)) {
    if (line.empty()) continue;
    const std::vector<std::string> fields = split(line, '\t');
    const std::string& kind = fields[0];
    if (kind == "C" && fields.size() == 3) {
      impl.concepts.push_back(Concept{fields[1], fields[2], {}, {}, {}});
    } else if (kind == "P" && fields.size() == 3) {
      impl.pin(fields[1], fields[2]);
    } else if (kind == "Q" && fields.size() == 3) {
      impl.kept_ambiguous.insert(fields[2] + '\x1f' + fields[1]);
    } else if ((kind == "V" || kind == "A" || kind == "X") && fields.size() == 2) {
      if (impl.concepts.empty()) return error("variant before any concept");
      Concept& c = impl.concepts.back();
      (kind == "V" ? c.variants : kind == "A" ? c.ambiguous : c.xrefs).push_back(fields[1]);
    } else {
      return error("unexpected '" + std::string(utf8_prefix(line, 40)) + "'");
    }
  }
  impl.rebuild_indexes();
  impl.compile();
  return vocabulary;
}

std::vector<std::pair<std::string, std::string>> Vocabulary::single_word_synonyms() const {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<std::string> words;
  for (const Concept& c : impl_->concepts) {
    words.clear();
    for (const std::string& v : c.variants) {
      const VariantKey key = variant_key(v);
      if (key.token_count == 1 && !key.needs_capitals) words.push_back(key.key);
    }
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    for (const std::string& a : words) {
      for (const std::string& b : words) {
        if (a != b) pairs.emplace_back(a, b);
      }
    }
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}

// ---------------------------------------------------------------------------------------
// In pieces: stored in an index, read back a query at a time.

namespace {

constexpr std::string_view kConceptPiece = "c:";
constexpr std::string_view kXrefPiece = "x:";
constexpr std::string_view kWordPiece = "w:";
constexpr std::string_view kSpellingWordPiece = "s:";

// The concept of a "c:" piece; nullopt if the piece is not one.
std::optional<Concept> parse_concept_piece(std::string_view piece) {
  LineReader reader(piece);
  std::string_view line;
  std::optional<Concept> c;
  while (reader.next(line)) {
    if (line.empty()) continue;
    const std::vector<std::string> fields = split(line, '\t');
    if (fields[0] == "C" && fields.size() == 3 && !c) {
      c = Concept{fields[1], fields[2], {}, {}, {}};
    } else if (c && fields.size() == 2 &&
               (fields[0] == "V" || fields[0] == "A" || fields[0] == "X")) {
      (fields[0] == "V"   ? c->variants
       : fields[0] == "A" ? c->ambiguous
                          : c->xrefs)
          .push_back(fields[1]);
    } else {
      return std::nullopt;
    }
  }
  return c;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> Vocabulary::pieces() const {
  assert(impl_->compiled && "Vocabulary::pieces() needs compile()");
  std::vector<std::pair<std::string, std::string>> out;
  std::map<std::string, std::string> by_word;
  for (const Concept& c : impl_->concepts) {
    std::string lines;
    append_concept_lines(lines, c);
    out.emplace_back(std::string(kConceptPiece) + c.id, std::move(lines));
    for (const std::string& x : c.xrefs) out.emplace_back(std::string(kXrefPiece) + x, c.id);
    for (int pass = 0; pass < 2; ++pass) {
      for (const std::string& v : pass == 0 ? c.variants : c.ambiguous) {
        std::string storage;
        const std::vector<Token> tokens = tokenize(natural_order(v, storage));
        if (tokens.empty() || tokens.size() > kMaxVariantTokens) continue;
        std::string& entry = by_word[tokens[0].norm];
        entry += c.id;
        entry += pass == 0 ? "\tV\t" : "\tA\t";
        entry += v;
        // Its other words, normalised: for_text() checks them against the
        // text's without tokenising the variant.
        entry += '\t';
        for (size_t i = 1; i < tokens.size(); ++i) {
          if (i > 1) entry += ' ';
          entry += tokens[i].norm;
        }
        entry += '\n';
      }
    }
  }
  for (auto& [word, entry] : by_word)
    out.emplace_back(std::string(kWordPiece) + word, std::move(entry));
  const std::unordered_set<std::string>& words = impl_->spelling_set();
  std::vector<std::string> spelling_words(words.begin(), words.end());
  std::sort(spelling_words.begin(), spelling_words.end());
  for (const std::string& word : spelling_words)
    out.emplace_back(std::string(kSpellingWordPiece) + word, "1");
  return out;
}

Vocabulary Vocabulary::from_compiled(std::vector<Concept> concepts) {
  Vocabulary vocabulary;
  Impl& impl = *vocabulary.impl_;
  impl.concepts = std::move(concepts);
  impl.precompiled = true;
  impl.rebuild_indexes();
  impl.compile();
  return vocabulary;
}

StoredVocabulary::StoredVocabulary(std::function<std::string(const std::string&)> lookup)
    : lookup_(std::move(lookup)) {}

const std::string& StoredVocabulary::piece(const std::string& key) const {
  // A long-running searcher reads the same few thousand pieces again and again.
  constexpr size_t kMaxCached = 20000;
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  if (cache_.size() >= kMaxCached) cache_.clear();
  return cache_.emplace(key, lookup_(key)).first->second;
}

std::optional<Concept> StoredVocabulary::concept_by_id(const std::string& id) const {
  const std::string& found = piece(std::string(kConceptPiece) + id);
  if (!found.empty()) return parse_concept_piece(found);
  const std::string& owner = piece(std::string(kXrefPiece) + id);
  if (owner.empty()) return std::nullopt;
  return parse_concept_piece(piece(std::string(kConceptPiece) + owner));
}

Vocabulary StoredVocabulary::for_text(std::string_view text) const {
  std::vector<std::string> words;
  for (const Token& token : tokenize(text)) words.push_back(token.norm);
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  // Matching compares the words of a variant with those of the text, so a
  // variant with a word the text lacks cannot match: it is left out, which
  // spares compiling the hundreds of variants a common first word ("pain",
  // "acute") begins.
  auto in_text = [&words](const std::vector<std::string>& fields) {
    if (fields.size() == 4) {  // the variant's other words, normalised when stored
      for (std::string_view rest = fields[3]; !rest.empty();) {
        const size_t space = rest.find(' ');
        if (!std::binary_search(words.begin(), words.end(), rest.substr(0, space))) return false;
        rest.remove_prefix(space == std::string_view::npos ? rest.size() : space + 1);
      }
      return true;
    }
    std::string storage;  // pieces stored before the words were (three fields)
    for (const Token& token : tokenize(natural_order(fields[2], storage)))
      if (!std::binary_search(words.begin(), words.end(), token.norm)) return false;
    return true;
  };
  std::vector<Concept> concepts;
  std::unordered_map<std::string, size_t> index;  // id -> position in concepts
  for (const std::string& word : words) {
    LineReader reader(piece(std::string(kWordPiece) + word));
    std::string_view line;
    while (reader.next(line)) {
      const std::vector<std::string> fields = split(line, '\t');
      if ((fields.size() != 3 && fields.size() != 4) || !in_text(fields)) continue;
      auto [it, added] = index.emplace(fields[0], concepts.size());
      if (added) concepts.push_back(Concept{fields[0], "", {}, {}, {}});
      Concept& c = concepts[it->second];
      (fields[1] == "A" ? c.ambiguous : c.variants).push_back(fields[2]);
    }
  }
  return Vocabulary::from_compiled(std::move(concepts));
}

bool StoredVocabulary::is_spelling_word(std::string_view word) const {
  return !piece(std::string(kSpellingWordPiece) + std::string(word)).empty();
}

Vocabulary StoredVocabulary::with_concepts(const std::vector<std::string>& ids) const {
  std::vector<Concept> concepts;
  for (const std::string& id : ids)
    if (std::optional<Concept> c = concept_by_id(id)) concepts.push_back(std::move(*c));
  return Vocabulary::from_compiled(std::move(concepts));
}

std::optional<Concept> StoredVocabulary::find(std::string_view id_or_name) const {
  if (std::optional<Concept> c = concept_by_id(std::string(id_or_name))) return c;
  // By name: only concepts with a variant starting with the name's first word can have a
  // variant written like it.
  Vocabulary part = for_text(id_or_name);
  const Concept* found = part.find(id_or_name);
  if (!found) return std::nullopt;
  return concept_by_id(found->id);
}

}  // namespace medsearch
