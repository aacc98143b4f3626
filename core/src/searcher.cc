#include "medsearch/searcher.h"

#include <xapian.h>

#include <filesystem>

#include "medsearch/schema.h"
#include "medsearch/text.h"

namespace medsearch {

struct Searcher::Impl {
  std::vector<std::string> paths;
  Xapian::Database db;
  Xapian::Stem stemmer{"english"};

  Xapian::QueryParser make_parser() const {
    namespace s = schema;
    Xapian::QueryParser parser;
    parser.set_database(db);
    parser.set_stemmer(stemmer);
    parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME_FULL_POS);
    parser.set_default_op(Xapian::Query::OP_OR);
    parser.set_max_expansion(100, Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT);
    parser.add_prefix("title", std::string(s::kTitle));
    parser.add_prefix("author", std::string(s::kAuthor));
    parser.add_boolean_prefix("site", std::string(s::kHost));
    parser.add_boolean_prefix("type", std::string(s::kDocType));
    parser.add_boolean_prefix("evidence", std::string(s::kEvidence));
    parser.add_boolean_prefix("doi", std::string(s::kDoi));
    parser.add_boolean_prefix("pmid", std::string(s::kPmid));
    parser.add_boolean_prefix("lang", std::string(s::kLanguage));
    parser.add_boolean_prefix("year", std::string(s::kYear));
    return parser;
  }
};

Searcher::Searcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Searcher::Searcher(Searcher&&) noexcept = default;
Searcher& Searcher::operator=(Searcher&&) noexcept = default;
Searcher::~Searcher() = default;

Result<Searcher> Searcher::open(const std::vector<std::string>& paths) {
  if (paths.empty()) return fail("no index given");
  auto impl = std::make_unique<Impl>();
  impl->paths = paths;
  for (const auto& path : paths) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      return fail("no index at '" + path + "' (build one with medindex --db " + path + ")");
    try {
      impl->db.add_database(Xapian::Database(path));
    } catch (const Xapian::Error& e) {
      return fail("cannot open index '" + path + "': " + e.get_description());
    }
  }
  return Searcher(std::move(impl));
}

uint64_t Searcher::document_count() const { return impl_->db.get_doccount(); }

namespace {

constexpr unsigned kParseFlags =
    Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_BOOLEAN |
    Xapian::QueryParser::FLAG_LOVEHATE | Xapian::QueryParser::FLAG_WILDCARD |
    Xapian::QueryParser::FLAG_PURE_NOT;

}  // namespace

Result<SearchResults> Searcher::search(const std::string& query_text,
                                       const SearchOptions& options) {
  SearchResults results;
  results.query = query_text;
  // A long-running reader sees a newer commit by reopening; Xapian throws
  // DatabaseModifiedError when a revision it was reading has gone.
  for (int attempt = 0;; ++attempt) {
    try {
      impl_->db.reopen();
      Xapian::QueryParser parser = impl_->make_parser();
      Xapian::Query query;
      try {
        query = parser.parse_query(query_text, kParseFlags);
      } catch (const Xapian::QueryParserError& e) {
        // Bad syntax is searched as plain words, and the user is told.
        results.notes.push_back("query syntax not understood (" + e.get_msg() +
                                "); searched as plain words");
        query = parser.parse_query(query_text, 0);
      }
      results.parsed = query.get_description();
      results.hits.clear();
      if (query.empty()) return results;

      Xapian::Enquire enquire(impl_->db);
      enquire.set_query(query);
      enquire.set_weighting_scheme(Xapian::BM25Weight());
      Xapian::MSet mset = enquire.get_mset(options.offset, options.limit, 100);
      results.total = mset.get_matches_estimated();
      uint32_t rank = options.offset;
      for (auto it = mset.begin(); it != mset.end(); ++it) {
        SearchHit hit;
        hit.rank = ++rank;
        hit.score = it.get_weight();
        hit.docid = *it;
        Xapian::Document xdoc = it.get_document();
        hit.doc = schema::decode_document_data(xdoc.get_data());
        // One line: paragraph breaks in the stored text are layout, not content.
        hit.snippet = collapse_whitespace(
            mset.snippet(hit.doc.text, options.snippet_bytes, impl_->stemmer,
                         Xapian::MSet::SNIPPET_BACKGROUND_MODEL | Xapian::MSet::SNIPPET_EXHAUSTIVE,
                         "<mark>", "</mark>", "…"));
        hit.doc.text.clear();
        results.hits.push_back(std::move(hit));
      }
      return results;
    } catch (const Xapian::DatabaseModifiedError&) {
      if (attempt >= 3) return fail("the index kept changing during the search; try again");
    } catch (const Xapian::Error& e) {
      return fail("search failed: " + e.get_description());
    }
  }
}

}  // namespace medsearch
