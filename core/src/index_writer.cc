#include "medsearch/index_writer.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <xapian.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <unordered_map>

#include "folding_stem.h"
#include "index_metadata.h"
#include "medsearch/schema.h"
#include "medsearch/text.h"
#include "medsearch/vocabulary.h"

namespace medsearch {
namespace fs = std::filesystem;

namespace {

// Near-duplicates: documents whose SimHashes differ in at most this many bits
// share a collapse key. Four 16-bit bands guarantee that such a pair shares at
// least one band term, which is how candidates are found.
constexpr int kNearDuplicateBits = 3;
constexpr int kSimhashBands = 4;
// Texts shorter than this many words are too short for a meaningful SimHash.
constexpr size_t kSimhashMinWords = 30;

std::string today_yyyymmdd() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

// SimHash over overlapping three-word shingles of the lowercased words.
bool simhash(std::string_view text, uint64_t& out) {
  std::vector<uint64_t> words;
  std::string word;
  for (size_t i = 0; i <= text.size(); ++i) {
    unsigned char c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
    if (std::isalnum(c) || c >= 0x80) {
      word += static_cast<char>(std::tolower(c));
    } else if (!word.empty()) {
      words.push_back(fnv1a64(word));
      word.clear();
    }
  }
  if (words.size() < kSimhashMinWords) return false;
  int counts[64] = {};
  for (size_t i = 0; i + 2 < words.size(); ++i) {
    uint64_t shingle = words[i] * 31 * 31 + words[i + 1] * 31 + words[i + 2];
    shingle ^= shingle >> 33;
    shingle *= 0xff51afd7ed558ccdULL;  // mix (MurmurHash3 finaliser)
    shingle ^= shingle >> 33;
    for (int bit = 0; bit < 64; ++bit) counts[bit] += (shingle >> bit) & 1 ? 1 : -1;
  }
  out = 0;
  for (int bit = 0; bit < 64; ++bit)
    if (counts[bit] > 0) out |= uint64_t{1} << bit;
  return true;
}

std::string band_term(uint64_t hash, int band) {
  return std::string(schema::kSimhashBand) + static_cast<char>('0' + band) +
         hex64(hash).substr(static_cast<size_t>(band) * 4, 4);
}

std::string vocabulary_fingerprint(const Vocabulary* vocabulary) {
  return vocabulary ? hex64(fnv1a64(vocabulary->serialise())) : "none";
}

// Near-copies among `loaded` (documents sharing a SimHash band term, found in
// different writers) get one collapse key, the first one's. Calls
// `replace(j)` for each document j whose key it changed.
void share_collapse_keys(std::vector<Xapian::Document>& loaded,
                         const std::function<void(size_t)>& replace) {
  for (size_t j = 1; j < loaded.size(); ++j) {
    uint64_t hash_j = std::stoull(loaded[j].get_value(schema::kSlotSimhash), nullptr, 16);
    for (size_t i = 0; i < j; ++i) {
      uint64_t hash_i = std::stoull(loaded[i].get_value(schema::kSlotSimhash), nullptr, 16);
      std::string key = loaded[i].get_value(schema::kSlotCollapse);
      if (std::popcount(hash_i ^ hash_j) > kNearDuplicateBits) continue;
      if (loaded[j].get_value(schema::kSlotCollapse) != key) {
        loaded[j].add_value(schema::kSlotCollapse, key);
        loaded[j].add_boolean_term(std::string(schema::kNearCopy));
        replace(j);
      }
      break;
    }
  }
}

}  // namespace

struct PreparedDocument::Impl {
  std::string id;
  Xapian::Document xdoc;
  std::string content_hash;
  std::string text_hash_term;
  bool has_simhash = false;
  uint64_t simhash = 0;
  std::vector<std::pair<std::string, Xapian::termcount>> spelling;
};

PreparedDocument::PreparedDocument() : impl_(std::make_unique<Impl>()) {}
PreparedDocument::PreparedDocument(PreparedDocument&&) noexcept = default;
PreparedDocument& PreparedDocument::operator=(PreparedDocument&&) noexcept = default;
PreparedDocument::~PreparedDocument() = default;
const std::string& PreparedDocument::id() const { return impl_->id; }

struct DocumentBuilder::Impl {
  std::shared_ptr<const Vocabulary> vocabulary;
  std::string fingerprint;
  Xapian::TermGenerator generator;

