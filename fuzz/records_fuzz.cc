// Record files: JSON Lines, PubMed XML, and the JSON parser under them.
#include "fuzz.h"
#include "medsearch/json.h"
#include "medsearch/records.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = medsearch::fuzz::as_text(data, size);
  auto sink = [](medsearch::Document&&) {};
  auto on_error = [](const medsearch::RecordError&) {};
  (void)medsearch::read_json_lines(text, sink, on_error);
  (void)medsearch::read_pubmed_xml(text, sink, on_error);
  (void)medsearch::looks_like_pubmed_xml(text);
  (void)medsearch::looks_like_json_lines(text);
  (void)medsearch::parse_json(text);
  return 0;
}
