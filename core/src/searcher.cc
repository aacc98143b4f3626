#include "medsearch/searcher.h"

#include <xapian.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include "expansion.h"
#include "folding_stem.h"
#include "index_metadata.h"
#include "medsearch/index_writer.h"
#include "medsearch/output.h"
#include "medsearch/schema.h"
#include "medsearch/text.h"
#include "medsearch/vocabulary.h"
#include "query_scan.h"

namespace medsearch {

namespace {

// A span of the query that names a vocabulary concept.
struct ConceptSpan {
  std::vector<std::string> concept_ids;
  std::string text;  // the words as the user wrote them
};

// Expands "xconcept:N" (written into the query by rewrite_concepts) into the
// concept's term. Every variant of the concept in an indexed document added
// that term, so it alone finds them all and weighs each occurrence once,
// whichever variant the user typed (adding the typed words as well would
// count documents that use those words twice). Only when no document has the
// concept (an index built with another vocabulary) are the words searched,
// as an exact phrase stemmed as the indexer stems.
class ConceptFieldProcessor : public Xapian::FieldProcessor {
 public:
  ConceptFieldProcessor(std::vector<ConceptSpan> spans, Xapian::Stem stemmer,
                        const Xapian::Database& db)
      : spans_(std::move(spans)), stemmer_(std::move(stemmer)), db_(db) {}

  Xapian::Query operator()(const std::string& value) override {
    size_t index = static_cast<size_t>(std::stoul(value));
    const ConceptSpan& span = spans_.at(index);
    std::vector<Xapian::Query> parts;
    for (const auto& id : span.concept_ids) {
      std::string term = schema::concept_term(id);
      if (db_.get_termfreq(term) > 0) parts.emplace_back(term);
    }
    if (parts.empty()) {
      std::vector<Xapian::Query> words;
      for (const Token& token : tokenize(span.text))
        words.emplace_back("Z" + stemmer_(Xapian::Unicode::tolower(std::string(token.text))), 1,
                           static_cast<Xapian::termpos>(words.size() + 1));
      if (words.size() == 1) return words[0];
      return Xapian::Query(Xapian::Query::OP_PHRASE, words.begin(), words.end(), words.size());
    }
    if (parts.size() == 1) return parts[0];
    return Xapian::Query(Xapian::Query::OP_SYNONYM, parts.begin(), parts.end());
  }