  // Concept terms for every vocabulary variant in `text`, at the positions of
  // the words that the TermGenerator gave `text` starting after `base`.
  // The ids of the concepts added go into `ids`.
  void add_concepts(Xapian::Document& xdoc, std::string_view text, Xapian::termpos base,
                    Xapian::termcount wdf_inc, std::set<std::string>& ids) {
    if (!vocabulary || text.empty()) return;
    std::vector<Token> tokens = tokenize(text);
    MatchOptions options;
    options.nested = true;
    for (const ConceptMatch& m : vocabulary->match(text, tokens, options)) {
      const Concept& c = vocabulary->concepts()[m.concept_index];
      xdoc.add_posting(schema::concept_term(c.id),
                       base + 1 + static_cast<Xapian::termpos>(m.first_token), wdf_inc);
      ids.insert(c.id);
    }
  }
};

namespace {

// Indexes `doc`'s title (prefixed, then plain, `title_indexed` called with the
// position the plain title's words follow) and authors, each followed by a
// gap, and returns the position the text's words follow. The one place that
// lays this out: build() and text_position() both use it.
Xapian::termpos lay_out_title_and_authors(
    Xapian::TermGenerator& generator, const Document& doc,
    const std::function<void(Xapian::termpos)>& title_indexed) {
  namespace s = schema;
  if (!doc.title.empty()) {
    generator.index_text(doc.title, s::kTitleWeight, std::string(s::kTitle));
    generator.increase_termpos();
    Xapian::termpos base = generator.get_termpos();
    generator.index_text(doc.title, s::kTitleWeight);
    if (title_indexed) title_indexed(base);
    generator.increase_termpos();
  }
  for (const auto& author : doc.authors) {
    generator.index_text(author, 1, std::string(s::kAuthor));
    generator.increase_termpos();
  }
  return generator.get_termpos();
}

}  // namespace

uint32_t DocumentBuilder::text_position(const Document& doc) {
  // Positions count words whatever the stemmer: none is needed here.
  Xapian::TermGenerator generator;
  Xapian::Document scratch;
  generator.set_document(scratch);
  return lay_out_title_and_authors(generator, doc, {});
}

DocumentBuilder::DocumentBuilder(std::shared_ptr<const Vocabulary> vocabulary)
    : impl_(std::make_unique<Impl>()) {
  impl_->fingerprint = vocabulary_fingerprint(vocabulary.get());
  impl_->vocabulary = std::move(vocabulary);
  impl_->generator.set_stemmer(internal::folding_stemmer());
  impl_->generator.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME_FULL_POS);
}
DocumentBuilder::~DocumentBuilder() = default;
DocumentBuilder::DocumentBuilder(DocumentBuilder&&) noexcept = default;

