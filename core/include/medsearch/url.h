// Absolute http(s) URLs: parsing, RFC 3986 reference resolution and the
// normal form the crawler stores, compares and deduplicates by.
#pragma once

#include <string>
#include <string_view>

#include "medsearch/result.h"

namespace medsearch {

// An absolute http or https URL in normal form: lowercase scheme and host, no
// default port, no fragment, no user info, a path that starts with '/' and has
// no dot segments, and percent-encoding normalised (see normalize_percent_encoding).
// Plain value type.
struct Url {
  std::string scheme;      // "http" or "https"
  std::string host;        // lowercase; an IPv6 literal keeps its brackets
  int port = 0;            // an explicit non-default port, or 0
  std::string path;        // never empty, starts with '/'
  std::string query;       // without the '?'
  bool has_query = false;  // "http://a/?" keeps its empty query

  // The port connections go to: `port`, or 80/443 by scheme.
  int effective_port() const;
  // "host" or "host:port" (non-default port only): the key for per-host politeness.
  std::string host_key() const;
  // "scheme://host[:port]", the scope robots.txt applies to.
  std::string origin() const;
  // path[?query], as sent in the request line and matched by robots.txt.
  std::string path_and_query() const;
  // The whole URL in normal form.
  std::string to_string() const;

  friend bool operator==(const Url&, const Url&) = default;
};

// Parses an absolute http(s) URL and normalises it. Fails with a message for
// other schemes, relative references, a missing or malformed host, a bad port.
Result<Url> parse_url(std::string_view text);

// Resolves `reference` (an href as written: relative, network-path, absolute)
// against `base` by RFC 3986 section 5.2 and normalises the result; the
// fragment is dropped. Fails when the result is not an http(s) URL (mailto:,
// javascript:, ...).
Result<Url> resolve_url(const Url& base, std::string_view reference);

// parse_url(text)->to_string(), for callers that only want the normal form.
Result<std::string> normalize_url(std::string_view text);

// Normalises the percent-encoding of a path or query: %XX of an unreserved
// character (ALPHA DIGIT - . _ ~) is decoded, other %xx get uppercase hex, a '%'
// not followed by two hex digits becomes %25, and bytes not allowed in a URI
// (controls, space, non-ASCII, "<>\"\\^`{|}") are percent-encoded. Reserved
// characters are left as they are, so the meaning never changes.
std::string normalize_percent_encoding(std::string_view text);

// RFC 3986 section 5.2.4: removes "." and ".." segments from a path.
std::string remove_dot_segments(std::string_view path);

}  // namespace medsearch
