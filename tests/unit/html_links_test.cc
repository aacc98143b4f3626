#include "medsearch/html_links.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "medsearch/html_extract.h"
#include "process.h"

namespace medsearch {
namespace {

using testing::read_file;
using testing::source_path;

// The scanner must agree with the full parser on every page of the fixture site.
TEST_CASE("scan_html_links agrees with parse_html on the fixture site", "[html_links]") {
  size_t pages = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(source_path("fixtures/site"))) {
    if (entry.path().extension() != ".html") continue;
    std::string html = read_file(entry.path().string());
    INFO(entry.path().string());
    HtmlPage full = parse_html(html);
    HtmlLinks fast = scan_html_links(html);
    CHECK(fast.links == full.links);
    CHECK(fast.base_href == full.base_href);
    CHECK(fast.canonical == full.canonical);
    CHECK(fast.noindex == full.noindex);
    CHECK(fast.nofollow == full.nofollow);
    ++pages;
  }
  CHECK(pages > 20);
}

TEST_CASE("scan_html_links on awkward markup", "[html_links]") {
  struct Case {
    const char* name;
    std::string html;
    std::vector<std::string> links;
  };
  const Case cases[] = {
      {"quoting styles",
       R"(<a href="a.html">x</a><A HREF='b.html'>y</A><a href=c.html>z</a><a href = " d.html ">)",
       {"a.html", "b.html", "c.html", "d.html"}},
      {"references in values",
       R"(<a href="/s?x=1&amp;y=2&#38;z=&#x33;">x</a>)",
       {"/s?x=1&y=2&z=3"}},
      {"comments, scripts and styles hide tags",
       "<!-- <a href=\"no1\"> --><script>var s = '<a href=\"no2\">';</script>"
       "<style>a[href=\"no3\"]{}</style><SCRIPT type=x>'</script >'</SCRIPT><a href=yes>",
       {"yes"}},
      {"nofollow, fragments and empty hrefs",
       R"(<a rel="external NoFollow" href="no"><a href="#top"><a href=""><a name=x><a href=" ok ">)",
       {"ok"}},
      {"broken markup",
       "<p><b><a href=\"one\">1</b></p><a href=\"two\"<a href=three>",
       {"one", "two"}},
      {"first attribute wins", R"(<a href="first" href="second">)", {"first"}},
      {"unterminated quote", "<a href=\"a.html\">x</a><a href=\"broken>more", {"a.html"}},
      {"not tags", "1 < 2 <3 <= 4 </a> <?php echo 1 ?> <a href=z>", {"z"}},
      {"self-closing and slashes", "<a/href=/x><a href=/y/>", {"/x", "/y/"}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(scan_html_links(c.html).links == c.links);
    CHECK(parse_html(c.html).links == c.links);  // what an HTML5 parser (gumbo) finds
  }
}

TEST_CASE("scan_html_links finds base, canonical and robots meta", "[html_links]") {
  HtmlLinks page = scan_html_links(
      "<html><head><base href=' /root/ '><base href=/second/>"
      "<link rel=stylesheet href=s.css><link REL=\"Canonical\" href=\"/c\">"
      "<meta name=\"ROBOTS\" content=\"NoIndex\"><title><a href=no></title></head>"
      "<body><textarea><a href=no2></textarea><a href=yes></body></html>");
  CHECK(page.base_href == "/root/");
  CHECK(page.canonical == "/c");
  CHECK(page.noindex);
  CHECK_FALSE(page.nofollow);
  CHECK(page.links == std::vector<std::string>{"yes"});
  HtmlLinks none = scan_html_links("<meta name=medcrawl content=none>");
  CHECK(none.noindex);
  CHECK(none.nofollow);
  CHECK(scan_html_links("").links.empty());
  CHECK(scan_html_links("<").links.empty());
  CHECK(scan_html_links("<a href").links.empty());
}

}  // namespace
}  // namespace medsearch
