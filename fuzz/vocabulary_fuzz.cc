// The vocabulary loaders (project TSV, MeSH ASCII, OBO, abbreviation lists),
// then compiling, matching, and the pieces the searcher reads.
#include <map>

#include "fuzz.h"
#include "medsearch/vocabulary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text = medsearch::fuzz::as_text(data + 1, size - 1);
  medsearch::Vocabulary vocabulary;
  medsearch::Status status;
  switch (data[0] % 5) {
    case 0:
      status = vocabulary.load_tsv(text, "fuzz.tsv");
      break;
    case 1:
      status = vocabulary.load_mesh(text, "fuzz.bin");
      break;
    case 2:
      status = vocabulary.load_obo(text, "fuzz.obo");
      break;
    case 3:
      status = vocabulary.load_abbreviations(text, "fuzz-abbreviations.tsv");
      break;
    default: {
      auto read = medsearch::Vocabulary::unserialise(text);
      if (read) vocabulary = std::move(*read);
    }
  }
  vocabulary.compile();
  const std::string sample =
      "CRPS (complex regional pain syndrome) treated with Ketalar; TRD, NMDA receptors.";
  (void)vocabulary.match(sample, medsearch::tokenize(sample));
  (void)vocabulary.match(text, medsearch::tokenize(text));
  std::map<std::string, std::string> pieces;
  for (auto& [key, value] : vocabulary.pieces()) pieces[key] = value;
  medsearch::StoredVocabulary stored([&pieces](const std::string& key) {
    auto it = pieces.find(key);
    return it == pieces.end() ? std::string() : it->second;
  });
  (void)stored.for_text(sample).match(sample, medsearch::tokenize(sample));
  (void)vocabulary.serialise();
  return 0;
}
