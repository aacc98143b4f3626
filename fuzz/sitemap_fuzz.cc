// Sitemaps and sitemap indexes (XML, possibly gzipped).
#include "fuzz.h"
#include "medsearch/sitemap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)medsearch::parse_sitemap(medsearch::fuzz::as_text(data, size));
  return 0;
}
