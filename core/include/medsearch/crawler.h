// The crawl loop: takes URLs from the frontier, obeys robots.txt and per-host
// delays, fetches, writes every response to WARC, records the outcome and
// queues the links of HTML pages. A crawl directory holds frontier.sqlite and
// warc/; running again on the same directory resumes the crawl.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/crawl_scope.h"
#include "medsearch/fetcher.h"
#include "medsearch/frontier.h"
#include "medsearch/result.h"

namespace medsearch {

// Where to find NCBI E-utilities, and how fast it may be asked.
inline constexpr const char* kDefaultPubmedBase = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/";

// A snapshot of a running crawl, for progress displays.
struct CrawlProgress {
  int64_t requests = 0;  // page requests completed by this run
  int64_t fetched = 0;   // of those, kept (fetched state)
  int64_t errors = 0;    // of those, failed
  int64_t queued = 0;    // URLs waiting, over the crawl directory
  uint64_t bytes = 0;    // response bytes received by this run
  double seconds = 0;    // since the run started
  bool final = false;    // the last snapshot of the run
};

struct CrawlOptions {
  std::string out_dir;             // the crawl directory (created if missing)
  std::vector<std::string> seeds;  // absolute http(s) URLs; may be empty when resuming
  double delay_seconds = 1.0;      // between requests to one host; Crawl-delay may raise it
  int64_t max_pages = 1000;        // requests for pages over the whole crawl directory
  int64_t max_pages_per_host = 0;  // requests for pages per host (0: no limit)
  int max_depth = 5;               // links followed from a seed
  int max_redirects = 5;           // redirect hops followed from one URL
  int concurrency = 16;            // transfers at once (at most one per host)
  std::string user_agent = kDefaultUserAgent;
  size_t max_body_bytes = 10 * 1024 * 1024;
  std::string ca_file;  // PEM file of the CAs trusted for https; "": the system's
  double connect_timeout_seconds = 15;
  double total_timeout_seconds = 120;
  uint64_t warc_max_file_bytes = 1000ull * 1000 * 1000;  // WARC files roll over past this
  ScopeOptions scope;  // domains, patterns, URL length, private addresses, shard

  // Hosts whose robots.txt asks for a longer Crawl-delay are not crawled.
  double max_crawl_delay_seconds = 30;
  // 429 and 503 answers: the URL is tried again after Retry-After (or a
  // doubling back-off starting at max(2 * delay, 1 s)), at most this often.
  int max_retries = 3;
  // A Retry-After longer than this gives up on the URL for this run (it stays queued).
  double max_retry_after_seconds = 300;
  // robots.txt unreachable or 5xx: the host waits, and robots.txt is asked
  // again after this long while the crawl goes on (at most 3 times a run).
  double robots_retry_seconds = 60;
  // robots.txt answers are reused across runs for this long (RFC 9309: at most 24 h).
  double robots_cache_seconds = 24 * 3600;

  bool sitemaps = false;  // read sitemaps (robots.txt Sitemap: lines, else /sitemap.xml)
  bool recrawl = false;   // revisit fetched URLs with conditional GETs

  // PubMed through E-utilities: esearch for the query, then efetch in batches.
  std::string pubmed_query;  // "" for none
  std::string pubmed_base = kDefaultPubmedBase;
  std::string api_key;  // NCBI API key: 10 requests/s instead of 3
  int64_t pubmed_max_records = 10000;
  int pubmed_batch = 200;  // PMIDs per efetch request

  // Called with one line per notable event (robots.txt unreachable, a host
  // skipped, resuming). With `log_urls`, also one line per URL.
  std::function<void(std::string_view line)> progress;
  bool log_urls = false;
  // Called every `status_interval_seconds` and once at the end. Empty: none.
  std::function<void(const CrawlProgress&)> status;
  double status_interval_seconds = 10;
};

// What a crawl run did, and the state of the whole crawl directory after it.
struct CrawlSummary {
  int64_t requests = 0;               // page requests completed by this run, retries included
  int64_t retries = 0;                // of those, 429/503 answers that were asked again later
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
  std::map<std::string, std::map<UrlState, int64_t>> by_host;
  int64_t recrawl_queued = 0;  // fetched URLs queued again by --recrawl
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

// Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date
// (compared with `now`); nullopt when it is neither.
std::optional<double> parse_retry_after(std::string_view value, std::time_t now);

}  // namespace medsearch
