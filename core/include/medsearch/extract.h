// From fetched bytes to a Document: picks the extractor by content type
// (HTML, XHTML, PDF, plain text) and fills in text and metadata.
#pragma once

#include <string>
#include <string_view>

#include "medsearch/document.h"
#include "medsearch/result.h"

namespace medsearch {

// Extracts a document from `body`, fetched from `url` with `content_type` (a
// Content-Type header value; when empty it is guessed from the URL and the
// bytes). The id is the page's canonical URL when it declares one on the same
// site, else `url`. Fails with a reason for unsupported types, pages that ask
// not to be indexed, and pages with no main text.
Result<Document> extract_document(const std::string& url, std::string_view content_type,
                                  std::string_view body);

// "2021/03/05", "2021-03-05T10:00:00Z", "March 5, 2021", "05 Mar 2021",
// "2021-03", "2021" -> "2021-03-05" / "2021-03" / "2021"; "" if not a date.
std::string normalize_date(std::string_view text);

// The evidence type a research article's title and abstract state: rct,
// meta-analysis, guideline, case-report, observational, review, or "".
// Sentences that call for a design ("a randomised trial is warranted") do not count.
std::string evidence_from_text(std::string_view title_and_abstract);

// "doi:10.1/x", "https://doi.org/10.1/x", "10.1/x" -> "10.1/x"; "" if no DOI.
std::string normalize_doi(std::string_view text);

}  // namespace medsearch
