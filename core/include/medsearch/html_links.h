// What a crawler needs from an HTML page, found by a fast tag scanner rather
// than a full parse: the links, <base href>, the canonical URL and the
// robots meta directives. Gives the same answers as parse_html (html_extract.h)
// for these fields on real pages, at a small fraction of the cost.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace medsearch {

struct HtmlLinks {
  std::vector<std::string>
      links;              // <a href> as written (trimmed), rel=nofollow and "#..." left out
  std::string base_href;  // the first <base href>
  std::string canonical;  // the first <link rel=canonical href>
  bool noindex = false;   // <meta name=robots|medcrawl content=noindex|none>
  bool nofollow = false;  // <meta name=robots|medcrawl content=nofollow|none>
};

// Scans `html` (any bytes; never fails). Comments, <script>, <style>,
// <textarea>, <title> and <template> contents are skipped; attribute values
// have character references decoded.
HtmlLinks scan_html_links(std::string_view html);

}  // namespace medsearch
