// The crawl loop: takes URLs from the frontier, obeys robots.txt and per-host
// delays, fetches, writes every response to WARC, records the outcome and
// queues the links of HTML pages. A crawl directory holds frontier.sqlite and
// warc/; running again on the same directory resumes the crawl.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/fetcher.h"
#include "medsearch/frontier.h"
#include "medsearch/result.h"

namespace medsearch {

struct CrawlOptions {
  std::string out_dir;             // the crawl directory (created if missing)
  std::vector<std::string> seeds;  // absolute http(s) URLs; may be empty when resuming
  double delay_seconds = 1.0;      // between requests to one host; Crawl-delay may raise it
  int64_t max_pages = 1000;        // requests for pages over the whole crawl directory
  int max_depth = 5;               // links followed from a seed
  int max_redirects = 5;           // redirect hops followed from one URL
  int concurrency = 4;             // transfers at once (at most one per host)
  std::string user_agent = kDefaultUserAgent;
  size_t max_body_bytes = 10 * 1024 * 1024;
  double connect_timeout_seconds = 15;
  double total_timeout_seconds = 120;
  uint64_t warc_max_file_bytes = 1000ull * 1000 * 1000;  // WARC files roll over past this
  // Called with one line per fetch and per notable event; empty: quiet.
  std::function<void(std::string_view line)> progress;
};

// What a crawl run did, and the state of the whole crawl directory after it.
struct CrawlSummary {
  int64_t requests = 0;               // page requests completed by this run
  int64_t robots_requests = 0;        // robots.txt requests by this run
  int64_t requeued_on_open = 0;       // URLs a killed run left mid-fetch, fetched again
  uint64_t warc_truncated_bytes = 0;  // torn record cut off the WARC file on open
  bool interrupted = false;           // stopped by the caller's stop flag
  bool page_limit_reached = false;
  // Over the whole crawl directory:
  std::map<UrlState, int64_t> by_state;
  std::map<std::string, int64_t> skipped_by_reason;
  std::map<std::string, int64_t> failed_by_reason;
  std::map<int, int64_t> by_status;
};

// Runs the crawl described by `options` until nothing is left to fetch, the
// page limit is reached, or `stop` becomes true (then it returns after the
// transfers in flight have finished and been recorded). `stop` may be set from
// a signal handler or another thread. Fails on a bad seed URL, a crawl
// directory that cannot be opened or is in use, or a write error.
Result<CrawlSummary> run_crawl(const CrawlOptions& options, const std::atomic<bool>& stop);

// The summary as lines of text ("fetched: 12", "skipped robots: 1", ...).
std::string format_summary(const CrawlSummary& summary);

// Whether a response with this Content-Type is kept: HTML, XHTML, PDF, plain
// text, XML (text/xml, application/xml, */*+xml). A missing type is kept.
bool is_kept_content_type(std::string_view content_type);

// The media type of a Content-Type value, lowercased, without parameters.
std::string media_type(std::string_view content_type);

}  // namespace medsearch
