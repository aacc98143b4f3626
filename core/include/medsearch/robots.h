// robots.txt (RFC 9309): parsing, choosing the group for our user agent, and
// deciding whether a path may be crawled.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace medsearch {

// Only this many bytes of a robots.txt are parsed (RFC 9309 2.5: at least 500 KiB).
inline constexpr size_t kMaxRobotsBytes = 500 * 1024;

// One Allow or Disallow line; the pattern has its percent-encoding normalised.
struct RobotsRule {
  bool allow = false;
  std::string pattern;
};

// The rules that apply to one user agent on one origin. Plain value type.
class RobotsPolicy {
 public:
  // A policy that allows everything (no robots.txt, or a 4xx answer).
  static RobotsPolicy allow_all();
  // A policy that disallows everything (robots.txt unreachable, or a 5xx answer).
  static RobotsPolicy disallow_all();
  explicit RobotsPolicy(std::vector<RobotsRule> rules = {},
                        std::optional<double> crawl_delay = std::nullopt);

  // Whether `path_and_query` (as in Url::path_and_query) may be fetched: the
  // longest matching pattern wins, Allow wins a tie, no match allows, and
  // "/robots.txt" is always allowed.
  bool allowed(std::string_view path_and_query) const;
  // Crawl-delay of the chosen group in seconds, if it gave a valid one.
  std::optional<double> crawl_delay() const { return crawl_delay_; }
  const std::vector<RobotsRule>& rules() const { return rules_; }

 private:
  std::vector<RobotsRule> rules_;
  std::optional<double> crawl_delay_;
  bool disallow_all_ = false;
};

// A parsed robots.txt: its groups and Sitemap lines. Plain value type.
class RobotsTxt {
 public:
  // Parses the first kMaxRobotsBytes of `text`. Unknown lines and lines that
  // are not "key: value" are ignored, as the RFC asks; parsing never fails.
  static RobotsTxt parse(std::string_view text);

  // The policy for `user_agent`: its product token (see robots_product_token)
  // is matched case-insensitively against each group's user-agent lines; all
  // groups naming it are merged; if none does, the "*" groups are merged; if
  // there is none of those either, everything is allowed.
  RobotsPolicy policy_for(std::string_view user_agent) const;

  // Sitemap URLs as written, in file order.
  const std::vector<std::string>& sitemaps() const { return sitemaps_; }

 private:
  struct Group {
    std::vector<std::string> agents;  // lowercased product tokens or "*"
    std::vector<RobotsRule> rules;
    std::optional<double> crawl_delay;
  };
  std::vector<Group> groups_;
  std::vector<std::string> sitemaps_;
};

// The policy implied by the answer to GET /robots.txt (RFC 9309 2.3.1): 2xx ->
// the parsed body; 4xx -> allow all; 5xx or no answer (status 0) -> disallow
// all. Redirects (3xx) must be followed by the caller; a 3xx left over after
// five hops counts as unavailable (allow all).
RobotsPolicy robots_policy_for_response(int status, std::string_view body,
                                        std::string_view user_agent);

// Page-level robots directives, from X-Robots-Tag headers or <meta name=robots>.
struct RobotsDirectives {
  bool noindex = false;   // keep the page out of the index
  bool nofollow = false;  // do not follow its links
};

// Reads one X-Robots-Tag header value: comma-separated directives ("noindex",
// "nofollow", "none" = both), optionally after "agent:" to address one
// crawler; directives for other agents are ignored. `product_token` as from
// robots_product_token(). Unknown directives are ignored.
RobotsDirectives parse_x_robots_tag(std::string_view value, std::string_view product_token);

// The product token robots.txt groups are matched against: the leading run of
// [A-Za-z_-] of a User-Agent, lowercased ("medcrawl/0.1 (+url)" -> "medcrawl").
std::string robots_product_token(std::string_view user_agent);

// Whether `path` matches a robots.txt pattern ('*' = any run of characters, a
// final '$' anchors the end; otherwise a prefix match). Both are compared
// after percent-encoding normalisation by the caller.
bool robots_pattern_matches(std::string_view pattern, std::string_view path);

}  // namespace medsearch
