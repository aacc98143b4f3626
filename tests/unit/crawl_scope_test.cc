#include "medsearch/crawl_scope.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "medsearch/crawler.h"

namespace medsearch {
namespace {

TEST_CASE("is_private_address", "[scope]") {
  struct Case {
    const char* host;
    bool is_private;
  };
  const Case cases[] = {
      {"127.0.0.1", true},
      {"127.0.0.9", true},
      {"10.1.2.3", true},
      {"172.16.0.1", true},
      {"172.31.255.255", true},
      {"172.32.0.1", false},
      {"192.168.1.1", true},
      {"169.254.169.254", true},
      {"100.64.0.1", true},
      {"0.0.0.0", true},
      {"8.8.8.8", false},
      {"93.184.216.34", false},
      {"localhost", true},
      {"LocalHost.", true},
      {"db.localhost", true},
      {"[::1]", true},
      {"::1", true},
      {"[fd00::1]", true},
      {"[fe80::1]", true},
      {"[::ffff:127.0.0.1]", true},
      {"[::ffff:8.8.8.8]", false},
      {"[2001:db8::1]", false},
      {"127.1", true},
      {"2130706433", true},
      {"0x7f.1", true},
      {"example.org", false},
      {"10.example.org", false},
  };
  for (const Case& c : cases) {
    INFO(c.host);
    CHECK(is_private_address(c.host) == c.is_private);
  }
}

TEST_CASE("CrawlScope decides which URLs may be queued", "[scope]") {
  ScopeOptions options;
  options.allow_domains = {"example.org"};
  options.include_patterns = {"/articles/", "/blog/"};
  options.exclude_patterns = {"\\?print=", "/blog/drafts/"};
  options.max_url_length = 60;
  auto scope = CrawlScope::create(options);
  REQUIRE(scope.ok());
  scope->add_seed_host(*parse_url("http://clinic.test/"));
  scope->add_seed_host(*parse_url("http://127.0.0.1:8080/"));
  struct Case {
    const char* url;
    const char* refusal;
  };
  const Case cases[] = {
      {"http://clinic.test/articles/a.html", ""},
      {"https://clinic.test/articles/a.html", ""},  // host[:port] is what counts
      {"http://clinic.test:81/articles/a.html", "other-host"},
      {"http://other.test/articles/a.html", "other-host"},
      {"http://www.example.org/blog/x", ""},
      {"http://example.org/blog/x", ""},
      {"http://notexample.org/blog/x", "other-host"},
      {"http://clinic.test/about.html", "not-included"},
      {"http://clinic.test/articles/a.html?print=1", "excluded"},
      {"http://clinic.test/blog/drafts/x", "excluded"},
      {"http://clinic.test/articles/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "url-too-long"},
      {"http://127.0.0.1:8080/articles/seeded", ""},
      {"http://localhost.example.org/blog/", ""},
  };
  for (const Case& c : cases) {
    INFO(c.url);
    CHECK(scope->refusal(*parse_url(c.url)) == c.refusal);
  }
  CHECK(scope->may_connect("www.example.org", "93.184.216.34"));
  CHECK_FALSE(scope->may_connect("www.example.org", "10.0.0.5"));  // a name resolving inward
  CHECK(scope->may_connect("clinic.test", "10.0.0.5"));            // a seed host may
  CHECK(scope->may_connect("127.0.0.1", "127.0.0.1"));
}

TEST_CASE("CrawlScope refuses private hosts that were not seeds", "[scope]") {
  for (bool allow_private : {false, true}) {
    ScopeOptions options;
    options.allow_domains = {"localhost", "10.0.0.7", "127.0.0.2"};
    options.allow_private = allow_private;
    auto scope = CrawlScope::create(options);
    REQUIRE(scope.ok());
    scope->add_seed_host(*parse_url("http://127.0.0.1:8080/"));
    const std::string expected = allow_private ? "" : "private-address";
    for (const char* url : {"http://localhost/", "http://10.0.0.7/x", "http://127.0.0.2:8080/"}) {
      INFO(url << " allow_private " << allow_private);
      CHECK(scope->refusal(*parse_url(url)) == expected);
    }
    CHECK(scope->may_connect("other.test", "192.168.0.1") == allow_private);
  }
}

TEST_CASE("CrawlScope reports bad patterns and shards", "[scope]") {
  ScopeOptions bad_pattern;
  bad_pattern.include_patterns = {"(unclosed"};
  auto scope = CrawlScope::create(bad_pattern);
  REQUIRE_FALSE(scope.ok());
  CHECK(scope.error().find("--include pattern '(unclosed'") != std::string::npos);
  ScopeOptions bad_shard;
  bad_shard.shard_index = 2;
  bad_shard.shard_count = 2;
  CHECK_FALSE(CrawlScope::create(bad_shard).ok());
}

TEST_CASE("shard_of_host is stable and spreads hosts", "[scope]") {
  // Fixed values: a change would split the web differently between old and new crawlers.
  CHECK(shard_of_host("example.org", 1) == 0);
  CHECK(shard_of_host("example.org", 7) == shard_of_host("EXAMPLE.org", 7));
  std::map<int, int> counts;
  for (int i = 0; i < 1000; ++i) ++counts[shard_of_host("host" + std::to_string(i) + ".test", 4)];
  REQUIRE(counts.size() == 4);
  for (const auto& [shard, count] : counts) {
    INFO("shard " << shard);
    CHECK(count > 180);
  }
  ScopeOptions options;
  options.shard_count = 4;
  options.shard_index = shard_of_host("a.test", 4);
  options.allow_domains = {"test"};
  auto scope = CrawlScope::create(options);
  REQUIRE(scope.ok());
  CHECK(scope->refusal(*parse_url("http://a.test/")) == "");
  int other = 0;
  while (shard_of_host("b" + std::to_string(other) + ".test", 4) == options.shard_index) ++other;
  CHECK(scope->refusal(*parse_url("http://b" + std::to_string(other) + ".test/")) == "shard");
}

TEST_CASE("parse_retry_after reads seconds and HTTP dates", "[scope][crawler]") {
  const std::time_t now = 1700000000;  // Tue, 14 Nov 2023 22:13:20 GMT
  struct Case {
    const char* value;
    std::optional<double> seconds;
  };
  const Case cases[] = {
      {"120", 120.0},
      {" 0 ", 0.0},
      {"Tue, 14 Nov 2023 22:13:50 GMT", 30.0},
      {"Tue, 14 Nov 2023 22:00:00 GMT", 0.0},  // in the past: no wait
      {"", std::nullopt},
      {"-5", std::nullopt},
      {"soon", std::nullopt},
      {"1.5", std::nullopt},
      {"Tue, 14 Nov 2023 22:13:50", std::nullopt},
  };
  for (const Case& c : cases) {
    INFO("'" << c.value << "'");
    CHECK(parse_retry_after(c.value, now) == c.seconds);
  }
}

}  // namespace
}  // namespace medsearch
