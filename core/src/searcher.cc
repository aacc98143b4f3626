#include "medsearch/searcher.h"

#include <xapian.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "folding_stem.h"
#include "index_metadata.h"
#include "medsearch/output.h"
#include "medsearch/schema.h"
#include "medsearch/text.h"
#include "medsearch/vocabulary.h"

namespace medsearch {

namespace {

// A span of the query that names a vocabulary concept.
struct ConceptSpan {
  std::vector<std::string> concept_ids;
  std::string text;  // the words as the user wrote them
};

// Expands "xconcept:N" (written into the query by rewrite_concepts) into the
// concept terms and the words, searched as one OP_SYNONYM unit: any variant
// of the concept matches, and the unit is weighted as one term.
class ConceptFieldProcessor : public Xapian::FieldProcessor {
 public:
  ConceptFieldProcessor(std::vector<ConceptSpan> spans, Xapian::Stem stemmer)
      : spans_(std::move(spans)), stemmer_(std::move(stemmer)) {}

  Xapian::Query operator()(const std::string& value) override {
    size_t index = static_cast<size_t>(std::stoul(value));
    const ConceptSpan& span = spans_.at(index);
    std::vector<Xapian::Query> parts;
    for (const auto& id : span.concept_ids) parts.emplace_back(schema::concept_term(id));
    // The words as written, stemmed as the indexer stems them, as an exact phrase.
    std::vector<Xapian::Query> words;
    for (const Token& token : tokenize(span.text))
      words.emplace_back("Z" + stemmer_(Xapian::Unicode::tolower(std::string(token.text))), 1,
                         static_cast<Xapian::termpos>(words.size() + 1));
    if (words.size() == 1) parts.push_back(words[0]);
    if (words.size() > 1)
      parts.emplace_back(Xapian::Query::OP_PHRASE, words.begin(), words.end(), words.size());
    return Xapian::Query(Xapian::Query::OP_SYNONYM, parts.begin(), parts.end());
  }

 private:
  std::vector<ConceptSpan> spans_;
  Xapian::Stem stemmer_;
};

// Replaces each span of `query` that is a vocabulary variant with
// "xconcept:N" and records the span. Text in double quotes and field values
// ("title:...") are left as written.
std::string rewrite_concepts(const Vocabulary& vocabulary, const std::string& query,
                             std::vector<ConceptSpan>& spans) {
  std::vector<Token> tokens = tokenize(query);
  std::vector<bool> usable(tokens.size(), true);
  bool quoted = false;
  size_t next_token = 0;
  for (size_t i = 0; i < query.size(); ++i) {
    while (next_token < tokens.size() && tokens[next_token].offset <= i) {
      const Token& t = tokens[next_token];
      size_t end = t.offset + t.text.size();
      bool field_name = end < query.size() && query[end] == ':';
      bool field_value = t.offset > 0 && query[t.offset - 1] == ':';
      if (quoted || field_name || field_value) usable[next_token] = false;
      ++next_token;
    }
    if (query[i] == '"') quoted = !quoted;
  }
  // Users type abbreviations in any case ("crps").
  MatchOptions options;
  options.abbreviations_need_capitals = false;
  std::vector<ConceptMatch> matches = vocabulary.match(query, tokens, options);
  std::string out;
  size_t copied = 0;
  for (size_t m = 0; m < matches.size();) {
    size_t first = matches[m].first_token, count = matches[m].token_count;
    ConceptSpan span;
    size_t n = m;
    for (; n < matches.size() && matches[n].first_token == first && matches[n].token_count == count;
         ++n)
      span.concept_ids.push_back(vocabulary.concepts()[matches[n].concept_index].id);
    m = n;
    bool all_usable = true;
    for (size_t t = first; t < first + count; ++t) all_usable = all_usable && usable[t];
    if (!all_usable) continue;
    size_t begin = tokens[first].offset;
    size_t end = tokens[first + count - 1].offset + tokens[first + count - 1].text.size();
    span.text = query.substr(begin, end - begin);
    out += query.substr(copied, begin - copied);
    out += "xconcept:" + std::to_string(spans.size());
    copied = end;
    spans.push_back(std::move(span));
  }
  out += query.substr(copied);
  return out;
}

// Concept matches of `ids` in `text`, as byte ranges.
std::vector<std::pair<size_t, size_t>> concept_ranges(const Vocabulary& vocabulary,
                                                      const std::set<std::string>& ids,
                                                      std::string_view text) {
  std::vector<Token> tokens = tokenize(text);
  std::vector<std::pair<size_t, size_t>> ranges;
  MatchOptions options;
  options.nested = true;
  for (const ConceptMatch& m : vocabulary.match(text, tokens, options)) {
    if (!ids.count(vocabulary.concepts()[m.concept_index].id)) continue;
    const Token& last = tokens[m.first_token + m.token_count - 1];
    ranges.emplace_back(tokens[m.first_token].offset, last.offset + last.text.size());
  }
  return ranges;
}

// `plain` escaped for HTML, with <mark> around `ranges` (sorted or not; overlaps merge).
std::string mark_ranges(std::string_view plain, std::vector<std::pair<size_t, size_t>> ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::string out;
  size_t at = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    auto [begin, end] = ranges[i];
    while (i + 1 < ranges.size() && ranges[i + 1].first <= end)
      end = std::max(end, ranges[++i].second);
    if (begin < at) begin = at;
    if (begin >= end) continue;
    out += html_escape(plain.substr(at, begin - at));
    out += "<mark>" + html_escape(plain.substr(begin, end - begin)) + "</mark>";
    at = end;
  }
  out += html_escape(plain.substr(at));
  return out;
}

// Adds highlighting of the query's concept variants to a snippet from Xapian,
// so that the query CRPS highlights "complex regional pain syndrome". When
// the snippet shows no match at all (the document matched through a variant
// outside it), a window around the first variant in `text` is shown instead.
std::string highlight_concepts(const Vocabulary& vocabulary, const std::set<std::string>& ids,
                               const std::string& snippet, const std::string& text,
                               size_t snippet_bytes) {
  // Back to plain text, remembering Xapian's own marks.
  std::string marked = snippet_to_text(snippet, "\x01", "\x02");
  std::string plain;
  std::vector<std::pair<size_t, size_t>> ranges;
  size_t open = 0;
  for (char c : marked) {
    if (c == '\x01')
      open = plain.size();
    else if (c == '\x02')
      ranges.emplace_back(open, plain.size());
    else
      plain += c;
  }
  auto found = concept_ranges(vocabulary, ids, plain);
  ranges.insert(ranges.end(), found.begin(), found.end());
  if (!ranges.empty()) return mark_ranges(plain, std::move(ranges));

  auto in_text = concept_ranges(vocabulary, ids, text);
  if (in_text.empty()) return snippet;
  size_t begin = in_text.front().first > 60 ? in_text.front().first - 60 : 0;
  while (begin > 0 && text[begin] != ' ') --begin;  // start at a word
  std::string_view window = utf8_prefix(std::string_view(text).substr(begin), snippet_bytes);
  size_t cut = window.rfind(' ');
  if (begin + window.size() < text.size() && cut != std::string_view::npos && cut > 0)
    window = window.substr(0, cut);
  std::vector<std::pair<size_t, size_t>> local;
  for (auto [b, e] : in_text)
    if (b >= begin && e <= begin + window.size()) local.emplace_back(b - begin, e - begin);
  std::string out = begin > 0 ? "…" : "";
  out += collapse_whitespace(mark_ranges(window, std::move(local)));
  if (begin + window.size() < text.size()) out += "…";
  return out;
}

}  // namespace

