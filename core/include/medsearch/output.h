// Rendering search results for people (text) and programs (JSON). The JSON
// schema and the other formats are documented in docs/output-formats.md; the
// CGI serves the same JSON.
#pragma once

#include <string>
#include <string_view>

#include "medsearch/searcher.h"

namespace medsearch {

// One JSON object: {"query","parsed","total","total_exact","suggestion",
// "corrected_from","notes","explain","facets","results":[{rank,url,id,title,
// site,...,score,similar,snippet}]}; docs/output-formats.md has the schema.
std::string results_to_json(const SearchResults& results);

// The same object with "qid" as its first member: one query of a batch
// (--format json with --queries prints one such object a line).
std::string results_to_batch_json(const SearchResults& results, const std::string& query_id);

// JSON Lines: one object a hit, newline-terminated: "qid" (only when
// `query_id` is not empty), "query", then the members of a results[] item.
std::string results_to_jsonl(const SearchResults& results, const std::string& query_id);

// TREC run lines "QID Q0 DOCID RANK SCORE RUN-NAME", one a hit; DOCID is
// run_document_id(). Whitespace inside a column becomes '_', an empty column "-".
std::string results_to_trec(const SearchResults& results, const std::string& query_id,
                            const std::string& run_name);

// CSV (RFC 4180: CRLF line ends, fields quoted only when they hold a comma,
// quote or line break): results_csv_header() once, then results_to_csv() per
// query, one record a hit. Columns: qid, query, rank, id, score, title, url,
// site, date, authors ("; "-joined), type, evidence, doi, pmid, journal,
// snippet (plain text, marks removed), similar (near-duplicates folded in).
std::string results_csv_header();
std::string results_to_csv(const SearchResults& results, const std::string& query_id);

// `text` as one RFC 4180 field: quoted (quotes doubled) if it holds , " CR or LF.
std::string csv_field(std::string_view text);

// The id of a document in TREC runs and qrels: a JSON Lines record's own id
// ("_id"/"id") for records indexed without a URL, else Document::id (the URL).
std::string run_document_id(const Document& doc);

// Readable text: a header line, then for each hit its rank, title, URL, a
// details line and the snippet. `color` uses ANSI bold for matches and titles.
// With `explain`, "Search details" (explanation_to_text) come first.
std::string results_to_text(const SearchResults& results, bool color, bool explain = false);

// How the query was understood, a line per concept, field, filter and
// spelling change, then Xapian's description of the query.
std::string explanation_to_text(const Explanation& explain);

// Undoes the HTML escaping of a snippet and replaces <mark>/</mark> with
// `open`/`close` (e.g. ANSI codes, or "" for plain text).
std::string snippet_to_text(const std::string& snippet, const std::string& open,
                            const std::string& close);

// `text` escaped for HTML text and attribute values (& < > " ').
std::string html_escape(std::string_view text);

}  // namespace medsearch