PreparedDocument DocumentBuilder::build(const Document& doc) {
  namespace s = schema;
  PreparedDocument prepared;
  PreparedDocument::Impl& p = *prepared.impl_;
  p.id = doc.id;
  std::string data = s::encode_document_data(doc);
  p.content_hash = hex64(fnv1a64(data) ^ fnv1a64(impl_->fingerprint));
  p.text_hash_term = std::string(s::kTextHash) + hex64(fnv1a64(doc.title + "\n" + doc.text));

  Xapian::Document& xdoc = p.xdoc;
  xdoc.set_data(data);
  Xapian::TermGenerator& generator = impl_->generator;
  generator.set_document(xdoc);
  std::set<std::string> concept_ids;
  Xapian::termpos base = lay_out_title_and_authors(generator, doc, [&](Xapian::termpos title_base) {
    impl_->add_concepts(xdoc, doc.title, title_base, s::kTitleWeight, concept_ids);
  });
  generator.index_text(doc.text);
  impl_->add_concepts(xdoc, doc.text, base, 1, concept_ids);
  if (!concept_ids.empty()) {
    std::string joined;
    for (const auto& id : concept_ids) {
      if (!joined.empty()) joined += s::kConceptSeparator;
      joined += id;
    }
    xdoc.add_value(s::kSlotConcepts, joined);
  }

  // Spelling data: the plain words of title and text, not prefixed terms,
  // numbers or identifiers. A word of the vocabulary counts double, so that
  // of two corrections as close to a misspelling the medical term is
  // preferred over a common word up to twice as frequent.
  const Vocabulary* vocabulary = impl_->vocabulary.get();
  for (auto it = xdoc.termlist_begin(); it != xdoc.termlist_end(); ++it) {
    const std::string& term = *it;
    if (term.size() < 3 || term.size() > 30 || !(term[0] >= 'a' && term[0] <= 'z')) continue;
    if (std::any_of(term.begin(), term.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const Xapian::termcount weight = vocabulary && vocabulary->is_spelling_word(term) ? 2 : 1;
    p.spelling.emplace_back(term, weight * it.get_wdf());
  }

  xdoc.add_boolean_term(s::unique_term(doc.id));
  xdoc.add_boolean_term(p.text_hash_term);
  if (!doc.url.empty()) xdoc.add_boolean_term(s::boolean_term(s::kUrl, doc.url));
  if (!doc.site.empty()) {
    xdoc.add_boolean_term(s::boolean_term(s::kHost, ascii_lower(doc.site)));
    xdoc.add_value(s::kSlotSite, ascii_lower(doc.site));
  }
  if (!doc.type.empty()) {
    xdoc.add_boolean_term(std::string(s::kDocType) + doc.type);
    xdoc.add_value(s::kSlotDocType, doc.type);
  }
  if (!doc.evidence.empty()) {
    xdoc.add_boolean_term(std::string(s::kEvidence) + doc.evidence);
    xdoc.add_value(s::kSlotEvidence, doc.evidence);
  }
  if (!doc.language.empty()) xdoc.add_boolean_term(std::string(s::kLanguage) + doc.language);
  if (!doc.mime_type.empty()) xdoc.add_boolean_term(s::boolean_term(s::kMimeType, doc.mime_type));
  if (!doc.doi.empty()) xdoc.add_boolean_term(s::boolean_term(s::kDoi, ascii_lower(doc.doi)));
  if (!doc.pmid.empty()) xdoc.add_boolean_term(std::string(s::kPmid) + doc.pmid);
  for (const auto& doi : doc.cited_dois)
    xdoc.add_boolean_term(s::boolean_term(s::kCitedDoi, ascii_lower(doi)));
  for (const auto& pmid : doc.cited_pmids) xdoc.add_boolean_term(std::string(s::kCitedPmid) + pmid);
  std::string date = s::date_slot_value(doc.date);
  if (!date.empty()) {
    xdoc.add_value(s::kSlotDate, date);
    xdoc.add_boolean_term(std::string(s::kYear) + date.substr(0, 4));
    xdoc.add_value(s::kSlotYear, date.substr(0, 4));
    if (date.substr(4, 2) != "00")
      xdoc.add_boolean_term(std::string(s::kMonth) + date.substr(0, 6));
    if (date.substr(6, 2) != "00") xdoc.add_boolean_term(std::string(s::kDay) + date);
  }
  xdoc.add_value(s::kSlotContentHash, p.content_hash);
  p.has_simhash = simhash(doc.text, p.simhash);
  if (p.has_simhash) {
    xdoc.add_value(s::kSlotSimhash, hex64(p.simhash));
    for (int band = 0; band < kSimhashBands; ++band)
      xdoc.add_boolean_term(band_term(p.simhash, band));
  }
  // The generator holds a reference to the document; drop it here, as Xapian's
  // reference counts are not atomic and the document goes to another thread.
  generator.set_document(Xapian::Document());
  return prepared;
}

struct IndexWriter::Impl {
  std::string path;
  Xapian::WritableDatabase db;
  std::shared_ptr<const Vocabulary> vocabulary;
  std::unique_ptr<DocumentBuilder> builder;                     // for put(); made on first use
  std::unordered_map<std::string, Xapian::termcount> spelling;  // added at commit
  bool defer_spelling = false;
  std::string last_duplicate_of;

  std::string id_of(Xapian::docid did) {
    return schema::decode_document_data(db.get_document(did).get_data()).id;
  }

  // The collapse key of a near-copy of `p` already in the index, if there is one.
  std::optional<std::string> near_copy_key(const PreparedDocument::Impl& p) {
    if (!p.has_simhash) return std::nullopt;
    for (int band = 0; band < kSimhashBands; ++band) {
      std::string term = band_term(p.simhash, band);
      int looked = 0;
      for (auto it = db.postlist_begin(term); it != db.postlist_end(term) && looked < 32;
           ++it, ++looked) {
        Xapian::Document other = db.get_document(*it);
        std::string other_hash = other.get_value(schema::kSlotSimhash);
        if (other_hash.size() != 16) continue;
        uint64_t value = std::stoull(other_hash, nullptr, 16);
        if (std::popcount(value ^ p.simhash) > kNearDuplicateBits) continue;
        if (schema::decode_document_data(other.get_data()).id == p.id) continue;
        std::string key = other.get_value(schema::kSlotCollapse);
        if (!key.empty()) return key;
      }
    }
    return std::nullopt;
  }
};

IndexWriter::IndexWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

IndexWriter::~IndexWriter() {
  if (!impl_) return;
  (void)commit();  // destructors must not throw; an explicit commit() reports errors
}

namespace {

// What Xapian writes while it creates a glass database: its tables, its lock
// and its version file's temporary copy. The version file, iamglass, comes
// last, and without it nothing in the directory was ever committed.
bool is_creation_remains(std::string_view name) {
  return name == "flintlock" || name.ends_with(".glass") || name.ends_with(".tmp");
}

// The directory name a new index is created under before it is renamed to `path`.
std::string creation_prefix(const fs::path& path) { return path.filename().string() + ".new-"; }

// Makes a new index at `path` (absolute) all at once. Xapian creates a database file by
// file, so a writer killed meanwhile would leave tables that no later run can
// open ("Failed to open glass revision file"). Here the index is created in a
// directory beside `path` and renamed into place, and what an interrupted
// creation left in `path` itself (by a version that created in place) is
// cleared first. Does nothing when `path` holds a database, a stub file or
// anything else Xapian did not write; Xapian then opens it, or creates in place.
void create_atomically(const fs::path& path) {
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_directory(path, ec)) return;
  std::vector<fs::path> remains;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("iam") || !entry.is_regular_file(ec) || !is_creation_remains(name)) return;
    remains.push_back(entry.path());
  }
  fs::path parent = path.parent_path();
  fs::create_directories(parent, ec);
  fs::path fresh = parent / (creation_prefix(path) + std::to_string(getpid()));
  fs::remove_all(fresh, ec);
  try {
    Xapian::WritableDatabase created(fresh.string(), Xapian::DB_CREATE);
    created.set_metadata(std::string(schema::kMetaSchemaVersion), schema::kSchemaVersion);
    created.commit();
    created.close();
  } catch (const Xapian::Error&) {
    fs::remove_all(fresh, ec);  // the open in place below reports the reason
    return;
  }
  for (const auto& file : remains) fs::remove(file, ec);
  // rename() replaces an empty directory; when another writer has just put an
  // index there, this fails and that index is opened instead.
  if (::rename(fresh.c_str(), path.c_str()) != 0) {
    fs::remove_all(fresh, ec);
    return;
  }
  int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

// Removes what interrupted writers left beside the index at `path`
// (absolute), to be called holding its lock: the shard and merge directories
// of a bulk build ("<index>.bulk-...") and the directories of creations
// (above) whose process is gone.
void remove_leftovers(const fs::path& path) {
  std::error_code ec;
  const std::string bulk = path.filename().string() + ".bulk-";
  const std::string creation = creation_prefix(path);
  for (const auto& entry : fs::directory_iterator(path.parent_path(), ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(bulk)) {
      fs::remove_all(entry.path(), ec);
    } else if (name.starts_with(creation)) {
      std::string pid = name.substr(creation.size());
      if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
      pid_t owner = static_cast<pid_t>(std::stol(pid));
      if (owner != getpid() && ::kill(owner, 0) != 0 && errno == ESRCH)
        fs::remove_all(entry.path(), ec);
    }
  }
}

}  // namespace

