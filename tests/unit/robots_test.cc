#include "medsearch/robots.h"

#include <catch2/catch.hpp>
#include <string>

namespace medsearch {
namespace {

struct Check {
  const char* agent;
  const char* path;
  bool allowed;
};

void check_all(const std::string& robots_txt, std::initializer_list<Check> checks) {
  RobotsTxt robots = RobotsTxt::parse(robots_txt);
  for (const Check& c : checks) {
    INFO("agent " << c.agent << ", path " << c.path);
    CHECK(robots.policy_for(c.agent).allowed(c.path) == c.allowed);
  }
}

// RFC 9309 section 5.1.
TEST_CASE("RFC 9309 simple example", "[robots]") {
  const std::string robots_txt =
      "User-Agent: *\n"
      "Disallow: *.gif$\n"
      "Disallow: /example/\n"
      "Allow: /publications/\n"
      "\n"
      "User-Agent: foobot\n"
      "Disallow:/\n"
      "Allow:/example/page.html\n"
      "Allow:/example/allowed.gif\n"
      "\n"
      "User-Agent: barbot\n"
      "User-Agent: bazbot\n"
      "Disallow: /example/page.html\n"
      "\n"
      "User-Agent: quxbot\n"
      "\n"
      "EOF\n";
  check_all(robots_txt, {
                            // foobot's own group
                            {"foobot", "/", false},
                            {"foobot", "/example/page.html", true},
                            {"foobot", "/example/allowed.gif", true},
                            {"foobot", "/example/other.html", false},
                            {"FooBot/2.1 (+http://foo)", "/example/page.html", true},
                            // a group with two user-agent lines
                            {"barbot", "/example/page.html", false},
                            {"bazbot", "/example/page.html", false},
                            {"bazbot", "/example/other.html", true},
                            {"bazbot", "/picture.gif", true},  // its group, not '*'
                                                               // an empty group allows everything
                            {"quxbot", "/example/page.html", true},
                            {"quxbot", "/x.gif", true},
                            // the '*' group
                            {"otherbot", "/picture.gif", false},
                            {"otherbot", "/picture.gif?x", true},
                            {"otherbot", "/example/x", false},
                            {"otherbot", "/publications/x", true},
                            {"otherbot", "/", true},
                        });
}

// RFC 9309 section 5.2.
TEST_CASE("RFC 9309 longest match", "[robots]") {
  check_all(
      "User-Agent: foobot\n"
      "Allow: /example/page/\n"
      "Disallow: /example/page/disallowed.gif\n",
      {
          {"foobot", "/example/page/", true},
          {"foobot", "/example/page/x.html", true},
          {"foobot", "/example/page/disallowed.gif", false},
          {"foobot", "/example/", true},
      });
}

TEST_CASE("robots.txt rule precedence and patterns", "[robots]") {
  struct Case {
    const char* robots_txt;
    const char* path;
    bool allowed;
  };
  const Case cases[] = {
      // no rules, empty file, empty Disallow
      {"", "/anything", true},
      {"User-agent: *\nDisallow:\n", "/anything", true},
      // prefix match, case-sensitive paths
      {"User-agent: *\nDisallow: /fish\n", "/fish", false},
      {"User-agent: *\nDisallow: /fish\n", "/fish.html", false},
      {"User-agent: *\nDisallow: /fish\n", "/fishheads/x", false},
      {"User-agent: *\nDisallow: /fish\n", "/Fish.asp", true},
      {"User-agent: *\nDisallow: /fish/\n", "/fish", true},
      // '*' and '$'
      {"User-agent: *\nDisallow: /*.php$\n", "/index.php", false},
      {"User-agent: *\nDisallow: /*.php$\n", "/index.php?x=1", true},
      {"User-agent: *\nDisallow: /*.php$\n", "/dir/a.php", false},
      {"User-agent: *\nDisallow: /*.php\n", "/a.php5", false},
      {"User-agent: *\nDisallow: /a*b*c\n", "/axxbyyc", false},
      {"User-agent: *\nDisallow: /a*b*c\n", "/axxcyyb", true},
      {"User-agent: *\nDisallow: /path$\n", "/path", false},
      {"User-agent: *\nDisallow: /path$\n", "/path/", true},
      {"User-agent: *\nDisallow: /a$b\n", "/a$b", false},  // '$' inside is literal
      // longest match wins, Allow wins ties
      {"User-agent: *\nDisallow: /a\nAllow: /a/b\n", "/a/b/c", true},
      {"User-agent: *\nAllow: /a\nDisallow: /a/b\n", "/a/b/c", false},
      {"User-agent: *\nDisallow: /page\nAllow: /page\n", "/page", true},
      {"User-agent: *\nAllow: /page\nDisallow: /page\n", "/page", true},
      {"User-agent: *\nDisallow: /\nAllow: /$\n", "/", true},
      {"User-agent: *\nDisallow: /\nAllow: /$\n", "/x", false},
      // percent-encoding (RFC 9309 2.2.2)
      {"User-agent: *\nDisallow: /foo/bar/%62%61%7A\n", "/foo/bar/baz", false},
      {"User-agent: *\nDisallow: /foo/bar/baz\n", "/foo/bar/%62%61%7A", false},
      {"User-agent: *\nDisallow: /foo/bar/\xE3\x83\x84\n", "/foo/bar/%E3%83%84", false},
      {"User-agent: *\nDisallow: /foo/bar/%E3%83%84\n", "/foo/bar/%e3%83%84", false},
      {"User-agent: *\nDisallow: /foo/bar?baz=https://foo.bar\n",
       "/foo/bar?baz=https%3A%2F%2Ffoo.bar", true},  // reserved characters stay distinct
      // /robots.txt is always allowed
      {"User-agent: *\nDisallow: /\n", "/robots.txt", true},
      {"User-agent: *\nDisallow: /\n", "/robots.txt?x", false},
      // syntax: comments, case of keys, spaces, CRLF, BOM, lines without colon
      {"USER-AGENT: *\r\nDISALLOW: /x # comment\r\n", "/x", false},
      {"# only comment\nUser-agent: * # all\nDisallow : /x\n", "/x/y", false},
      {"\xEF\xBB\xBFUser-agent: *\nDisallow: /x\n", "/x", false},
      {"User-agent: *\nDisallow /x\nnonsense\n", "/x", true},
      // rules before any user-agent line belong to no group
      {"Disallow: /x\nUser-agent: *\nAllow: /y\n", "/x", true},
  };
  for (const Case& c : cases) {
    INFO("robots.txt: " << c.robots_txt << "path: " << c.path);
    CHECK(RobotsTxt::parse(c.robots_txt).policy_for("medcrawl").allowed(c.path) == c.allowed);
  }
}

TEST_CASE("robots.txt user-agent groups", "[robots]") {
  const std::string robots_txt =
      "User-agent: *\n"
      "Disallow: /all/\n"
      "\n"
      "User-agent: medcrawl\n"
      "Disallow: /first/\n"
      "\n"
      "User-agent: otherbot\n"
      "Disallow: /other/\n"
      "\n"
      "User-agent: MEDCRAWL\n"  // a second group for the same agent is merged
      "Disallow: /second/\n";
  check_all(robots_txt,
            {
                {"medcrawl/0.1.0 (+https://github.com/medsearch/medsearch)", "/first/x", false},
                {"medcrawl", "/second/x", false},
                {"MedCrawl", "/all/x", true},         // '*' is not merged in
                {"medcrawlextra", "/first/x", true},  // whole token only
                {"medcrawlextra", "/all/x", false},
                {"", "/all/x", false},
            });
  // No group for us and no '*' group: everything allowed.
  check_all("User-agent: otherbot\nDisallow: /\n", {{"medcrawl", "/", true}});
  // A user-agent line after rules starts a new group.
  check_all("User-agent: a\nDisallow: /a\nUser-agent: medcrawl\nDisallow: /m\n",
            {{"medcrawl", "/a", true}, {"medcrawl", "/m", false}, {"a", "/m", true}});
}

TEST_CASE("robots.txt Crawl-delay and Sitemap", "[robots]") {
  RobotsTxt robots = RobotsTxt::parse(
      "Sitemap: https://example.com/sitemap.xml\n"
      "User-agent: *\n"
      "Crawl-delay: 2.5\n"
      "Disallow: /x\n"
      "Sitemap: https://example.com/news.xml\n"
      "User-agent: slowbot\n"
      "Crawl-delay: 10\n"
      "User-agent: badbot\n"
      "Crawl-delay: soon\n");
  CHECK(robots.sitemaps() == std::vector<std::string>{"https://example.com/sitemap.xml",
                                                      "https://example.com/news.xml"});
  REQUIRE(robots.policy_for("medcrawl").crawl_delay().has_value());
  CHECK(*robots.policy_for("medcrawl").crawl_delay() == 2.5);
  CHECK(*robots.policy_for("slowbot").crawl_delay() == 10);
  CHECK_FALSE(robots.policy_for("badbot").crawl_delay().has_value());
}

TEST_CASE("robots.txt parsing stops after kMaxRobotsBytes", "[robots]") {
  std::string robots_txt = "User-agent: *\nDisallow: /early\n";
  robots_txt += std::string(kMaxRobotsBytes, '#');
  robots_txt += "\nDisallow: /late\n";
  RobotsPolicy policy = RobotsTxt::parse(robots_txt).policy_for("medcrawl");
  CHECK_FALSE(policy.allowed("/early"));
  CHECK(policy.allowed("/late"));
}

TEST_CASE("robots.txt policy by HTTP status (RFC 9309 2.3.1)", "[robots]") {
  struct Case {
    int status;
    const char* path;
    bool allowed;
  };
  const std::string body = "User-agent: *\nDisallow: /x\n";
  const Case cases[] = {
      {200, "/x", false}, {200, "/y", true},        {404, "/x", true},  {403, "/x", true},
      {410, "/y", true},  {301, "/x", true},        {500, "/y", false}, {503, "/y", false},
      {0, "/y", false},   {0, "/robots.txt", true},
  };
  for (const Case& c : cases) {
    INFO("status " << c.status << " path " << c.path);
    CHECK(robots_policy_for_response(c.status, body, "medcrawl").allowed(c.path) == c.allowed);
  }
}

TEST_CASE("robots_product_token", "[robots]") {
  struct Case {
    const char* user_agent;
    const char* token;
  };
  const Case cases[] = {
      {"medcrawl/0.1.0 (+https://github.com/medsearch/medsearch)", "medcrawl"},
      {"Googlebot", "googlebot"},
      {"my_bot-2", "my_bot-"},
      {"*", "*"},
      {"  Foo Bar", "foo"},
      {"", ""},
  };
  for (const Case& c : cases) {
    INFO(c.user_agent);
    CHECK(robots_product_token(c.user_agent) == c.token);
  }
}

TEST_CASE("X-Robots-Tag directives", "[robots]") {
  struct Case {
    const char* value;
    bool noindex;
    bool nofollow;
  };
  const Case cases[] = {
      {"noindex", true, false},
      {"NOFOLLOW", false, true},
      {"noindex, nofollow", true, true},
      {"none", true, true},
      {"all", false, false},
      {"noarchive, nosnippet", false, false},
      {"otherbot: noindex", false, false},
      {"medcrawl: noindex", true, false},
      {"otherbot: noindex, medcrawl: nofollow", false, true},
      {"unavailable_after: 25 Jun 2010 15:00:00 PST, nofollow", false, true},
  };
  for (const Case& c : cases) {
    INFO(c.value);
    RobotsDirectives directives = parse_x_robots_tag(c.value, "medcrawl");
    CHECK(directives.noindex == c.noindex);
    CHECK(directives.nofollow == c.nofollow);
  }
}

}  // namespace
}  // namespace medsearch
