// Rendering search results for people (text) and programs (JSON). The JSON
// schema is documented in docs/json.md; the CGI serves the same JSON.
#pragma once

#include <string>

#include "medsearch/searcher.h"

namespace medsearch {

// One JSON object: {"query","parsed","total","notes","results":[{rank,url,title,
// site,date,authors,type,evidence,doi,pmid,score,snippet}]}.
std::string results_to_json(const SearchResults& results);

// Readable text: a header line, then for each hit its rank, title, URL, a
// details line and the snippet. `color` uses ANSI bold for matches and titles.
std::string results_to_text(const SearchResults& results, bool color);

// Undoes the HTML escaping of a snippet and replaces <mark>/</mark> with
// `open`/`close` (e.g. ANSI codes, or "" for plain text).
std::string snippet_to_text(const std::string& snippet, const std::string& open,
                            const std::string& close);

// `text` escaped for HTML text and attribute values (& < > " ').
std::string html_escape(std::string_view text);

}  // namespace medsearch