 private:
  std::vector<ConceptSpan> spans_;
  Xapian::Stem stemmer_;
  const Xapian::Database& db_;
};

// Whether a placeholder field ("xconcept:N") put at `at` in `query` starts a
// term of its own: after a space, "(", the start, or a + or - operator.
bool starts_term(const std::string& query, size_t at) {
  if (at == 0) return true;
  char c = query[at - 1];
  if (std::isspace(static_cast<unsigned char>(c)) || c == '(') return true;
  if (c != '+' && c != '-') return false;
  return at == 1 || std::isspace(static_cast<unsigned char>(query[at - 2])) || query[at - 2] == '(';
}

// Whether the text of `query` from `at` lets a placeholder field end there.
bool ends_term(const std::string& query, size_t at) {
  return at >= query.size() || std::isspace(static_cast<unsigned char>(query[at])) ||
         query[at] == ')';
}

// Replaces each span of `query` that is a vocabulary variant with
// "xconcept:N" and records the span. Text in double quotes and field values
// ("title:...") are left as written.
//
// A placeholder always stands as a term of its own, spaces added where the
// span was joined to other text ("crps-related", "ketamine/esketamine",
// "NMDA@p"): Xapian 1.4's parser drops a field processor's field joined to
// more text, or crashes on it after a + (found by fuzz/query).
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
    if (!starts_term(query, begin)) out += ' ';
    out += "xconcept:" + std::to_string(spans.size());
    if (!ends_term(query, end)) {
      out += ' ';
      // The joining character goes too: "-related" would be a NOT.
      if (std::strchr("+-./:@\\", query[end]) != nullptr) ++end;
    }
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

// A snippet of `text` from byte `begin` (the start of a word): at most
// `bytes`, cut at a word where the text goes on, HTML-escaped, with <mark>
// around the `marks` (byte ranges of `text`) inside it and "…" where text is
// left out, on one line.
std::string text_window(std::string_view text, size_t begin, size_t bytes,
                        std::vector<std::pair<size_t, size_t>> marks) {
  std::string_view window = utf8_prefix(text.substr(begin), bytes);
  size_t cut = window.rfind(' ');
  if (begin + window.size() < text.size() && cut != std::string_view::npos && cut > 0)
    window = window.substr(0, cut);
  std::vector<std::pair<size_t, size_t>> local;
  for (auto [b, e] : marks)
    if (b >= begin && e <= begin + window.size()) local.emplace_back(b - begin, e - begin);
  std::string out = begin > 0 ? "…" : "";
  out += collapse_whitespace(mark_ranges(window, std::move(local)));
  if (begin + window.size() < text.size()) out += "…";
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
  return text_window(text, begin, snippet_bytes, std::move(in_text));
}

}  // namespace

namespace {

constexpr const char* kDocTypes[] = {"research", "clinic", "news", "other"};
constexpr const char* kEvidenceTypes[] = {"rct",       "meta-analysis", "review",
                                          "guideline", "case-report",   "observational"};

// What Xapian's snippets can mark in a text for a query: its words and
// stemmed words ("Z" terms); a word of the text is marked when it, or "Z" and
// its stem, is one of them (or it starts as a wildcard does). Prefixed terms
// (fields, concepts, filters) never mark a word.
struct SnippetTerms {
  std::vector<std::string> terms;  // sorted
  bool wildcard = false;           // the query has a wildcard: any word may match
};

void collect_wildcards(const Xapian::Query& query, bool& found) {
  if (found) return;
  if (query.get_type() == Xapian::Query::OP_WILDCARD) {
    found = true;
    return;
  }
  for (size_t i = 0; i < query.get_num_subqueries(); ++i)
    collect_wildcards(query.get_subquery(i), found);
}

SnippetTerms snippet_terms(const Xapian::Query& query) {
  SnippetTerms out;
  auto is_upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  for (auto it = query.get_unique_terms_begin(); it != query.get_unique_terms_end(); ++it) {
    std::string term = *it;
    if (term.empty()) continue;
    if (!is_upper(term[0]) || (term[0] == 'Z' && term.size() > 1 && !is_upper(term[1])))
      out.terms.push_back(std::move(term));
  }
  collect_wildcards(query, out.wildcard);
  return out;
}

// Which of `docids` Xapian's snippets may mark a word in: those with one of
// the query's snippet terms (their text was indexed with the same words and
// stems, so a word a snippet marks is a term of the document). Read from the
// terms' posting lists, which for a few terms and ten documents costs far
// less than the documents' term lists.
std::set<Xapian::docid> may_mark(const Xapian::Database& db, const SnippetTerms& query,
                                 std::vector<Xapian::docid> docids) {
  if (query.wildcard) return {docids.begin(), docids.end()};
  std::sort(docids.begin(), docids.end());
  std::set<Xapian::docid> out;
  for (const std::string& term : query.terms) {
    Xapian::PostingIterator p = db.postlist_begin(term);
    for (Xapian::docid did : docids) {
      if (out.count(did)) continue;
      p.skip_to(did);
      if (p == db.postlist_end(term)) break;
      if (*p == did) out.insert(did);
    }
  }
  return out;
}

// The query language's errors: the search falls back to plain words, and the
// user reads this message.
[[noreturn]] void query_error(const std::string& message) {
  throw Xapian::QueryParserError(message);
}

std::string join_names(const char* const* begin, const char* const* end) {
  std::string out;
  for (auto it = begin; it != end; ++it) out += (out.empty() ? "" : ", ") + std::string(*it);
  return out;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "2021", "2021-03", "2021-03-05" or "20210305" as the slot's YYYYMMDD, the
// missing parts filled with `fill` ("00" for a range's start, "99" for its
// end); empty if not a date.
std::string date_bound(std::string_view text, const char* fill) {
  std::string digits;
  for (char c : text)
    if (c != '-') digits += c;
  if (!all_digits(digits) || (digits.size() != 4 && digits.size() != 6 && digits.size() != 8))
    return "";
  if (text.size() == 8 && text.find('-') != std::string_view::npos) return "";  // "2021-3-5"
  // A month and a day the calendar has ("2020-13" and "2021-02-29" are not dates).
  if (digits.size() >= 6) {
    const int year = std::stoi(digits.substr(0, 4)), month = std::stoi(digits.substr(4, 2));
    if (month < 1 || month > 12) return "";
    if (digits.size() == 8) {
      const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
      constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      const int day = std::stoi(digits.substr(6, 2));
      if (day < 1 || day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return "";
    }
  }
  while (digits.size() < 8) digits += fill;
  return digits;
}

// A value range on the date slot from two bounds, either of which may be
// empty (open). `what` names the field in messages and the explanation.
Xapian::Query date_range_query(const std::string& field, std::string_view value,
                               Explanation* explain) {
  size_t dots = value.find("..");
  std::string_view from = value.substr(0, dots), to = value.substr(dots + 2);
  std::string low, high;
  bool year = field == "year";
  auto bad = [&] {
    query_error(year ? "year: wants YYYY, YYYY..YYYY, YYYY.. or ..YYYY, not '" +
                           std::string(value) + "'"
                     : "date: wants YYYY-MM-DD (or YYYY-MM, YYYY) and ranges A..B, not '" +
                           std::string(value) + "'");
  };
  if (from.empty() && to.empty()) bad();
  if (!from.empty()) {
    if (year && (from.size() != 4 || !all_digits(from))) bad();
    low = date_bound(from, "00");
    if (low.empty()) bad();
  }
  if (!to.empty()) {
    if (year && (to.size() != 4 || !all_digits(to))) bad();
    high = date_bound(to, "99");
    if (high.empty()) bad();
  }
  if (!low.empty() && !high.empty() && low > high)
    query_error(field + ": the range " + std::string(value) + " ends before it starts");
  if (explain) explain->filters.push_back(field + ": " + std::string(value));
  if (high.empty()) return Xapian::Query(Xapian::Query::OP_VALUE_GE, schema::kSlotDate, low);
  if (low.empty()) return Xapian::Query(Xapian::Query::OP_VALUE_LE, schema::kSlotDate, high);
  return Xapian::Query(Xapian::Query::OP_VALUE_RANGE, schema::kSlotDate, low, high);
}

// year:2021 and year:2015..2024 (open ranges too).
Xapian::Query year_query(std::string_view value, Explanation* explain) {
  if (value.find("..") != std::string_view::npos) return date_range_query("year", value, explain);
  if (value.size() != 4 || !all_digits(value))
    query_error("year: wants YYYY, YYYY..YYYY, YYYY.. or ..YYYY, not '" + std::string(value) + "'");
  if (explain) explain->filters.push_back("year: " + std::string(value));
  return Xapian::Query(std::string(schema::kYear) + std::string(value));
}

// date:2021-03-01, date:2021-03 (a month), date:2021, and ranges.
Xapian::Query date_query(std::string_view value, Explanation* explain) {
  if (value.find("..") != std::string_view::npos) return date_range_query("date", value, explain);
  std::string day = date_bound(value, "00");
  if (day.empty())
    query_error("date: wants YYYY-MM-DD (or YYYY-MM, YYYY) and ranges A..B, not '" +
                std::string(value) + "'");
  if (explain) explain->filters.push_back("date: " + std::string(value));
  if (day.substr(4) == "0000") return Xapian::Query(std::string(schema::kYear) + day.substr(0, 4));
  if (day.substr(6) == "00") return Xapian::Query(std::string(schema::kMonth) + day.substr(0, 6));
  return Xapian::Query(std::string(schema::kDay) + day);
}

// A boolean field (site:, type:, ...): checks and normalises the value, adds
// it to the explanation and returns the filter term. A bad value is recorded
// in `errors` (the caller throws after parsing) rather than thrown: an
// exception thrown through Xapian 1.4's query parser leaks its parse state.
class FilterFieldProcessor : public Xapian::FieldProcessor {
 public:
  using Make = std::function<Xapian::Query(std::string_view, Explanation*)>;
  FilterFieldProcessor(Make make, Explanation* explain, std::vector<std::string>* errors)
      : make_(std::move(make)), explain_(explain), errors_(errors) {}
  Xapian::Query operator()(const std::string& value) override {
    try {
      return make_(value, explain_);
    } catch (const Xapian::QueryParserError& e) {
      errors_->push_back(e.get_msg());
      return Xapian::Query::MatchNothing;
    }
  }

 private:
  Make make_;
  Explanation* explain_;
  std::vector<std::string>* errors_;
};

Xapian::Query site_query(std::string_view value, Explanation* explain) {
  std::string host = ascii_lower(value);
  if (size_t scheme = host.find("://"); scheme != std::string::npos) host.erase(0, scheme + 3);
  if (size_t slash = host.find('/'); slash != std::string::npos) host.erase(slash);
  if (host.empty()) query_error("site: wants a host name, e.g. site:example.org");
  if (explain) explain->filters.push_back("site: " + host);
  return Xapian::Query(schema::boolean_term(schema::kHost, host));
}

Xapian::Query choice_query(const std::string& field, std::string_view prefix,
                           const char* const* begin, const char* const* end, std::string_view value,
                           Explanation* explain) {
  std::string lower = ascii_lower(value);
  if (std::find(begin, end, lower) == end)
    query_error(field + ": must be one of " + join_names(begin, end) + ", not '" +
                std::string(value) + "'");
  if (explain) explain->filters.push_back(field + ": " + lower);
  return Xapian::Query(std::string(prefix) + lower);
}

Xapian::Query type_query(std::string_view value, Explanation* explain) {
  return choice_query("type", schema::kDocType, std::begin(kDocTypes), std::end(kDocTypes), value,
                      explain);
}

Xapian::Query evidence_query(std::string_view value, Explanation* explain) {
  return choice_query("evidence", schema::kEvidence, std::begin(kEvidenceTypes),
                      std::end(kEvidenceTypes), value, explain);
}

// The plain words of a query that spelling may correct: not in quotes, not a
// field or its value, not an operator, letters only, 3 bytes or more.
struct QueryWord {
  size_t offset = 0;
  std::string text;
};

std::vector<QueryWord> correctable_words(const std::string& query) {
  std::vector<QueryWord> words;
  bool quoted = false;
  for (size_t i = 0; i < query.size();) {
    char c = query[i];
    if (c == '"') {
      quoted = !quoted;
      ++i;
      continue;
    }
    if (!std::isalpha(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < query.size() && (std::isalnum(static_cast<unsigned char>(query[i])) ||
                                query[i] == '-' || query[i] == '\'' || query[i] == '_'))
      ++i;
    std::string word = query.substr(start, i - start);
    bool field = i < query.size() && query[i] == ':';
    bool value = start > 0 && query[start - 1] == ':';
    bool wildcard = i < query.size() && query[i] == '*';
    bool letters = std::all_of(word.begin(), word.end(), [](char ch) {
      return std::isalpha(static_cast<unsigned char>(ch));
    });
    bool is_operator = word == "AND" || word == "OR" || word == "NOT" || word == "XOR" ||
                       word == "NEAR" || word == "ADJ";
    if (!quoted && !field && !value && !wildcard && letters && !is_operator && word.size() >= 3)
      words.push_back({start, std::move(word)});
    if (field) {
      // Skip the field's value, quoted or not.
      ++i;
      if (i < query.size() && query[i] == '"') {
        size_t close = query.find('"', i + 1);
        i = close == std::string::npos ? query.size() : close + 1;
      } else {
        while (i < query.size() && !std::isspace(static_cast<unsigned char>(query[i])) &&
               query[i] != ')')
          ++i;
      }
    }
  }
  return words;
}

// A facet's value for every document, read once per index revision, so that
// counting a match set costs an array lookup per document and facet instead of
// reading each document's values or terms.
struct FacetColumn {
  std::vector<std::string> values{""};  // code -> value; code 0 is "no value"
  bool multi = false;                   // several values a document (concepts)
  std::vector<uint32_t> code;           // single: docid -> code
  std::vector<uint32_t> offsets;        // multi: docid's codes are codes[offsets[d], offsets[d+1])
  std::vector<uint32_t> codes;
  // Single, with few values: for each code but 0, a bit per docid, so that a
  // match set given as bits is counted a word (64 documents) at a time.
  std::vector<std::vector<uint64_t>> bits;
};

// Values of a single-valued column counted from bits (FacetColumn::bits)
// rather than document by document: up to this many.
constexpr size_t kMaxBitsValues = 64;

// Fills column.bits when the column has few values.
void add_value_bits(FacetColumn& column) {
  if (column.multi || column.values.size() > kMaxBitsValues) return;
  const size_t words = column.code.size() / 64 + 1;
  column.bits.assign(column.values.size(), {});
  for (size_t v = 1; v < column.values.size(); ++v) column.bits[v].assign(words, 0);
  for (size_t did = 0; did < column.code.size(); ++did)
    if (uint32_t v = column.code[did]) column.bits[v][did / 64] |= uint64_t(1) << (did % 64);
}

// The values of a value slot.
FacetColumn read_slot_column(const Xapian::Database& db, unsigned slot) {
  FacetColumn column;
  column.code.assign(size_t(db.get_lastdocid()) + 1, 0);
  std::unordered_map<std::string, uint32_t> codes;
  for (auto it = db.valuestream_begin(slot); it != db.valuestream_end(slot); ++it) {
    // try_emplace looks before it allocates: most values are repeats.
    std::string value = *it;
    auto [known, added] = codes.try_emplace(value, static_cast<uint32_t>(column.values.size()));
    if (added) column.values.push_back(std::move(value));
    column.code[it.get_docid()] = known->second;
  }
  add_value_bits(column);
  return column;
}

// The concepts of each document, from its concepts slot (kSlotConcepts: the
// ids joined by kConceptSeparator), read in docid order.
FacetColumn read_concept_column(const Xapian::Database& db) {
  FacetColumn column;
  column.multi = true;
  const size_t documents = size_t(db.get_lastdocid()) + 1;
  column.offsets.assign(documents + 1, 0);
  std::unordered_map<std::string, uint32_t> codes;
  Xapian::docid filled = 0;  // offsets are final up to and including this docid
  for (auto it = db.valuestream_begin(schema::kSlotConcepts);
       it != db.valuestream_end(schema::kSlotConcepts); ++it) {
    const Xapian::docid did = it.get_docid();
    const auto start = static_cast<uint32_t>(column.codes.size());
    for (Xapian::docid d = filled + 1; d <= did; ++d) column.offsets[d] = start;
    const std::string value = *it;
    for (size_t from = 0; from < value.size();) {
      size_t end = value.find(schema::kConceptSeparator, from);
      if (end == std::string::npos) end = value.size();
      auto [known, added] = codes.try_emplace(value.substr(from, end - from),
                                              static_cast<uint32_t>(column.values.size()));
      if (added) column.values.push_back(known->first);
      column.codes.push_back(known->second);
      from = end + 1;
    }
    column.offsets[did + 1] = static_cast<uint32_t>(column.codes.size());
    filled = did + 1;
  }
  for (size_t d = filled + 1; d <= documents; ++d)
    column.offsets[d] = static_cast<uint32_t>(column.codes.size());
  return column;
}

// Where a facet's values come from: a column read beforehand, or each
// matching document's value slot as it comes.
struct FacetSource {
  const FacetColumn* column = nullptr;
  unsigned slot = 0;
  bool concepts = false;
};

// The docids whose bits are set (bit d of word d / 64), in order.
std::vector<uint32_t> set_bits(const std::vector<uint64_t>& bits) {
  std::vector<uint32_t> out;
  for (size_t w = 0; w < bits.size(); ++w)
    for (uint64_t word = bits[w]; word != 0; word &= word - 1)
      out.push_back(static_cast<uint32_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(word))));
  return out;
}

// Counts the facet values of every document the matcher passes it.
class FacetCountSpy : public Xapian::MatchSpy {
 public:
  explicit FacetCountSpy(std::vector<FacetSource> sources)
      : sources_(std::move(sources)), counts_(sources_.size()), read_(sources_.size()) {
    for (size_t i = 0; i < sources_.size(); ++i)
      counts_[i].assign(sources_[i].column ? sources_[i].column->values.size() : 1, 0);
  }
  void operator()(const Xapian::Document& doc, double) override {
    const Xapian::docid did = doc.get_docid();
    ++documents_;
    for (size_t i = 0; i < sources_.size(); ++i) {
      if (!sources_[i].column)
        count_read(doc, i);
      else
        count_column(i, did);
    }
  }
  // Whether every source is a column, so that add_bits() can count
  // documents given by docid alone.
  bool columns_only() const {
    return std::all_of(sources_.begin(), sources_.end(), [](const auto& s) { return s.column; });
  }
  // Counts the documents whose bits are set in `bits` (bit d of word d / 64
  // for docid d; columns_only() sources), as the matcher would pass them,
  // one column at a time.
  void add_bits(const std::vector<uint64_t>& bits) {
    for (uint64_t word : bits) documents_ += static_cast<uint64_t>(__builtin_popcountll(word));
    std::vector<uint32_t> dids;  // the docids of `bits`, once a column needs them
    for (size_t i = 0; i < sources_.size(); ++i) {
      const FacetColumn& c = *sources_[i].column;
      std::vector<uint64_t>& counts = counts_[i];
      if (c.values.size() <= 1) continue;  // no document has a value
      if (!c.bits.empty()) {
        const size_t words = std::min(bits.size(), c.bits[1].size());
        for (size_t v = 1; v < c.bits.size(); ++v) {
          const uint64_t* of_value = c.bits[v].data();
          uint64_t n = 0;
          for (size_t w = 0; w < words; ++w)
            n += static_cast<uint64_t>(__builtin_popcountll(bits[w] & of_value[w]));
          counts[v] += n;
        }
        continue;
      }
      // Document by document; 32-bit counts keep the concepts' in the cache.
      if (dids.empty() && documents_ > 0) dids = set_bits(bits);
      const size_t documents = c.multi ? c.offsets.size() - 1 : c.code.size();
      const auto counted_end = std::lower_bound(dids.begin(), dids.end(), documents);
      std::vector<uint32_t> tally(counts.size(), 0);
      if (!c.multi) {
        for (auto did = dids.begin(); did != counted_end; ++did) ++tally[c.code[*did]];
      } else {
        // A document's codes are a few cache lines somewhere in a large
        // array: asked for a few documents ahead, they arrive together
        // instead of one wait after another.
        constexpr size_t kAhead = 8;
        const size_t n = static_cast<size_t>(counted_end - dids.begin());
        const uint32_t* offsets = c.offsets.data();
        const uint32_t* codes = c.codes.data();
        for (size_t j = 0; j < n; ++j) {
          if (j + kAhead < n) {
            const uint32_t* next = codes + offsets[dids[j + kAhead]];
            __builtin_prefetch(next);
            __builtin_prefetch(next + 16);
          }
          for (uint32_t k = offsets[dids[j]], end = offsets[dids[j] + 1]; k < end; ++k)
            ++tally[codes[k]];
        }
      }
      for (size_t v = 0; v < counts.size(); ++v) counts[v] += tally[v];
    }
  }
  std::string name() const override { return "medsearch.FacetCountSpy"; }
  // Facet `name` from source i: the number of distinct values counted and the
  // `keep` most frequent (ties in value order), "no value" left out.
  Facet facet(size_t i, const std::string& name, size_t keep) const {
    const std::vector<uint64_t>& counts = counts_[i];
    const std::vector<std::string>& values =
        sources_[i].column ? sources_[i].column->values : read_[i].values;
    std::vector<uint32_t> counted;
    for (uint32_t code = 1; code < counts.size(); ++code)
      if (counts[code] > 0) counted.push_back(code);
    Facet facet;
    facet.name = name;
    facet.distinct = counted.size();
    auto first = [&](uint32_t a, uint32_t b) {
      return counts[a] != counts[b] ? counts[a] > counts[b] : values[a] < values[b];
    };
    const size_t shown = std::min(keep, counted.size());
    std::partial_sort(counted.begin(), counted.begin() + shown, counted.end(), first);
    for (size_t k = 0; k < shown; ++k)
      facet.values.push_back({values[counted[k]], values[counted[k]], counts[counted[k]]});
    return facet;
  }
  uint64_t documents() const { return documents_; }

 private:
  // Values met so far by a source without a column, coded as in a column.
  struct Read {
    std::vector<std::string> values{""};
    std::unordered_map<std::string, uint32_t> codes;
  };

  void count_column(size_t i, Xapian::docid did) {
    const FacetColumn& c = *sources_[i].column;
    std::vector<uint64_t>& counts = counts_[i];
    if (!c.multi) {
      if (did < c.code.size()) ++counts[c.code[did]];
    } else if (size_t(did) + 1 < c.offsets.size()) {
      for (uint32_t k = c.offsets[did]; k < c.offsets[did + 1]; ++k) ++counts[c.codes[k]];
    }
  }

  void count(size_t i, const std::string& value) {
    Read& read = read_[i];
    auto [known, added] = read.codes.emplace(value, static_cast<uint32_t>(read.values.size()));
    if (added) {
      read.values.push_back(value);
      counts_[i].push_back(0);
    }
    ++counts_[i][known->second];
  }

  void count_read(const Xapian::Document& doc, size_t i) {
    if (!sources_[i].concepts) {
      std::string value = doc.get_value(sources_[i].slot);
      if (!value.empty()) count(i, value);
      return;
    }
    const std::string value = doc.get_value(schema::kSlotConcepts);
    for (size_t from = 0; from < value.size();) {
      size_t end = value.find(schema::kConceptSeparator, from);
      if (end == std::string::npos) end = value.size();
      count(i, value.substr(from, end - from));
      from = end + 1;
    }
  }

  std::vector<FacetSource> sources_;
  std::vector<std::vector<uint64_t>> counts_;
  std::vector<Read> read_;
  uint64_t documents_ = 0;
};

// The terms of `query` when it only unites terms (OR, SYNONYM, MAX, scaled
// weights, the left side of AND_MAYBE): then a document matches if it has
// any of them. False for any other operator (AND, phrases, ranges, ...).
bool union_terms(const Xapian::Query& query, std::vector<std::string>& terms) {
  switch (query.get_type()) {
    case Xapian::Query::LEAF_TERM:
      terms.push_back(*query.get_unique_terms_begin());
      return !terms.back().empty();  // "" matches every document
    case Xapian::Query::LEAF_MATCH_NOTHING:
      return true;
    case Xapian::Query::OP_OR:
    case Xapian::Query::OP_SYNONYM:
    case Xapian::Query::OP_MAX:
    case Xapian::Query::OP_SCALE_WEIGHT:
      for (size_t i = 0; i < query.get_num_subqueries(); ++i)
        if (!union_terms(query.get_subquery(i), terms)) return false;
      return true;
    case Xapian::Query::OP_AND_MAYBE:
      return query.get_num_subqueries() > 0 && union_terms(query.get_subquery(0), terms);
    default:
      return false;
  }
}

// The documents that have any of `terms`, a bit per docid (bit d of word
// d / 64), set from each term's posting list. Decoding the posting lists is
// all the work; the matcher would also merge them in a heap and make a
// Document for each match.
std::vector<uint64_t> documents_with_any(const Xapian::Database& db,
                                         std::vector<std::string> terms) {
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  std::vector<uint64_t> bits(size_t(db.get_lastdocid()) / 64 + 1, 0);
  for (const std::string& term : terms)
    for (auto it = db.postlist_begin(term); it != db.postlist_end(term); ++it) {
      const Xapian::docid did = *it;
      bits[did / 64] |= uint64_t(1) << (did % 64);
    }
  return bits;
}

// English function words, left out of queries unless quoted or required with
// "+": they match nearly every document and only add noise to the ranking
// (measured on NFCorpus, whose queries are often questions). Negations and
// words with a medical sense (no, not, all, may) are not in it.
constexpr const char* kStopWords[] = {
    "a",     "about",  "after",  "again", "am",    "an",    "and",   "any",    "are",  "as",
    "at",    "be",     "been",   "being", "but",   "by",    "can",   "could",  "did",  "do",
    "does",  "doing",  "for",    "from",  "had",   "has",   "have",  "having", "he",   "her",
    "here",  "hers",   "him",    "his",   "how",   "i",     "if",    "in",     "into", "is",
    "it",    "its",    "itself", "me",    "my",    "of",    "on",    "or",     "our",  "ours",
    "she",   "should", "so",     "than",  "that",  "the",   "their", "theirs", "them", "then",
    "there", "these",  "they",   "this",  "those", "to",    "too",   "very",   "was",  "we",
    "were",  "what",   "when",   "where", "which", "while", "who",   "whom",   "why",  "will",
    "with",  "would",  "you",    "your",  "yours"};

// The length of the longest of kStopWords: longer words need no lookup.
constexpr size_t longest_stop_word() {
  size_t longest = 0;
  for (const char* word : kStopWords)
    longest = std::max(longest, std::char_traits<char>::length(word));
  return longest;
}
constexpr size_t kLongestStopWord = longest_stop_word();

const Xapian::SimpleStopper& english_stopper() {
  static const Xapian::SimpleStopper stopper(std::begin(kStopWords), std::end(kStopWords));
  return stopper;
}

// Terms worth expanding a query with: words (3 letters or more, not numbers,
// not function words) and concepts, and with `stems` also stemmed words;
// never boolean or field terms. "More like this" takes stems too; feedback
// does not, so that a word and its stem do not count twice beside the
// query's own. Terms of `query` itself are left out (as Enquire::get_eset
// does).
class ExpansionTermDecider : public Xapian::ExpandDecider {
 public:
  ExpansionTermDecider(bool stems, const Xapian::Query& query)
      : stems_(stems), query_terms_(query.get_unique_terms_begin(), query.get_unique_terms_end()) {}
  // Called for every term of every relevant document: the cheap tests first.
  bool operator()(const std::string& term) const override {
    if (term.empty()) return false;
    bool wanted;
    if (term[0] >= 'a' && term[0] <= 'z')
      wanted = term.size() >= 3 && !all_digits(term) &&
               (term.size() > kLongestStopWord || !english_stopper()(term));
    else if (term[0] == 'Z')
      wanted = stems_ && term.size() >= 4;
    else
      wanted = term.compare(0, schema::kConcept.size(), schema::kConcept) == 0;
    return wanted && !query_terms_.count(term);
  }

 private:
  bool stems_;
  std::unordered_set<std::string> query_terms_;
};

}  // namespace

Result<SortOrder> parse_sort_order(std::string_view text) {
  if (text == "relevance") return SortOrder::kRelevance;
  if (text == "date") return SortOrder::kDate;
  if (text == "-date") return SortOrder::kDateDescending;
  return fail("sort order must be relevance, date (oldest first) or -date (newest first), not '" +
              std::string(text) + "'");
}

Status validate_search_options(const SearchOptions& options) {
  for (const auto& name : options.facets)
    if (std::find(std::begin(kFacetNames), std::end(kFacetNames), name) == std::end(kFacetNames))
      return fail("unknown facet '" + name + "'; facets are " +
                  join_names(std::begin(kFacetNames), std::end(kFacetNames)));
  try {
    for (const auto& site : options.sites) site_query(site, nullptr);
    for (const auto& type : options.types) type_query(type, nullptr);
    for (const auto& evidence : options.evidence) evidence_query(evidence, nullptr);
    if (!options.years.empty()) year_query(options.years, nullptr);
  } catch (const Xapian::QueryParserError& e) {
    return fail(e.get_msg());
  }
  return {};
}

namespace {

namespace fs = std::filesystem;

// One database of a search: a local index, or a shard served by xapian-tcpsrv.
struct ShardAddress {
  std::string name;  // for messages: the path, or "remote HOST:PORT"
  std::string path;  // a local index
  std::string host;  // a remote shard
  unsigned port = 0;
  bool remote() const { return port != 0; }
};

// The databases of a Xapian stub file: "auto PATH" (relative to the stub's
// directory; another stub is read in turn) and "remote HOST:PORT" lines; '#'
// starts a comment. Read here rather than by Xapian so that remote shards
// get our timeouts and a failing one can be named.
Status read_stub(const std::string& stub, std::vector<ShardAddress>& out, int depth = 0) {
  if (depth > 8) return fail("stub file '" + stub + "' includes itself");
  std::ifstream in(stub);
  if (!in) return fail("cannot read the stub file '" + stub + "'");
  const fs::path dir = fs::path(stub).parent_path();
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    size_t space = text.find_first_of(" \t");
    std::string kind(text.substr(0, space));
    std::string rest(space == std::string_view::npos ? "" : trim(text.substr(space)));
    auto bad = [&](const std::string& why) {
      return fail("stub file '" + stub + "', line " + std::to_string(number) + ": " + why);
    };
    if (kind == "remote") {
      size_t colon = rest.rfind(':');
      if (colon == std::string::npos || rest.find_first_of(" \t") != std::string::npos)
        return bad("medsearch reaches remote shards over TCP only: 'remote HOST:PORT'");
      std::string host = rest.substr(0, colon), port = rest.substr(colon + 1);
      if (!all_digits(port) || port.size() > 5 || std::stoul(port) == 0 || std::stoul(port) > 65535)
        return bad("'" + port + "' is not a port number");
      if (host.empty()) host = "localhost";
      out.push_back(
          {"remote " + host + ":" + port, "", host, static_cast<unsigned>(std::stoul(port))});
    } else if (kind == "auto" || kind == "glass" || kind == "chert") {
      if (rest.empty()) return bad("'" + kind + "' needs a path");
      fs::path target = fs::path(rest).is_absolute() ? fs::path(rest) : dir / rest;
      std::error_code ec;
      if (fs::is_regular_file(target, ec)) {
        if (Status s = read_stub(target.string(), out, depth + 1); !s) return s;
      } else {
        out.push_back({target.string(), target.string(), "", 0});
      }
    } else {
      return bad("expected 'auto PATH' or 'remote HOST:PORT', not '" + std::string(text) + "'");
    }
  }
  return {};
}

// Facet `name` from merged counts: the number of distinct values and the
// `keep` most frequent (ties in value order), as FacetCountSpy::facet.
Facet top_facet_values(const std::string& name, const std::map<std::string, uint64_t>& counts,
                       size_t keep) {
  std::vector<std::pair<std::string, uint64_t>> values(counts.begin(), counts.end());
  Facet facet;
  facet.name = name;
  facet.distinct = values.size();
  const size_t shown = std::min(keep, values.size());
  std::partial_sort(values.begin(), values.begin() + shown, values.end(),
                    [](const auto& a, const auto& b) {
                      return a.second != b.second ? a.second > b.second : a.first < b.first;
                    });
  for (size_t k = 0; k < shown; ++k)
    facet.values.push_back({values[k].first, values[k].first, values[k].second});
  return facet;
}

// How long a reader keeps reading the index again while a writer's commits
// discard the revisions it reads (two commits during one read). A writer
// committing every few milliseconds (medindex --flush 1) beats a few attempts
// in a row, more so when the reader is slow (a loaded machine, a sanitizer
// build), so the limit is a time, not a number of attempts.
constexpr auto kRetryModifiedFor = std::chrono::seconds(5);

// Returns read(). While it fails because a writer's commits discarded the
// revision it was reading, calls reopen() and read() again, for up to
// kRetryModifiedFor; then the error propagates. Xapian reports that as
// DatabaseModifiedError, but a Xapian 1.4 reader that meets a block while the
// writer rewrites it may report any DatabaseError ("EOF reading block",
// DatabaseCorruptError) or DocNotFoundError instead: those are read again
// only when reopen() returns true, having found a newer revision (a damaged
// index has none). DatabaseOpeningError (no index there) is not retried.
//
// reopen() itself may meet the writer's next commits (Xapian's reopen reads
// the new revision's tables, which a commit-a-document writer can discard
// while it does): that too is tried again within the time, rather than
// escaping from the handler at once.
template <typename Read, typename Reopen>
auto retry_if_modified(const Read& read, const Reopen& reopen) -> decltype(read()) {
  const auto started = std::chrono::steady_clock::now();
  auto in_time = [&] { return std::chrono::steady_clock::now() - started <= kRetryModifiedFor; };
  auto reopened = [&] {
    while (true) {
      try {
        return reopen();
      } catch (const Xapian::DatabaseModifiedError&) {
        if (!in_time()) throw;
      }
    }
  };
  while (true) {
    try {
      return read();
    } catch (const Xapian::DatabaseModifiedError&) {
      if (!in_time()) throw;
      reopened();
    } catch (const Xapian::DatabaseOpeningError&) {
      throw;
    } catch (const Xapian::DatabaseError&) {
      if (!in_time() || !reopened()) throw;
    } catch (const Xapian::DocNotFoundError&) {
      if (!in_time() || !reopened()) throw;
    }
  }
}

}  // namespace

struct Searcher::Impl {
  std::vector<std::string> paths;
  Xapian::Database db;
  std::vector<ShardAddress> addresses;  // every database of `db`, in order
  OpenOptions open_options;
  // Facets are counted by Xapian's own match spies: a remote shard runs no
  // other, and over several databases a match spy is given the documents with
  // their docids in their own database (Xapian 1.4), which the columns cannot place.
  bool xapian_spies = false;
  std::vector<std::string> missing;     // shards left out (allow_partial), with why
  std::vector<Xapian::Database> parts;  // the shards of `db`
  std::vector<bool> part_remote;        // for each of `parts`: served by xapian-tcpsrv
  std::chrono::steady_clock::time_point connected_at;  // of the last connect()
  // A sharded index's vocabulary database (spelling data; concepts).
  std::optional<Xapian::Database> vocabulary_db;