Result<std::unique_ptr<IndexWriter>> IndexWriter::open(const std::string& path) {
  try {
    std::error_code ec;
    fs::path index_path = fs::absolute(fs::path(path), ec).lexically_normal();
    if (!index_path.has_filename()) index_path = index_path.parent_path();
    create_atomically(index_path);
    fs::create_directories(fs::path(path), ec);
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->db = Xapian::WritableDatabase(path, Xapian::DB_CREATE_OR_OPEN);
    std::string version = impl->db.get_metadata(std::string(schema::kMetaSchemaVersion));
    const bool empty = impl->db.get_doccount() == 0;
    if (version.empty() && empty) {
      impl->db.set_metadata(std::string(schema::kMetaSchemaVersion), schema::kSchemaVersion);
    } else if (version != schema::kSchemaVersion) {
      return fail("index '" + path + "' was not written by this version of medindex (schema '" +
                  version + "', expected '" + schema::kSchemaVersion +
                  "'); index the inputs again into a new directory");
    }
    // An empty index has no unmarked near copy, whichever writer created it.
    if (empty) impl->db.set_metadata(std::string(schema::kMetaNearCopyTerms), "1");
    remove_leftovers(index_path);  // holding the lock now
    return std::unique_ptr<IndexWriter>(new IndexWriter(std::move(impl)));
  } catch (const Xapian::DatabaseLockError&) {
    return fail("index '" + path + "' is locked by another writer (is another medindex running?)");
  } catch (const Xapian::Error& e) {
    return fail("cannot open index '" + path + "' for writing: " + e.get_description());
  }
}

