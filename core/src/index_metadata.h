// Internal: the vocabulary stored in an index's metadata, shared by the
// writer and the searcher. Not part of the public API.
#pragma once

#include <xapian.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "medsearch/result.h"
#include "medsearch/schema.h"
#include "medsearch/vocabulary.h"

namespace medsearch::internal {

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