  const Xapian::Database& spelling_db() const { return vocabulary_db ? *vocabulary_db : db; }

  // The contents of a local glass index's version file (iamglass), which
  // every commit replaces; empty if there is none.
  static std::string version_file(const std::string& index) {
    std::ifstream in(index + "/iamglass", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // The database at `a`, local or remote, its schema not checked.
  Xapian::Database open_database(const ShardAddress& a) const {
    if (!a.remote()) return Xapian::Database(a.path);
    return Xapian::Remote::open(a.host, a.port, open_options.timeout_ms,
                                open_options.connect_timeout_ms);
  }

  // One shard, its schema checked. `unreachable` is set when it did not answer.
  Result<Xapian::Database> open_shard(const ShardAddress& a, bool& unreachable) const {
    unreachable = false;
    try {
      std::string version;
      Xapian::doccount documents = 0;
      // A writer may commit while the index opens. When the opening itself
      // fails there is no database to reopen: a local index is tried again
      // when its version file, which every commit replaces, has changed
      // since the last try (a damaged index fails at once); a remote one is
      // simply tried again.
      std::string revision = a.remote() ? "" : version_file(a.path);
      Xapian::Database one = retry_if_modified(
          [&] {
            Xapian::Database opened = open_database(a);
            version = opened.get_metadata(std::string(schema::kMetaSchemaVersion));
            documents = opened.get_doccount();
            return opened;
          },
          [&] {
            if (a.remote()) return true;
            std::string now = version_file(a.path);
            bool committed = now != revision;
            revision = std::move(now);
            return committed;
          });
      if (documents > 0 && version != schema::kSchemaVersion)
        return fail("index '" + a.name + "' was written by another version of medindex (schema '" +
                    version + "', expected '" + schema::kSchemaVersion +
                    "'); index the inputs again");
      return one;
    } catch (const Xapian::NetworkError& e) {
      unreachable = true;
      return fail("shard '" + a.name + "' does not answer (" + e.get_msg() +
                  (e.get_error_string() ? std::string(": ") + e.get_error_string() : "") + ")");
    } catch (const Xapian::Error& e) {
      return fail("cannot open index '" + a.name + "': " + e.get_description());
    }
  }

  // (Re)opens every shard as `db`. With allow_partial, the shards that do not
  // answer are left out and listed in `missing`; otherwise the first fails it.
  Status connect() {
    Xapian::Database all;
    std::vector<Xapian::Database> opened;
    std::vector<bool> opened_remote;
    std::vector<std::string> left_out;
    for (const auto& address : addresses) {
      bool unreachable = false;
      auto one = open_shard(address, unreachable);
      if (!one) {
        if (!unreachable) return std::move(one).take_error();
        if (!open_options.allow_partial)
          return fail(one.error() + "; --allow-partial searches the shards that answer");
        left_out.push_back(one.error());
        continue;
      }
      all.add_database(*one);
      opened.push_back(std::move(*one));
      opened_remote.push_back(address.remote());
    }
    if (opened.empty()) return fail("no shard answers: " + left_out.front());
    db = all;
    xapian_spies = opened.size() > 1 || std::any_of(addresses.begin(), addresses.end(),
                                                    [](const auto& a) { return a.remote(); });
    parts = std::move(opened);
    part_remote = std::move(opened_remote);
    missing = std::move(left_out);
    connected_at = std::chrono::steady_clock::now();
    forget_revision();
    return {};
  }

  // The remote shards that do not answer now, as messages.
  std::vector<std::string> unanswering() const {
    std::vector<std::string> out;
    for (const auto& address : addresses) {
      bool unreachable = false;
      if (!address.remote()) continue;
      auto one = open_shard(address, unreachable);
      if (!one && unreachable) out.push_back(one.error());
    }
    return out;
  }

  // Expansion terms (--like, feedback) for the relevant documents `rset`:
  // Xapian's ESet, computed from the shards' term lists (expansion.h) so that
  // remote shards cost a few round trips, not one per candidate term.
  std::vector<internal::ExpansionTerm> expand(const std::vector<Xapian::docid>& rset,
                                              Xapian::termcount size, bool stems,
                                              const Xapian::Query& query = {}) const {
    ExpansionTermDecider decider(stems, query);
    return internal::expansion_terms(db, parts, part_remote, rset, size, decider, &termfreqs);
  }

  void label_concepts(Facet& facet) const {
    // Concept names only for the values shown: each is a lookup.
    for (FacetValue& v : facet.values) {
      std::optional<Concept> c;
      if (vocabulary) c = vocabulary->find(v.value);
      v.label = c ? c->name : v.value;
    }
  }
  Xapian::Stem stemmer = internal::folding_stemmer();
  std::unique_ptr<StoredVocabulary> vocabulary;  // null: the index has none
  // The last text's part of the vocabulary: the spelling check and the
  // parser ask for the same text, and building a part costs more than
  // matching it.
  mutable std::optional<std::pair<std::string, Vocabulary>> last_part;

  // The part of the stored vocabulary that may match `text` (for_text); valid
  // until the next call.
  const Vocabulary& vocabulary_for(const std::string& text) const {
    if (!last_part || last_part->first != text) last_part.emplace(text, vocabulary->for_text(text));
    return last_part->second;
  }

  Xapian::QueryParser make_parser(Explanation* explain, std::vector<std::string>* errors) const {
    namespace s = schema;
    Xapian::QueryParser parser;
    parser.set_database(db);
    parser.set_stemmer(stemmer);
    parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME_FULL_POS);
    parser.set_default_op(Xapian::Query::OP_OR);
    parser.set_max_expansion(100, Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT);
    parser.set_stopper(&english_stopper());
    parser.add_prefix("title", std::string(s::kTitle));
    parser.add_prefix("author", std::string(s::kAuthor));
    auto filter = [&](const char* field, FilterFieldProcessor::Make make) {
      parser.add_boolean_prefix(
          field, (new FilterFieldProcessor(std::move(make), explain, errors))->release());
    };
    filter("site", site_query);
    filter("type", type_query);
    filter("evidence", evidence_query);
    filter("year", year_query);
    filter("date", date_query);
    filter("doi", [](std::string_view value, Explanation* e) {
      if (e) e->filters.push_back("doi: " + ascii_lower(value));
      return Xapian::Query(s::boolean_term(s::kDoi, ascii_lower(value)));
    });
    filter("pmid", [](std::string_view value, Explanation* e) {
      if (!all_digits(value)) query_error("pmid: wants digits, not '" + std::string(value) + "'");
      if (e) e->filters.push_back("pmid: " + std::string(value));
      return Xapian::Query(std::string(s::kPmid) + std::string(value));
    });
    filter("lang", [](std::string_view value, Explanation* e) {
      std::string code = ascii_lower(value);
      if (code.size() != 2 || !std::isalpha(static_cast<unsigned char>(code[0])) ||
          !std::isalpha(static_cast<unsigned char>(code[1])))
        query_error("lang: wants a two-letter language code (en, fr, ...), not '" +
                    std::string(value) + "'");
      if (e) e->filters.push_back("lang: " + code);
      return Xapian::Query(std::string(s::kLanguage) + code);
    });
    return parser;
  }

  // Replaces each concept:ID or concept:"a name" of `text` with "xcid:N",
  // N indexing `terms`, the concepts' terms (the QueryParser hands a field
  // processor no quoted values on a weighted field, so it sees only N).
  std::string rewrite_concept_fields(const std::string& text, std::vector<std::string>& terms,
                                     Explanation* explain) const {
    std::vector<internal::ConceptField> fields = internal::concept_fields(text);
    if (fields.empty()) return text;
    std::string out;
    size_t last = 0;
    for (const internal::ConceptField& field : fields) {
      out.append(text, last, field.begin - last);
      out.append(field.lead).append("xcid:").append(std::to_string(terms.size()));
      // On its own, as rewrite_concepts' placeholders (concept:crps"x").
      if (!ends_term(text, field.end)) out += ' ';
      terms.push_back(concept_field_term(field.value, explain));
      last = field.end;
    }
    out.append(text, last, std::string::npos);
    return out;
  }

  // The term of concept:VALUE, an id or a name.
  std::string concept_field_term(std::string_view value, Explanation* explain) const {
    std::optional<Concept> found;
    if (vocabulary) found = vocabulary->find(value);
    if (!found && vocabulary) {
      // Ids are case-sensitive in the vocabulary; people type "d020918".
      std::string upper(value);
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      found = vocabulary->find(upper);
    }
    if (!found)
      query_error(vocabulary
                      ? "concept: no concept '" + std::string(value) + "' in the index's vocabulary"
                      : "concept: the index was built without a vocabulary");
    if (explain)
      explain->concepts.push_back(explain_concept(*found, "concept:" + std::string(value)));
    return schema::concept_term(found->id);
  }

  ExplainedConcept explain_concept(const Concept& c, std::string text) const {
    constexpr size_t kShown = 8;
    ExplainedConcept e;
    e.text = std::move(text);
    e.id = c.id;
    e.name = c.name;
    e.variant_count = c.variants.size();
    for (size_t i = 0; i < c.variants.size() && i < kShown; ++i)
      e.variants.push_back(c.variants[i]);
    return e;
  }

  // Parses `text`, expanding vocabulary concepts when the index has a
  // vocabulary; the ids of the concepts found are added to `concept_ids`.
  Xapian::Query parse(const std::string& text, unsigned flags, std::set<std::string>& concept_ids,
                      Explanation* explain) const {
    std::vector<std::string> errors;
    Xapian::QueryParser parser = make_parser(explain, &errors);
    if (explain) explain->fields = internal::text_fields(text);
    // The placeholder fields are ours: typed by the user, they are words.
    std::string typed = internal::unfield_placeholders(text);
    std::vector<std::string> concept_terms;
    std::string with_fields = rewrite_concept_fields(typed, concept_terms, explain);
    if (!concept_terms.empty())
      parser.add_prefix("xcid",
                        (new FilterFieldProcessor(
                             [concept_terms](std::string_view n, Explanation*) {
                               return Xapian::Query(concept_terms.at(std::stoul(std::string(n))));
                             },
                             nullptr, &errors))
                            ->release());
    // Field values are checked while parsing; the first bad one is the error.
    auto checked = [&errors](Xapian::Query query) {
      if (!errors.empty()) throw Xapian::QueryParserError(errors.front());
      return query;
    };
    if (!vocabulary) return checked(parser.parse_query(with_fields, flags));
    std::vector<ConceptSpan> spans;
    std::string rewritten = rewrite_concepts(vocabulary_for(with_fields), with_fields, spans);
    if (spans.empty()) return checked(parser.parse_query(with_fields, flags));
    for (const auto& span : spans) {
      concept_ids.insert(span.concept_ids.begin(), span.concept_ids.end());
      if (!explain) continue;
      for (const auto& id : span.concept_ids)
        if (std::optional<Concept> c = vocabulary->find(id))
          explain->concepts.push_back(explain_concept(*c, span.text));
    }
    parser.add_prefix("xconcept",
                      (new ConceptFieldProcessor(std::move(spans), stemmer, db))->release());
    return checked(parser.parse_query(rewritten, flags));
  }

  // Words of `query` a spelling correction would change, as (word, correction).
  // A word is corrected only when it is unknown or rare, the correction is
  // much more frequent, and the word is not a vocabulary term.
  std::vector<std::pair<QueryWord, std::string>> corrections(const std::string& query) const {
    constexpr Xapian::doccount kRare = 3, kMoreFrequent = 10;
    std::vector<std::pair<QueryWord, std::string>> out;
    std::vector<ConceptSpan> spans;
    std::vector<std::pair<size_t, size_t>> concept_text;  // byte ranges of concept spans
    if (vocabulary) {
      std::vector<Token> tokens = tokenize(query);
      MatchOptions options;
      options.abbreviations_need_capitals = false;
      const Vocabulary& part = vocabulary_for(query);
      for (const ConceptMatch& m : part.match(query, tokens, options)) {
        const Token& last = tokens[m.first_token + m.token_count - 1];
        concept_text.emplace_back(tokens[m.first_token].offset, last.offset + last.text.size());
      }
    }
    for (QueryWord& word : correctable_words(query)) {
      bool in_concept = std::any_of(concept_text.begin(), concept_text.end(), [&](auto range) {
        return word.offset >= range.first && word.offset < range.second;
      });
      if (in_concept) continue;
      std::string lower = ascii_lower(word.text);
      Xapian::doccount freq = db.get_termfreq(lower);
      if (freq >= kRare) continue;
      // A word of the vocabulary is never "corrected" into a more common one.
      if (vocabulary && vocabulary->is_spelling_word(lower)) continue;
      std::string suggestion = spelling_db().get_spelling_suggestion(lower, 2);
      if (suggestion.empty() || suggestion == lower) continue;
      Xapian::doccount suggested = db.get_termfreq(suggestion);
      if (suggested == 0 || (freq > 0 && suggested < kMoreFrequent * freq)) continue;
      out.emplace_back(std::move(word), std::move(suggestion));
    }
    return out;
  }

  // The query with `changes` applied.
  static std::string apply_corrections(
      const std::string& query, const std::vector<std::pair<QueryWord, std::string>>& changes) {
    std::string out;
    size_t copied = 0;
    for (const auto& [word, correction] : changes) {
      out += query.substr(copied, word.offset - copied) + correction;
      copied = word.offset + word.text.size();
    }
    return out + query.substr(copied);
  }

  // The Xapian query for the text, with the notes of a syntax fallback.
  Xapian::Query parse_with_fallback(const std::string& text, std::set<std::string>& concept_ids,
                                    Explanation& explain, std::vector<std::string>& notes) const {
    constexpr unsigned kParseFlags =
        Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_BOOLEAN |
        Xapian::QueryParser::FLAG_LOVEHATE | Xapian::QueryParser::FLAG_WILDCARD |
        Xapian::QueryParser::FLAG_PURE_NOT;
    try {
      return parse(text, kParseFlags, concept_ids, &explain);
    } catch (const Xapian::QueryParserError& e) {
      // Bad syntax is searched as plain words, and the user is told.
      notes.push_back("query not understood (" + e.get_msg() + "); searched as plain words");
      concept_ids.clear();
      explain = Explanation();
      // Plain words: no field names, quotes or operators.
      std::string plain;
      for (char c : internal::blank_field_names(text)) {
        bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '\'' ||
                    c == '.' || (c & 0x80);
        plain += keep ? c : ' ';
      }
      return parse(plain, 0, concept_ids, &explain);
    }
  }

  // The filters given as options, ANDed; empty if none.
  Result<Xapian::Query> option_filters(const SearchOptions& options, Explanation& explain) const {
    std::vector<Xapian::Query> all;
    auto any_of = [&](const std::vector<std::string>& values, auto make) {
      std::vector<Xapian::Query> alternatives;
      for (const auto& value : values) alternatives.push_back(make(value, &explain));
      if (!alternatives.empty())
        all.emplace_back(Xapian::Query::OP_OR, alternatives.begin(), alternatives.end());
    };
    try {
      any_of(options.sites, site_query);
      any_of(options.types, type_query);
      any_of(options.evidence, evidence_query);
      if (!options.years.empty()) all.push_back(year_query(options.years, &explain));
      for (const auto& value : options.concepts) {
        all.emplace_back(concept_field_term(value, &explain));
        explain.filters.push_back("concept: " + value);
      }
    } catch (const Xapian::QueryParserError& e) {
      return fail(e.get_msg());
    }
    if (all.empty()) return Xapian::Query();
    return Xapian::Query(Xapian::Query::OP_AND, all.begin(), all.end());
  }

  // The document --like names: a docid, a URL or an id.
  Result<Xapian::docid> find_document(const std::string& ref) const {
    if (Xapian::docid did = internal::find_document(db, ref)) return did;
    return fail("--like: no document with the URL, id or docid '" + ref + "' in the index");
  }

  // "More like this": the most telling terms of the document, ORed, without it.
  Result<Xapian::Query> like_query(const std::string& ref, Explanation& explain) const {
    auto did = find_document(ref);
    if (!did) return std::move(did).take_error();
    std::vector<Xapian::Query> terms;
    for (const auto& t : expand({*did}, 40, /*stems=*/true)) terms.emplace_back(t.term);
    if (terms.empty()) return fail("--like: the document '" + ref + "' has no terms to compare");
    Xapian::Document xdoc = db.get_document(*did);
    Document doc = schema::decode_document_data(xdoc.get_data());
    explain.like = doc.url.empty() ? doc.id : doc.url;
    Xapian::Query like(Xapian::Query::OP_OR, terms.begin(), terms.end());
    // Not the document itself: its unique term.
    Xapian::TermIterator self = xdoc.termlist_begin();
    self.skip_to(std::string(schema::kUniqueId));
    if (self == xdoc.termlist_end() ||
        (*self).compare(0, schema::kUniqueId.size(), schema::kUniqueId) != 0)
      return like;
    return Xapian::Query(Xapian::Query::OP_AND_NOT, like, Xapian::Query(*self));
  }

  Result<SearchResults> run(const std::string& typed, const SearchOptions& options);

  uint64_t searches = 0;  // searches this process has run (Searcher::search)

  // Term frequencies the feedback looked up in this revision of the index.
  mutable internal::TermFreqCache termfreqs;
  // Facet columns read so far for this revision of the index, by facet name.
  std::map<std::string, FacetColumn> facet_columns;

  // Drops what belongs to the revision read so far (a reopen found a newer
  // one, or the shards were connected again).
  void forget_revision() {
    facet_columns.clear();
    termfreqs.clear();
    near_copies.reset();
  }

  // Whether two documents of the index may share a collapse key. When no
  // document is a near copy of another, collapsing changes no result (every
  // similar count is 0) and only costs the matcher a value read for each
  // candidate (a tenth of a search on the 200,000-document benchmark): it is
  // left out. Indexes written before near copies were marked
  // (kMetaNearCopyTerms) are collapsed as before.
  std::optional<bool> near_copies;  // for this revision; unknown until asked
  bool may_have_near_copies() {
    if (!near_copies) {
      bool marked = std::all_of(parts.begin(), parts.end(), [](const Xapian::Database& part) {
        return part.get_metadata(std::string(schema::kMetaNearCopyTerms)) == "1";
      });
      near_copies = !marked || db.get_termfreq(std::string(schema::kNearCopy)) > 0;
    }
    return *near_copies;
  }

  static unsigned facet_slot(const std::string& name) {
    return name == "site"   ? schema::kSlotSite
           : name == "year" ? schema::kSlotYear
           : name == "type" ? schema::kSlotDocType
                            : schema::kSlotEvidence;
  }

  // The column of facet `name`, read from `from` (db, or facet_db at the
  // same revision) the first time.
  const FacetColumn& facet_column(const Xapian::Database& from, const std::string& name) {
    auto it = facet_columns.find(name);
    if (it != facet_columns.end()) return it->second;
    FacetColumn column =
        name == "concept" ? read_concept_column(from) : read_slot_column(from, facet_slot(name));
    return facet_columns.emplace(name, std::move(column)).first->second;
  }

  struct FacetCounts {
    uint64_t documents = 0;  // the documents counted: the whole match set
    std::vector<Facet> facets;
  };
  // The facets of the documents `matched` matches in `from`, unlabelled. With
  // read_matches, facets without a column read so far are read from each
  // match instead of a column. `terms`, when given, are matched's terms and
  // matched unites them (union_terms). A task on another thread must not
  // touch a Query this thread uses (their reference counts are not atomic):
  // it passes the terms, or a Query of its own (serialised and read back).
  FacetCounts count_facets(const Xapian::Database& from, const Xapian::Query& matched,
                           std::optional<std::vector<std::string>> terms,
                           const SearchOptions& options, bool read_matches) {
    std::vector<FacetSource> sources;
    for (const auto& name : options.facets) {
      FacetSource source;
      if (facet_columns.count(name) || !read_matches)
        source.column = &facet_column(from, name);
      else if (name == "concept")
        source.concepts = true;
      else
        source.slot = facet_slot(name);
      sources.push_back(source);
    }
    FacetCountSpy spy(std::move(sources));
    if (spy.columns_only() && terms) {
      // Words and concepts ORed (free text): the documents with any of
      // them, straight from the posting lists.
      spy.add_bits(documents_with_any(from, std::move(*terms)));
    } else {
      Xapian::Enquire counter(from);
      counter.set_query(matched);
      counter.set_weighting_scheme(Xapian::BoolWeight());
      counter.add_matchspy(&spy);
      counter.get_mset(0, 0, from.get_doccount());
    }
    FacetCounts counts;
    counts.documents = spy.documents();
    for (size_t i = 0; i < options.facets.size(); ++i)
      counts.facets.push_back(spy.facet(i, options.facets[i], options.facet_values));
    return counts;
  }

  // A second handle on the (one, local) index for counting facets on the
  // other core while the ranking runs (Xapian's databases are not shared
  // between threads), at db's revision; null when it cannot be had.
  std::optional<Xapian::Database> facet_db;
  const Xapian::Database* facet_database() {
    if (xapian_spies || parts.size() != 1 || part_remote.front()) return nullptr;
    if (!facet_db)
      facet_db = Xapian::Database(addresses.front().path);
    else
      facet_db->reopen();
    // A commit between the two opens: count on db, after the ranking.
    if (facet_db->get_revision() != db.get_revision()) return nullptr;
    return &*facet_db;
  }

  // Pseudo-relevance feedback: the query's matches reranked with the most
  // telling words and concepts of its top results `top` (ESet), each
  // weighted by its share of the best one's weight times kFeedbackWeight.
  // Returns the query with them, or nothing when there are none. The
  // parameters were chosen on the NFCorpus dev set (docs/performance.md,
  // "Ranking quality"). `widened` is set when the feedback terms may match
  // documents the query does not.
  static constexpr Xapian::doccount kFeedbackDocs = 4;
  std::optional<Xapian::Query> with_feedback(const Xapian::MSet& top, const Xapian::Query& query,
                                             bool free_text, bool& widened) const {
    constexpr Xapian::termcount kFeedbackTerms = 20;
    constexpr double kFeedbackWeight = 0.3;
    // Of those, terms in more than this share of the documents are left
    // out: nearly function words here ("patients", "study"), they weigh
    // little and their long posting lists were most of the second match's
    // cost. NFCorpus dev nDCG@10: 0.3218 with them all, 0.3221 with those
    // in at most 10% of the documents, 0.3208 at 3%, which cuts the second
    // match by a third (docs/performance.md, "Ranking quality").
    constexpr double kFeedbackMaxShare = 0.03;
    std::vector<Xapian::docid> rset(top.begin(), top.end());
    auto eset = expand(rset, kFeedbackTerms, /*stems=*/false, query);
    if (eset.empty()) return std::nullopt;
    std::vector<Xapian::Query> terms;
    double best = eset.front().weight;
    const double most = kFeedbackMaxShare * db.get_doccount();
    for (const auto& t : eset)
      if (t.termfreq <= most)
        terms.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(t.term),
                           kFeedbackWeight * t.weight / best);
    if (terms.empty()) return std::nullopt;
    // Free text (words ORed) may find new documents through the feedback
    // terms: most of the gain. Otherwise the feedback only reorders what the
    // query matches, so filters, NOT, AND and fields keep their meaning.
    widened = free_text;
    return Xapian::Query(free_text ? Xapian::Query::OP_OR : Xapian::Query::OP_AND_MAYBE, query,
                         Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()));
  }
};