Result<std::shared_ptr<const Vocabulary>> IndexWriter::stored_vocabulary() {
  try {
    return internal::load_stored_vocabulary(impl_->db);
  } catch (const Xapian::Error& e) {
    return fail("cannot read the index's vocabulary: " + e.get_description());
  }
}

std::shared_ptr<const Vocabulary> IndexWriter::vocabulary() const { return impl_->vocabulary; }

namespace {

// Replaces the vocabulary's pieces in `db` (none if `vocabulary` is null).
void store_vocabulary_pieces(Xapian::WritableDatabase& db, const Vocabulary* vocabulary) {
  const std::string prefix(schema::kMetaVocabularyPiece);
  std::vector<std::string> old;
  for (auto it = db.metadata_keys_begin(prefix); it != db.metadata_keys_end(prefix); ++it)
    old.push_back(*it);
  for (const auto& key : old) db.set_metadata(key, "");
  if (vocabulary)
    for (const auto& [key, value] : vocabulary->pieces()) db.set_metadata(prefix + key, value);
  db.set_metadata(std::string(schema::kMetaVocabularyPieces),
                  vocabulary ? std::string(schema::kVocabularyPiecesFormat) : "");
}

}  // namespace

void IndexWriter::use_vocabulary(std::shared_ptr<const Vocabulary> vocabulary) {
  impl_->vocabulary = std::move(vocabulary);
  impl_->builder.reset();
}

Status IndexWriter::set_vocabulary(std::shared_ptr<const Vocabulary> vocabulary) {
  impl_->vocabulary = vocabulary;
  impl_->builder.reset();
  try {
    Xapian::WritableDatabase& db = impl_->db;
    std::string fingerprint = vocabulary_fingerprint(vocabulary.get());
    bool same = db.get_metadata(std::string(schema::kMetaVocabularyFingerprint)) == fingerprint;
    bool has_pieces = !vocabulary || db.get_metadata(std::string(schema::kMetaVocabularyPieces)) ==
                                         schema::kVocabularyPiecesFormat;
    // An index written before the pieces existed, or in an older format of
    // them, gets them on its next update.
    if (same && !has_pieces) store_vocabulary_pieces(db, vocabulary.get());
    if (same) return {};
    // Replace the stored vocabulary and the synonyms derived from it.
    std::string old_chunks = db.get_metadata(std::string(schema::kMetaVocabularyChunks));
    for (int i = 0; !old_chunks.empty() && i < std::stoi(old_chunks); ++i)
      db.set_metadata(std::string(schema::kMetaVocabularyChunk) + std::to_string(i), "");
    std::vector<std::string> keys;
    for (auto it = db.synonym_keys_begin(); it != db.synonym_keys_end(); ++it) keys.push_back(*it);
    for (const auto& key : keys) db.clear_synonyms(key);
    if (!vocabulary) {
      db.set_metadata(std::string(schema::kMetaVocabularyChunks), "");
      db.set_metadata(std::string(schema::kMetaVocabularyConcepts), "");
    } else {
      std::string data = vocabulary->serialise();
      constexpr size_t kChunk = 1 << 20;
      size_t chunks = (data.size() + kChunk - 1) / kChunk;
      for (size_t i = 0; i < chunks; ++i)
        db.set_metadata(std::string(schema::kMetaVocabularyChunk) + std::to_string(i),
                        data.substr(i * kChunk, kChunk));
      db.set_metadata(std::string(schema::kMetaVocabularyChunks), std::to_string(chunks));
      db.set_metadata(std::string(schema::kMetaVocabularyConcepts),
                      std::to_string(vocabulary->concepts().size()));
      for (const auto& [word, synonym] : vocabulary->single_word_synonyms())
        db.add_synonym(word, synonym);
      // The vocabulary's words are not spelling data: the searcher leaves
      // them alone through their "s:" pieces. As spelling data they doubled
      // the words each suggestion scans, and did not stop Xapian from
      // suggesting another word for one of them.
    }
    store_vocabulary_pieces(db, vocabulary.get());
    db.set_metadata(std::string(schema::kMetaVocabularyFingerprint), fingerprint);
    return {};
  } catch (const Xapian::Error& e) {
    return fail("cannot store the vocabulary in the index: " + e.get_description());
  }
}

