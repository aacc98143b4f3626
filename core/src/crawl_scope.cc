#include "medsearch/crawl_scope.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>

namespace medsearch {
namespace {

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool private_ipv4(const unsigned char* a) {
  return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 100 && (a[1] & 0xC0) == 64) ||
         (a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xF0) == 16) ||
         (a[0] == 192 && a[1] == 168) || a[0] >= 224;  // multicast and reserved too
}

bool private_ipv6(const unsigned char* a) {
  static const unsigned char kZero[16] = {};
  if (std::memcmp(a, kZero, 15) == 0 && (a[15] == 0 || a[15] == 1)) return true;  // :: and ::1
  if ((a[0] & 0xFE) == 0xFC) return true;                                         // fc00::/7
  if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) return true;                         // fe80::/10
  if (a[0] == 0xFF) return true;                                                  // multicast
  // ::ffff:a.b.c.d and the deprecated ::a.b.c.d carry an IPv4 address.
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::memcmp(a, kMapped, 12) == 0 || std::memcmp(a, kZero, 12) == 0) {
    return private_ipv4(a + 12);
  }
  return false;
}

}  // namespace

bool is_private_address(std::string_view host) {
  std::string name = to_lower(host);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  while (!name.empty() && name.back() == '.') name.pop_back();
  if (name == "localhost" || ends_with(name, ".localhost")) return true;
  unsigned char address[16];
  if (inet_pton(AF_INET, name.c_str(), address) == 1) return private_ipv4(address);
  if (inet_pton(AF_INET6, name.c_str(), address) == 1) return private_ipv6(address);
  // Browsers read 127.1, 0x7f.1 and 2130706433 as IPv4 too; refuse all-numeric oddities.
  if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0])) &&
      name.find_first_not_of("0123456789abcdefx.") == std::string::npos) {
    in_addr legacy{};
    if (inet_aton(name.c_str(), &legacy) != 0) {
      return private_ipv4(reinterpret_cast<const unsigned char*>(&legacy.s_addr));
    }
  }
  return false;
}

int shard_of_host(std::string_view host, int shard_count) {
  if (shard_count <= 1) return 0;
  uint64_t hash = 14695981039346656037ull;
  for (char c : to_lower(host)) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return static_cast<int>(hash % static_cast<uint64_t>(shard_count));
}

Result<CrawlScope> CrawlScope::create(ScopeOptions options) {
  CrawlScope scope;
  if (options.shard_count < 1 || options.shard_index < 0 ||
      options.shard_index >= options.shard_count) {
    return fail("bad shard " + std::to_string(options.shard_index) + "/" +
                std::to_string(options.shard_count) + ": need 0 <= I < N");
  }
  auto compile = [](const std::vector<std::string>& patterns, std::vector<std::regex>& out,
                    const char* what) -> Status {
    for (const std::string& pattern : patterns) {
      try {
        out.emplace_back(pattern, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        return fail(std::string("bad ") + what + " pattern '" + pattern + "': " + e.what());
      }
    }
    return {};
  };
  if (auto ok = compile(options.include_patterns, scope.include_, "--include"); !ok) {
    return std::move(ok).take_error();
  }
  if (auto ok = compile(options.exclude_patterns, scope.exclude_, "--exclude"); !ok) {
    return std::move(ok).take_error();
  }
  for (std::string& domain : options.allow_domains) {
    domain = to_lower(domain);
    while (!domain.empty() && domain.front() == '.') domain.erase(0, 1);
    if (domain.empty()) return fail("--allow-domain needs a domain name");
  }
  scope.options_ = std::move(options);
  return scope;
}

void CrawlScope::add_seed_host(const Url& url) {
  seed_host_keys_.insert(url.host_key());
  seed_hosts_.insert(url.host);
}

bool CrawlScope::allows_private_host(std::string_view host) const {
  return options_.allow_private || seed_hosts_.count(std::string(host)) > 0;
}

bool CrawlScope::may_connect(std::string_view host, std::string_view ip) const {
  return allows_private_host(host) || !is_private_address(ip);
}

std::string CrawlScope::refusal(const Url& url) const {
  bool in_scope = seed_host_keys_.count(url.host_key()) > 0;
  if (!in_scope) {
    for (const std::string& domain : options_.allow_domains) {
      if (url.host == domain || ends_with(url.host, "." + domain)) {
        in_scope = true;
        break;
      }
    }
  }
  if (!in_scope) return "other-host";
  if (shard_of_host(url.host, options_.shard_count) != options_.shard_index) return "shard";
  std::string text = url.to_string();
  if (options_.max_url_length > 0 && text.size() > options_.max_url_length) return "url-too-long";
  for (const std::regex& pattern : exclude_) {
    if (std::regex_search(text, pattern)) return "excluded";
  }
  if (!include_.empty()) {
    bool matched = false;
    for (const std::regex& pattern : include_) {
      if (std::regex_search(text, pattern)) {
        matched = true;
        break;
      }
    }
    if (!matched) return "not-included";
  }
  if (!allows_private_host(url.host) && is_private_address(url.host)) return "private-address";
  return "";
}

}  // namespace medsearch
