// HTML parsing with gumbo: main text, metadata and links of one page.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace medsearch {

// What one HTML page yields. Hrefs are returned as written in the page
// (relative or absolute); resolving them is the caller's job (see url.h).
struct HtmlPage {
  std::string title;      // best title: citation_title, og:title, <title> (suffix trimmed), <h1>
  std::string text;       // main content text, blocks separated by "\n\n"
  std::string canonical;  // <link rel=canonical href>, as written
  std::string base_href;  // <base href>, as written
  std::vector<std::string> links;  // <a href> targets in document order, rel=nofollow excluded
  bool noindex = false;            // <meta name=robots content=noindex>
  bool nofollow = false;           // <meta name=robots content=nofollow>
  // <meta name=... | property=...> contents by lowercased name, in document order.
  std::multimap<std::string, std::string> meta;
  std::string lang;           // <html lang>
  std::string byline;         // text of the first .byline / rel=author / itemprop=author element
  std::string time_datetime;  // datetime of the first <time> element
  std::vector<std::string> json_ld;  // contents of <script type="application/ld+json">
  // A page that lists other pages (three or more headings that are links), such
  // as a blog index: its dates and bylines belong to the posts it lists.
  bool listing = false;

  // First value of meta `name`, or "".
  std::string meta_value(const std::string& name) const;
};

// Parses `html` (any bytes; invalid UTF-8 is replaced). Never throws on bad input.
HtmlPage parse_html(std::string_view html);

}  // namespace medsearch