Searcher::Searcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Searcher::Searcher(Searcher&&) noexcept = default;
Searcher& Searcher::operator=(Searcher&&) noexcept = default;
Searcher::~Searcher() = default;

Result<Searcher> Searcher::open(const std::vector<std::string>& paths, const OpenOptions& options) {
  if (paths.empty()) return fail("no index given");
  auto impl = std::make_unique<Impl>();
  impl->paths = paths;
  impl->open_options = options;
  std::string vocabulary_path;
  for (const auto& given : paths) {
    std::error_code ec;
    if (!fs::exists(given, ec))
      return fail("no index at '" + given + "' (build one with medindex --db " + given + ")");
    fs::path path = given;
    // A directory written by medindex --shards: its local stub.
    if (fs::is_directory(path, ec) && fs::is_regular_file(path / schema::kShardsLocalStub, ec) &&
        !fs::exists(path / "iamglass", ec))
      path /= schema::kShardsLocalStub;
    if (fs::is_regular_file(path, ec)) {
      if (Status s = read_stub(path.string(), impl->addresses); !s)
        return std::move(s).take_error();
      fs::path beside = path.parent_path() / schema::kShardsVocabulary;
      if (vocabulary_path.empty() && fs::is_directory(beside, ec))
        vocabulary_path = beside.string();
    } else {
      impl->addresses.push_back({given, given, "", 0});
    }
  }
  if (impl->addresses.empty()) return fail("the stub file '" + paths.front() + "' lists no index");
  if (Status s = impl->connect(); !s) return std::move(s).take_error();
  // Queries are expanded with the vocabulary the index was built with: the
  // vocabulary database's, else the first index's that has one.
  try {
    std::vector<Xapian::Database> sources = impl->parts;
    if (!vocabulary_path.empty()) {
      impl->vocabulary_db = Xapian::Database(vocabulary_path);
      sources.insert(sources.begin(), *impl->vocabulary_db);
    }
    for (Xapian::Database source : sources) {
      // Read in pieces: a writer may commit twice meanwhile.
      auto vocabulary = retry_if_modified([&] { return internal::open_stored_vocabulary(source); },
                                          [&] { return source.reopen(); });
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

const std::vector<std::string>& Searcher::missing_shards() const { return impl_->missing; }

Result<SearchResults> Searcher::search(const std::string& query_text,
                                       const SearchOptions& options) {
  if (Status valid = validate_search_options(options); !valid) return std::move(valid).take_error();
  ++impl_->searches;
  // A long-running reader sees a newer commit by reopening. Facet columns
  // and term frequencies belong to the revision they were read from.
  auto reopen = [this] {
    bool newer = impl_->db.reopen();
    if (newer) impl_->forget_revision();
    return newer;
  };
  if (!impl_->missing.empty() &&
      std::chrono::steady_clock::now() - impl_->connected_at >=
          std::chrono::milliseconds(impl_->open_options.retry_missing_ms)) {
    // Shards were left out (allow_partial): take back those that answer now.
    if (Status s = impl_->connect(); !s) return std::move(s).take_error();
  }
  for (int network_retries = 0;; ++network_retries) {
    try {
      return retry_if_modified(
          [&] {
            reopen();
            return impl_->run(query_text, options);
          },
          reopen);
    } catch (const Xapian::DatabaseModifiedError&) {
      return fail("the index kept changing during the search; try again");
    } catch (const Xapian::NetworkError& e) {
      // A shard stopped answering: name it; with allow_partial, go on
      // without it. If every shard answers again (one was restarted, and its
      // old connection is gone), connect afresh and search again.
      std::vector<std::string> down = impl_->unanswering();
      if (!down.empty() && !impl_->open_options.allow_partial)
        return fail(down.front() + "; --allow-partial searches the shards that answer");
      if (network_retries >= 3)
        return fail(down.empty() ? "search failed: " + e.get_description() : down.front());
      if (Status s = impl_->connect(); !s) return std::move(s).take_error();
    } catch (const Xapian::Error& e) {
      return fail("search failed: " + e.get_description());
    }
  }
}

Result<SearchResults> Searcher::Impl::run(const std::string& typed, const SearchOptions& options) {
  SearchResults results;
  std::string text = internal::rewrite_pubmed_dates(typed);
  results.query = typed;
  for (const auto& why : missing)
    results.notes.push_back("partial results: " + why + "; these are from the other shards");

  // Spelling: a suggestion when a word is unknown or rare and the corrected
  // query finds more; --auto-correct searches it instead.
  std::vector<std::pair<QueryWord, std::string>> changes;
  if (options.suggest || options.auto_correct) changes = corrections(text);

  std::set<std::string> concept_ids;
  Xapian::Query query = parse_with_fallback(text, concept_ids, results.explain, results.notes);
  if (!changes.empty()) {
    std::string corrected_text = apply_corrections(text, changes);
    std::set<std::string> corrected_ids;
    Explanation corrected_explain;
    std::vector<std::string> corrected_notes;
    Xapian::Query corrected =
        parse_with_fallback(corrected_text, corrected_ids, corrected_explain, corrected_notes);
    {
      std::vector<std::string> spelling;
      for (const auto& [word, correction] : changes)
        spelling.push_back(word.text + " -> " + correction);
      if (options.auto_correct) {
        results.corrected_from = typed;
        results.query = corrected_text;
        query = corrected;
        concept_ids = std::move(corrected_ids);
        results.explain = std::move(corrected_explain);
        results.notes = std::move(corrected_notes);
        results.notes.push_back("showing results for \"" + corrected_text + "\" instead of \"" +
                                typed + "\"");
      } else {
        results.suggestion = corrected_text;
      }
      results.explain.spelling = std::move(spelling);
    }
  }

  auto filters = option_filters(options, results.explain);
  if (!filters) return std::move(filters).take_error();
  if (!options.like.empty()) {
    auto like = like_query(options.like, results.explain);
    if (!like) return std::move(like).take_error();
    query = query.empty() ? *like : Xapian::Query(Xapian::Query::OP_AND_MAYBE, query, *like);
  }
  if (!filters->empty()) {
    // Filters alone list every document they allow.
    query = query.empty() ? Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, *filters, 0)
                          : Xapian::Query(Xapian::Query::OP_FILTER, query, *filters);
  }
  results.parsed = query.get_description();
  results.explain.query = results.parsed;
  if (query.empty()) {
    if (results.notes.empty()) results.notes.push_back("the query has no words to search for");
    return results;
  }

  // Facets count the whole match set of the query as typed (feedback terms
  // rank, they do not add to what was asked for), in a pass that weighs
  // nothing. A process that has searched before (FastCGI, a batch) has the
  // columns, and counts on the other core while this one ranks: the counting
  // reads nothing the ranking writes (facet_columns is the task's until get()).
  const Xapian::Query matched = query;
  std::optional<std::vector<std::string>> matched_terms;
  if (!options.facets.empty() && !xapian_spies) {
    matched_terms.emplace();
    if (!union_terms(matched, *matched_terms)) matched_terms.reset();
  }
  std::future<FacetCounts> counted_aside;
  if (!options.facets.empty() && !xapian_spies && searches > 1) {
    if (const Xapian::Database* other = facet_database()) {
      std::string own = matched_terms ? std::string() : matched.serialise();
      try {
        counted_aside = std::async(std::launch::async, [this, other, own = std::move(own),
                                                        terms = matched_terms, &options] {
          Xapian::Query copy = own.empty() ? Xapian::Query() : Xapian::Query::unserialise(own);
          return count_facets(*other, copy, terms, options, /*read_matches=*/false);
        });
      } catch (const std::system_error&) {
        // No thread to be had (a process or thread limit): counted below.
      }
    }
  }

  double k1 = options.bm25_k1 >= 0 ? options.bm25_k1 : kDefaultBm25K1;
  double b = options.bm25_b >= 0 ? options.bm25_b : kDefaultBm25B;
  const bool collapse = options.collapse && may_have_near_copies();
  auto make_enquire = [&](const Xapian::Query& q) {
    Xapian::Enquire made(db);
    made.set_query(q);
    // Xapian's defaults for the rest: k2 = 0, k3 = 1, min_normlen = 0.5.
    made.set_weighting_scheme(Xapian::BM25Weight(k1, 0, 1, b, 0.5));
    if (collapse) made.set_collapse_key(schema::kSlotCollapse);
    if (options.sort == SortOrder::kDate)
      made.set_sort_by_value_then_relevance(schema::kSlotDate, false);
    else if (options.sort == SortOrder::kDateDescending)
      made.set_sort_by_value_then_relevance(schema::kSlotDate, true);
    return made;
  };
  Xapian::Enquire enquire = make_enquire(query);

  // Feedback needs a collection in which the first results are a small
  // sample: in a few dozen pages they are a good part of it, and the
  // feedback only drifts.
  constexpr Xapian::doccount kFeedbackMinDocuments = 1000;
  bool widened = false;                 // the feedback terms match documents the query does not
  Xapian::doccount typed_estimate = 0;  // matches of `matched`, estimated by the feedback
  bool typed_exact = false;             // ... and counted exactly
  // The first results of the query as typed when feedback reranks them:
  // snippets are chosen and marked by the words asked for (and their
  // concepts), not by the feedback's. An MSet reads its query from its
  // Enquire, so the expanded query gets an Enquire of its own.
  std::optional<Xapian::MSet> typed_top;
  if (options.feedback && options.sort == SortOrder::kRelevance && options.like.empty() &&
      db.get_doccount() >= kFeedbackMinDocuments) {
    Xapian::MSet top = enquire.get_mset(0, kFeedbackDocs);
    typed_estimate = top.get_matches_estimated();
    typed_exact = top.get_matches_lower_bound() == top.get_matches_upper_bound();
    auto expanded =
        with_feedback(top, query, filters->empty() && internal::is_free_text(text), widened);
    if (expanded) {
      query = *expanded;
      enquire = make_enquire(query);
      typed_top = std::move(top);
    }
  }

  Xapian::MSet mset = enquire.get_mset(options.offset, options.limit, 100);
  results.total = mset.get_matches_estimated();
  results.total_exact = mset.get_matches_lower_bound() == mset.get_matches_upper_bound();
  // Widened, the list goes on past the documents that have the words: the
  // count stays that of the query as typed (as the facets count it), and the
  // rest are counted as related.
  const uint64_t ranked = results.total;
  if (widened) {
    results.total = typed_estimate;
    results.total_exact = typed_exact;
  }

  // The query's concepts, whole, to highlight their variants in snippets.
  std::optional<Vocabulary> highlighter;
  if (!concept_ids.empty() && vocabulary && !mset.empty())
    highlighter = vocabulary->with_concepts({concept_ids.begin(), concept_ids.end()});
  const Xapian::MSet& marker = typed_top ? *typed_top : mset;  // its query marks snippets
  const Xapian::Stem snippet_stem = internal::snippet_stemmer(stemmer, typed_top ? matched : query);
  // A remote shard sends a whole posting list for one skip_to: there, every
  // result gets Xapian's snippet first.
  const bool remote = std::find(part_remote.begin(), part_remote.end(), true) != part_remote.end();
  const std::set<Xapian::docid> markable =
      remote ? std::set<Xapian::docid>(mset.begin(), mset.end())
             : may_mark(db, snippet_terms(typed_top ? matched : query), {mset.begin(), mset.end()});
  uint32_t rank = options.offset;
  for (auto it = mset.begin(); it != mset.end(); ++it) {
    SearchHit hit;
    hit.rank = ++rank;
    hit.score = it.get_weight();
    hit.docid = *it;
    if (collapse) hit.similar = it.get_collapse_count();
    Xapian::Document xdoc = it.get_document();
    hit.doc = schema::decode_document_data(xdoc.get_data());
    // Xapian's snippet where it marks a word. Where it marks none (the
    // document matched by a concept, a field or the feedback's words), its
    // window is arbitrary (the references at the end, as often as not): the
    // start of the text says more. A document without any of the words
    // (`markable`) goes there without Xapian reading every word of it.
    if (markable.count(hit.docid)) {
      // One line: paragraph breaks in the stored text are layout, not content.
      // Xapian's default flags stop at a good enough window; exhaustively
      // (SNIPPET_EXHAUSTIVE) 57 of 4,360 snippets of the benchmark's queries
      // differ, with 2,642 distinct words marked against 2,638, for 0.25 ms
      // more a search (docs/performance.md, Querying).
      hit.snippet = collapse_whitespace(marker.snippet(hit.doc.text, options.snippet_bytes,
                                                       snippet_stem, 0, "<mark>", "</mark>", "…"));
    }
    if (hit.snippet.find("<mark>") == std::string::npos)
      hit.snippet = text_window(hit.doc.text, 0, options.snippet_bytes, {});
    if (highlighter) {
      // Only the query's concepts the document's text names can be marked:
      // a document found through other words, the feedback's or its title
      // is not searched for variants it does not have. Locally, a concept
      // term's positions tell (it names the concept in its text when one
      // follows the text's position); remote shards answer each position
      // list over the network, and there the concepts slot tells which
      // concepts the document has anywhere.
      std::set<std::string> held;
      if (remote) {
        for (const auto& id :
             split(xdoc.get_value(schema::kSlotConcepts), schema::kConceptSeparator))
          if (concept_ids.count(id)) held.insert(id);
      } else {
        std::optional<Xapian::termpos> text_position;
        for (const auto& id : concept_ids) {
          const std::string term = schema::concept_term(id);
          Xapian::PositionIterator p = db.positionlist_begin(hit.docid, term);
          if (p == db.positionlist_end(hit.docid, term)) continue;
          if (!text_position) text_position = DocumentBuilder::text_position(hit.doc);
          p.skip_to(*text_position + 1);
          if (p != db.positionlist_end(hit.docid, term)) held.insert(id);
        }
      }
      if (!held.empty())
        hit.snippet = highlight_concepts(*highlighter, held, hit.snippet, hit.doc.text,
                                         options.snippet_bytes);
    }
    hit.doc.text.clear();
    results.hits.push_back(std::move(hit));
  }

  // Facets last: a count on the other core has had the ranking and the
  // snippets to finish in.
  if (!options.facets.empty() && xapian_spies) {
    // Shards: a ValueCountMatchSpy per facet, merged by Xapian; the concept
    // slot holds each document's concepts together, so its counts (per
    // combination) are split here.
    Xapian::Enquire counter(db);
    counter.set_query(matched);
    counter.set_weighting_scheme(Xapian::BoolWeight());
    std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>> spies;
    for (const auto& name : options.facets) {
      spies.push_back(std::make_unique<Xapian::ValueCountMatchSpy>(
          name == "concept" ? schema::kSlotConcepts : facet_slot(name)));
      counter.add_matchspy(spies.back().get());
    }
    counter.get_mset(0, 0, db.get_doccount());
    results.total = spies.front()->get_total();
    results.total_exact = true;
    for (size_t i = 0; i < options.facets.size(); ++i) {
      const std::string& name = options.facets[i];
      std::map<std::string, uint64_t> counts;
      for (auto v = spies[i]->values_begin(); v != spies[i]->values_end(); ++v) {
        if (name != "concept") {
          counts[*v] += v.get_termfreq();
          continue;
        }
        for (const auto& id : split(*v, schema::kConceptSeparator)) counts[id] += v.get_termfreq();
      }
      Facet facet = top_facet_values(name, counts, options.facet_values);
      if (name == "concept") label_concepts(facet);
      results.facets.push_back(std::move(facet));
    }
  } else if (!options.facets.empty()) {
    // The first search of a process (a CGI request, a command) counts here,
    // after the ranking: it has no columns yet, and reads its matches'
    // values instead when they are a small part of the index. A column
    // costs a pass over the whole index once, then an array lookup a match;
    // reading each match costs far more a match.
    constexpr Xapian::doccount kReadMatchesBelow = 8;  // 1/8 of the index
    FacetCounts counted;
    if (counted_aside.valid()) {
      counted = counted_aside.get();
    } else {
      bool read_matches = searches == 1 &&
                          uint64_t(typed_estimate ? typed_estimate : mset.get_matches_estimated()) *
                                  kReadMatchesBelow <
                              db.get_doccount();
      counted = count_facets(db, matched, std::move(matched_terms), options, read_matches);
    }
    results.total = counted.documents;
    results.total_exact = true;
    for (Facet& facet : counted.facets) {
      if (facet.name == "concept") label_concepts(facet);
      results.facets.push_back(std::move(facet));
    }
  }

  if (widened && ranked > results.total) results.related = ranked - results.total;
  return results;
}

}  // namespace medsearch
