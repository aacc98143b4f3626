#include "medsearch/sitemap.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "medsearch/warc.h"

namespace medsearch {
namespace {

TEST_CASE("parse_sitemap reads urlsets and sitemap indexes", "[sitemap]") {
  struct Case {
    const char* name;
    std::string xml;
    bool is_index;
    std::vector<std::string> locations;
  };
  const Case cases[] = {
      {"urlset",
       R"(<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc> http://a.example/one.html </loc><lastmod>2024-01-01</lastmod></url>
  <url><loc>http://a.example/two?x=1&amp;y=2</loc>
       <image:image><image:loc>http://a.example/pic.png</image:loc></image:image></url>
  <url><loc></loc></url>
</urlset>)",
       false,
       {"http://a.example/one.html", "http://a.example/two?x=1&y=2"}},
      {"index",
       R"(<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>http://a.example/s1.xml</loc></sitemap>
  <sitemap><loc><![CDATA[http://a.example/s2.xml.gz]]></loc></sitemap>
</sitemapindex>)",
       true,
       {"http://a.example/s1.xml", "http://a.example/s2.xml.gz"}},
      {"namespace prefix",
       R"(<sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sm:url><sm:loc>http://a.example/p</sm:loc></sm:url></sm:urlset>)",
       false,
       {"http://a.example/p"}},
      {"empty urlset", "<urlset/>", false, {}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto plain = parse_sitemap(c.xml);
    REQUIRE(plain.ok());
    CHECK(plain->is_index == c.is_index);
    CHECK(plain->locations == c.locations);
    // The same file gzipped, as sitemap.xml.gz is served.
    auto zipped = parse_sitemap(gzip_compress(c.xml));
    REQUIRE(zipped.ok());
    CHECK(zipped->locations == c.locations);
  }
}

TEST_CASE("parse_sitemap refuses what is not a sitemap", "[sitemap]") {
  struct Case {
    std::string data;
    const char* message;
  };
  const Case cases[] = {
      {"<html><body>Not found</body></html>", "not a sitemap"},
      {"<urlset><url><loc>http://a/</loc></url>", "sitemap:"},  // unclosed
      {"", "empty"},
      {gzip_compress("<urlset/>").substr(0, 12), "corrupt gzip"},
  };
  for (const Case& c : cases) {
    auto sitemap = parse_sitemap(c.data);
    REQUIRE_FALSE(sitemap.ok());
    INFO(sitemap.error());
    CHECK(sitemap.error().find(c.message) != std::string::npos);
  }
}

TEST_CASE("parse_sitemap keeps at most kMaxSitemapUrls locations", "[sitemap]") {
  std::string xml = "<urlset>";
  for (size_t i = 0; i < kMaxSitemapUrls + 3; ++i) {
    xml += "<url><loc>http://a.example/" + std::to_string(i) + "</loc></url>";
  }
  xml += "</urlset>";
  auto sitemap = parse_sitemap(xml);
  REQUIRE(sitemap.ok());
  CHECK(sitemap->locations.size() == kMaxSitemapUrls);
  CHECK(sitemap->dropped == 3);
}

}  // namespace
}  // namespace medsearch
