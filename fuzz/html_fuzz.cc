// HTML, XHTML and plain text: main-content extraction, metadata and links.
#include "fuzz.h"
#include "medsearch/extract.h"
#include "medsearch/html_extract.h"
#include "medsearch/html_links.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = medsearch::fuzz::as_text(data, size);
  (void)medsearch::extract_document("https://clinic.test/page", "text/html; charset=utf-8", body);
  (void)medsearch::extract_document("https://clinic.test/page", "application/xhtml+xml", body);
  (void)medsearch::extract_document("https://clinic.test/page.txt", "text/plain", body);
  (void)medsearch::scan_html_links(body);
  return 0;
}
