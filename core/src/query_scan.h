// Internal: the small text rewrites the searcher makes to a query before
// Xapian's QueryParser sees it. Written as plain scanners rather than
// std::regex: a CGI process searches once, and compiling libstdc++'s regexes
// cost it more instructions than the match itself (about 5M of 39M, see
// docs/performance.md). Each function documents the pattern it implements;
// the unit tests compare them with that pattern on generated queries.
// Not part of the public API.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace medsearch::internal {

// PubMed's date form, any case: "2015:2020[dp]" -> "year:2015..2020" and
// then "2019[dp]" -> "year:2019" ([pdat] too), i.e.
//   (\d{4})\s*:\s*(\d{4})\s*\[(?:dp|pdat)\]  ->  year:$1..$2
//   (\d{4})\s*\[(?:dp|pdat)\]                ->  year:$1
std::string rewrite_pubmed_dates(const std::string& query);

// "title: VALUE" and "author: VALUE" for each title:/author: field of the
// query, as (?:^|[\s(+-])(title|author):("[^"]*"?|[^\s()"]+) finds them.
std::vector<std::string> text_fields(std::string_view query);

// True if the query has no structure: none of  " ( ) : * +  , no '-' at the
// start or after a space, no AND OR NOT XOR NEAR ADJ as a whole word, i.e.
// no match for  ["():*+]|(^|\s)-|\b(AND|OR|NOT|XOR|NEAR|ADJ)\b .
bool is_free_text(std::string_view query);

// The searcher's placeholder fields typed by a user are words: each
// "xconcept:" or "xcid:" at the start or after a character other than
// [A-Za-z0-9_] loses its colon ("xcid:3" -> "xcid 3").
std::string unfield_placeholders(std::string_view query);

// One concept:ID or concept:"a name" of a query, as
// (^|[\s(+-])concept:(?:"([^"]*)"|([^\s()"]+)) matches it: [begin, end) is
// the whole match, including the one separator character before it if any
// (`lead`, empty at the start of the query).
struct ConceptField {
  size_t begin = 0;
  size_t end = 0;
  std::string_view lead;
  std::string_view value;  // without the quotes
};
std::vector<ConceptField> concept_fields(std::string_view query);

// Each field name, a run of [A-Za-z_] followed by ':', replaced with a space.
std::string blank_field_names(std::string_view query);

}  // namespace medsearch::internal
