// Research records to Documents: JSON Lines exports (one object per line) and
// PubMed XML as NCBI E-utilities efetch returns it. Bad records are reported
// and skipped, never fatal; the readers hold no state and are thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/document.h"
#include "medsearch/result.h"

namespace medsearch {

// One JSON Lines record (one object): `id` or `_id`, `url`, `title`, `text`, and
// optional `abstract`, `date`, `authors` (array of strings, or one string with
// ';' separators), `doi`, `pmid`, `journal`, `type`, `language`,
// `publication_types` (array of PubMed publication types, sets the evidence).
// The id is the normalised `url` if present, else "record:" + id. The text is
// abstract + "\n\n" + text; the description its first 300 bytes. The type is
// `type` when it is research/clinic/news/other, else "research" when a doi, pmid,
// journal or abstract is present, else "other". Fails with a reason for invalid
// JSON, a non-object, a missing id, a field of the wrong type, or no title and no text.
Result<Document> document_from_json_record(std::string_view line);

// A record that could not be read; `line` is 1-based (for XML, the line where
// the record starts).
struct RecordError {
  size_t line;
  std::string message;
};

// Calls `sink` for every record of a JSON Lines file, in order; a bad line is
// reported through `on_error` and skipped. Blank lines are skipped, a UTF-8 BOM
// is ignored, CRLF line ends are accepted. Fails only when `data` holds lines
// but not one readable record (probably not JSON Lines at all); every bad line
// has been reported by then.
Status read_json_lines(std::string_view data, const std::function<void(Document&&)>& sink,
                       const std::function<void(const RecordError&)>& on_error);

// Calls `sink` for every PubmedArticle of a PubmedArticleSet (or a bare
// PubmedArticle root): pmid, title (markup stripped), abstract as text (sections
// "LABEL: ..." separated by "\n\n"), authors, date, doi, language (ISO 639-1
// when known), evidence from the publication types, url/id
// "https://pubmed.ncbi.nlm.nih.gov/<pmid>/". A PubmedBookArticle, or an article
// without a PMID or without title and abstract, is reported through `on_error`
// and skipped. Fails when the XML is malformed (the articles before the fault
// have been delivered) or the root is not PubMed's.
Status read_pubmed_xml(std::string_view xml, const std::function<void(Document&&)>& sink,
                       const std::function<void(const RecordError&)>& on_error);

// PubMed publication types ("Randomized Controlled Trial", "Review", ...) to
// the evidence level: rct, meta-analysis, guideline, case-report, observational,
// review, or "" when none applies (case is ignored). With several, the first of
// meta-analysis, rct, guideline, case-report, observational, review wins.
std::string evidence_from_publication_types(const std::vector<std::string>& types);

// True if `data` looks like PubMed XML: a PubmedArticleSet or PubmedArticle
// element (or DOCTYPE) within the first 4 KB of a document that starts with '<'.
bool looks_like_pubmed_xml(std::string_view data);

// True if the first character that is not whitespace (after a BOM) is '{'.
bool looks_like_json_lines(std::string_view data);

}  // namespace medsearch
