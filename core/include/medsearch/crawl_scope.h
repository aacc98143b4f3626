// Which URLs a crawl may queue: hosts and domains, include/exclude patterns,
// a URL length cap, private and loopback addresses, and sharding by host.
#pragma once

#include <cstdint>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/result.h"
#include "medsearch/url.h"

namespace medsearch {

struct ScopeOptions {
  // Hosts under these domains are in scope too: "example.org" admits
  // example.org and www.example.org, any port.
  std::vector<std::string> allow_domains;
  // ECMAScript regular expressions searched for in the URL's normal form. With
  // any include pattern, a URL must match one; a URL matching an exclude
  // pattern is out.
  std::vector<std::string> include_patterns;
  std::vector<std::string> exclude_patterns;
  size_t max_url_length = 2048;  // longer URLs are refused (0: no limit)
  // Allow loopback, private and link-local addresses on hosts that were not seeds.
  bool allow_private = false;
  // Only hosts whose shard_of_host(host, shard_count) == shard_index.
  int shard_index = 0;
  int shard_count = 1;
};

// The scope of one crawl. Plain value type; not thread-safe.
class CrawlScope {
 public:
  // Compiles the patterns; fails with the pattern and the regex error for a bad one.
  static Result<CrawlScope> create(ScopeOptions options);

  // Brings `url`'s host[:port] into scope (a seed, or where a seed redirected),
  // and allows its host name even when it is a private address.
  void add_seed_host(const Url& url);
  bool is_seed_host(const Url& url) const { return seed_host_keys_.count(url.host_key()) > 0; }

  // "" when `url` may be queued; otherwise why not: "other-host" (not a seed
  // host, not under an allowed domain), "shard" (another shard's host),
  // "url-too-long", "excluded" (an exclude pattern), "not-included" (no
  // include pattern), "private-address" (a loopback/private IP literal or
  // localhost that was not a seed, without allow_private).
  std::string refusal(const Url& url) const;

  // Whether a connection to IP address `ip` may be made for a URL on `host`:
  // public addresses always, private ones only for seed hosts or with allow_private.
  bool may_connect(std::string_view host, std::string_view ip) const;
  bool allows_private_host(std::string_view host) const;

  const ScopeOptions& options() const { return options_; }

 private:
  ScopeOptions options_;
  std::vector<std::regex> include_;
  std::vector<std::regex> exclude_;
  std::set<std::string> seed_host_keys_;  // host[:port]
  std::set<std::string> seed_hosts_;      // host names, for the private-address rule
};

// Whether `host` (a host name, an IPv4 literal, or an IPv6 literal with or
// without brackets) is loopback, private (RFC 1918, fc00::/7), link-local,
// carrier-grade NAT (100.64/10), "this network" (0/8), unspecified, or the
// name localhost / *.localhost. Other names are not resolved here: the
// fetcher checks the address it actually connects to.
bool is_private_address(std::string_view host);

// A stable shard number in [0, shard_count) for a host name (FNV-1a 64 of the
// lowercase host, port ignored): the same on every machine and run.
int shard_of_host(std::string_view host, int shard_count);

}  // namespace medsearch
