// Small text utilities shared by extraction, indexing and output. UTF-8 in, UTF-8 out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace medsearch {

// `text` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view text);

// Appends code point `cp` as UTF-8; NUL, surrogates and values past
// U+10FFFF become U+FFFD.
void append_utf8(std::string& out, uint32_t cp);

// Runs of whitespace (including NBSP) folded to one space; leading and trailing removed.
std::string collapse_whitespace(std::string_view text);

// `text` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view text);

// ASCII letters lowercased; other bytes unchanged.
std::string ascii_lower(std::string_view text);

// True if `text` starts with `prefix`, ignoring ASCII case.
bool starts_with_nocase(std::string_view text, std::string_view prefix);

// True if the two strings are equal ignoring ASCII case.
bool equals_nocase(std::string_view a, std::string_view b);

// Splits on `sep`, keeping empty fields.
std::vector<std::string> split(std::string_view text, char sep);

// At most `max_bytes` of `text`, cut at a UTF-8 character boundary.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

// FNV-1a 64-bit hash: stable across platforms and releases (used in index terms).
uint64_t fnv1a64(std::string_view data);

// 16 lowercase hex digits of a 64-bit value.
std::string hex64(uint64_t value);

}  // namespace medsearch