Result<PutOutcome> IndexWriter::write(PreparedDocument&& prepared) {
  PreparedDocument::Impl& p = *prepared.impl_;
  if (p.id.empty()) return fail("document has no id");
  try {
    Xapian::WritableDatabase& db = impl_->db;
    std::string term = schema::unique_term(p.id);
    std::string first_seen;
    bool exists = false;
    Xapian::PostingIterator it = db.postlist_begin(term);
    if (it != db.postlist_end(term)) {
      exists = true;
      Xapian::Document old = db.get_document(*it);
      if (old.get_value(schema::kSlotContentHash) == p.content_hash) return PutOutcome::kUnchanged;
      first_seen = old.get_value(schema::kSlotFirstSeen);
    } else {
      // A new id whose title and text are those of a stored document is a copy.
      Xapian::PostingIterator copy = db.postlist_begin(p.text_hash_term);
      if (copy != db.postlist_end(p.text_hash_term)) {
        impl_->last_duplicate_of = impl_->id_of(*copy);
        return PutOutcome::kDuplicate;
      }
    }
    p.xdoc.add_value(schema::kSlotFirstSeen, first_seen.empty() ? today_yyyymmdd() : first_seen);
    // A near copy takes the other's collapse key, and the mark that says so;
    // any other document a key of its own.
    std::optional<std::string> shared = impl_->near_copy_key(p);
    if (shared) p.xdoc.add_boolean_term(std::string(schema::kNearCopy));
    p.xdoc.add_value(schema::kSlotCollapse, shared ? *shared : hex64(fnv1a64(p.id)));
    // The lookup above found whether the id is stored; replace_document(term)
    // would look again.
    if (exists)
      db.replace_document(term, p.xdoc);
    else
      db.add_document(p.xdoc);
    for (const auto& [word, count] : p.spelling) impl_->spelling[word] += count;
    return exists ? PutOutcome::kReplaced : PutOutcome::kAdded;
  } catch (const Xapian::Error& e) {
    return fail("cannot index '" + p.id + "': " + e.get_description());
  }
}

Result<PutOutcome> IndexWriter::put(const Document& doc) {
  if (doc.id.empty()) return fail("document has no id");
  if (!impl_->builder) impl_->builder = std::make_unique<DocumentBuilder>(impl_->vocabulary);
  return write(impl_->builder->build(doc));
}

const std::string& IndexWriter::last_duplicate_of() const { return impl_->last_duplicate_of; }

Result<bool> IndexWriter::remove(const std::string& id) {
  try {
    std::string term = schema::unique_term(id);
    bool exists = impl_->db.term_exists(term);
    if (exists) impl_->db.delete_document(term);
    return exists;
  } catch (const Xapian::Error& e) {
    return fail("cannot delete '" + id + "': " + e.get_description());
  }
}

void IndexWriter::defer_spelling(bool defer) { impl_->defer_spelling = defer; }

Result<std::string> IndexWriter::metadata(const std::string& key) const {
  try {
    return impl_->db.get_metadata(key);
  } catch (const Xapian::Error& e) {
    return fail("cannot read the index '" + impl_->path + "': " + e.get_description());
  }
}

Status IndexWriter::set_metadata(const std::string& key, const std::string& value) {
  try {
    impl_->db.set_metadata(key, value);
    return {};
  } catch (const Xapian::Error& e) {
    return fail("cannot write the index '" + impl_->path + "': " + e.get_description());
  }
}

Status IndexWriter::replace_spelling(const std::vector<IndexWriter*>& sources) {
  try {
    Xapian::WritableDatabase& db = impl_->db;
    std::unordered_map<std::string, Xapian::termcount> sum;
    for (const IndexWriter* source : sources)
      for (auto it = source->impl_->db.spellings_begin(); it != source->impl_->db.spellings_end();
           ++it)
        sum[*it] += it.get_termfreq();
    std::vector<std::pair<std::string, Xapian::termcount>> old;
    for (auto it = db.spellings_begin(); it != db.spellings_end(); ++it)
      old.emplace_back(*it, it.get_termfreq());
    for (const auto& [word, count] : old) db.remove_spelling(word, count);
    for (const auto& [word, count] : sum) db.add_spelling(word, count);
    impl_->spelling.clear();
    db.commit();
    return {};
  } catch (const Xapian::Error& e) {
    return fail("cannot write the spelling data of '" + impl_->path + "': " + e.get_description());
  }
}

