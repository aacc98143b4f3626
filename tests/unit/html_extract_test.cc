#include "medsearch/html_extract.h"

#include <catch2/catch.hpp>

#include "medsearch/extract.h"

using namespace medsearch;

namespace {

const char* kClinicPost = R"(<!DOCTYPE html>
<html lang="en-GB"><head>
<title>Ketamine and Nerve Pain | Riverside Pain Clinic</title>
<meta name="description" content="How low-dose ketamine is used for nerve pain.">
<meta property="article:published_time" content="2025-03-04T09:00:00+00:00">
<link rel="canonical" href="/blog/ketamine-nerve-pain">
<script>gtag('config', 'G-TRACKING');</script>
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/book">Book now</a></li></ul></nav></header>
<div id="cookie-consent">We use cookies to improve your visit. <button>Accept</button></div>
<article>
  <h1>Ketamine and Nerve Pain</h1>
  <p>Low doses of ketamine can quieten an overexcited nervous system.</p>
  <table><tr><th>Mechanism</th><th>Description</th></tr>
         <tr><td>NMDA blockade</td><td>Less wind-up</td></tr></table>
  <div class="share-bar">Share on Facebook</div>
  <p>See <a href="/blog/crps">our CRPS page</a> and <a href="https://example.org/x" rel="nofollow">a sponsor</a>.</p>
</article>
<aside class="sidebar">Recent posts</aside>
<div class="subscribe-box">Subscribe to our blog</div>
<footer>14 Mill Lane, Riverton</footer>
</body></html>)";

}  // namespace

TEST_CASE("parse_html keeps the article and drops the clutter", "[html]") {
  HtmlPage page = parse_html(kClinicPost);
  CHECK(page.title == "Ketamine and Nerve Pain");
  CHECK(page.lang == "en-gb");
  CHECK(page.canonical == "/blog/ketamine-nerve-pain");
  CHECK(page.text.find("quieten an overexcited nervous system") != std::string::npos);
  for (const char* clutter : {"Book now", "We use cookies", "Share on Facebook", "Recent posts",
                              "Subscribe to our blog", "Mill Lane", "gtag"}) {
    INFO(clutter);
    CHECK(page.text.find(clutter) == std::string::npos);
  }
  // Table cells are separated, never run together.
  CHECK(page.text.find("Mechanism Description") != std::string::npos);
  CHECK(page.text.find("NMDA blockade Less wind-up") != std::string::npos);
}

TEST_CASE("parse_html lists followable links as written", "[html]") {
  HtmlPage page = parse_html(kClinicPost);
  CHECK(std::find(page.links.begin(), page.links.end(), "/blog/crps") != page.links.end());
  CHECK(std::find(page.links.begin(), page.links.end(), "/") != page.links.end());
  // rel=nofollow links are not offered to the crawler.
  CHECK(std::find(page.links.begin(), page.links.end(), "https://example.org/x") ==
        page.links.end());
}

TEST_CASE("parse_html reads robots meta, entities and broken markup", "[html]") {
  HtmlPage page = parse_html(
      "<html><head><meta name=robots content='NOINDEX, nofollow'></head>"
      "<body><div><p>Caf&eacute; &amp; pain&nbsp;relief &#8211; <b>unclosed<p>next\xFF");
  CHECK(page.noindex);
  CHECK(page.nofollow);
  CHECK(page.text.find("Caf\xC3\xA9 & pain relief \xE2\x80\x93 unclosed") != std::string::npos);
  CHECK(page.text.find("next\xEF\xBF\xBD") != std::string::npos);
}

TEST_CASE("parse_html drops blocks that are mostly links", "[html]") {
  HtmlPage page = parse_html(
      "<body><div><a href=/a>Fibromyalgia</a> | <a href=/b>Migraine</a> | <a href=/c>CRPS</a></div>"
      "<p>Central sensitisation amplifies pain signals in the spinal cord.</p></body>");
  CHECK(page.text == "Central sensitisation amplifies pain signals in the spinal cord.");
}

TEST_CASE("extract_document fills metadata for a clinic page", "[extract]") {
  auto doc = extract_document("http://clinic.test/blog/ketamine-nerve-pain?utm=1",
                              "text/html; charset=utf-8", kClinicPost);
  REQUIRE(doc);
  CHECK(doc->id == "http://clinic.test/blog/ketamine-nerve-pain");
  CHECK(doc->site == "clinic.test");
  CHECK(doc->date == "2025-03-04");
  CHECK(doc->language == "en");
  CHECK(doc->description == "How low-dose ketamine is used for nerve pain.");
  CHECK(doc->title == "Ketamine and Nerve Pain");
}

