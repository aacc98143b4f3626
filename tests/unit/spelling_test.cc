#include "medsearch/spelling.h"

#include <xapian.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "folding_stem.h"
#include "process.h"

using namespace medsearch;

TEST_CASE("fold_spelling folds British and American spellings to the same word", "[spelling]") {
  struct Case {
    const char* british;
    const char* american;
  } cases[] = {
      // -ise, -isation
      {"randomised", "randomized"},
      {"randomisation", "randomization"},
      {"sensitisation", "sensitization"},
      {"sensitisations", "sensitizations"},
      {"desensitising", "desensitizing"},
      {"organisational", "organizational"},
      {"hospitalised", "hospitalized"},
      {"characterise", "characterize"},
      {"categorises", "categorizes"},
      {"minimise", "minimize"},
      {"criticised", "criticized"},
      {"polarisation", "polarization"},
      {"recognising", "recognizing"},
      {"stabiliser", "stabilizer"},
      {"anaesthetised", "anesthetized"},
      {"immunisations", "immunizations"},
      // -yse
      {"analyse", "analyze"},
      {"analysed", "analyzed"},
      {"paralysed", "paralyzed"},
      {"catalysing", "catalyzing"},
      {"dialyse", "dialyze"},
      {"hydrolysed", "hydrolyzed"},
      {"analyser", "analyzer"},
      // -our
      {"tumour", "tumor"},
      {"tumours", "tumors"},
      {"behaviour", "behavior"},
      {"behavioural", "behavioral"},
      {"colourless", "colorless"},
      {"favourite", "favorite"},
      {"favourable", "favorable"},
      {"labouring", "laboring"},
      {"humour", "humor"},
      {"odour", "odor"},
      {"vapours", "vapors"},
      {"neighbourhood", "neighborhood"},
      {"vigour", "vigor"},
      // ae / oe morphemes
      {"anaesthesia", "anesthesia"},
      {"anaesthetic", "anesthetic"},
      {"haemoglobin", "hemoglobin"},
      {"haemorrhage", "hemorrhage"},
      {"aetiology", "etiology"},
      {"oedema", "edema"},
      {"lymphoedema", "lymphedema"},
      {"oesophageal", "esophageal"},
      {"oestrogen", "estrogen"},
      {"paediatric", "pediatric"},
      {"orthopaedic", "orthopedic"},
      {"gynaecology", "gynecology"},
      {"foetal", "fetal"},
      {"diarrhoea", "diarrhea"},
      {"dyspnoea", "dyspnea"},
      {"apnoea", "apnea"},
      {"leukaemia", "leukemia"},
      {"anaemia", "anemia"},
      {"ischaemic", "ischemic"},
      {"septicaemia", "septicemia"},
      {"hyperglycaemia", "hyperglycemia"},
      {"amoebic", "amebic"},
      {"coeliac", "celiac"},
      {"caecum", "cecum"},
      {"faecal", "fecal"},
      {"caesarean", "cesarean"},
      {"manoeuvre", "maneuver"},
      {"manoeuvres", "maneuvers"},
      {"paraesthesia", "paresthesia"},
      {"dysaesthesia", "dysesthesia"},
      {"haemolysed", "hemolyzed"},
      // -tre, -bre, -logue, sulph
      {"centre", "center"},
      {"centres", "centers"},
      {"litre", "liter"},
      {"millimetres", "millimeters"},
      {"fibre", "fiber"},
      {"calibre", "caliber"},
      {"titre", "titer"},
      {"analogue", "analog"},
      {"analogues", "analogs"},
      {"catalogue", "catalog"},
      {"dialogue", "dialog"},
      {"sulphate", "sulfate"},
      {"sulphonylurea", "sulfonylurea"},
      // word list
      {"defence", "defense"},
      {"offence", "offense"},
      {"licence", "license"},
      {"labelled", "labeled"},
      {"labelling", "labeling"},
      {"modelling", "modeling"},
      {"signalling", "signaling"},
      {"counselling", "counseling"},
      {"travelled", "traveled"},
      {"cancelled", "canceled"},
      {"ageing", "aging"},
      {"judgement", "judgment"},
      {"artefact", "artifact"},
      {"grey", "gray"},
      {"programme", "program"},
      {"mould", "mold"},
      {"aluminium", "aluminum"},
      {"sceptical", "skeptical"},
      {"practising", "practicing"},
      {"enrolment", "enrollment"},
      {"fulfil", "fulfill"},
      {"leucocytes", "leukocytes"},
  };
  for (const auto& c : cases) {
    INFO(c.british << " / " << c.american);
    CHECK(fold_spelling(c.british) == c.american);
    CHECK(fold_spelling(c.american) == c.american);
    CHECK(fold_spelling(fold_spelling(c.british)) == fold_spelling(c.british));
  }
}

