// Sitemaps (sitemaps.org protocol 0.9): <urlset> files listing pages and
// <sitemapindex> files listing other sitemaps, plain or gzipped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/result.h"

namespace medsearch {

// The protocol's limits: 50,000 URLs and 50 MB (uncompressed) per file.
inline constexpr size_t kMaxSitemapUrls = 50000;
inline constexpr size_t kMaxSitemapBytes = 50 * 1000 * 1000;

// What one sitemap file lists. Plain value type.
struct Sitemap {
  bool is_index = false;               // <sitemapindex>: `locations` are sitemaps
  std::vector<std::string> locations;  // <loc> values in file order, trimmed, as written
  size_t dropped = 0;                  // <loc>s past kMaxSitemapUrls, not returned
};

// Parses a sitemap or sitemap index. `data` may be gzipped (recognised by its
// magic bytes, whatever the Content-Type said). Fails with a message for
// corrupt gzip, malformed XML, a root element other than <urlset> or
// <sitemapindex>, or more than kMaxSitemapBytes once inflated.
Result<Sitemap> parse_sitemap(std::string_view data);

}  // namespace medsearch
