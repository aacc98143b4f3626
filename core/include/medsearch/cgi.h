// CGI request decoding for medsearch.cgi (kept in core so it can be tested and fuzzed).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "medsearch/result.h"

namespace medsearch {

// Decodes an application/x-www-form-urlencoded query string ("q=a+b&page=2")
// into name -> values. Fails on malformed percent-encoding or invalid UTF-8.
Result<std::multimap<std::string, std::string>> parse_query_string(std::string_view query);

// `text` percent-encoded for use inside a URL query value.
std::string url_encode(std::string_view text);

}  // namespace medsearch
