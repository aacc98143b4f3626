// The RIS importer of research collections, and author-name splitting.
#include "fuzz.h"
#include "medsearch/citation_export.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = medsearch::fuzz::as_text(data, size);
  (void)medsearch::import_ris(text);
  (void)medsearch::split_author_name(text);
  (void)medsearch::bibtex_escape(text);
  return 0;
}