TEST_CASE("extract_document reads Highwire citation tags of research articles", "[extract]") {
  const char* html = R"(<html><head>
<meta name="citation_title" content="Ketamine infusion for CRPS: a randomised controlled trial">
<meta name="citation_author" content="Okafor, Adaeze">
<meta name="citation_author" content="Lind, Per">
<meta name="citation_publication_date" content="2023/11/02">
<meta name="citation_doi" content="doi:10.5555/crps.2023.114">
<meta name="citation_pmid" content="37000001">
</head><body><main><h2>Abstract</h2><p>We randomised forty patients.</p></main></body></html>)";
  auto doc = extract_document("https://journal.test/a/114", "text/html", html);
  REQUIRE(doc);
  CHECK(doc->title == "Ketamine infusion for CRPS: a randomised controlled trial");
  CHECK(doc->authors == std::vector<std::string>{"Okafor, Adaeze", "Lind, Per"});
  CHECK(doc->date == "2023-11-02");
  CHECK(doc->doi == "10.5555/crps.2023.114");
  CHECK(doc->pmid == "37000001");
  CHECK(doc->type == "research");
  CHECK(doc->evidence == "rct");
}

TEST_CASE("extract_document refuses what it must not index", "[extract]") {
  CHECK(extract_document("http://a.test/", "text/html",
                         "<html><head><meta name=robots content=noindex></head><body><p>x</p>")
            .error()
            .find("noindex") != std::string::npos);
  CHECK(extract_document("http://a.test/", "text/html", "<html><body><nav>menu</nav></body>")
            .error() == "no main text found");
  CHECK(extract_document("http://a.test/x.png", "image/png", "\x89PNG")
            .error()
            .find("unsupported content type") != std::string::npos);
  CHECK_FALSE(extract_document("http://a.test/x.pdf", "application/pdf", "%PDF-1.4 garbage"));
}

TEST_CASE("normalize_date and normalize_doi accept the common forms", "[extract]") {
  struct Case {
    const char* in;
    const char* out;
  } dates[] = {{"2021/03/05", "2021-03-05"},
               {"2021-03-05T10:00:00Z", "2021-03-05"},
               {"March 5, 2021", "2021-03-05"},
               {"05 Mar 2021", "2021-03-05"},
               {"5th September 2020", "2020-09-05"},
               {"2021-03", "2021-03"},
               {"2021", "2021"},
               {"soon", ""},
               {"", ""}};
  for (const auto& c : dates) {
    INFO(c.in);
    CHECK(normalize_date(c.in) == c.out);
  }
  CHECK(normalize_doi("https://doi.org/10.5555/abc.1.") == "10.5555/abc.1");
  CHECK(normalize_doi("doi: 10.1000/xyz") == "10.1000/xyz");
  CHECK(normalize_doi("no doi here") == "");
}

TEST_CASE("extract_document reads JSON-LD: authors, date, publisher and news type", "[extract]") {
  const char* html = R"(<html><head><title>Clinic news</title>
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
  {"@type":"WebSite","name":"ignored"},
  {"@type":["NewsArticle"],"headline":"New infusion suite opens",
   "author":[{"@type":"Person","name":"Ada Brook"},"Per Lind"],
   "datePublished":"2026-02-03T08:00:00Z","publisher":{"name":"Riverton Health News"}}]}
</script>
<script type="application/ld+json">{ broken json </script>
</head><body><article><p>The new infusion suite has six chairs and opens on Monday for
patients referred by the pain team, with evening sessions from next month.</p></article>
</body></html>)";
  auto doc = extract_document("http://news.test/suite", "text/html", html);
  REQUIRE(doc);
  CHECK(doc->authors == std::vector<std::string>{"Ada Brook", "Per Lind"});
  CHECK(doc->date == "2026-02-03");
  CHECK(doc->site_name == "Riverton Health News");
  CHECK(doc->type == "news");
  CHECK(doc->text.find("broken json") == std::string::npos);
}

TEST_CASE("extract_document lists the DOIs and PMIDs an article cites", "[extract]") {
  const char* html = R"(<html><head>
<meta name="citation_title" content="A review">
<meta name="citation_doi" content="10.5555/own.1">
<meta name="citation_pmid" content="30000001">
</head><body><main><p>Main text citing earlier work (doi:10.5555/own.1).</p>
<ol><li>Smith A. Trial one. J Pain. 2019. doi:10.5555/ref.2019.1. PMID: 31000001.</li>
<li>Jones B. Trial two. https://doi.org/10.1000/XYZ-77 (PMID 31000002)</li>
<li>Lee C. Not a DOI: 10.5/x and 210.5555/nope.</li></ol></main></body></html>)";
  auto doc = extract_document("http://journal.test/a", "text/html", html);
  REQUIRE(doc);
  CHECK(doc->cited_dois == std::vector<std::string>{"10.1000/XYZ-77", "10.5555/ref.2019.1"});
  CHECK(doc->cited_pmids == std::vector<std::string>{"31000001", "31000002"});
}
