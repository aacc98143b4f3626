// The document model: what extraction produces from one page, PDF or record,
// and what the index stores about it. Plain data, no dependencies.
#pragma once

#include <string>
#include <vector>

namespace medsearch {

// One indexable document. Strings are UTF-8; empty means "not known".
struct Document {
  std::string id;   // unique id: canonical URL, or the record id for records
  std::string url;  // URL the document was fetched from (or file:// path)
  std::string title;
  std::string text;         // clean main text, paragraphs separated by "\n\n"
  std::string description;  // meta description or abstract start
  std::vector<std::string> authors;
  std::string date;  // publication date, YYYY-MM-DD (or YYYY-MM / YYYY when that is all)
  std::string doi;
  std::string pmid;
  std::string journal;    // journal title, for research articles
  std::string site;       // host name of url
  std::string site_name;  // the site\'s own name ("Riverside Pain Clinic"), when it gives one
  std::string type;       // research, clinic, news, other
  std::string evidence;   // rct, meta-analysis, review, guideline, case-report, observational
  std::string language;
  std::string mime_type;
  // What the document cites (its reference list): indexed as terms, not stored.
  std::vector<std::string> cited_dois;
  std::vector<std::string> cited_pmids;
};

}  // namespace medsearch