Status IndexWriter::commit() {
  try {
    if (!impl_->defer_spelling) {
      for (const auto& [word, count] : impl_->spelling) impl_->db.add_spelling(word, count);
      impl_->spelling.clear();
    }
    impl_->db.commit();
    return {};
  } catch (const Xapian::Error& e) {
    return fail("cannot commit the index: " + e.get_description());
  }
}

uint64_t IndexWriter::document_count() const { return impl_->db.get_doccount(); }

const std::string& IndexWriter::path() const { return impl_->path; }

namespace {

// Terms with `prefix` held by more than one document, with their documents.
std::vector<std::vector<Xapian::docid>> shared_terms(Xapian::WritableDatabase& db,
                                                     const std::string& prefix) {
  std::vector<std::string> terms;
  for (auto it = db.allterms_begin(prefix); it != db.allterms_end(prefix); ++it)
    if (it.get_termfreq() > 1) terms.push_back(*it);
  std::vector<std::vector<Xapian::docid>> groups;
  for (const auto& term : terms) {
    std::vector<Xapian::docid> docs;
    for (auto it = db.postlist_begin(term); it != db.postlist_end(term) && docs.size() < 64; ++it)
      docs.push_back(*it);
    groups.push_back(std::move(docs));
  }
  return groups;
}

}  // namespace

Result<uint64_t> IndexWriter::reconcile_shards(const std::vector<IndexWriter*>& shards) {
  if (shards.size() < 2) return uint64_t{0};
  try {
    // The shards as one (docids interleave: shard (d-1) % n, its docid (d-1) / n + 1),
    // reading what each writer has, committed or not.
    const size_t n = shards.size();
    Xapian::Database all;
    for (IndexWriter* shard : shards) all.add_database(shard->impl_->db);
    struct Place {
      size_t shard;
      Xapian::docid did;
      bool operator<(const Place& o) const {
        return shard != o.shard ? shard < o.shard : did < o.did;
      }
    };
    // The documents of each term of `prefix` held by several, in the order of
    // a merged index (shard by shard), as absorb_shards sees them.
    auto groups = [&](const std::string& prefix) {
      std::vector<std::vector<Place>> out;
      std::vector<std::string> terms;
      for (auto it = all.allterms_begin(prefix); it != all.allterms_end(prefix); ++it)
        if (it.get_termfreq() > 1) terms.push_back(*it);
      for (const auto& term : terms) {
        std::vector<Place> places;
        for (auto it = all.postlist_begin(term); it != all.postlist_end(term); ++it)
          places.push_back({(*it - 1) % n, static_cast<Xapian::docid>((*it - 1) / n + 1)});
        std::sort(places.begin(), places.end());
        if (places.size() > 64) places.resize(64);
        out.push_back(std::move(places));
      }
      return out;
    };
    auto db = [&](const Place& p) -> Xapian::WritableDatabase& {
      return shards[p.shard]->impl_->db;
    };
    uint64_t removed = 0;
    for (const auto& places : groups(std::string(schema::kTextHash)))
      for (size_t i = 1; i < places.size(); ++i, ++removed)
        db(places[i]).delete_document(places[i].did);
    for (const auto& places : groups(std::string(schema::kSimhashBand))) {
      std::vector<Xapian::Document> loaded;
      for (const Place& p : places) loaded.push_back(db(p).get_document(p.did));
      share_collapse_keys(
          loaded, [&](size_t j) { db(places[j]).replace_document(places[j].did, loaded[j]); });
    }
    for (IndexWriter* shard : shards)
      if (Status s = shard->commit(); !s) return std::move(s).take_error();
    return removed;
  } catch (const Xapian::Error& e) {
    return fail("cannot reconcile the shards: " + e.get_description());
  }
}

