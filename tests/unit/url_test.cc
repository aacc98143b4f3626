#include "medsearch/url.h"

#include <catch2/catch.hpp>

namespace medsearch {
namespace {

TEST_CASE("parse_url normalises absolute http(s) URLs", "[url]") {
  struct Case {
    const char* input;
    const char* expected;
  };
  const Case cases[] = {
      {"http://example.com", "http://example.com/"},
      {"HTTP://Example.COM:80/a", "http://example.com/a"},
      {"https://example.com:443/", "https://example.com/"},
      {"https://example.com:8443/x", "https://example.com:8443/x"},
      {"http://example.com:/x", "http://example.com/x"},
      {"http://example.com/a#frag", "http://example.com/a"},
      {"http://example.com/a?", "http://example.com/a?"},
      {"http://example.com/a?b=1&c=%2f", "http://example.com/a?b=1&c=%2F"},
      {"http://example.com/%7euser/%41%2F", "http://example.com/~user/A%2F"},
      {"http://example.com/a b", "http://example.com/a%20b"},
      {"http://example.com/caf\xc3\xa9", "http://example.com/caf%C3%A9"},
      {"http://example.com/100%", "http://example.com/100%25"},
      {"http://example.com/a/./b/../c", "http://example.com/a/c"},
      {"http://user:pw@example.com/", "http://example.com/"},
      {"http://[::1]:8080/x", "http://[::1]:8080/x"},
      {"  http://example.com/\n ", "http://example.com/"},
      {"http://127.0.0.1:8765/", "http://127.0.0.1:8765/"},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    auto url = parse_url(c.input);
    REQUIRE(url.ok());
    CHECK(url->to_string() == c.expected);
  }
}

TEST_CASE("parse_url rejects what cannot be crawled", "[url]") {
  const char* errors[] = {
      "ftp://example.com/",     "mailto:someone@example.com",
      "javascript:void(0)",     "/relative/path",
      "example.com/no-scheme",  "http://",
      "http:///path",           "http://example.com:99999/",
      "http://example.com:8x/", "http://exa mple.com/",
      "http://[::1/",           "",
  };
  for (const char* input : errors) {
    INFO(input);
    CHECK_FALSE(parse_url(input).ok());
  }
}

TEST_CASE("Url parts: host_key, origin, path_and_query", "[url]") {
  struct Case {
    const char* input;
    const char* host_key;
    const char* origin;
    const char* path_and_query;
    int effective_port;
  };
  const Case cases[] = {
      {"http://Example.com/a?b", "example.com", "http://example.com", "/a?b", 80},
      {"https://example.com:8443/", "example.com:8443", "https://example.com:8443", "/", 8443},
      {"https://example.com/x", "example.com", "https://example.com", "/x", 443},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    auto url = parse_url(c.input);
    REQUIRE(url.ok());
    CHECK(url->host_key() == c.host_key);
    CHECK(url->origin() == c.origin);
    CHECK(url->path_and_query() == c.path_and_query);
    CHECK(url->effective_port() == c.effective_port);
  }
}

// RFC 3986 section 5.4, with the results in our normal form (fragments
// dropped, empty path "/"); "g:h" is not an http URL and fails.
TEST_CASE("resolve_url follows the RFC 3986 5.4 examples", "[url]") {
  auto base = parse_url("http://a/b/c/d;p?q");
  REQUIRE(base.ok());
  struct Case {
    const char* reference;
    const char* expected;
  };
  const Case cases[] = {
      // 5.4.1 normal examples
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g/"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q"},
      {"g#s", "http://a/b/c/g"},
      {"g?y#s", "http://a/b/c/g?y"},
      {";x", "http://a/b/c/;x"},
      {"g;x", "http://a/b/c/g;x"},
      {"g;x?y#s", "http://a/b/c/g;x?y"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../", "http://a/"},
      {"../../g", "http://a/g"},
      // 5.4.2 abnormal examples
      {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"g?y/./x", "http://a/b/c/g?y/./x"},
      {"g?y/../x", "http://a/b/c/g?y/../x"},
      {"g#s/./x", "http://a/b/c/g"},
      {"g#s/../x", "http://a/b/c/g"},
      {"http:g", "http://a/b/c/g"},  // the backwards-compatible reading
      // beyond the RFC: what pages really contain
      {"https://other.example/x", "https://other.example/x"},
      {"//other.example:8080", "http://other.example:8080/"},
      {" g ", "http://a/b/c/g"},
      {"g h", "http://a/b/c/g%20h"},
  };
  for (const Case& c : cases) {
    INFO("reference: '" << c.reference << "'");
    auto url = resolve_url(*base, c.reference);
    REQUIRE(url.ok());
    CHECK(url->to_string() == c.expected);
  }
}

TEST_CASE("resolve_url rejects references that are not http(s)", "[url]") {
  auto base = parse_url("http://a/b/c/d;p?q");
  REQUIRE(base.ok());
  const char* errors[] = {"g:h",       "mailto:x@y.org",     "javascript:alert(1)",
                          "ftp://a/b", "data:text/plain,hi", "tel:+123"};
  for (const char* reference : errors) {
    INFO(reference);
    CHECK_FALSE(resolve_url(*base, reference).ok());
  }
}

TEST_CASE("normalize_percent_encoding", "[url]") {
  struct Case {
    const char* input;
    const char* expected;
  };
  const Case cases[] = {
      {"/a%62c", "/abc"},
      {"/%7e", "/~"},
      {"/%2f", "/%2F"},
      {"/%3A%3a", "/%3A%3A"},
      {"/%", "/%25"},
      {"/%zz", "/%25zz"},
      {"/a%2", "/a%252"},
      {"/\x01", "/%01"},
      {"/<>", "/%3C%3E"},
      {"/?a=b&c=d", "/?a=b&c=d"},
      {"/%E3%83%84", "/%E3%83%84"},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    CHECK(normalize_percent_encoding(c.input) == c.expected);
  }
}

TEST_CASE("normalize_url and equal URLs", "[url]") {
  auto a = normalize_url("HTTP://EXAMPLE.com:80/%7Ea/../b#top");
  REQUIRE(a.ok());
  CHECK(*a == "http://example.com/b");
  CHECK_FALSE(normalize_url("news:comp.lang").ok());
}

TEST_CASE("international host names become their IDNA (punycode) form", "[url]") {
  // However the host is written, it is one host: for robots.txt, politeness
  // and duplicates alike.
  for (const char* written :
       {"http://bücher.example/ä", "http://BÜCHER.example/%C3%A4", "http://b%C3%BCcher.example/ä",
        "http://xn--bcher-kva.example/%c3%a4"}) {
    INFO(written);
    auto url = parse_url(written);
    INFO((url ? "" : url.error()));
    REQUIRE(url.ok());
    CHECK(url->to_string() == "http://xn--bcher-kva.example/%C3%A4");
  }
  // UTS #46 mapping, as browsers: the German sharp s is kept (not "ss"),
  // full-width dots separate labels.
  auto sharp = parse_url("https://straße.example/");
  REQUIRE(sharp.ok());
  CHECK(sharp->host == "xn--strae-oqa.example");
  auto wide = parse_url("http://例え．テスト/");
  REQUIRE(wide.ok());
  CHECK(wide->host == "xn--r8jz45g.xn--zckzah");
  // A link resolved against an international page keeps the converted host.
  auto base = parse_url("http://bücher.example/a/b");
  REQUIRE(base.ok());
  auto resolved = resolve_url(*base, "../c");
  REQUIRE(resolved.ok());
  CHECK(resolved->to_string() == "http://xn--bcher-kva.example/c");
  // Not a name: invalid UTF-8, a disallowed code point, a broken escape.
  for (const char* bad : {"http://b\xff\xfe.example/", "http://a\xe2\x80\xa8z.example/",
                          "http://b%C3.example/", "http://b%zz.example/"}) {
    INFO(bad);
    auto url = parse_url(bad);
    REQUIRE_FALSE(url.ok());
    CHECK(url.error().find("host") != std::string::npos);
  }
}

}  // namespace
}  // namespace medsearch
