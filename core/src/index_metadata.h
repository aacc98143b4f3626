// Internal: the vocabulary stored in an index's metadata, shared by the
// writer and the searcher. Not part of the public API.
#pragma once

#include <xapian.h>

#include <memory>
#include <string>

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

}  // namespace medsearch::internal
