#include "medsearch/vocabulary.h"

#include <xapian.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "medsearch/text.h"
#include "process.h"

using namespace medsearch;
using medsearch::testing::source_path;

namespace {

// Ids of the concepts matched in `text`, in order, each once.
std::vector<std::string> concept_ids(const Vocabulary& vocabulary, std::string_view text,
                                     const MatchOptions& options = {}) {
  const std::vector<Token> tokens = tokenize(text);
  std::vector<std::string> ids;
  for (const ConceptMatch& m : vocabulary.match(text, tokens, options)) {
    const std::string& id = vocabulary.concepts()[m.concept_index].id;
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

bool has(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// "id@first+count" for each match, to check positions.
std::vector<std::string> spans(const Vocabulary& vocabulary, std::string_view text,
                               const MatchOptions& options = {}) {
  const std::vector<Token> tokens = tokenize(text);
  std::vector<std::string> result;
  for (const ConceptMatch& m : vocabulary.match(text, tokens, options)) {
    result.push_back(vocabulary.concepts()[m.concept_index].id + "@" +
                     std::to_string(m.first_token) + "+" + std::to_string(m.token_count));
  }
  return result;
}

Vocabulary vocabulary_from_tsv(const std::string& tsv) {
  Vocabulary vocabulary;
  const Status status = vocabulary.load_tsv(tsv, "test.tsv");
  INFO((status ? std::string("ok") : status.error()));
  REQUIRE(status);
  vocabulary.compile();
  return vocabulary;
}

Vocabulary core_vocabulary() {
  Vocabulary vocabulary;
  const Status status = vocabulary.load_file(source_path("data/vocabulary/core.tsv"));
  INFO((status ? std::string("ok") : status.error()));
  REQUIRE(status);
  vocabulary.compile();
  return vocabulary;
}

std::string shared_vocab(const std::string& relative) {
  return source_path("../shared/data/vocab/" + relative);
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

// Full MeSH 2014, loaded once for the tests that need it; nullptr when absent.
const Vocabulary* mesh_vocabulary() {
  static const std::unique_ptr<Vocabulary> vocabulary = []() -> std::unique_ptr<Vocabulary> {
    const std::string path = shared_vocab("mesh2014/d2014.en_gb.bin.gz");
    if (!exists(path)) return nullptr;
    auto result = std::make_unique<Vocabulary>();
    const Status status = result->load_file(path);
    if (!status) FAIL(status.error());
    result->compile();
    return result;
  }();
  return vocabulary.get();
}

// "w:" lines as pieces format 1 wrote them: without the fourth field (the
// variant's other words, normalised).
std::string as_format_1(const std::string& word_piece) {
  std::string out;
  for (const std::string& line : split(word_piece, '\n')) {
    if (line.empty()) continue;
    const size_t last_tab = line.rfind('\t');
    REQUIRE(std::count(line.begin(), line.end(), '\t') == 3);
    out += line.substr(0, last_tab) + "\n";
  }
  return out;
}

// The vocabulary's pieces as a store, as an index keeps them (in the pieces
// format of an index written before 2026-11-22 if `format_1`).
StoredVocabulary stored(const Vocabulary& vocabulary, bool format_1 = false) {
  auto pieces = std::make_shared<std::map<std::string, std::string>>();
  for (auto& [key, value] : vocabulary.pieces()) {
    INFO(key);
    const bool word_piece = key.rfind("w:", 0) == 0;
    CHECK(pieces->emplace(key, format_1 && word_piece ? as_format_1(value) : value).second);
  }
  return StoredVocabulary([pieces](const std::string& key) {
    auto it = pieces->find(key);
    return it == pieces->end() ? std::string() : it->second;
  });
}

// Matching each text with the pieces it needs gives what the whole vocabulary gives.
// Both pieces formats (an index keeps its pieces until medindex rewrites them).
void check_pieces_match_as_whole(const Vocabulary& whole, const std::vector<std::string>& texts) {
  MatchOptions query;
  query.abbreviations_need_capitals = false;
  MatchOptions nested;
  nested.nested = true;
  for (bool format_1 : {false, true}) {
    const StoredVocabulary store = stored(whole, format_1);
    for (const std::string& text : texts) {
      INFO(text << (format_1 ? " (pieces format 1)" : ""));
      const Vocabulary part = store.for_text(text);
      CHECK(part.concepts().size() < whole.concepts().size());
      CHECK(spans(part, text) == spans(whole, text));
      CHECK(spans(part, text, query) == spans(whole, text, query));
      CHECK(spans(part, text, nested) == spans(whole, text, nested));
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Tokenising and normalisation.

TEST_CASE("tokenize splits words as Xapian's TermGenerator does", "[vocabulary]") {
  struct Case {
    std::string text;
    std::vector<std::string> words;
  } cases[] = {
      {"N-methyl-D-aspartate (NMDA)", {"N", "methyl", "D", "aspartate", "NMDA"}},
      {"Sudek's atrophy, don’t", {"Sudek's", "atrophy", "don’t"}},
      {"3.5 mg/kg, 10,000 ms", {"3.5", "mg", "kg", "10,000", "ms"}},
      {"CD4+ T cells, C++ and C#", {"CD4+", "T", "cells", "C++", "and", "C#"}},
      {"the U.S.A. and e.g. this", {"the", "U.S.A.", "and", "e", "g", "this"}},
      {"AT&T R&D", {"AT&T", "R&D"}},
      {"TNF-α/IL-6", {"TNF", "α", "IL", "6"}},
      {"caf\xC3\xA9 na\xC3\xAFve", {"caf\xC3\xA9", "na\xC3\xAFve"}},
      {"  ", {}},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    std::vector<std::string> words;
    for (const Token& token : tokenize(c.text)) {
      CHECK(c.text.substr(token.offset, token.text.size()) == token.text);
      words.emplace_back(token.text);
    }
    CHECK(words == c.words);
  }
}

TEST_CASE("tokenize takes each ASCII character as Xapian's is_wordchar does", "[vocabulary]") {
  // tokenize() classifies ASCII itself, without asking Xapian.
  for (unsigned c = 1; c < 128; ++c) {
    INFO("character " << c);
    CHECK((tokenize(std::string(1, static_cast<char>(c))).size() == 1) ==
          Xapian::Unicode::is_wordchar(c));
  }
}

TEST_CASE("token index equals Xapian term position minus one", "[vocabulary]") {
  const std::string texts[] = {
      "Ketamine (Ketalar) for complex regional pain syndrome: a randomised, double-blind trial.",
      "NMDA-receptor antagonists don't reduce wind-up in 3.5% of U.S. patients; p<0.05 [12].",
      "Ca2+ influx, CD4+ cells and IL-1β — 'quoted' “text” (n = 1,024) e.g. A.B.C. x_y",
  };
  for (const std::string& text : texts) {
    INFO(text);
    Xapian::Document document;
    Xapian::TermGenerator generator;
    generator.set_document(document);
    generator.index_text(text);
    std::map<Xapian::termpos, std::string> by_position;
    for (auto term = document.termlist_begin(); term != document.termlist_end(); ++term) {
      for (auto p = term.positionlist_begin(); p != term.positionlist_end(); ++p) {
        by_position[*p] = *term;
      }
    }
    const std::vector<Token> tokens = tokenize(text);
    REQUIRE(tokens.size() == by_position.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
      INFO(tokens[i].text);
      REQUIRE(by_position.count(Xapian::termpos(i + 1)) == 1);
      const std::string& term = by_position[Xapian::termpos(i + 1)];
      // Xapian's term is the lowercased word (acronym dots dropped).
      CHECK(term.size() <= tokens[i].text.size());
    }
  }
}

TEST_CASE("normalize_word lowercases, folds spelling and singularises", "[vocabulary]") {
  struct Case {
    const char* word;
    const char* norm;
  } cases[] = {
      {"Receptors", "receptor"},
      {"syndromes", "syndrome"},
      {"therapies", "therapy"},
      {"analysis", "analysis"},
      {"analyses", "analysis"},
      {"diabetes", "diabetes"},
      {"mellitus", "mellitus"},
      {"abscesses", "abscess"},
      {"approaches", "approach"},
      {"headaches", "headaches"},
      {"Tumours", "tumor"},
      {"sensitisation", "sensitization"},
      {"CRPS", "crps"},
      {"crps", "crps"},
      {"NMDARs", "nmdar"},
      {"RCTs", "rct"},
      {"AIDS", "aids"},
      {"Alzheimer's", "alzheimer"},
      {"Sjögren", "sjogren"},
      {"α", "alpha"},
      {"μ", "mu"},
      {"gas", "gas"},
      {"pancreas", "pancreas"},
      {"ms", "ms"},
      {"U.S.A.", "usa"},
      {"3.5", "3.5"},
      {"Anaemias", "anemia"},
  };
  for (const auto& c : cases) {
    INFO(c.word);
    CHECK(normalize_word(c.word) == c.norm);
  }
  CHECK(tokenize("CRPS")[0].upper);
  CHECK(tokenize("U.S.A.")[0].upper);
  CHECK_FALSE(tokenize("NMDARs")[0].upper);
  CHECK_FALSE(tokenize("Ketamine")[0].upper);
  CHECK_FALSE(tokenize("3.5")[0].upper);
}

// ---------------------------------------------------------------------------------------
// The core vocabulary.

TEST_CASE("every variant of the core vocabulary finds its concept", "[vocabulary]") {
  const Vocabulary vocabulary = core_vocabulary();
  REQUIRE(vocabulary.concepts().size() >= 60);
  for (const Concept& c : vocabulary.concepts()) {
    for (const std::string& variant : c.variants) {
      INFO(c.id << ": " << variant);
      CHECK(has(concept_ids(vocabulary, variant), c.id));
      const std::string sentence = "In this study, " + variant + " was assessed in 42 patients.";
      CHECK(has(concept_ids(vocabulary, sentence), c.id));
    }
  }
}

TEST_CASE("core vocabulary links the variants the project cares about", "[vocabulary]") {
  const Vocabulary vocabulary = core_vocabulary();
  struct Case {
    const char* text;
    const char* concept_id;
  } cases[] = {
      {"CRPS", "crps"},
      {"complex regional pain syndrome", "crps"},
      {"Complex Regional Pain Syndromes", "crps"},
      {"reflex sympathetic dystrophy", "crps"},
      {"Sudeck's atrophy", "crps"},
      {"NMDA", "nmda"},
      {"N-methyl-D-aspartate", "nmda"},
      {"N methyl D aspartate", "nmda"},
      {"n-methyl-d-aspartate", "nmda"},
      {"NMDA receptors", "nmda-receptor"},
      {"N-methyl-D-aspartate receptor", "nmda-receptor"},
      {"central sensitisation", "central-sensitization"},
      {"central sensitization", "central-sensitization"},
      {"Ketalar", "ketamine"},
      {"ketamine", "ketamine"},
      {"Spravato", "esketamine"},
      {"S-ketamine", "esketamine"},
      {"anaesthesia", "anesthesia"},
      {"anesthesia", "anesthesia"},
      {"randomised controlled trials", "rct"},
      {"RCTs", "rct"},
      {"post-traumatic stress disorder", "ptsd"},
      {"posttraumatic stress disorder", "ptsd"},
      {"meta-analyses", "meta-analysis"},
      {"lignocaine", "lidocaine"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(has(concept_ids(vocabulary, c.text), c.concept_id));
    const Concept* found = vocabulary.find(c.text);
    REQUIRE(found != nullptr);
    CHECK(found->id == c.concept_id);
  }
  // Inverted headings are found in natural order.
  CHECK(vocabulary.find("Receptors, N-Methyl-D-Aspartate")->id == "nmda-receptor");
  CHECK(vocabulary.find("crps") != nullptr);
  CHECK(vocabulary.find("no such concept") == nullptr);
}

// ---------------------------------------------------------------------------------------
// Matching rules.

TEST_CASE("match prefers the longest variant and reports token positions", "[vocabulary]") {
  const Vocabulary vocabulary = vocabulary_from_tsv(
      "nmda\tN-methyl-D-aspartate\tNMDA\n"
      "nmda-receptor\tNMDA receptor\tN-methyl-D-aspartate receptor\n"
      "nmda-antagonist\tNMDA receptor antagonist\tNMDA antagonist\n"
      "pain\tpain\n"
      "chronic-pain\tchronic pain\n");
  struct Case {
    const char* text;
    std::vector<std::string> spans;
  } cases[] = {
      {"NMDA receptor antagonist", {"nmda-antagonist@0+3"}},
      {"the NMDA receptor and NMDA", {"nmda-receptor@1+2", "nmda@4+1"}},
      {"N-methyl-D-aspartate receptors in chronic pain", {"nmda-receptor@0+5", "chronic-pain@6+2"}},
      {"N methyl D aspartate", {"nmda@0+4"}},
      {"pain, chronic pain; pain", {"pain@0+1", "chronic-pain@1+2", "pain@3+1"}},
      {"no concept here", {}},
      {"", {}},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(spans(vocabulary, c.text) == c.spans);
  }
}

TEST_CASE("nested matching also reports the concepts inside a longer match", "[vocabulary]") {
  const Vocabulary vocabulary = vocabulary_from_tsv(
      "nmda\tN-methyl-D-aspartate\tNMDA\n"
      "nmda-receptor\tNMDA receptor\tN-methyl-D-aspartate receptor\n"
      "pain\tpain\n"
      "chronic-pain\tchronic pain\n");
  MatchOptions nested;
  nested.nested = true;
  struct Case {
    const char* text;
    std::vector<std::string> spans;
  } cases[] = {
      {"N-methyl-D-aspartate receptors", {"nmda@0+4", "nmda-receptor@0+5"}},
      {"chronic pain", {"chronic-pain@0+2", "pain@1+1"}},
      {"the NMDA receptor", {"nmda@1+1", "nmda-receptor@1+2"}},
      {"nothing", {}},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(spans(vocabulary, c.text, nested) == c.spans);
  }
}

TEST_CASE("capitalised abbreviations match only capitalised text", "[vocabulary]") {
  const Vocabulary vocabulary = vocabulary_from_tsv(
      "multiple-sclerosis\tmultiple sclerosis\tMS\n"
      "crps\tcomplex regional pain syndrome\tCRPS\n"
      "mtor\tmTOR\tmechanistic target of rapamycin\n"
      "all\tacute lymphoblastic leukemia\tALL\n");
  struct Case {
    const char* text;
    bool multiple_sclerosis;
  } cases[] = {
      {"patients with MS", true},   {"a latency of 10 ms", false},
      {"Ms Smith", false},          {"MS", true},
      {"MULTIPLE SCLEROSIS", true}, {"in MS.", true},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(has(concept_ids(vocabulary, c.text), "multiple-sclerosis") == c.multiple_sclerosis);
  }
  CHECK(has(concept_ids(vocabulary, "CRPS"), "crps"));
  CHECK_FALSE(has(concept_ids(vocabulary, "crps"), "crps"));
  // Mixed-case variants are not abbreviations in this sense.
  CHECK(has(concept_ids(vocabulary, "mTOR"), "mtor"));
  CHECK(has(concept_ids(vocabulary, "MTOR"), "mtor"));
  CHECK(has(concept_ids(vocabulary, "Mechanistic Target of Rapamycin"), "mtor"));
  // Short abbreviations are not matched in shouted text.
  CHECK(has(concept_ids(vocabulary, "children with ALL"), "all"));
  CHECK_FALSE(has(concept_ids(vocabulary, "ALL PATIENTS RECOVERED"), "all"));
  // A searcher may relax the rule for typed queries.
  MatchOptions query;
  query.abbreviations_need_capitals = false;
  CHECK(has(concept_ids(vocabulary, "crps", query), "crps"));
}

TEST_CASE("plural, possessive, spelling and hyphen variants match", "[vocabulary]") {
  const Vocabulary vocabulary = vocabulary_from_tsv(
      "crps\tcomplex regional pain syndrome\tSudeck atrophy\n"
      "tumour\ttumor\n"
      "post-traumatic\tpost-traumatic stress disorder\n"
      "alzheimer\tAlzheimer disease\n"
      "tnf\tTNF-alpha\n");
  struct Case {
    const char* text;
    const char* concept_id;
  } cases[] = {
      {"complex regional pain syndromes", "crps"},
      {"Complex-Regional Pain Syndrome", "crps"},
      {"Sudeck's atrophy", "crps"},
      {"tumours", "tumour"},
      {"TUMOURS", "tumour"},
      {"post traumatic stress disorders", "post-traumatic"},
      {"Alzheimer's disease", "alzheimer"},
      {"TNF-α", "tnf"},
      {"TNF α", "tnf"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(concept_ids(vocabulary, c.text) == std::vector<std::string>{c.concept_id});
  }
}

TEST_CASE("a variant shared by several concepts matches each of them once", "[vocabulary]") {
  const Vocabulary vocabulary = vocabulary_from_tsv(
      "crps\tcomplex regional pain syndrome\treflex sympathetic dystrophy\n"
      "rsd\treflex sympathetic dystrophy\talgodystrophy\n");
  CHECK(spans(vocabulary, "a reflex sympathetic dystrophy") ==
        std::vector<std::string>{"crps@1+3", "rsd@1+3"});
}

TEST_CASE("an ambiguous abbreviation matches only where the text defines it", "[vocabulary]") {
  const Vocabulary vocabulary = vocabulary_from_tsv(
      "trd\ttreatment-resistant depression\tTRD?\n"
      "mdd\tmajor depressive disorder\tMDD\n"
      "tongue\ttongue retaining device\tTRD?\n");
  struct Case {
    const char* text;
    std::vector<std::string> spans;
  } cases[] = {
      {"Ketamine in TRD.", {}},
      {"Ketamine in treatment-resistant depression (TRD). TRD is common.",
       {"trd@2+3", "trd@5+1", "trd@6+1"}},
      {"TRD (treatment-resistant depression) responds. TRD", {"trd@0+1", "trd@1+3", "trd@5+1"}},
      // Defined after use: the definition applies to the whole text.
      {"TRD responds; treatment-resistant depression (TRD)", {"trd@0+1", "trd@2+3", "trd@5+1"}},
      // A definition of another concept does not define this one.
      {"major depressive disorder (TRD)", {"mdd@0+3"}},
      {"tongue retaining device (TRD) and TRD", {"tongue@0+3", "tongue@3+1", "tongue@5+1"}},
      {"treatment-resistant depression TRD", {"trd@0+3"}},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(spans(vocabulary, c.text) == c.spans);
  }
  // A definition in one text does not carry over to another.
  CHECK(spans(vocabulary, "TRD again") == std::vector<std::string>{});
  MatchOptions everywhere;
  everywhere.ambiguous_need_definition = false;
  CHECK(concept_ids(vocabulary, "TRD", everywhere) == std::vector<std::string>{"trd", "tongue"});
}

TEST_CASE("serialise and unserialise give identical matches", "[vocabulary]") {
  const Vocabulary vocabulary = core_vocabulary();
  const std::string data = vocabulary.serialise();
  Result<Vocabulary> copy = Vocabulary::unserialise(data);
  REQUIRE(copy);
  CHECK(copy->compiled());
  CHECK(copy->serialise() == data);
  REQUIRE(copy->concepts().size() == vocabulary.concepts().size());
  const std::string text =
      "Ketalar for CRPS (reflex sympathetic dystrophy) and treatment-resistant depression "
      "(TRD): NMDA receptor antagonists, TRD, N-methyl-D-aspartate and central sensitisation.";
  CHECK(spans(*copy, text) == spans(vocabulary, text));
  CHECK(spans(vocabulary, text).size() >= 8);
  CHECK(copy->single_word_synonyms() == vocabulary.single_word_synonyms());

  const char* bad[] = {"", "something else\n", "medsearch-vocabulary 1\nV\tvariant first\n",
                       "medsearch-vocabulary 1\nZ\tx\n"};
  for (const char* data_text : bad) {
    INFO(data_text);
    CHECK_FALSE(Vocabulary::unserialise(data_text));
  }
}

TEST_CASE("a vocabulary read in pieces matches as the whole does", "[vocabulary]") {
  Vocabulary whole;
  REQUIRE(whole.load_file(source_path("data/vocabulary/core.tsv")));
  // Ambiguity settled by the whole: TRD is ambiguous, and two concepts share TLD.
  REQUIRE(
      whole.load_tsv("trd2\ttongue retaining device\tTRD?\n"
                     "tld1\tthermoluminescent dosimetry\tTLD\n"
                     "tld2\ttransmissible liver disease\tTLD\n",
                     "extra.tsv"));
  whole.compile();
  check_pieces_match_as_whole(
      whole, {"Ketalar for CRPS (reflex sympathetic dystrophy) and treatment-resistant "
              "depression (TRD): NMDA receptor antagonists, TRD, N-methyl-D-aspartate and "
              "central sensitisation.",
              "crps ketamine infusion", "TLD in TRD", "thermoluminescent dosimetry (TLD). TLD",
              "tongue retaining device (TRD) and TRD", "no concept here at all", "",
              // Variants' first words without the rest; plurals and British spellings.
              "complex regional pain, reflex dystrophy", "Central Sensitisations in CRPSs"});

  const StoredVocabulary store = stored(whole);
  // By id, by a merged id, by a name; unknown is none.
  std::optional<Concept> crps = store.find("crps");
  REQUIRE(crps);
  const Concept* expected = whole.find("crps");
  CHECK(crps->name == expected->name);
  CHECK(crps->variants == expected->variants);
  CHECK(crps->ambiguous == expected->ambiguous);
  std::optional<Concept> by_name = store.find("reflex sympathetic dystrophy");
  REQUIRE(by_name);
  CHECK(by_name->id == whole.find("reflex sympathetic dystrophy")->id);
  CHECK_FALSE(store.find("no such concept"));
  CHECK_FALSE(store.find(""));
  // Whole concepts, for highlighting all their variants.
  const Vocabulary two = store.with_concepts({"crps", "ketamine", "unknown-id"});
  REQUIRE(two.concepts().size() == 2);
  const std::string text = "Sudeck atrophy treated with Ketalar";
  CHECK(concept_ids(two, text) == concept_ids(whole, text));
}

TEST_CASE("single_word_synonyms pairs single-word variants of a concept", "[vocabulary]") {
  const Vocabulary vocabulary = vocabulary_from_tsv(
      "ketamine\tketamine\tKetalar|Ketanest|ketamine hydrochloride|KET?\n"
      "crps\tcomplex regional pain syndrome\tCRPS|algodystrophy\n");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"ketalar", "ketamine"},  {"ketalar", "ketanest"}, {"ketamine", "ketalar"},
      {"ketamine", "ketanest"}, {"ketanest", "ketalar"}, {"ketanest", "ketamine"},
  };
  CHECK(vocabulary.single_word_synonyms() == expected);
}

// ---------------------------------------------------------------------------------------
// Loading and merging.

TEST_CASE("files with a BOM and CRLF line ends load the same", "[vocabulary]") {
  medsearch::testing::TempDir dir;
  const std::string plain =
      "# comment\ncrps\tcomplex regional pain syndrome\tCRPS|RSD?\tmesh=D020918\n";
  std::string windows =
      "\xEF\xBB\xBF# comment\r\ncrps\tcomplex regional pain syndrome\tCRPS|RSD?\tmesh=D020918\r\n";
  std::ofstream(dir / "plain.tsv") << plain;
  std::ofstream(dir / "windows.tsv") << windows;
  Vocabulary a, b;
  REQUIRE(a.load_file(dir / "plain.tsv"));
  REQUIRE(b.load_file(dir / "windows.tsv"));
  CHECK(a.serialise() == b.serialise());
  REQUIRE(a.concepts().size() == 1);
  CHECK(a.concepts()[0].variants ==
        std::vector<std::string>{"complex regional pain syndrome", "CRPS"});
  CHECK(a.concepts()[0].ambiguous == std::vector<std::string>{"RSD"});
  CHECK(a.concepts()[0].xrefs == std::vector<std::string>{"D020918"});
  CHECK(a.find("D020918") == &a.concepts()[0]);

  const std::string mesh =
      "\xEF\xBB\xBF*NEWRECORD\r\nMH = Ketamine\r\nENTRY = Ketalar\r\nUI = D007649\r\n";
  std::ofstream(dir / "mesh.txt") << mesh;
  Vocabulary c;
  REQUIRE(c.load_file(dir / "mesh.txt"));
  REQUIRE(c.find("Ketalar") != nullptr);
  CHECK(c.find("Ketalar")->id == "D007649");
}

TEST_CASE("malformed input gives an error naming the file and line", "[vocabulary]") {
  struct Case {
    const char* format;
    std::string text;
    std::string error;
  } cases[] = {
      {"tsv", "ok\tname\nonly-one-field\n", "bad.txt:2:"},
      {"tsv", "# c\n\nid with space\tname\n", "bad.txt:3:"},
      {"tsv", "id\tname\tvariant\tcolour=blue\n", "bad.txt:1: unknown attribute"},
      {"tsv", "id\tname\tvariant\tmesh=X12\n", "bad.txt:1: invalid MeSH id"},
      {"tsv", "id\t\n", "bad.txt:1: empty preferred name"},
      {"tsv", "a\tb\tc\td\te\n", "bad.txt:1:"},
      {"mesh", "*NEWRECORD\nMH = Pain\nnonsense\nUI = D010146\n", "bad.txt:3:"},
      {"mesh", "*NEWRECORD\nMH = Pain\n\n*NEWRECORD\nMH = X\nUI = D1\n",
       "bad.txt:1: MeSH record without"},
      {"mesh", "stray\n*NEWRECORD\n", "bad.txt:1: expected *NEWRECORD"},
      {"obo", "format-version: 1.2\n\n[Term]\nid: DOID:1\nname: x\nsynonym: unquoted EXACT []\n",
       "bad.txt:6:"},
      {"obo", "[Term]\nname: no id\n", "bad.txt:1: [Term] without id"},
      {"obo", "[Term]\nid: DOID:1\njust words\n", "bad.txt:3:"},
      {"abbreviations", "abbr\tmeaning\n", "bad.txt:1: expected header"},
      {"abbreviations", "abbreviation\tmeaning\nCRPS\n", "bad.txt:2:"},
  };
  for (const auto& c : cases) {
    INFO(c.format << ": " << c.text);
    Vocabulary vocabulary;
    const std::string format = c.format;
    const Status status = format == "tsv"    ? vocabulary.load_tsv(c.text, "bad.txt")
                          : format == "mesh" ? vocabulary.load_mesh(c.text, "bad.txt")
                          : format == "obo"  ? vocabulary.load_obo(c.text, "bad.txt")
                                             : vocabulary.load_abbreviations(c.text, "bad.txt");
    REQUIRE_FALSE(status);
    CHECK(status.error().rfind(c.error, 0) == 0);
  }
  Vocabulary vocabulary;
  const Status missing = vocabulary.load_file("/nonexistent/vocabulary.tsv");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().find("/nonexistent/vocabulary.tsv") != std::string::npos);
}

TEST_CASE("MeSH records merge into core concepts whatever the load order", "[vocabulary]") {
  const std::string core = "crps\tcomplex regional pain syndrome\tCRPS\tmesh=D020918\n";
  const std::string mesh =
      "*NEWRECORD\nMH = Complex Regional Pain Syndromes\n"
      "ENTRY = CRPS (Complex Regional Pain Syndromes)\n"
      "PRINT ENTRY = Pain Syndromes, Regional Complex|T047|EQV|NLM (2000)|990315|abcdef\n"
      "UI = D020918\n\n"
      "*NEWRECORD\nMH = Receptors, N-Methyl-D-Aspartate\nENTRY = NMDA Receptors\nUI = D016194\n";
  Vocabulary core_first, mesh_first;
  REQUIRE(core_first.load_tsv(core, "core.tsv"));
  REQUIRE(core_first.load_mesh(mesh, "mesh.txt"));
  REQUIRE(mesh_first.load_mesh(mesh, "mesh.txt"));
  REQUIRE(mesh_first.load_tsv(core, "core.tsv"));
  for (Vocabulary* vocabulary : {&core_first, &mesh_first}) {
    vocabulary->compile();
    REQUIRE(vocabulary->concepts().size() == 2);
    const Concept* crps = vocabulary->find("D020918");
    REQUIRE(crps != nullptr);
    CHECK(crps->id == "crps");
    CHECK(vocabulary->find("Regional Complex Pain Syndromes") == crps);
    CHECK(concept_ids(*vocabulary, "regional complex pain syndrome") ==
          std::vector<std::string>{"crps"});
    CHECK(concept_ids(*vocabulary, "N-methyl-D-aspartate receptors") ==
          std::vector<std::string>{"D016194"});
    CHECK(vocabulary->find("Receptors, NMDA")->id == "D016194");
  }
}

TEST_CASE("Disease Ontology terms merge into MeSH concepts by xref", "[vocabulary]") {
  const std::string obo =
      "format-version: 1.2\n\n"
      "[Term]\nid: DOID:0050707\nname: complex regional pain syndrome\n"
      "synonym: \"causalgia\" RELATED []\nsynonym: \"algoneurodystrophy\" EXACT []\n"
      "synonym: \"narrow thing\" NARROW []\nxref: MSH:D020918\n\n"
      "[Term]\nid: DOID:9999\nname: obsolete thing\nis_obsolete: true\n\n"
      "[Term]\nid: DOID:1\nname: standalone disease\nsynonym: \"stand alone \\\"quoted\\\"\" EXACT "
      "[]\n\n"
      "[Typedef]\nid: part_of\nname: part of\n";
  const std::string mesh =
      "*NEWRECORD\nMH = Complex Regional Pain Syndromes\nENTRY = Algodystrophy\nUI = D020918\n";
  for (bool mesh_first : {true, false}) {
    INFO("mesh first: " << mesh_first);
    Vocabulary vocabulary;
    if (mesh_first) REQUIRE(vocabulary.load_mesh(mesh, "mesh"));
    REQUIRE(vocabulary.load_obo(obo, "do.obo"));
    if (!mesh_first) REQUIRE(vocabulary.load_mesh(mesh, "mesh"));
    vocabulary.compile();
    CHECK(vocabulary.concepts().size() == 2);
    CHECK(vocabulary.find("DOID:0050707")->id == "D020918");
    CHECK(vocabulary.find("algoneurodystrophy")->id == "D020918");
    CHECK(vocabulary.find("causalgia")->id == "D020918");
    CHECK(vocabulary.find("narrow thing") == nullptr);
    CHECK(vocabulary.find("obsolete thing") == nullptr);
    CHECK(vocabulary.find("stand alone quoted")->id == "DOID:1");
  }
}

TEST_CASE("abbreviation lists attach abbreviations to concepts", "[vocabulary]") {
  Vocabulary vocabulary;
  REQUIRE(
      vocabulary.load_tsv("crps\tcomplex regional pain syndrome\n"
                          "mdd\tmajor depressive disorder\tMDD\n"
                          "ms\tmultiple sclerosis\n"
                          "trd\ttreatment-resistant depression\n",
                          "core.tsv"));
  REQUIRE(
      vocabulary.load_abbreviations("abbreviation\tmeaning\tmore_info\n"
                                    "CRPS\tcomplex regional pain syndrome\t\n"
                                    "MDD\tmajor depressive disorder\t\n"
                                    "MDD\tminimally detectable difference\t\n"
                                    "MS\tmultiple sclerosis\t\n"
                                    "MS\tmorphine sulphate\t\n"
                                    "TRD\ttreatment-resistant depression\t\n"
                                    "TRD\ttongue retaining device\t\n"
                                    "LCIS\tlobular carcinoma in situ\t\n"
                                    "OA\tosteoarthritis\t\n"
                                    "bid\ttwice daily (bis in die)\t\n",
                                    "abbreviations.tsv"));
  vocabulary.compile();
  // One meaning: unambiguous.
  CHECK(concept_ids(vocabulary, "CRPS") == std::vector<std::string>{"crps"});
  // Several meanings, but the core lists MDD: unambiguous for the core concept.
  CHECK(concept_ids(vocabulary, "MDD") == std::vector<std::string>{"mdd"});
  // Several meanings: ambiguous.
  CHECK(concept_ids(vocabulary, "MS and TRD") == std::vector<std::string>{});
  CHECK(concept_ids(vocabulary, "multiple sclerosis (MS). MS") == std::vector<std::string>{"ms"});
  CHECK(spans(vocabulary, "treatment-resistant depression (TRD)") ==
        std::vector<std::string>{"trd@0+3", "trd@3+1"});
  // Unknown meaning of an unambiguous abbreviation: a small concept of its own.
  CHECK(concept_ids(vocabulary, "LCIS") ==
        std::vector<std::string>{"abbr:lobular_carcinoma_in_situ"});
  CHECK(concept_ids(vocabulary, "lobular carcinoma in situ") ==
        std::vector<std::string>{"abbr:lobular_carcinoma_in_situ"});
  // Two-letter abbreviations and lowercase ones make no concept of their own.
  CHECK(vocabulary.find("OA") == nullptr);
  CHECK(vocabulary.find("bid") == nullptr);
  CHECK(vocabulary.find("minimally detectable difference") == nullptr);
}

// ---------------------------------------------------------------------------------------
// The real sources (skipped when /work/shared is absent).

TEST_CASE("full MeSH 2014 import finds the expected descriptors", "[vocabulary]") {
  const Vocabulary* mesh = mesh_vocabulary();
  if (mesh == nullptr) {
    WARN("MeSH 2014 not found under ../shared/data/vocab: skipped");
    return;
  }
  CHECK(mesh->concepts().size() == 27148);
  struct Case {
    const char* text;
    const char* ui;
  } cases[] = {
      {"Complex Regional Pain Syndromes", "D020918"},
      {"CRPS", "D020918"},
      {"reflex sympathetic dystrophy", "D012019"},
      {"Sudek's atrophy", "D012019"},
      {"NMDA receptor", "D016194"},
      {"N-methyl-D-aspartate receptors", "D016194"},
      {"Ketalar", "D007649"},
      {"anemia", "D000740"},
      {"anaemia", "D000740"},
      {"edema", "D004487"},
      {"PTSD", "D013313"},
      {"post-traumatic stress disorder", "D013313"},
      {"allodynia", "D006930"},
      {"postherpetic neuralgia", "D051474"},
      {"treatment-resistant depression", "D061218"},
      {"BDNF", "D019208"},
      {"central sensitisation", "D059333"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(has(concept_ids(*mesh, c.text), c.ui));
    const Concept* found = mesh->find(c.text);
    REQUIRE(found != nullptr);
    CHECK(found->id == c.ui);
  }
  CHECK(mesh->find("D016194")->name == "Receptors, N-Methyl-D-Aspartate");
}

TEST_CASE("core vocabulary, MeSH, Disease Ontology and abbreviations load together",
          "[vocabulary]") {
  const std::string mesh_path = shared_vocab("mesh2014/d2014.en_gb.bin.gz");
  const std::string do_path = shared_vocab("disease-ontology/HumanDO.obo");
  const std::string abbreviations_path =
      shared_vocab("abbreviations/medical_abbreviations_all.tsv");
  if (!exists(mesh_path) || !exists(do_path) || !exists(abbreviations_path)) {
    WARN("shared vocabularies not found under ../shared/data/vocab: skipped");
    return;
  }
  Vocabulary vocabulary;
  REQUIRE(vocabulary.load_file(source_path("data/vocabulary/core.tsv")));
  REQUIRE(vocabulary.load_file(mesh_path));
  const Status do_status = vocabulary.load_file(do_path);
  INFO((do_status ? std::string("ok") : do_status.error()));
  REQUIRE(do_status);
  REQUIRE(vocabulary.load_file(abbreviations_path));
  vocabulary.compile();
  const size_t count = vocabulary.concepts().size();
  CHECK(count > 27148);
  CHECK(count < 27148 + 12000);

  const std::string text =
      "Ketalar infusions in CRPS (complex regional pain syndrome) and treatment-resistant "
      "depression (TRD): NMDA receptors, anaemia, MS Contin and a latency of 10 ms.";
  const std::vector<std::string> ids = concept_ids(vocabulary, text);
  CHECK(has(ids, "ketamine"));
  CHECK(has(ids, "crps"));
  CHECK(has(ids, "trd"));
  CHECK(has(ids, "nmda-receptor"));
  CHECK(has(ids, "D000740"));
  CHECK(has(ids, "morphine"));
  // The core marks MS ambiguous; MeSH's "MS (Multiple Sclerosis)" does not undo that.
  CHECK(concept_ids(vocabulary, "patients with MS") == std::vector<std::string>{"D010361"});
  CHECK(has(concept_ids(vocabulary, "multiple sclerosis (MS). MS"), "multiple-sclerosis"));
  CHECK_FALSE(has(ids, "multiple-sclerosis"));
  // Core concepts absorbed their MeSH descriptors and Disease Ontology terms.
  CHECK(vocabulary.find("D020918")->id == "crps");
  CHECK(vocabulary.find("D007649")->id == "ketamine");
  const Concept* fibromyalgia = vocabulary.find("fibromyalgia");
  REQUIRE(fibromyalgia != nullptr);
  CHECK(fibromyalgia->id == "fibromyalgia");
  CHECK(std::count(fibromyalgia->xrefs.begin(), fibromyalgia->xrefs.end(), "D005356") == 1);
  // Serialising the full vocabulary round-trips.
  Result<Vocabulary> copy = Vocabulary::unserialise(vocabulary.serialise());
  REQUIRE(copy);
  CHECK(spans(*copy, text) == spans(vocabulary, text));
  // In pieces too, with MeSH's inverted headings, merged ids and shared abbreviations.
  check_pieces_match_as_whole(vocabulary, {text, "patients with MS", "multiple sclerosis (MS). MS",
                                           "Receptors, N-Methyl-D-Aspartate in pain",
                                           "fibromyalgia and chronic pain in children"});
  const StoredVocabulary store = stored(vocabulary);
  REQUIRE(store.find("D005356"));
  CHECK(store.find("D005356")->id == "fibromyalgia");
}
