// HTML, XHTML and plain text: main-content extraction, metadata and links,
// and the links resolved as the crawler resolves them (URL parsing, IDNA).
#include "fuzz.h"
#include "medsearch/extract.h"
#include "medsearch/html_extract.h"
#include "medsearch/html_links.h"
#include "medsearch/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = medsearch::fuzz::as_text(data, size);
  (void)medsearch::extract_document("https://clinic.test/page", "text/html; charset=utf-8", body);
  (void)medsearch::extract_document("https://clinic.test/page", "application/xhtml+xml", body);
  (void)medsearch::extract_document("https://clinic.test/page.txt", "text/plain", body);
  medsearch::HtmlLinks found = medsearch::scan_html_links(body);
  auto page = medsearch::parse_url("https://clinic.test/a/page");
  if (!page) __builtin_trap();
  auto base = found.base_href.empty() ? page : medsearch::resolve_url(*page, found.base_href);
  if (base) {
    for (const auto& link : found.links) {
      auto url = medsearch::resolve_url(*base, link);
      // A resolved URL is in normal form: parsing its text gives it back.
      if (url) {
        auto again = medsearch::parse_url(url->to_string());
        if (!again || again->to_string() != url->to_string()) __builtin_trap();
      }
    }
    (void)medsearch::resolve_url(*base, found.canonical);
  }
  return 0;
}
