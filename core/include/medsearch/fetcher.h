// HTTP GETs for the crawler: many transfers driven by one thread (libcurl's
// multi interface, hidden in fetcher.cc), redirects not followed, bodies
// capped, and the exact bytes exchanged kept for the WARC file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "medsearch/warc.h"

namespace medsearch {

// The User-Agent sent unless the caller chooses another.
inline constexpr const char* kDefaultUserAgent =
    "medcrawl/" MEDSEARCH_VERSION " (+https://github.com/medsearch/medsearch)";

struct FetcherOptions {
  std::string user_agent = kDefaultUserAgent;
  double connect_timeout_seconds = 15;
  double total_timeout_seconds = 120;
  // A transfer slower than low_speed_bytes per second for low_speed_seconds is aborted.
  long low_speed_bytes = 100;
  long low_speed_seconds = 30;
  // Longer bodies (on the wire, or once decoded) are aborted and reported as "too-large".
  size_t max_body_bytes = 10 * 1024 * 1024;
  // Called once the response headers are in, with the Content-Type (maybe ""):
  // returning false aborts the transfer early (unwanted types are not downloaded).
  // Not called for redirects and error statuses. Empty: every type is wanted.
  std::function<bool(std::string_view content_type)> want_content_type;
  // Certificate authorities trusted for https (a PEM file), instead of the
  // system's: for an intranet's own CA, and for tests. Empty: the system's.
  std::string ca_file;
};

// Per-request choices for Fetcher::start().
struct RequestOptions {
  // Do not consult FetcherOptions::want_content_type (robots.txt, sitemaps).
  bool any_content_type = false;
  // Whether the connection may go to a loopback, private or link-local
  // address (checked on the address actually connected to, after DNS).
  bool allow_private_address = true;
  // Ask for gzip/deflate bodies. Off: the body arrives as it is (identity).
  bool compressed = true;
  // When not 0: only the first this many bytes of the body (as received,
  // chunked or compressed) are wanted. A longer body is cut there and the
  // transfer ends, which is not an error: FetchResult::truncated is set and
  // the body is decoded as far as those bytes go (decoded, it is cut at
  // max_body_bytes rather than refused). For robots.txt, of which only a
  // prefix is parsed.
  size_t keep_body_prefix = 0;
  // Conditional GET: sent as If-None-Match / If-Modified-Since when not empty.
  std::string if_none_match;
  std::string if_modified_since;
};

// What became of one GET.
struct FetchResult {
  uint64_t token = 0;  // the caller's token from Fetcher::start()
  std::string url;     // as requested
  std::string error;   // "" when a whole response was received
  // Why the transfer stopped early, when `error` is set for that reason:
  // "too-large", "content-type", "private-address"; "" for network errors.
  std::string aborted;
  int status = 0;  // HTTP status, 0 if no response head arrived
  std::vector<std::pair<std::string, std::string>> headers;  // final response's headers
  std::string body;        // decoded (chunked, gzip, deflate undone)
  bool truncated = false;  // keep_body_prefix cut the body: raw_response holds its start
  // With `body`: its digest and encoding, parsed once for the WARC record
  // (WarcWriter::write_exchange with HttpPayloadInfo).
  std::optional<HttpPayloadInfo> payload;
  std::string raw_request;   // request line and headers as sent
  std::string raw_response;  // status line, headers and body as received
  std::string ip_address;    // of the server, if connected
  // "h2" when the exchange was HTTP/2 (https servers that offer it), "" for
  // HTTP/1.x. raw_request and raw_response are then written in HTTP/1.1
  // syntax (request line and status line say HTTP/1.1), as WARC readers
  // expect; see docs/crawler.md.
  std::string protocol;
  std::time_t started = 0;  // when the request was started
  double seconds = 0;       // total transfer time

  bool ok() const { return error.empty(); }
  // The first header called `name` (case-insensitive); "" if absent.
  std::string header(std::string_view name) const;
};

// Runs GETs concurrently on the calling thread. Owns the libcurl handles;
// not copyable, not thread-safe: start() and poll() from one thread.
class Fetcher {
 public:
  explicit Fetcher(FetcherOptions options = {});
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Starts GET `url`; its result will carry `token`.
  void start(uint64_t token, const std::string& url, const RequestOptions& request = {});
  // Drives the transfers for up to `timeout_ms` (less if one finishes) and
  // returns those that finished.
  std::vector<FetchResult> poll(int timeout_ms);
  // Transfers started and not yet returned by poll().
  size_t active() const;

  const FetcherOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One GET, waited for: a convenience for tools and tests.
FetchResult fetch_url(const std::string& url, const FetcherOptions& options = {});

}  // namespace medsearch
