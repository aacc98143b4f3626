#include "medsearch/spelling.h"

#include <algorithm>
#include <array>
#include <utility>

namespace medsearch {
namespace {

struct Replacement {
  std::string_view from;
  std::string_view to;
};

// Irregular words: exact British form -> American form. Sorted by `from` (checked by a
// static_assert below) for binary search.
constexpr Replacement kWordList[] = {
    {"acknowledgement", "acknowledgment"},
    {"acknowledgements", "acknowledgments"},
    {"ageing", "aging"},
    {"aluminium", "aluminum"},
    {"artefact", "artifact"},
    {"artefacts", "artifacts"},
    {"benefitted", "benefited"},
    {"benefitting", "benefiting"},
    {"cancelled", "canceled"},
    {"cancelling", "canceling"},
    {"centred", "centered"},
    {"centring", "centering"},
    {"channelled", "channeled"},
    {"channelling", "channeling"},
    {"counselled", "counseled"},
    {"counselling", "counseling"},
    {"counsellor", "counselor"},
    {"counsellors", "counselors"},
    {"defence", "defense"},
    {"defences", "defenses"},
    {"dialled", "dialed"},
    {"dialling", "dialing"},
    {"distil", "distill"},
    {"distils", "distills"},
    {"draught", "draft"},
    {"draughts", "drafts"},
    {"enrol", "enroll"},
    {"enrolment", "enrollment"},
    {"enrolments", "enrollments"},
    {"enrols", "enrolls"},
    {"focussed", "focused"},
    {"focusses", "focuses"},
    {"focussing", "focusing"},
    {"fuelled", "fueled"},
    {"fuelling", "fueling"},
    {"fulfil", "fulfill"},
    {"fulfilment", "fulfillment"},
    {"fulfils", "fulfills"},
    {"grey", "gray"},
    {"greyish", "grayish"},
    {"greys", "grays"},
    {"instil", "instill"},
    {"instils", "instills"},
    {"jewellery", "jewelry"},
    {"judgement", "judgment"},
    {"judgements", "judgments"},
    {"labelled", "labeled"},
    {"labelling", "labeling"},
    {"leucocyte", "leukocyte"},
    {"leucocytes", "leukocytes"},
    {"leucocytosis", "leukocytosis"},
    {"leucopenia", "leukopenia"},
    {"levelled", "leveled"},
    {"levelling", "leveling"},
    {"licence", "license"},
    {"licences", "licenses"},
    {"marvellous", "marvelous"},
    {"meagre", "meager"},
    {"mediaeval", "medieval"},
    {"modelled", "modeled"},
    {"modelling", "modeling"},
    {"mould", "mold"},
    {"moulds", "molds"},
    {"mouldy", "moldy"},
    {"offence", "offense"},
    {"offences", "offenses"},
    {"orientated", "oriented"},
    {"plough", "plow"},
    {"practise", "practice"},
    {"practised", "practiced"},
    {"practises", "practices"},
    {"practising", "practicing"},
    {"pretence", "pretense"},
    {"programme", "program"},
    {"programmes", "programs"},
    {"sceptic", "skeptic"},
    {"sceptical", "skeptical"},
    {"scepticism", "skepticism"},
    {"sceptics", "skeptics"},
    {"signalled", "signaled"},
    {"signalling", "signaling"},
    {"skilful", "skillful"},
    {"specialities", "specialties"},
    {"speciality", "specialty"},
    {"totalled", "totaled"},
    {"totalling", "totaling"},
    {"travelled", "traveled"},
    {"traveller", "traveler"},
    {"travellers", "travelers"},
    {"travelling", "traveling"},
    {"tunnelled", "tunneled"},
    {"tunnelling", "tunneling"},
    {"wilful", "willful"},
    {"woollen", "woolen"},
};

constexpr bool sorted_by_from(const Replacement* begin, const Replacement* end) {
  for (const Replacement* p = begin; p + 1 < end; ++p) {
    if (!(p->from < (p + 1)->from)) return false;
  }
  return true;
}
static_assert(sorted_by_from(std::begin(kWordList), std::end(kWordList)),
              "kWordList must be sorted for binary search");

// Medical Greek/Latin digraphs, replaced wherever they occur in a word. Every `from`
// contains "ae" or "oe", or is "sulph", which the fast path checks first.
constexpr Replacement kMorphemes[] = {
    {"anaes", "anes"},     {"haem", "hem"},       {"aetiol", "etiol"},   {"oedem", "edem"},
    {"oesoph", "esoph"},   {"oestr", "estr"},     {"paed", "ped"},       {"gynaec", "gynec"},
    {"foet", "fet"},       {"rrhoe", "rrhe"},     {"pnoe", "pne"},       {"aemi", "emi"},
    {"amoeb", "ameb"},     {"coeli", "celi"},     {"caec", "cec"},       {"faec", "fec"},
    {"caesar", "cesar"},   {"homoeo", "homeo"},   {"palaeo", "paleo"},   {"naev", "nev"},
    {"caerul", "cerul"},   {"raesthe", "resthe"}, {"saesthe", "sesthe"}, {"oaesthe", "oesthe"},
    {"naesthe", "nesthe"}, {"sulph", "sulf"},
};

// Words whose -ise is not the verb suffix: the base (the word up to "ise") keeps its
// spelling when it ends with one of these. Chosen so that no -ize verb ends with them
// ("criticise" ends in "cise", so "precise", "excise"... are listed one by one).
constexpr std::string_view kIseSuffixExceptions[] = {
    "advertise", "aise",     "chastise", "circumcise", "concise",   "demise",  "despise",
    "excise",    "exercise", "exorcise", "expertise",  "franchise", "incise",  "merchandise",
    "oise",      "paradise", "precise",  "premise",    "prise",     "promise", "spise",
    "treatise",  "uise",     "valise",   "chemise",    "cerise",    "vise",    "wise",
};
// Bases that are exceptions only as whole words (as suffixes they would catch
// "polarise", "organise"...).
constexpr std::string_view kIseWordExceptions[] = {"anise", "arise", "rise", "seise"};
// Nouns in -is whose plural -ises is not a verb form.
constexpr std::string_view kIsPluralExceptions[] = {
    "clitorises",   "epiglottises", "glottises", "irises",    "mantises",
    "metropolises", "pelvises",     "penises",   "trellises",
};

// Bases in -our that are not British -our/-or words.
constexpr std::string_view kOurExceptions[] = {
    "amour", "contour",  "detour", "devour", "dour", "downpour",   "flour",  "four", "glamour",
    "hour",  "paramour", "pour",   "scour",  "sour", "troubadour", "velour", "your", "tour",
};
// What may follow -our for the -our -> -or rule.
constexpr std::string_view kOurEndings[] = {
    "isation", "fully", "itism", "able", "ably",  "ally", "hood", "ings", "ites",
    "less",    "ists",  "ised",  "ises", "ising", "ful",  "ing",  "ism",  "ist",
    "ite",     "ise",   "ers",   "al",   "ed",    "er",   "s",    "y",    "",
};

constexpr std::string_view kTreExceptions[] = {
    "acre",     "cadre", "genre", "lettre", "lucre", "macabre", "maitre", "massacre",
    "mediocre", "notre", "ogre",  "ombre",  "outre", "padre",   "timbre",
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

template <size_t N>
bool contains(const std::string_view (&list)[N], std::string_view word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

template <size_t N>
bool ends_with_any(const std::string_view (&list)[N], std::string_view word) {
  return std::any_of(std::begin(list), std::end(list),
                     [&](std::string_view suffix) { return ends_with(word, suffix); });
}

const Replacement* find_in_word_list(std::string_view word) {
  const Replacement* end = std::end(kWordList);
  const Replacement* it = std::lower_bound(
      std::begin(kWordList), end, word,
      [](const Replacement& entry, std::string_view key) { return entry.from < key; });
  return it != end && it->from == word ? it : nullptr;
}

// Replaces the last `old_size` bytes of `word` by `replacement`.
void replace_tail(std::string& word, size_t old_size, std::string_view replacement) {
  word.replace(word.size() - old_size, old_size, replacement);
}

bool fold_morphemes(std::string& word) {
  const bool has_digraph = word.find("ae") != std::string::npos ||
                           word.find("oe") != std::string::npos ||
                           word.find("sulph") != std::string::npos;
  if (!has_digraph) return false;
  bool changed = false;
  // manoeuvre -> maneuver, manoeuvres -> maneuvers, manoeuvred -> maneuvered.
  if (size_t at = word.find("manoeuvr"); at != std::string::npos) {
    std::string_view rest = std::string_view(word).substr(at + 8);
    std::string tail = rest == "e" ? "" : rest == "es" ? "s" : std::string(rest);
    word = word.substr(0, at) + "maneuver" + tail;
    changed = true;
  }
  for (const Replacement& r : kMorphemes) {
    for (size_t at = word.find(r.from); at != std::string::npos; at = word.find(r.from, at)) {
      word.replace(at, r.from.size(), r.to);
      at += r.to.size();
      changed = true;
    }
  }
  return changed;
}

bool fold_our(std::string& word) {
  if (word.find("our") == std::string::npos) return false;
  for (std::string_view ending : kOurEndings) {
    const size_t tail = 3 + ending.size();
    if (word.size() < tail + 2) continue;  // at least two letters before "our"
    std::string_view w = word;
    if (w.substr(w.size() - tail, 3) != "our" || !ends_with(w, ending)) continue;
    std::string_view base = w.substr(0, w.size() - ending.size());
    if (contains(kOurExceptions, base)) return false;
    word.erase(word.size() - tail + 1, 1);  // "our" -> "or"
    return true;
  }
  return false;
}

bool fold_ise(std::string& word) {
  // Longest suffix first; each is "is" + rest, replaced by "iz" + rest.
  static constexpr std::string_view kSuffixes[] = {
      "isational", "isations", "isation", "ising", "isers", "ised", "ises", "iser", "ise",
  };
  std::string_view w = word;
  if (w.size() < 6 || w.find("is") == std::string_view::npos) return false;
  for (std::string_view suffix : kSuffixes) {
    if (!ends_with(w, suffix)) continue;
    const size_t stem = w.size() - suffix.size();
    if (stem < 3) return false;  // rise, wise, crises, irises...
    // The base form, "xxxise", to compare with the exception lists.
    std::string base(w.substr(0, stem));
    base += "ise";
    if (ends_with_any(kIseSuffixExceptions, base) || contains(kIseWordExceptions, base)) {
      return false;
    }
    if (suffix == "ises" && contains(kIsPluralExceptions, w)) return false;
    word[stem + 1] = 'z';
    return true;
  }
  return false;
}

bool fold_yse(std::string& word) {
  // "-yses" is left alone: in medical text it is mostly the plural of -ysis (analyses).
  static constexpr std::string_view kSuffixes[] = {"ysers", "ysing", "ysed", "yser", "yse"};
  std::string_view w = word;
  if (w.find("ys") == std::string_view::npos) return false;
  for (std::string_view suffix : kSuffixes) {
    if (!ends_with(w, suffix)) continue;
    const size_t stem = w.size() - suffix.size();
    if (stem < 3) return false;  // lyse, lysed
    word[stem + 1] = 'z';
    return true;
  }
  return false;
}

bool fold_tre(std::string& word) {
  std::string_view w = word;
  const bool plural = ends_with(w, "s");
  std::string_view singular = plural ? w.substr(0, w.size() - 1) : w;
  if (singular.size() < 5 || !(ends_with(singular, "tre") || ends_with(singular, "bre"))) {
    return false;
  }
  if (contains(kTreExceptions, singular)) return false;
  // "re" -> "er" at the end of the singular.
  const size_t at = singular.size() - 2;
  word[at] = 'e';
  word[at + 1] = 'r';
  return true;
}

bool fold_logue(std::string& word) {
  if (ends_with(word, "logue") && word.size() >= 7) {
    replace_tail(word, 2, "");
    return true;
  }
  if (ends_with(word, "logues") && word.size() >= 8) {
    replace_tail(word, 3, "s");
    return true;
  }
  return false;
}

}  // namespace

bool fold_spelling_in_place(std::string& word) {
  if (word.size() < 4) return false;
  if (const Replacement* entry = find_in_word_list(word)) {
    word = entry->to;
    return true;
  }
  bool changed = fold_morphemes(word);
  changed |= fold_our(word);
  changed |= fold_ise(word) || fold_yse(word);
  changed |= fold_tre(word);
  changed |= fold_logue(word);
  return changed;
}

std::string fold_spelling(std::string_view word) {
  std::string folded(word);
  fold_spelling_in_place(folded);
  return folded;
}

}  // namespace medsearch
