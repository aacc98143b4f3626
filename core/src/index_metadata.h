// Internal: what the writer, the searcher and the collections read from an
// index alike: the vocabulary stored in its metadata, and the document a
// docid, an id or a URL names. Not part of the public API.
#pragma once

#include <xapian.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "medsearch/result.h"
#include "medsearch/schema.h"
#include "medsearch/vocabulary.h"

namespace medsearch::internal {

// The document `ref` names in `db`: a docid (up to nine digits, when a
// document has it), else the document whose id or URL it is; 0 if none.
inline Xapian::docid find_document(const Xapian::Database& db, const std::string& ref) {
  if (!ref.empty() && ref.size() < 10 && ref.find_first_not_of("0123456789") == std::string::npos) {
    auto did = static_cast<Xapian::docid>(std::stoul(ref));
    try {
      // Docid 0 is no document: Xapian refuses it as an invalid argument.
      if (did != 0) {
        db.get_document(did);
        return did;
      }
    } catch (const Xapian::DocNotFoundError&) {
    }
  }
  for (const std::string& term :
       {schema::unique_term(ref), schema::boolean_term(schema::kUrl, ref)}) {
    Xapian::PostingIterator it = db.postlist_begin(term);
    if (it != db.postlist_end(term)) return *it;
  }
  return 0;
}

// The vocabulary stored in `db` (compiled, ready to match), or null if none.
inline Result<std::shared_ptr<const Vocabulary>> load_stored_vocabulary(
    const Xapian::Database& db) {
  std::string chunks = db.get_metadata(std::string(schema::kMetaVocabularyChunks));
  if (chunks.empty()) return std::shared_ptr<const Vocabulary>();
  std::string data;
  int count = std::stoi(chunks);
  for (int i = 0; i < count; ++i)
    data += db.get_metadata(std::string(schema::kMetaVocabularyChunk) + std::to_string(i));
  auto vocabulary = Vocabulary::unserialise(data);
  if (!vocabulary)
    return fail("the vocabulary stored in the index is damaged: " + vocabulary.error());
  auto shared = std::make_shared<Vocabulary>(std::move(*vocabulary));
  shared->compile();
  return std::shared_ptr<const Vocabulary>(std::move(shared));
}

// The vocabulary stored in `db`, read a piece at a time; null if none. An index
// written before the pieces were stored gets them from its whole vocabulary,
// loaded now (slow: medindex adds the pieces at the next update).
inline Result<std::unique_ptr<StoredVocabulary>> open_stored_vocabulary(
    const Xapian::Database& db) {
  if (!db.get_metadata(std::string(schema::kMetaVocabularyPieces)).empty()) {
    const std::string prefix(schema::kMetaVocabularyPiece);
    return std::make_unique<StoredVocabulary>(
        [db, prefix](const std::string& key) { return db.get_metadata(prefix + key); });
  }
  auto whole = load_stored_vocabulary(db);
  if (!whole) return std::move(whole).take_error();
  if (!*whole) return std::unique_ptr<StoredVocabulary>();
  auto pieces = std::make_shared<std::unordered_map<std::string, std::string>>();
  for (auto& [key, value] : (*whole)->pieces()) pieces->emplace(std::move(key), std::move(value));
  return std::make_unique<StoredVocabulary>([pieces](const std::string& key) {
    auto it = pieces->find(key);
    return it == pieces->end() ? std::string() : it->second;
  });
}

}  // namespace medsearch::internal
