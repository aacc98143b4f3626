// A strict RFC 4180 reader for tests that parse the programs' CSV output back.
#pragma once

#include <string>
#include <vector>

namespace medsearch::testing {

// The records of `text`: each ends with CRLF; quoted fields may hold commas,
// doubled quotes and line breaks. Fails the running test on anything else (a
// stray quote, a bare LF outside quotes, an unterminated record).
std::vector<std::vector<std::string>> parse_csv(const std::string& text);

}  // namespace medsearch::testing