struct Searcher::Impl {
  std::vector<std::string> paths;
  Xapian::Database db;
  Xapian::Stem stemmer = internal::folding_stemmer();
  std::shared_ptr<const Vocabulary> vocabulary;

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

  // Parses `text`, expanding vocabulary concepts when the index has a
  // vocabulary; the ids of the concepts found are added to `concept_ids`.
  Xapian::Query parse(const std::string& text, unsigned flags,
                      std::set<std::string>& concept_ids) const {
    Xapian::QueryParser parser = make_parser();
    if (!vocabulary) return parser.parse_query(text, flags);
    std::vector<ConceptSpan> spans;
    std::string rewritten = rewrite_concepts(*vocabulary, text, spans);
    if (spans.empty()) return parser.parse_query(text, flags);
    for (const auto& span : spans)
      concept_ids.insert(span.concept_ids.begin(), span.concept_ids.end());
    parser.add_prefix("xconcept",
                      (new ConceptFieldProcessor(std::move(spans), stemmer))->release());
    return parser.parse_query(rewritten, flags);
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
  // Queries are expanded with the vocabulary the index was built with.
  try {
    for (const auto& path : paths) {
      auto vocabulary = internal::load_stored_vocabulary(Xapian::Database(path));
      if (!vocabulary) return std::move(vocabulary).take_error();
      if (*vocabulary) {
        impl->vocabulary = std::move(*vocabulary);
        break;
      }
    }
  } catch (const Xapian::Error& e) {
    return fail("cannot read the vocabulary of the index: " + e.get_description());
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
      Xapian::Query query;
      std::set<std::string> concept_ids;
      try {
        query = impl_->parse(query_text, kParseFlags, concept_ids);
      } catch (const Xapian::QueryParserError& e) {
        // Bad syntax is searched as plain words, and the user is told.
        results.notes.push_back("query syntax not understood (" + e.get_msg() +
                                "); searched as plain words");
        concept_ids.clear();
        query = impl_->parse(query_text, 0, concept_ids);
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
        if (!concept_ids.empty())
          hit.snippet = highlight_concepts(*impl_->vocabulary, concept_ids, hit.snippet,
                                           hit.doc.text, options.snippet_bytes);
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
