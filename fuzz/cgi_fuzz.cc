// The CGI's request decoding: the query string and the parameters.
#include "fuzz.h"
#include "medsearch/cgi.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto params = medsearch::parse_query_string(medsearch::fuzz::as_text(data, size));
  if (params) (void)medsearch::parse_cgi_params(*params);
  (void)medsearch::url_encode(medsearch::fuzz::as_text(data, size));
  return 0;
}
