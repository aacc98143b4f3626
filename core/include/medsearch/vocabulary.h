// The medical vocabulary: concepts with their variants (abbreviations, full forms,
// spelling variants, brand and generic names, inverted headings), loaded from the
// project's curated TSV, NLM MeSH, the Disease Ontology and abbreviation lists, and a
// matcher that finds every variant of every concept in tokenised text. The indexer adds
// a concept term (schema::kConcept + id) where a concept matches; the searcher maps query
// text to the same concepts. docs/vocabulary.md describes the model and formats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "medsearch/result.h"

namespace medsearch {

// One medical concept and the ways of writing it.
struct Concept {
  std::string id;    // short ASCII: "crps", a MeSH UI "D020918", "DOID:1234", "abbr:..."
  std::string name;  // preferred name
  std::vector<std::string> variants;   // as written in the sources, name included
  std::vector<std::string> ambiguous;  // variants tagged only where the document defines them
  std::vector<std::string> xrefs;      // other ids merged into this one ("D020918", "DOID:2")
};

// One word of a text, split the way Xapian's TermGenerator splits it, so that the index
// of a token in tokenize()'s result is its term position minus one.
struct Token {
  std::string_view text;  // as written (points into the tokenised text)
  size_t offset = 0;      // byte offset in the text
  std::string norm;       // normalised form used for matching
  bool upper = false;     // written all in capitals (at least one letter, no lowercase)
};

// The words of `text` (UTF-8). Words are runs of letters and digits; hyphens, slashes and
// other punctuation split words, while Xapian's joins are kept ("don't", "3.5", "AT&T",
// "C++", "U.S.A."). Words over 64 bytes are dropped, as Xapian drops them. `text` must
// outlive the tokens.
std::vector<Token> tokenize(std::string_view text);

// The normalised form of one word: lowercase, accents folded, Greek letters spelt out,
// fold_spelling(), possessive 's removed, then a light singularisation (receptors ->
// receptor, therapies -> therapy; not analysis, diabetes, or words written in capitals).
std::string normalize_word(std::string_view word);

// A run of tokens naming a concept.
struct ConceptMatch {
  size_t first_token = 0;  // index into the token vector
  size_t token_count = 0;
  uint32_t concept_index = 0;  // index into Vocabulary::concepts()
};

// How match() treats case and ambiguity. The defaults are for documents; a searcher
// mapping a typed query may relax them.
struct MatchOptions {
  // A variant written in capitals of at most 6 characters (CRPS, MS) matches only a
  // token written in capitals ("10 ms" is not multiple sclerosis).
  bool abbreviations_need_capitals = true;
  // Ambiguous variants match only where the text defines them ("... depression (TRD)").
  // When false they match everywhere, once per concept they may stand for.
  bool ambiguous_need_definition = true;
  // Also report the concepts named inside a longer match: every variant that starts at
  // any token, not only the longest one ("N-methyl-D-aspartate receptors" gives the
  // receptor and N-methyl-D-aspartate). For indexing, so that a search for the part
  // finds texts that name the whole; matches may then overlap.
  bool nested = false;
};

// The whole vocabulary and its matcher. Loading is not thread-safe; after compile(), the
// const member functions may be called from several threads at once.
class Vocabulary {
 public:
  Vocabulary();
  ~Vocabulary();
  Vocabulary(Vocabulary&&) noexcept;
  Vocabulary& operator=(Vocabulary&&) noexcept;
  Vocabulary(const Vocabulary&) = delete;
  Vocabulary& operator=(const Vocabulary&) = delete;

  // Loads a file (gzip-compressed or not), format chosen by content: MeSH ASCII
  // (`*NEWRECORD`), OBO (`[Term]`), an abbreviation list (header `abbreviation<TAB>...`),
  // else the project's TSV. A UTF-8 BOM and CRLF line ends are accepted. Errors name
  // the file and line.
  Status load_file(const std::string& path);
  // The project's TSV: `id<TAB>name<TAB>variant|variant?|...<TAB>mesh=D...` (see
  // data/vocabulary/README.md). `source_name` is used in error messages.
  Status load_tsv(std::string_view text, const std::string& source_name);
  // NLM MeSH ASCII descriptors: MH is the name, ENTRY/PRINT ENTRY (first |-field) are
  // variants, UI the id. Inverted entries also give the natural order; "CRPS (Complex
  // Regional Pain Syndromes)" gives both parts.
  Status load_mesh(std::string_view text, const std::string& source_name);
  // OBO (Disease Ontology): id, name, EXACT and RELATED synonyms; `xref: MSH:D...` merges
  // the term into that MeSH concept. Obsolete terms are skipped.
  Status load_obo(std::string_view text, const std::string& source_name);
  // `abbreviation<TAB>meaning[<TAB>...]` with a header line. See docs/vocabulary.md for
  // how abbreviations attach to concepts and when they are ambiguous.
  Status load_abbreviations(std::string_view text, const std::string& source_name);
  // Loads default_core_path().
  Status load_core();

