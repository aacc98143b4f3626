// robots.txt (RFC 9309) and X-Robots-Tag values.
#include "fuzz.h"
#include "medsearch/robots.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = medsearch::fuzz::as_text(data, size);
  medsearch::RobotsPolicy policy =
      medsearch::robots_policy_for_response(200, text, "medcrawl/0.1 (+https://example.test)");
  for (const char* path : {"/", "/private/a?b=c", "/articles/x.html", "/%7Euser", "/$"})
    (void)policy.allowed(path);
  (void)policy.crawl_delay();
  (void)medsearch::parse_x_robots_tag(text, "medcrawl");
  // Paths against patterns: the first line is the pattern, the rest the path.
  size_t newline = text.find('\n');
  if (newline != std::string_view::npos)
    (void)medsearch::robots_pattern_matches(text.substr(0, newline), text.substr(newline + 1));
  return 0;
}