TEST_CASE("fold_spelling leaves words that only look British", "[spelling]") {
  const char* unchanged[] = {
      // -ise words that are not -ize verbs
      "advise",
      "advised",
      "adviser",
      "exercise",
      "exercises",
      "surprise",
      "surprising",
      "promise",
      "promising",
      "premise",
      "precise",
      "concise",
      "noise",
      "raise",
      "raised",
      "praise",
      "otherwise",
      "likewise",
      "franchise",
      "enterprise",
      "expertise",
      "merchandise",
      "compromise",
      "immunocompromised",
      "comprise",
      "devise",
      "revised",
      "supervised",
      "unsupervised",
      "televise",
      "improvisation",
      "disguise",
      "despise",
      "chastise",
      "circumcised",
      "excision",
      "incise",
      "paradise",
      "treatise",
      "cruise",
      "bruised",
      "arise",
      "rise",
      "rising",
      "poise",
      "anise",
      "crises",
      "penises",
      "advertising",
      // -our words
      "four",
      "hour",
      "hours",
      "pour",
      "your",
      "yours",
      "tour",
      "tourism",
      "flour",
      "sour",
      "dour",
      "detour",
      "contour",
      "devour",
      "amour",
      "velour",
      "paramour",
      "troubadour",
      "glamour",
      "journal",
      "source",
      "courage",
      "flourish",
      // -re words
      "acre",
      "ogre",
      "genre",
      "lucre",
      "mediocre",
      "massacre",
      "macabre",
      "cadre",
      "padre",
      "timbre",
      // -yse that stays, plural nouns of -ysis
      "lyse",
      "lysed",
      "analyses",
      "paralyses",
      "analysis",
      // already American or unrelated
      "ketamine",
      "pain",
      "hemoglobin",
      "tumor",
      "organize",
      "center",
      "analyze",
      "fiber",
      "academia",
      "aerobic",
      "dose",
      "wise",
      "is",
      "our",
      "",
  };
  for (const char* word : unchanged) {
    INFO(word);
    CHECK(fold_spelling(word) == word);
  }
}

TEST_CASE("fold_spelling_in_place reports whether the word changed", "[spelling]") {
  std::string word = "tumours";
  CHECK(fold_spelling_in_place(word));
  CHECK(word == "tumors");
  CHECK_FALSE(fold_spelling_in_place(word));
  CHECK(word == "tumors");
  std::string short_word = "ms";
  CHECK_FALSE(fold_spelling_in_place(short_word));
}

// The snippet stemmer (core/src/folding_stem.h) skips stemming words that
// cannot match the query. It must match exactly the words the full folding
// stemmer matches: every word of the fixture site, British spellings whose
// first letters fold ("haem", "oedema", "sceptic"...), against query terms
// made from those same words.
TEST_CASE("the snippet stemmer matches exactly what the folding stemmer matches",
          "[spelling][snippets]") {
  std::vector<std::string> words = {
      "haemorrhage", "hemorrhage", "oedema",    "edema",   "oesophagus", "esophagus",  "aetiology",
      "etiology",    "paediatric", "pediatric", "foetal",  "fetal",      "caesarean",  "cesarean",
      "faecal",      "fecal",      "coeliac",   "celiac",  "naevus",     "nevus",      "sceptical",
      "skeptical",   "anaemia",    "anemia",    "tumours", "tumors",     "randomised", "randomized",
      "centre",      "center",     "pains",     "pain",    "ketamine",   "ketamines",  "aemia",
      "emia",        "dying",      "die",       "skies",   "sky",        "news",       "ugly"};
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           medsearch::testing::source_path("fixtures/site"))) {
    if (entry.path().extension() != ".html") continue;
    std::string text = medsearch::testing::read_file(entry.path().string()), word;
    for (char c : text + " ") {
      if (std::isalpha(static_cast<unsigned char>(c))) {
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (!word.empty()) {
        words.push_back(std::move(word));
        word.clear();
      }
    }
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  REQUIRE(words.size() > 500);
  Xapian::Stem full = internal::folding_stemmer();
  // Queries of a few words each, taken across the list.
  for (size_t start = 0; start < words.size(); start += 37) {
    std::vector<Xapian::Query> terms;
    std::set<std::string> stems;
    for (size_t k = start; k < words.size() && k < start + 3; ++k) {
      stems.insert(full(words[k]));
      terms.emplace_back("Z" + full(words[k]));
    }
    Xapian::Query query(Xapian::Query::OP_OR, terms.begin(), terms.end());
    Xapian::Stem snippet = internal::snippet_stemmer(full, query);
    for (const std::string& w : words) {
      INFO("word " << w << ", query " << query.get_description());
      CHECK(stems.count(snippet(w)) == stems.count(full(w)));
    }
  }
}