  // The shipped core vocabulary: $MEDSEARCH_DATA_DIR/vocabulary/core.tsv if that variable
  // is set; else MEDSEARCH_SOURCE_DATA_DIR/vocabulary/core.tsv if the library was built
  // with that macro (the data/ directory of the source tree); else
  // <directory of the running program>/../../data/vocabulary/core.tsv (build/bin -> source).
  static std::string default_core_path();

  // All concepts, in load order (merged concepts appear once).
  const std::vector<Concept>& concepts() const;
  // The concept with this id (or merged xref id), else the first concept with a variant
  // that normalises like `id_or_name` ("Receptors, NMDA" is tried as "NMDA Receptors").
  // nullptr if none.
  const Concept* find(std::string_view id_or_name) const;

  // Builds the matcher after loading (idempotent; loading more invalidates it). Also makes
  // a capitalised abbreviation that several concepts share ambiguous unless the project's
  // TSV lists it as unambiguous.
  void compile();
  bool compiled() const;

  // Whether `word` (ASCII-lowercased as written) is a word of a variant (not an ambiguous
  // one), of three characters or more and not written in capitals: a word spelling
  // correction leaves alone, and which counts double as a correction (see
  // StoredVocabulary::is_spelling_word). Thread-safe; call it after loading.
  bool is_spelling_word(const std::string& word) const;

  // Longest-match, left-to-right, non-overlapping concept matches in `tokens` (from
  // tokenize(text)), in token order (with options.nested, all matches, by start); one match per
  // concept where a variant belongs to several. Time is linear in the number of tokens (times the
  // longest variant, in words). Requires compile().
  std::vector<ConceptMatch> match(std::string_view text, const std::vector<Token>& tokens,
                                  const MatchOptions& options = {}) const;

  // The whole vocabulary (concepts, variants, ambiguity, xrefs) as a string, for storing
  // in the index's metadata, and back (compiled). Byte-identical for equal vocabularies.
  std::string serialise() const;
  static Result<Vocabulary> unserialise(std::string_view data);

  // The compiled vocabulary as key -> value pieces, for an index's metadata, from which
  // StoredVocabulary reads only what a query needs. Requires compile(). Keys:
  //   "c:" id     the concept: "C\tid\tname" then "V\t", "A\t", "X\t" lines as serialise()
  //   "x:" xref   the id of the concept that merged xref
  //   "w:" word   "id\t(V|A)\tvariant" lines: every variant whose first word (in natural
  //               order, normalised as tokenize() does) is `word`
  std::vector<std::pair<std::string, std::string>> pieces() const;

  // A matcher over concepts whose ambiguity a compiled Vocabulary has settled (read back
  // from its pieces): no merging and no abbreviation pass, so it matches as that
  // vocabulary does for texts whose words start no other variant. Compiled.
  static Vocabulary from_compiled(std::vector<Concept> concepts);

  // Pairs (normalised word, another single-word normalised variant of the same concept),
  // both directions, sorted and unique, for Xapian's synonym table. Ambiguous variants and
  // capitalised abbreviations are left out.
  std::vector<std::pair<std::string, std::string>> single_word_synonyms() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A vocabulary read a piece at a time (Vocabulary::pieces()) from where an index keeps it:
// what one query needs, without loading the whole, which takes most of a second for MeSH.
// Not thread-safe (pieces read are cached).
class StoredVocabulary {
 public:
  // `lookup(key)` is the piece stored under `key`, or "" if none.
  explicit StoredVocabulary(std::function<std::string(const std::string&)> lookup);

  // The concepts that may match in `text`: each one with its variants whose first word is a
  // word of `text`. Matching `text` with it gives what the whole vocabulary gives.
  Vocabulary for_text(std::string_view text) const;
  // The concepts with these ids, whole (unknown ids are left out).
  Vocabulary with_concepts(const std::vector<std::string>& ids) const;
  // As Vocabulary::find: by id or merged xref id, else by a variant written like `id_or_name`.
  std::optional<Concept> find(std::string_view id_or_name) const;
  // Whether `word` (ASCII-lowercased as written) is a word of a variant (not an
  // ambiguous one) that spelling correction must leave alone: three characters
  // or more, not written in capitals. Always false on pieces of format 2 and
  // older, which have no "s:" pieces.
  bool is_spelling_word(std::string_view word) const;

 private:
  const std::string& piece(const std::string& key) const;
  std::optional<Concept> concept_by_id(const std::string& id) const;

  std::function<std::string(const std::string&)> lookup_;
  mutable std::unordered_map<std::string, std::string> cache_;
};

}  // namespace medsearch