Result<uint64_t> IndexWriter::absorb_shards(const std::vector<std::string>& shards) {
  if (impl_->db.get_doccount() != 0) return fail("absorb_shards needs an empty index");
  const std::string& path = impl_->path;
  std::string merged = path + ".bulk-merged";
  std::error_code ec;
  fs::remove_all(merged, ec);
  try {
    Xapian::Database sources;
    for (const auto& shard : shards) sources.add_database(Xapian::Database(shard));
    sources.compact(merged);
    // Swap the merged index in; the empty one goes away with its uncommitted
    // metadata, which set_vocabulary() below writes again.
    impl_->db.close();
    if (renameat2(AT_FDCWD, merged.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) != 0)
      return fail("cannot move the merged index into '" + path + "': " + std::strerror(errno));
    fs::remove_all(merged, ec);
    impl_->db = Xapian::WritableDatabase(path, Xapian::DB_OPEN);
  } catch (const Xapian::Error& e) {
    fs::remove_all(merged, ec);
    return fail("cannot merge the shards of a bulk build: " + e.get_description());
  }
  if (Status s = set_vocabulary(impl_->vocabulary); !s) return std::move(s).take_error();
  try {
    Xapian::WritableDatabase& db = impl_->db;
    // Exact copies in different shards: keep the first.
    uint64_t removed = 0;
    for (const auto& docs : shared_terms(db, std::string(schema::kTextHash))) {
      for (size_t i = 1; i < docs.size(); ++i, ++removed) db.delete_document(docs[i]);
    }
    // Near-copies in different shards: one collapse key, the first one's.
    for (const auto& docs : shared_terms(db, std::string(schema::kSimhashBand))) {
      std::vector<Xapian::Document> loaded;
      for (Xapian::docid did : docs) loaded.push_back(db.get_document(did));
      share_collapse_keys(loaded, [&](size_t j) { db.replace_document(docs[j], loaded[j]); });
    }
    db.commit();
    return removed;
  } catch (const Xapian::Error& e) {
    return fail("cannot finish the bulk build: " + e.get_description());
  }
}

namespace {

uint64_t directory_bytes(const std::string& path) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  return total;
}

IndexStatistics statistics_of(const Xapian::Database& db, const std::string& path) {
  IndexStatistics stats;
  stats.documents = db.get_doccount();
  stats.total_length = db.get_total_length();
  for (auto it = db.allterms_begin(); it != db.allterms_end(); ++it) ++stats.unique_terms;
  std::string prefix(schema::kConcept);
  for (auto it = db.allterms_begin(prefix); it != db.allterms_end(prefix); ++it)
    ++stats.concepts_used;
  std::string concepts = db.get_metadata(std::string(schema::kMetaVocabularyConcepts));
  stats.vocabulary_concepts = concepts.empty() ? 0 : std::stoull(concepts);
  // A stub file (a sharded index's local.stub): the directory holding it.
  std::error_code ec;
  stats.bytes_on_disk =
      directory_bytes(fs::is_regular_file(path, ec) ? fs::path(path).parent_path().string() : path);
  stats.last_modified = std::to_string(db.get_revision());
  return stats;
}

}  // namespace

Result<IndexStatistics> IndexWriter::statistics() {
  try {
    return statistics_of(impl_->db, impl_->path);
  } catch (const Xapian::Error& e) {
    return fail("cannot read index statistics: " + e.get_description());
  }
}

Result<IndexStatistics> index_statistics(const std::string& path) {
  try {
    return statistics_of(Xapian::Database(path), path);
  } catch (const Xapian::Error& e) {
    return fail("cannot open index '" + path + "': " + e.get_description());
  }
}

Status compact_index(const std::string& path) {
  std::string tmp = path + ".compacting";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  // Holding the write lock keeps other writers out while we copy and swap.
  std::optional<Xapian::WritableDatabase> lock;
  try {
    lock.emplace(path, Xapian::DB_OPEN);
    Xapian::Database(path).compact(tmp);
  } catch (const Xapian::DatabaseLockError&) {
    return fail("index '" + path + "' is locked by another writer (is medindex running?)");
  } catch (const Xapian::Error& e) {
    fs::remove_all(tmp, ec);
    return fail("cannot compact '" + path + "': " + e.get_description());
  }
  // Swap the two directories atomically, so a crash leaves one whole index at `path`.
  if (renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) != 0) {
    std::string why = std::strerror(errno);
    fs::remove_all(tmp, ec);
    return fail("cannot replace '" + path + "' with its compacted copy: " + why);
  }
  fs::remove_all(tmp, ec);
  return {};
}

}  // namespace medsearch
