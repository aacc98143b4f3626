#include "medsearch/sitemap.h"

#include "medsearch/warc.h"
#include "medsearch/xml.h"

namespace medsearch {
namespace {

// "urlset" for "urlset" and "sm:urlset": the protocol's namespace may carry a prefix.
std::string_view local_name(std::string_view name) {
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && static_cast<unsigned char>(text.front()) <= ' ') text.remove_prefix(1);
  while (!text.empty() && static_cast<unsigned char>(text.back()) <= ' ') text.remove_suffix(1);
  return text;
}

}  // namespace

Result<Sitemap> parse_sitemap(std::string_view data) {
  std::string inflated;
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
      static_cast<unsigned char>(data[1]) == 0x8b) {
    auto unzipped = gunzip(data, kMaxSitemapBytes);
    if (!unzipped) return fail("sitemap: " + unzipped.error());
    inflated = std::move(*unzipped);
    data = inflated;
  }
  if (data.size() > kMaxSitemapBytes) {
    return fail("sitemap larger than " + std::to_string(kMaxSitemapBytes) + " bytes");
  }
  if (trim(data).empty()) return fail("sitemap: empty document");
  XmlReader reader(data);
  Sitemap sitemap;
  bool root_seen = false;
  std::string loc_name = "loc";  // with the root element's prefix, if it has one
  while (true) {
    auto event = reader.next();
    if (!event) return fail("sitemap: " + event.error());
    if (*event == XmlReader::Event::kEof) break;
    if (*event != XmlReader::Event::kStart) continue;
    std::string_view name = local_name(reader.name());
    if (!root_seen) {
      root_seen = true;
      loc_name = reader.name().substr(0, reader.name().size() - name.size()) + "loc";
      if (name == "sitemapindex") {
        sitemap.is_index = true;
      } else if (name != "urlset") {
        return fail("not a sitemap: the root element is <" + reader.name() +
                    ">, not <urlset> or <sitemapindex>");
      }
      continue;
    }
    // <loc> directly inside <url> (urlset) or <sitemap> (index); not image:loc and the like.
    if (reader.name() != loc_name || reader.depth() != 3) continue;
    auto text = read_element_text(reader);
    if (!text) return fail("sitemap: " + text.error());
    std::string_view location = trim(*text);
    if (location.empty()) continue;
    if (sitemap.locations.size() >= kMaxSitemapUrls) {
      ++sitemap.dropped;
      continue;
    }
    sitemap.locations.emplace_back(location);
  }
  if (!root_seen) return fail("sitemap: empty document");
  return sitemap;
}

}  // namespace medsearch
