#include "medsearch/index_writer.h"

#include <xapian.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "medsearch/schema.h"
#include "medsearch/text.h"

namespace medsearch {

struct IndexWriter::Impl {
  Xapian::WritableDatabase db;
  Xapian::TermGenerator generator;
};

namespace {

std::string today_yyyymmdd() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

// Builds the Xapian document for `doc`: free text with positions, boolean
// filter terms, value slots and the document data.
Xapian::Document build_document(const Document& doc, const std::string& data,
                                Xapian::TermGenerator& generator) {
  namespace s = schema;
  Xapian::Document xdoc;
  xdoc.set_data(data);
  generator.set_document(xdoc);

  if (!doc.title.empty()) {
    generator.index_text(doc.title, s::kTitleWeight, std::string(s::kTitle));
    generator.index_text(doc.title, s::kTitleWeight);
    generator.increase_termpos();
  }
  for (const auto& author : doc.authors) {
    generator.index_text(author, 1, std::string(s::kAuthor));
    generator.increase_termpos();
  }
  generator.index_text(doc.text);

  xdoc.add_boolean_term(s::unique_term(doc.id));
  if (!doc.url.empty()) xdoc.add_boolean_term(s::boolean_term(s::kUrl, doc.url));
  if (!doc.site.empty()) {
    xdoc.add_boolean_term(s::boolean_term(s::kHost, ascii_lower(doc.site)));
    xdoc.add_value(s::kSlotSite, ascii_lower(doc.site));
  }
  if (!doc.type.empty()) xdoc.add_boolean_term(std::string(s::kDocType) + doc.type);
  if (!doc.evidence.empty()) xdoc.add_boolean_term(std::string(s::kEvidence) + doc.evidence);
  if (!doc.language.empty()) xdoc.add_boolean_term(std::string(s::kLanguage) + doc.language);
  if (!doc.mime_type.empty()) xdoc.add_boolean_term(s::boolean_term(s::kMimeType, doc.mime_type));
  if (!doc.doi.empty()) xdoc.add_boolean_term(s::boolean_term(s::kDoi, ascii_lower(doc.doi)));
  if (!doc.pmid.empty()) xdoc.add_boolean_term(std::string(s::kPmid) + doc.pmid);
  std::string date = s::date_slot_value(doc.date);
  if (!date.empty()) {
    xdoc.add_value(s::kSlotDate, date);
    xdoc.add_boolean_term(std::string(s::kYear) + date.substr(0, 4));
    if (date.substr(4, 2) != "00")
      xdoc.add_boolean_term(std::string(s::kMonth) + date.substr(0, 6));
    if (date.substr(6, 2) != "00") xdoc.add_boolean_term(std::string(s::kDay) + date);
  }
  xdoc.add_value(s::kSlotContentHash, hex64(fnv1a64(data)));
  return xdoc;
}

}  // namespace

IndexWriter::IndexWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

IndexWriter::~IndexWriter() {
  if (!impl_) return;
  try {
    impl_->db.commit();
  } catch (const Xapian::Error&) {
    // Destructors must not throw; an explicit commit() reports errors.
  }
}

Result<std::unique_ptr<IndexWriter>> IndexWriter::open(const std::string& path) {
  try {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path), ec);
    auto impl = std::make_unique<Impl>();
    impl->db = Xapian::WritableDatabase(path, Xapian::DB_CREATE_OR_OPEN);
    impl->generator.set_stemmer(Xapian::Stem("english"));
    impl->generator.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME_FULL_POS);
    return std::unique_ptr<IndexWriter>(new IndexWriter(std::move(impl)));
  } catch (const Xapian::DatabaseLockError&) {
    return fail("index '" + path + "' is locked by another writer (is another medindex running?)");
  } catch (const Xapian::Error& e) {
    return fail("cannot open index '" + path + "' for writing: " + e.get_description());
  }
}

Result<PutOutcome> IndexWriter::put(const Document& doc) {
  if (doc.id.empty()) return fail("document has no id");
  try {
    std::string data = schema::encode_document_data(doc);
    std::string hash = hex64(fnv1a64(data));
    std::string term = schema::unique_term(doc.id);
    std::string first_seen;
    bool exists = false;
    Xapian::PostingIterator it = impl_->db.postlist_begin(term);
    if (it != impl_->db.postlist_end(term)) {
      exists = true;
      Xapian::Document old = impl_->db.get_document(*it);
      if (old.get_value(schema::kSlotContentHash) == hash) return PutOutcome::kUnchanged;
      first_seen = old.get_value(schema::kSlotFirstSeen);
    }
    Xapian::Document xdoc = build_document(doc, data, impl_->generator);
    xdoc.add_value(schema::kSlotFirstSeen, first_seen.empty() ? today_yyyymmdd() : first_seen);
    impl_->db.replace_document(term, xdoc);
    return exists ? PutOutcome::kReplaced : PutOutcome::kAdded;
  } catch (const Xapian::Error& e) {
    return fail("cannot index '" + doc.id + "': " + e.get_description());
  }
}

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

Status IndexWriter::commit() {
  try {
    impl_->db.commit();
    return {};
  } catch (const Xapian::Error& e) {
    return fail("cannot commit the index: " + e.get_description());
  }
}

uint64_t IndexWriter::document_count() const { return impl_->db.get_doccount(); }

}  // namespace medsearch
