#include "medsearch/crawler.h"

#include <fcntl.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "medsearch/html_links.h"
#include "medsearch/robots.h"
#include "medsearch/sitemap.h"
#include "medsearch/url.h"
#include "medsearch/warc.h"
#include "medsearch/xml.h"

namespace medsearch {
namespace {

using Clock = std::chrono::steady_clock;

Clock::duration seconds(double value) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(value));
}

// Sitemap files read per run, at most: a guard against sitemap indexes that never end.
constexpr int kMaxSitemapFiles = 1000;
// robots.txt asked again at most this often per run after a 5xx or no answer.
constexpr int kMaxRobotsAttempts = 3;
// A robots.txt is read to its first MiB as sent (less if --max-body-bytes is
// smaller): after chunk framing, at least the kMaxRobotsBytes parsed. A longer
// one is cut there, not refused as too large (RFC 9309 2.5).
constexpr size_t kRobotsBytesRead = 1024 * 1024;

// Politeness state of one host (host[:port]).
struct HostState {
  bool busy = false;  // a request to it is in flight
  double delay = 0;   // seconds between requests (Crawl-delay, E-utilities rate)
  Clock::time_point next_allowed{};
  // robots.txt unreachable or 5xx: nothing is fetched until it is asked again at robots_retry_at.
  bool robots_blocked = false;
  Clock::time_point robots_retry_at{};
  int robots_attempts = 0;
  // Set when the host is not crawled this run; its URLs stay queued.
  bool paused = false;
  // Set when the host is not crawled at all: its URLs are recorded as skipped with this reason.
  std::string skip_reason;
  std::string skip_detail;
  bool api = false;                  // E-utilities: no robots.txt, fixed rate
  std::optional<int64_t> attempted;  // page requests to it, for --max-pages-per-host
  std::deque<std::pair<std::string, int>> sitemaps;  // sitemap URL, nesting level
  // Its next queued URLs in the frontier's order (depth, then id): a prefix of
  // its queue, kept in memory so that a scheduling pass needs no query.
  std::deque<FrontierEntry> queue;
  bool more_queued = false;  // the frontier may hold queued URLs after those in `queue`
  // The depth and id of the last URL read into `queue`: the next read starts
  // after it. Unset: from the start of the host's queue.
  std::optional<std::pair<int, int64_t>> read_until;
};

// Queued URLs read from the frontier at once for one host's queue in memory.
constexpr size_t kHostQueueBatch = 16;

// robots.txt state of one origin (scheme://host[:port]).
struct RobotsState {
  std::optional<RobotsPolicy> policy;
  bool in_flight = false;
  int redirects = 0;
};

enum class FlightKind { kPage, kRobots, kSitemap };

// A transfer in flight.
struct InFlight {
  FlightKind kind = FlightKind::kPage;
  FrontierEntry entry;   // pages only
  std::string origin;    // robots only: the origin whose robots.txt this is
  std::string host_key;  // the host whose politeness slot it holds
  int sitemap_level = 0;
};

// An outcome whose WARC records are written but not yet synced: recorded in
// the frontier only after the next WarcWriter::flush(), so the frontier never
// points at records a power loss could take back.
struct PendingRecord {
  int64_t id = 0;
  std::string url;
  FetchOutcome outcome;
};

// WARC syncs (and the frontier updates waiting for them) happen at most this
// often, or when this many outcomes wait: one fdatasync per page would cost
// more than the page. The crawl's other frontier writes (URLs found, URLs
// taken, skips) share the transaction committed with each sync, so a page's
// links are never committed after its outcome.
constexpr auto kFlushInterval = std::chrono::milliseconds(50);
constexpr size_t kMaxPendingRecords = 256;

// The outcome for a URL decided on without a request.
FetchOutcome outcome_without_response(UrlState state, std::string reason, std::string detail) {
  FetchOutcome outcome;
  outcome.state = state;
  outcome.reason = std::move(reason);
  outcome.detail = std::move(detail);
  return outcome;
}

// "fetched 200 URL", "failed 404 URL (http-404)", "skipped - URL (robots: detail)".
std::string progress_line(const std::string& url, const FetchOutcome& outcome) {
  std::string line = std::string(to_string(outcome.state)) + " " +
                     (outcome.http_status ? std::to_string(outcome.http_status) : "-") + " " + url;
  if (!outcome.reason.empty() && !outcome.detail.empty()) {
    line += " (" + outcome.reason + ": " + outcome.detail + ")";
  } else if (!outcome.reason.empty() || !outcome.detail.empty()) {
    line += " (" + outcome.reason + outcome.detail + ")";
  }
  return line;
}

std::string format_seconds(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// Percent-encodes a query parameter value (RFC 3986 unreserved kept).
std::string encode_query_value(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// What an E-utilities esearch answer says.
struct PubmedSearch {
  int64_t count = 0;
  std::vector<std::string> ids;
  std::string error;  // <ERROR> text, if any
};

Result<PubmedSearch> parse_esearch(std::string_view xml) {
  XmlReader reader(xml);
  PubmedSearch search;
  bool in_id_list = false;
  while (true) {
    auto event = reader.next();
    if (!event) return fail("esearch answer: " + event.error());
    if (*event == XmlReader::Event::kEof) break;
    if (*event == XmlReader::Event::kEnd && reader.name() == "IdList") in_id_list = false;
    if (*event != XmlReader::Event::kStart) continue;
    const std::string& name = reader.name();
    if (name == "IdList") {
      in_id_list = true;
    } else if (name == "Count" && reader.depth() == 2) {
      auto text = read_element_text(reader);
      if (!text) return fail("esearch answer: " + text.error());
      search.count = std::atoll(text->c_str());
    } else if (name == "Id" && in_id_list) {
      auto text = read_element_text(reader);
      if (!text) return fail("esearch answer: " + text.error());
      if (!text->empty() && text->find_first_not_of("0123456789") == std::string::npos) {
        search.ids.push_back(*text);
      }
    } else if (name == "ERROR") {
      auto text = read_element_text(reader);
      if (text) search.error = *text;
    }
  }
  return search;
}

// The exclusive lock on a crawl directory; released when the process ends.
class DirectoryLock {
 public:
  DirectoryLock() = default;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);
  }

  Status acquire(const std::string& dir) {
    std::string path = dir + "/lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return fail("cannot open '" + path + "': " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return fail("crawl directory '" + dir + "' is in use by another medcrawl");
    }
    return {};
  }

 private:
  int fd_ = -1;
};

class Crawl {
 public:
  Crawl(const CrawlOptions& options, const std::atomic<bool>& stop, Frontier frontier,
        WarcWriter warc, CrawlScope scope)
      : options_(options),
        stop_(stop),
        frontier_(std::move(frontier)),
        warc_(std::move(warc)),
        fetcher_(fetcher_options(options)),
        scope_(std::move(scope)),
        product_token_(robots_product_token(options.user_agent)) {}

  Status run();
  // Fills the whole-directory counts of the summary from the frontier.
  Status fill_summary();
  CrawlSummary& summary() { return summary_; }

 private:
  static FetcherOptions fetcher_options(const CrawlOptions& options) {
    FetcherOptions fetcher;
    fetcher.user_agent = options.user_agent;
    fetcher.max_body_bytes = options.max_body_bytes;
    fetcher.connect_timeout_seconds = options.connect_timeout_seconds;
    fetcher.total_timeout_seconds = options.total_timeout_seconds;
    fetcher.want_content_type = [](std::string_view type) { return is_kept_content_type(type); };
    fetcher.ca_file = options.ca_file;
    return fetcher;
  }

  void progress(const std::string& line) {
    if (options_.progress) options_.progress(line);
  }
  void url_progress(const std::string& url, const FetchOutcome& outcome) {
    if (options_.log_urls) progress(progress_line(url, outcome));
  }

  Status add_seeds();
  // Adds a URL to the frontier (kQueued, unless known) and notes it for its
  // host's queue in memory. Returns whether it was new.
  Result<bool> add_url(const NewUrl& url);
  // The next queued URL of `host_key`, read from the frontier when its queue
  // in memory is empty; nullptr (and the host forgotten) when it has none.
  // The pointer is valid until the host's queue changes.
  Result<FrontierEntry*> next_queued(const std::string& host_key);
  // URL `entry` (taken from its host's queue) goes back to the frontier's queue.
  Status requeue(const FrontierEntry& entry);
  Status add_pubmed_search(int64_t start);
  // Starts transfers for ready hosts. Returns whether anything was taken.
  Result<bool> schedule();
  bool host_ready(const std::string& host_key, Clock::time_point now);
  void start_sitemaps(Clock::time_point now, int& slots);
  Status start_robots(const std::string& origin, const std::string& robots_url,
                      const std::string& host_key);
  void start_transfer(uint64_t token, const std::string& url, RequestOptions request);
  Status handle(FetchResult result);
  Status handle_robots(InFlight& flight, FetchResult& result);
  Status apply_robots(const std::string& origin, const std::string& host_key, int status,
                      std::string_view body, bool from_cache);
  Status handle_sitemap(InFlight& flight, FetchResult& result);
  Status handle_page(InFlight& flight, FetchResult& result);
  // 429/503: schedules a retry; returns whether the URL was handed back to the queue.
  Result<bool> retry_later(const FrontierEntry& entry, const FetchResult& result);
  Status handle_not_modified(const FrontierEntry& entry, FetchResult& result);
  Status handle_pubmed_search(const FrontierEntry& entry, const FetchResult& result,
                              FetchOutcome& outcome);
  Status check_duplicate(const FrontierEntry& entry, FetchOutcome& outcome);
  Status queue_links(const FrontierEntry& entry, const Url& url, const FetchResult& result,
                     bool header_nofollow, FetchOutcome& outcome);
  // Adds a URL found on a page, in a sitemap or by a redirect, if the scope allows it.
  Status add_found_url(const Url& url, int depth, int redirects, const std::string& referrer);
  Result<WarcLocation> archive(const FetchResult& result);
  void release_host(const std::string& host_key);
  bool page_budget_left() const {
    return options_.max_pages <= 0 || attempted_ + pages_in_flight_ < options_.max_pages;
  }
  bool is_pubmed_search(const std::string& url) const {
    return !pubmed_search_prefix_.empty() && url.rfind(pubmed_search_prefix_, 0) == 0;
  }
  void report_status(bool final);
  // Records an outcome whose WARC records were just written (see PendingRecord).
  void record_after_sync(const FrontierEntry& entry, FetchOutcome outcome);
  // Opens the frontier transaction the crawl writes in, if none is open.
  Status open_batch();
  // Commits the open transaction (outcomes waiting for a WARC sync still wait).
  Status commit_batch();
  // Syncs the WARC file, records the outcomes that waited for it, and commits
  // the open transaction.
  Status flush_pending();
  bool flush_due() const {
    Clock::time_point now = Clock::now();
    if (!pending_.empty() &&
        (pending_.size() >= kMaxPendingRecords || now - pending_since_ >= kFlushInterval)) {
      return true;
    }
    return batch_open_ && now - batch_since_ >= kFlushInterval;
  }

  const CrawlOptions& options_;
  const std::atomic<bool>& stop_;
  Frontier frontier_;
  WarcWriter warc_;
  Fetcher fetcher_;
  CrawlScope scope_;
  std::string product_token_;
  CrawlSummary summary_;
  std::unordered_map<std::string, HostState> hosts_;
  std::unordered_map<std::string, RobotsState> robots_;
  std::unordered_map<uint64_t, InFlight> in_flight_;
  std::unordered_map<int64_t, int> retries_;  // 429/503 answers per URL id, this run
  std::vector<PendingRecord> pending_;
  // URLs taken from the queue and not recorded yet (in flight, or waiting in
  // pending_). They stay 'queued' in the frontier until recorded, so a host's
  // queue read again skips them. Marking each one 'fetching' in the frontier
  // first cost 6% of a crawl's CPU (perf, 2026-11-22); a run that dies leaves
  // them queued, as open() left 'fetching' ones.
  std::unordered_set<int64_t> taken_;
  Clock::time_point pending_since_{};
  bool batch_open_ = false;  // a frontier transaction is open (see open_batch())
  Clock::time_point batch_since_{};
  // The first URL added in the open transaction: URLs from it on are not
  // requested before it is committed, so every URL in the WARC files is in
  // the frontier.
  std::optional<int64_t> first_uncommitted_id_;
  std::set<std::string> queued_hosts_;       // hosts that may have queued URLs
  std::string last_scheduled_host_;          // a scheduling pass starts after this host
  std::unordered_set<uint64_t> known_urls_;  // hashes of URLs added to the frontier this run
  uint64_t next_token_ = 1;
  int64_t attempted_ = 0;  // page requests completed, over the whole crawl directory
  int64_t pages_in_flight_ = 0;
  int sitemap_files_ = 0;
  std::optional<Clock::time_point> earliest_delayed_;  // set by schedule()
  std::string pubmed_base_;                            // normal form, ends with '/'
  std::string pubmed_search_prefix_;                   // pubmed_base_ + "esearch.fcgi?"
  Clock::time_point started_ = Clock::now();
  Clock::time_point next_status_ = Clock::now();
  int64_t fetched_this_run_ = 0;
  int64_t errors_this_run_ = 0;
  uint64_t bytes_this_run_ = 0;
};

Status Crawl::add_seeds() {
  if (!options_.pubmed_query.empty() || !options_.api_key.empty() ||
      options_.pubmed_base != kDefaultPubmedBase) {
    std::string base = options_.pubmed_base;
    if (base.empty() || base.back() != '/') base += '/';
    auto url = parse_url(base);
    if (!url) return fail("bad --pubmed-base '" + options_.pubmed_base + "': " + url.error());
    pubmed_base_ = url->to_string();
    pubmed_search_prefix_ = pubmed_base_ + "esearch.fcgi?";
    scope_.add_seed_host(*url);
    HostState& host = hosts_[url->host_key()];
    host.api = true;
    // NCBI: at most 3 requests per second without an API key, 10 with one.
    host.delay = options_.api_key.empty() ? 1.0 / 3 : 1.0 / 10;
    robots_[url->origin()].policy = RobotsPolicy::allow_all();
  }
  for (const std::string& seed : options_.seeds) {
    auto url = parse_url(seed);
    if (!url) return fail("bad seed URL '" + seed + "': " + url.error());
    const ScopeOptions& scope = scope_.options();
    if (shard_of_host(url->host, scope.shard_count) != scope.shard_index) {
      progress("seed " + url->to_string() + " belongs to shard " +
               std::to_string(shard_of_host(url->host, scope.shard_count)) + "/" +
               std::to_string(scope.shard_count) + "; not crawled by this one");
      continue;
    }
    if (auto added = add_url({url->to_string(), url->host_key(), 0, 0, ""}); !added) {
      return std::move(added).take_error();
    }
  }
  if (!options_.pubmed_query.empty()) {
    // Like any host, E-utilities belongs to one shard: only that crawler asks it.
    auto base = parse_url(pubmed_base_);
    const ScopeOptions& scope = scope_.options();
    if (base && shard_of_host(base->host, scope.shard_count) != scope.shard_index) {
      progress("PubMed (" + base->host + ") belongs to another shard; not searched by this one");
    } else if (auto ok = add_pubmed_search(0); !ok) {
      return ok;
    }
  }
  auto hosts = frontier_.seed_hosts();
  if (!hosts) return std::move(hosts).take_error();
  for (const std::string& host_key : *hosts) {
    if (auto url = parse_url("http://" + host_key + "/")) scope_.add_seed_host(*url);
  }
  if (hosts->empty()) {
    if (scope_.options().shard_count > 1 &&
        (!options_.seeds.empty() || !options_.pubmed_query.empty())) {
      return fail("no seed URL belongs to this shard (" +
                  std::to_string(scope_.options().shard_index) + "/" +
                  std::to_string(scope_.options().shard_count) + ")");
    }
    return fail("nothing to crawl: give at least one seed URL or --pubmed QUERY");
  }
  return {};
}

Status Crawl::add_pubmed_search(int64_t start) {
  int64_t wanted = options_.pubmed_max_records - start;
  if (wanted <= 0) return {};
  // esearch returns at most 10,000 ids per request.
  int64_t count = std::min<int64_t>(wanted, 10000);
  std::string url =
      pubmed_search_prefix_ + "db=pubmed&term=" + encode_query_value(options_.pubmed_query) +
      "&retstart=" + std::to_string(start) + "&retmax=" + std::to_string(count) + "&tool=medcrawl";
  if (!options_.api_key.empty()) url += "&api_key=" + encode_query_value(options_.api_key);
  auto parsed = parse_url(url);
  if (!parsed) return fail("bad PubMed search URL: " + parsed.error());
  auto added = add_url({parsed->to_string(), parsed->host_key(), 0, 0, ""});
  if (!added) return std::move(added).take_error();
  return {};
}

Result<bool> Crawl::add_url(const NewUrl& url) {
  auto added = frontier_.add(url);
  if (!added || !*added) return added;
  if (!first_uncommitted_id_) first_uncommitted_id_ = frontier_.last_added_id();
  HostState& host = hosts_[url.host_key];
  // The new row has the highest id, so it comes after what was read unless
  // it is shallower; then the queue is read again from its start.
  if (host.read_until && url.depth < host.read_until->first) {
    host.queue.clear();
    host.read_until.reset();
  }
  host.more_queued = true;
  queued_hosts_.insert(url.host_key);
  return added;
}

Result<FrontierEntry*> Crawl::next_queued(const std::string& host_key) {
  HostState& host = hosts_[host_key];
  // Read from the start, the queue begins with the URLs taken and not yet
  // recorded: read on past them.
  while (host.queue.empty() && host.more_queued) {
    auto loaded = frontier_.peek_queued(host_key, kHostQueueBatch, host.read_until);
    if (!loaded) return std::move(loaded).take_error();
    host.more_queued = loaded->size() == kHostQueueBatch;
    if (!loaded->empty()) host.read_until.emplace(loaded->back().depth, loaded->back().id);
    for (FrontierEntry& entry : *loaded)
      if (!taken_.count(entry.id)) host.queue.push_back(std::move(entry));
  }
  if (host.queue.empty()) {
    queued_hosts_.erase(host_key);
    return nullptr;
  }
  return &host.queue.front();
}

Status Crawl::requeue(const FrontierEntry& entry) {
  if (auto ok = frontier_.requeue(entry.id); !ok) return ok;
  taken_.erase(entry.id);
  // It may come before URLs in the queue in memory: read the queue again.
  HostState& host = hosts_[entry.host_key];
  host.queue.clear();
  host.read_until.reset();
  host.more_queued = true;
  queued_hosts_.insert(entry.host_key);
  return {};
}

bool Crawl::host_ready(const std::string& host_key, Clock::time_point now) {
  HostState& host = hosts_[host_key];
  if (host.busy || host.paused) return false;
  if (!host.skip_reason.empty()) return true;  // its URLs are skipped without requests
  if (host.robots_blocked) {
    if (now < host.robots_retry_at) return false;
    host.robots_blocked = false;  // time to ask for robots.txt again
  }
  if (host.next_allowed > now) {
    if (!earliest_delayed_ || host.next_allowed < *earliest_delayed_) {
      earliest_delayed_ = host.next_allowed;
    }
    return false;
  }
  return true;
}

void Crawl::start_transfer(uint64_t token, const std::string& url, RequestOptions request) {
  if (auto parsed = parse_url(url)) {
    request.allow_private_address = scope_.allows_private_host(parsed->host);
    // E-utilities answers are archived as plain XML, which WARC tools and the
    // indexer can read without decoding (the WARC record is gzipped anyway).
    if (auto host = hosts_.find(parsed->host_key()); host != hosts_.end() && host->second.api) {
      request.compressed = false;
    }
  } else {
    request.allow_private_address = false;
  }
  fetcher_.start(token, url, request);
}

void Crawl::start_sitemaps(Clock::time_point now, int& slots) {
  for (auto& [host_key, host] : hosts_) {
    if (slots <= 0) return;
    if (host.sitemaps.empty() || host.busy || host.paused || host.robots_blocked ||
        host.next_allowed > now) {
      continue;
    }
    auto [url, level] = host.sitemaps.front();
    host.sitemaps.pop_front();
    if (++sitemap_files_ > kMaxSitemapFiles) {
      host.sitemaps.clear();
      progress("not reading more than " + std::to_string(kMaxSitemapFiles) + " sitemaps");
      continue;
    }
    uint64_t token = next_token_++;
    host.busy = true;
    InFlight flight;
    flight.kind = FlightKind::kSitemap;
    flight.host_key = host_key;
    flight.entry.url = url;
    flight.sitemap_level = level;
    in_flight_[token] = std::move(flight);
    RequestOptions request;
    request.any_content_type = true;
    start_transfer(token, url, request);
    --slots;
  }
}

Result<bool> Crawl::schedule() {
  earliest_delayed_.reset();
  if (stop_) return false;
  int slots = options_.concurrency - static_cast<int>(fetcher_.active());
  if (slots <= 0) return false;
  Clock::time_point now = Clock::now();
  if (options_.sitemaps) start_sitemaps(now, slots);
  if (options_.max_pages > 0) {
    slots = static_cast<int>(
        std::min<int64_t>(slots, options_.max_pages - attempted_ - pages_in_flight_));
  }
  if (slots <= 0) return false;
  bool took = false;
  // Each ready host's next URL, round robin: the pass starts after the host
  // the last transfer went to, so a few hosts cannot take every slot.
  auto it = queued_hosts_.upper_bound(last_scheduled_host_);
  for (size_t visits = queued_hosts_.size(); visits > 0 && slots > 0; --visits) {
    if (it == queued_hosts_.end()) it = queued_hosts_.begin();
    if (it == queued_hosts_.end()) break;
    std::string queue_host = *it;
    ++it;  // next_queued() may forget queue_host
    if (!host_ready(queue_host, now)) continue;
    auto next = next_queued(queue_host);
    if (!next) return std::move(next).take_error();
    if (*next == nullptr) continue;
    took = true;
    FrontierEntry& entry = **next;
    // An outcome decided without a request: the URL leaves the queue.
    auto settle = [&](const FetchOutcome& outcome) -> Status {
      std::string url = entry.url;
      int64_t id = entry.id;
      hosts_[queue_host].queue.pop_front();
      if (auto ok = frontier_.record(id, outcome); !ok) return ok;
      url_progress(url, outcome);
      return {};
    };
    auto url = parse_url(entry.url);
    if (!url) {
      if (auto ok = settle(outcome_without_response(UrlState::kFailed, "bad-url", url.error()));
          !ok) {
        return std::move(ok).take_error();
      }
      continue;
    }
    HostState& host = hosts_[url->host_key()];
    if (!host.skip_reason.empty()) {
      if (auto ok = settle(
              outcome_without_response(UrlState::kSkipped, host.skip_reason, host.skip_detail));
          !ok) {
        return std::move(ok).take_error();
      }
      continue;
    }
    std::string origin = url->origin();
    RobotsState& robots = robots_[origin];
    if (!robots.policy) {
      // Fetch robots.txt first (or take it from the cache); the page stays
      // first in its host's queue.
      if (robots.in_flight) continue;
      auto cached = frontier_.cached_robots(origin);
      if (!cached) return std::move(cached).take_error();
      double age = *cached ? static_cast<double>(std::time(nullptr) - (*cached)->fetch_time) : 0;
      if (*cached && age >= 0 && age < options_.robots_cache_seconds) {
        if (auto ok = apply_robots(origin, url->host_key(), (*cached)->status, (*cached)->body,
                                   /*from_cache=*/true);
            !ok) {
          return std::move(ok).take_error();
        }
      } else {
        if (auto ok = start_robots(origin, origin + "/robots.txt", url->host_key()); !ok) {
          return std::move(ok).take_error();
        }
        --slots;
      }
      continue;
    }
    if (!robots.policy->allowed(url->path_and_query())) {
      if (auto ok = settle(
              outcome_without_response(UrlState::kSkipped, "robots", "disallowed by robots.txt"));
          !ok) {
        return std::move(ok).take_error();
      }
      continue;
    }
    if (options_.max_pages_per_host > 0 && !host.api) {
      if (!host.attempted) {
        auto count = frontier_.count_attempted(url->host_key());
        if (!count) return std::move(count).take_error();
        host.attempted = *count;
      }
      if (*host.attempted >= options_.max_pages_per_host) {
        if (auto ok = settle(outcome_without_response(
                UrlState::kSkipped, "host-page-limit",
                "--max-pages-per-host " + std::to_string(options_.max_pages_per_host) +
                    " reached"));
            !ok) {
          return std::move(ok).take_error();
        }
        continue;
      }
      ++*host.attempted;
    }
    FrontierEntry taken = std::move(entry);
    hosts_[queue_host].queue.pop_front();
    if (first_uncommitted_id_ && taken.id >= *first_uncommitted_id_) {
      // Found in this transaction: committed before it is requested.
      if (auto ok = commit_batch(); !ok) return std::move(ok).take_error();
      if (auto ok = open_batch(); !ok) return std::move(ok).take_error();
    }
    taken_.insert(taken.id);
    taken.state = UrlState::kFetching;
    uint64_t token = next_token_++;
    host.busy = true;
    ++pages_in_flight_;
    RequestOptions request;
    // A conditional GET when the URL was fetched before (a recrawl).
    if ((taken.http_status >= 200 && taken.http_status < 300) || taken.http_status == 304) {
      request.if_none_match = taken.etag;
      request.if_modified_since = taken.last_modified;
    }
    std::string target = taken.url;
    in_flight_[token] = InFlight{FlightKind::kPage, std::move(taken), "", url->host_key(), 0};
    start_transfer(token, target, request);
    last_scheduled_host_ = queue_host;
    --slots;
  }
  return took;
}

Status Crawl::start_robots(const std::string& origin, const std::string& robots_url,
                           const std::string& host_key) {
  RobotsState& robots = robots_[origin];
  robots.in_flight = true;
  hosts_[host_key].busy = true;
  uint64_t token = next_token_++;
  InFlight flight;
  flight.kind = FlightKind::kRobots;
  flight.origin = origin;
  flight.host_key = host_key;
  in_flight_[token] = std::move(flight);
  RequestOptions request;
  request.any_content_type = true;
  request.keep_body_prefix = std::min(kRobotsBytesRead, options_.max_body_bytes);
  start_transfer(token, robots_url, request);
  return {};
}

void Crawl::release_host(const std::string& host_key) {
  HostState& host = hosts_[host_key];
  host.busy = false;
  double delay = std::max(options_.delay_seconds, host.delay);
  host.next_allowed = Clock::now() + seconds(delay);
}

namespace {

// The WARC request/response pair of a fetch.
WarcExchange exchange_of(const FetchResult& result) {
  WarcExchange exchange;
  exchange.target_uri = result.url;
  exchange.request = result.raw_request;
  exchange.response = result.raw_response;
  exchange.ip_address = result.ip_address;
  exchange.date = result.started;
  exchange.protocol = result.protocol;
  return exchange;
}

}  // namespace

Result<WarcLocation> Crawl::archive(const FetchResult& result) {
  // The fetcher parsed the response already: the writer need not again.
  auto written = result.payload ? warc_.write_exchange(exchange_of(result), *result.payload)
                                : warc_.write_exchange(exchange_of(result));
  if (!written) {
    // The WARC file takes no more (a full disk, most often) and the crawl
    // stops. The records written before this one are whole: sync them and
    // record their pages, or the next run would fetch those pages again and
    // archive them twice. The torn record is cut off by the next run.
    (void)flush_pending();
  }
  return written;
}

Status Crawl::handle(FetchResult result) {
  auto it = in_flight_.find(result.token);
  if (it == in_flight_.end()) return {};
  InFlight flight = std::move(it->second);
  in_flight_.erase(it);
  release_host(flight.host_key);
  bytes_this_run_ += result.raw_response.size();
  if (flight.kind == FlightKind::kRobots) return handle_robots(flight, result);
  if (flight.kind == FlightKind::kSitemap) return handle_sitemap(flight, result);
  --pages_in_flight_;
  ++attempted_;
  ++summary_.requests;
  return handle_page(flight, result);
}

Status Crawl::handle_robots(InFlight& flight, FetchResult& result) {
  ++summary_.robots_requests;
  RobotsState& robots = robots_[flight.origin];
  robots.in_flight = false;
  if (result.ok()) {
    if (auto archived = archive(result); !archived) return std::move(archived).take_error();
  }
  // RFC 9309 2.3.1.2: follow at least five redirects.
  if (result.ok() && result.status >= 300 && result.status < 400 &&
      !result.header("Location").empty() && robots.redirects < 5) {
    auto base = parse_url(result.url);
    auto target = base ? resolve_url(*base, result.header("Location")) : base;
    if (target) {
      ++robots.redirects;
      return start_robots(flight.origin, target->to_string(), flight.host_key);
    }
  }
  robots.redirects = 0;
  if (!result.ok() || result.status >= 500 || result.status == 0) {
    // RFC 9309 2.3.1.3/4: unreachable means complete disallow, for now. The
    // host's URLs stay queued; robots.txt is asked again later in this run.
    HostState& host = hosts_[flight.host_key];
    ++host.robots_attempts;
    std::string why = result.ok() ? "HTTP " + std::to_string(result.status) : result.error;
    if (host.robots_attempts >= kMaxRobotsAttempts) {
      host.paused = true;
      progress("robots.txt unreachable for " + flight.origin + " (" + why + ") " +
               std::to_string(host.robots_attempts) +
               " times; not crawling it this run, its URLs stay queued");
    } else {
      host.robots_blocked = true;
      host.robots_retry_at = Clock::now() + seconds(options_.robots_retry_seconds);
      progress("robots.txt unreachable for " + flight.origin + " (" + why +
               "); its URLs wait, asking again in " +
               format_seconds(options_.robots_retry_seconds) + " s");
    }
    return {};
  }
  std::string_view body = result.body;
  bool cut = result.truncated || body.size() > kMaxRobotsBytes;
  if (body.size() > kMaxRobotsBytes) body = body.substr(0, kMaxRobotsBytes);
  if (cut) {
    progress("robots.txt of " + flight.origin + " is longer than it is read: only its first " +
             std::to_string(body.size()) + " bytes are obeyed");
  }
  // 3xx left over after five hops counts as unavailable: allow all (status kept).
  if (auto ok = frontier_.store_robots(
          flight.origin, CachedRobots{result.status, std::string(body), std::time(nullptr)});
      !ok) {
    return ok;
  }
  return apply_robots(flight.origin, flight.host_key, result.status, body, false);
}

Status Crawl::apply_robots(const std::string& origin, const std::string& host_key, int status,
                           std::string_view body, bool from_cache) {
  RobotsState& robots = robots_[origin];
  HostState& host = hosts_[host_key];
  robots.policy = robots_policy_for_response(status, body, options_.user_agent);
  progress("robots.txt " + std::to_string(status) + " " + origin + (from_cache ? " (cached)" : ""));
  if (auto delay = robots.policy->crawl_delay()) {
    if (*delay > options_.max_crawl_delay_seconds) {
      host.skip_reason = "crawl-delay";
      host.skip_detail = "robots.txt asks for Crawl-delay " + format_seconds(*delay) +
                         " s, more than --max-crawl-delay " +
                         format_seconds(options_.max_crawl_delay_seconds);
      progress("skipping host " + host_key + ": " + host.skip_detail);
      return {};
    }
    host.delay = std::max(host.delay, *delay);
    if (!from_cache) release_host(host_key);  // the first page waits the Crawl-delay too
  }
  if (options_.sitemaps && status >= 200 && status < 300) {
    std::vector<std::string> listed = RobotsTxt::parse(body).sitemaps();
    if (listed.empty()) listed.push_back(origin + "/sitemap.xml");
    for (const std::string& sitemap : listed) {
      auto url = parse_url(sitemap);
      // The protocol: a sitemap lists URLs of its own host only, so only those are read.
      if (!url || url->host_key() != host_key) {
        progress("not reading sitemap " + sitemap + ": not on " + host_key);
        continue;
      }
      host.sitemaps.emplace_back(url->to_string(), 0);
    }
  } else if (options_.sitemaps) {
    host.sitemaps.emplace_back(origin + "/sitemap.xml", 0);
  }
  return {};
}

Status Crawl::handle_sitemap(InFlight& flight, FetchResult& result) {
  const std::string& url = flight.entry.url;
  if (!result.ok() || result.status != 200) {
    progress("sitemap " + url + ": " +
             (result.ok() ? "HTTP " + std::to_string(result.status) : result.error));
    if (result.ok()) {
      if (auto archived = archive(result); !archived) return std::move(archived).take_error();
    }
    return {};
  }
  if (auto archived = archive(result); !archived) return std::move(archived).take_error();
  auto sitemap = parse_sitemap(result.body);
  if (!sitemap) {
    progress("sitemap " + url + ": " + sitemap.error());
    return {};
  }
  auto base = parse_url(url);
  if (!base) return {};
  size_t added = 0, refused = 0;
  for (const std::string& location : sitemap->locations) {
    auto target = resolve_url(*base, location);
    if (!target || target->host_key() != base->host_key()) {
      ++refused;
      continue;
    }
    if (sitemap->is_index) {
      if (flight.sitemap_level == 0) {
        hosts_[flight.host_key].sitemaps.emplace_back(target->to_string(), 1);
        ++added;
      } else {
        ++refused;  // an index inside an index is not allowed by the protocol
      }
      continue;
    }
    if (auto ok = add_found_url(*target, 1, 0, url); !ok) return ok;
    ++added;
  }
  progress("sitemap " + url + ": " + std::to_string(added) +
           (sitemap->is_index ? " sitemaps" : " URLs") +
           (refused ? ", " + std::to_string(refused) + " on other hosts or nested ignored" : ""));
  return {};
}

Status Crawl::add_found_url(const Url& url, int depth, int redirects, const std::string& referrer) {
  std::string text = url.to_string();
  // Most links point at URLs already in the frontier; a hash set answers that
  // without a database lookup. (A 64-bit collision, about one in 10^8 over a
  // million URLs, would drop a URL.)
  uint64_t key = std::hash<std::string>{}(text);
  if (known_urls_.count(key)) return {};
  std::string refusal = scope_.refusal(url);
  // Other hosts' URLs are not recorded at all: a crawl of one site would
  // otherwise fill its frontier with the whole web's links. They are not
  // remembered either, as the scope can still grow (a seed's redirect).
  if (refusal == "other-host" || refusal == "shard") return {};
  known_urls_.insert(key);
  auto added = add_url({text, url.host_key(), depth, redirects, referrer});
  if (!added) return std::move(added).take_error();
  if (!refusal.empty() && *added) {
    auto entry = frontier_.find(url.to_string());
    if (!entry) return std::move(entry).take_error();
    if (*entry) {
      FetchOutcome outcome = outcome_without_response(UrlState::kSkipped, refusal, "");
      if (refusal == "url-too-long") {
        outcome.detail =
            "longer than --max-url-length " + std::to_string(scope_.options().max_url_length);
      } else if (refusal == "private-address") {
        outcome.detail = "loopback or private address; seed it or use --allow-private";
      }
      if (auto ok = frontier_.record((*entry)->id, outcome); !ok) return ok;
      url_progress(url.to_string(), outcome);
    }
  }
  return {};
}

Status Crawl::queue_links(const FrontierEntry& entry, const Url& url, const FetchResult& result,
                          bool header_nofollow, FetchOutcome& outcome) {
  // The fast scanner, not the full parser: links are all the crawl needs.
  HtmlLinks page = scan_html_links(result.body);
  Url base = url;
  if (!page.base_href.empty()) {
    if (auto resolved = resolve_url(url, page.base_href)) base = *resolved;
  }
  if (!page.canonical.empty()) {
    if (auto canonical = resolve_url(base, page.canonical)) {
      outcome.canonical_url = canonical->to_string();
    }
  }
  if (page.noindex && outcome.reason.empty()) {
    outcome.reason = "noindex";
    outcome.detail = "<meta name=robots> says noindex";
  }
  if (page.nofollow || header_nofollow || entry.depth + 1 > options_.max_depth) return {};
  for (const std::string& href : page.links) {
    auto link = resolve_url(base, href);
    if (!link) continue;
    if (auto ok = add_found_url(*link, entry.depth + 1, 0, entry.url); !ok) return ok;
  }
  // The page names another URL as its canonical form: that one is crawled too.
  if (!outcome.canonical_url.empty() && outcome.canonical_url != entry.url) {
    if (auto canonical = parse_url(outcome.canonical_url)) {
      if (auto ok = add_found_url(*canonical, entry.depth, 0, entry.url); !ok) return ok;
    }
  }
  return {};
}

Result<bool> Crawl::retry_later(const FrontierEntry& entry, const FetchResult& result) {
  int attempts = ++retries_[entry.id];
  HostState& host = hosts_[entry.host_key];
  std::optional<double> wait = parse_retry_after(result.header("Retry-After"), std::time(nullptr));
  if (!wait) {
    double base = std::max({2 * options_.delay_seconds, 2 * host.delay, 1.0});
    wait = base * std::pow(2.0, attempts - 1);
  }
  std::string what = "HTTP " + std::to_string(result.status) + " for " + entry.url;
  if (attempts > options_.max_retries) return false;
  if (auto ok = requeue(entry); !ok) return std::move(ok).take_error();
  // Retrying re-requests the URL: it must not count twice against the limits.
  --attempted_;
  ++summary_.retries;
  if (host.attempted) --*host.attempted;
  if (*wait > options_.max_retry_after_seconds) {
    host.paused = true;
    progress(what + ": the server asks to wait " + format_seconds(*wait) +
             " s, more than allowed; not crawling " + entry.host_key + " this run");
    return true;
  }
  Clock::time_point until = Clock::now() + seconds(*wait);
  host.next_allowed = std::max(host.next_allowed, until);
  progress(what + ": waiting " + format_seconds(*wait) + " s before asking " + entry.host_key +
           " again (try " + std::to_string(attempts) + " of " +
           std::to_string(options_.max_retries) + ")");
  return true;
}

Status Crawl::handle_not_modified(const FrontierEntry& entry, FetchResult& result) {
  WarcExchange exchange = exchange_of(result);
  WarcRevisit revisit;
  revisit.refers_to_target_uri = entry.url;
  revisit.payload_digest = entry.content_digest;
  // The record repeated: its id and date, read back from where the frontier points.
  if (!entry.warc_file.empty() && entry.warc_offset >= 0) {
    auto reader = WarcReader::open(options_.out_dir + "/warc/" + entry.warc_file);
    if (reader && reader->seek(static_cast<uint64_t>(entry.warc_offset))) {
      if (auto original = reader->next(); original && *original) {
        revisit.refers_to = (*original)->header("WARC-Record-ID");
        revisit.refers_to_date = (*original)->header("WARC-Date");
      }
    }
  }
  if (auto written = warc_.write_revisit(exchange, revisit); !written) {
    return std::move(written).take_error();
  }
  FetchOutcome outcome;
  outcome.state = UrlState::kFetched;
  outcome.reason = "not-modified";
  outcome.http_status = 304;
  outcome.etag = result.header("ETag").empty() ? entry.etag : result.header("ETag");
  outcome.last_modified =
      result.header("Last-Modified").empty() ? entry.last_modified : result.header("Last-Modified");
  outcome.content_digest = entry.content_digest;
  outcome.content_type = entry.content_type;
  outcome.canonical_url = entry.canonical_url;
  // The content is still the record fetched before.
  outcome.warc_file = entry.warc_file;
  outcome.warc_offset = entry.warc_offset;
  outcome.fetch_time = static_cast<int64_t>(std::time(nullptr));
  ++fetched_this_run_;
  record_after_sync(entry, std::move(outcome));
  return {};
}

Status Crawl::handle_pubmed_search(const FrontierEntry& entry, const FetchResult& result,
                                   FetchOutcome& outcome) {
  auto search = parse_esearch(result.body);
  if (!search) {
    outcome.state = UrlState::kFailed;
    outcome.reason = "pubmed";
    outcome.detail = search.error();
    progress("PubMed search failed: " + search.error());
    return {};
  }
  if (!search->error.empty()) {
    outcome.state = UrlState::kFailed;
    outcome.reason = "pubmed";
    outcome.detail = search->error;
    progress("PubMed search failed: " + search->error);
    return {};
  }
  outcome.reason = "pubmed-search";
  int64_t start = 0;
  if (size_t at = entry.url.find("retstart="); at != std::string::npos) {
    start = std::atoll(entry.url.c_str() + at + 9);
  }
  outcome.detail = std::to_string(search->ids.size()) + " ids from " + std::to_string(start) +
                   " of " + std::to_string(search->count);
  progress("PubMed search: " + outcome.detail);
  size_t batch = static_cast<size_t>(std::max(1, options_.pubmed_batch));
  for (size_t i = 0; i < search->ids.size(); i += batch) {
    std::string ids;
    for (size_t j = i; j < std::min(search->ids.size(), i + batch); ++j) {
      ids += (ids.empty() ? "" : ",") + search->ids[j];
    }
    std::string url =
        pubmed_base_ + "efetch.fcgi?db=pubmed&retmode=xml&id=" + ids + "&tool=medcrawl";
    if (!options_.api_key.empty()) url += "&api_key=" + encode_query_value(options_.api_key);
    auto parsed = parse_url(url);
    if (!parsed) continue;
    // E-utilities URLs are seeds of the crawl: no depth, length or pattern rules apply.
    auto added = add_url({parsed->to_string(), parsed->host_key(), 0, 0, entry.url});
    if (!added) return std::move(added).take_error();
  }
  int64_t next = start + static_cast<int64_t>(search->ids.size());
  if (!search->ids.empty() && next < search->count) return add_pubmed_search(next);
  return {};
}

Status Crawl::check_duplicate(const FrontierEntry& entry, FetchOutcome& outcome) {
  if (outcome.content_digest.empty()) return {};
  // The first copy may still wait for the WARC sync, or be in the frontier.
  FrontierEntry first;
  PendingRecord* first_pending = nullptr;
  for (PendingRecord& pending : pending_) {
    if (pending.id != entry.id && pending.outcome.content_digest == outcome.content_digest &&
        pending.outcome.state == UrlState::kFetched && pending.outcome.reason != "duplicate") {
      first_pending = &pending;
      first.id = pending.id;
      first.url = pending.url;
      first.canonical_url = pending.outcome.canonical_url;
      break;
    }
  }
  if (!first_pending) {
    auto original = frontier_.find_by_digest(outcome.content_digest, entry.id);
    if (!original) return std::move(original).take_error();
    if (!*original) return {};
    first = std::move(**original);
  }
  // Canonical links decide which copy is the original: this page names itself
  // canonical, or the first copy names this one.
  bool this_is_canonical =
      (outcome.canonical_url == entry.url && first.canonical_url != first.url) ||
      first.canonical_url == entry.url;
  if (this_is_canonical) {
    if (first_pending) {
      first_pending->outcome.reason = "duplicate";
      first_pending->outcome.detail = entry.url;
      return {};
    }
    return frontier_.set_reason(first.id, "duplicate", entry.url);
  }
  if (outcome.reason.empty()) {
    outcome.reason = "duplicate";
    outcome.detail = first.url;
  }
  return {};
}

Status Crawl::handle_page(InFlight& flight, FetchResult& result) {
  const FrontierEntry& entry = flight.entry;
  FetchOutcome outcome;
  outcome.http_status = result.status;
  outcome.content_type = result.header("Content-Type");
  outcome.etag = result.header("ETag");
  outcome.last_modified = result.header("Last-Modified");
  outcome.fetch_time = static_cast<int64_t>(std::time(nullptr));
  // Fetched successfully by an earlier run: this is a recrawl of it.
  bool fetched_before =
      (entry.http_status >= 200 && entry.http_status < 300) || entry.http_status == 304;
  if (!result.ok()) {
    if (result.aborted == "content-type" || result.aborted == "too-large" ||
        result.aborted == "private-address") {
      outcome.state = UrlState::kSkipped;
      outcome.reason = result.aborted;
    } else {
      outcome.state = UrlState::kFailed;
      outcome.reason = result.status == 0 ? "network" : "bad-response";
    }
    outcome.detail = result.error;
  } else if (result.status == 304 && fetched_before) {
    return handle_not_modified(entry, result);
  } else {
    if (result.status == 429 || result.status == 503) {
      if (auto archived = archive(result); !archived) return std::move(archived).take_error();
      auto retried = retry_later(entry, result);
      if (!retried) return std::move(retried).take_error();
      if (*retried) return {};
    }
    std::optional<WarcLocation> archived;
    if (result.status != 429 && result.status != 503) {
      auto written = archive(result);
      if (!written) return std::move(written).take_error();
      archived = *written;
    }
    if (archived) {
      outcome.warc_file = archived->file;
      outcome.warc_offset = static_cast<int64_t>(archived->offset);
      outcome.content_digest = archived->payload_digest;
    }
    auto url = parse_url(entry.url);
    int status = result.status;
    std::string location = result.header("Location");
    RobotsDirectives directives;
    for (const auto& [name, value] : result.headers) {
      if (strcasecmp(name.c_str(), "X-Robots-Tag") != 0) continue;
      RobotsDirectives more = parse_x_robots_tag(value, product_token_);
      directives.noindex |= more.noindex;
      directives.nofollow |= more.nofollow;
    }
    if (status >= 300 && status < 400 && !location.empty() && url) {
      outcome.state = UrlState::kFetched;
      outcome.reason = "redirect";
      auto target = resolve_url(*url, location);
      if (!target) {
        outcome.detail = "bad Location '" + location + "': " + target.error();
      } else if (entry.redirects + 1 > options_.max_redirects) {
        outcome.detail = "too many redirects; not following " + target->to_string();
      } else {
        std::string refusal = scope_.refusal(*target);
        // A seed's redirect to another host brings that host into scope
        // (http://x -> https://www.x), unless it is private or another shard's.
        if (refusal == "other-host" && entry.depth == 0 && entry.referrer.empty() &&
            !(is_private_address(target->host) && !scope_.options().allow_private)) {
          scope_.add_seed_host(*target);
          refusal = scope_.refusal(*target);
        }
        if (refusal == "other-host" || refusal == "shard") {
          outcome.detail = "out of scope; not following " + target->to_string();
        } else {
          outcome.detail = target->to_string();
          if (auto ok = add_found_url(*target, entry.depth, entry.redirects + 1, entry.url); !ok) {
            return ok;
          }
        }
      }
    } else if (status >= 200 && status < 300) {
      if (!is_kept_content_type(outcome.content_type)) {
        outcome.state = UrlState::kSkipped;
        outcome.reason = "content-type";
      } else {
        outcome.state = UrlState::kFetched;
        if (directives.noindex) {
          outcome.reason = "noindex";
          outcome.detail = "X-Robots-Tag says noindex";
        }
        std::string type = media_type(outcome.content_type);
        if (is_pubmed_search(entry.url)) {
          if (auto ok = handle_pubmed_search(entry, result, outcome); !ok) return ok;
        } else if (url && (type == "text/html" || type == "application/xhtml+xml")) {
          if (auto ok = queue_links(entry, *url, result, directives.nofollow, outcome); !ok) {
            return ok;
          }
        }
        if (outcome.state == UrlState::kFetched) {
          if (auto ok = check_duplicate(entry, outcome); !ok) return ok;
        }
      }
    } else if (status == 410 || (status == 404 && fetched_before)) {
      // Gone: on a recrawl a 404 of a page fetched before means it was removed.
      outcome.state = UrlState::kGone;
      outcome.reason = "http-" + std::to_string(status);
    } else {
      outcome.state = UrlState::kFailed;
      outcome.reason = "http-" + std::to_string(status);
      if (status == 429 || status == 503) {
        outcome.detail = "gave up after " + std::to_string(options_.max_retries) + " retries";
      }
    }
  }
  if (outcome.state == UrlState::kFetched) ++fetched_this_run_;
  if (outcome.state == UrlState::kFailed) ++errors_this_run_;
  if (!outcome.warc_file.empty()) {
    record_after_sync(entry, std::move(outcome));
    return {};
  }
  if (auto ok = frontier_.record(entry.id, outcome); !ok) return ok;
  taken_.erase(entry.id);
  url_progress(entry.url, outcome);
  return {};
}

void Crawl::record_after_sync(const FrontierEntry& entry, FetchOutcome outcome) {
  if (pending_.empty()) pending_since_ = Clock::now();
  url_progress(entry.url, outcome);
  pending_.push_back(PendingRecord{entry.id, entry.url, std::move(outcome)});
}

Status Crawl::open_batch() {
  if (batch_open_) return {};
  if (auto ok = frontier_.begin_batch(); !ok) return ok;
  batch_open_ = true;
  batch_since_ = Clock::now();
  return {};
}

Status Crawl::flush_pending() {
  if (!pending_.empty()) {
    if (auto ok = warc_.flush(); !ok) return ok;
    if (auto ok = open_batch(); !ok) return ok;
    for (const PendingRecord& pending : pending_) {
      if (auto ok = frontier_.record(pending.id, pending.outcome); !ok) return ok;
      taken_.erase(pending.id);
    }
    pending_.clear();
  }
  return commit_batch();
}

Status Crawl::commit_batch() {
  if (!batch_open_) return {};
  batch_open_ = false;
  first_uncommitted_id_.reset();
  return frontier_.end_batch();
}

void Crawl::report_status(bool final) {
  if (!options_.status) return;
  Clock::time_point now = Clock::now();
  if (!final && now < next_status_) return;
  next_status_ = now + seconds(options_.status_interval_seconds);
  CrawlProgress status;
  status.requests = summary_.requests;
  status.fetched = fetched_this_run_;
  status.errors = errors_this_run_;
  status.bytes = bytes_this_run_;
  status.seconds = std::chrono::duration<double>(now - started_).count();
  status.final = final;
  if (auto counts = frontier_.count_by_state()) {
    for (UrlState state : {UrlState::kQueued, UrlState::kFetching}) {
      if (auto it = counts->find(state); it != counts->end()) status.queued += it->second;
    }
  }
  options_.status(status);
}

Status Crawl::run() {
  if (auto ok = add_seeds(); !ok) return ok;
  if (options_.recrawl) {
    auto queued = frontier_.begin_recrawl();
    if (!queued) return std::move(queued).take_error();
    summary_.recrawl_queued = *queued;
    if (*queued > 0) progress("recrawl: " + std::to_string(*queued) + " URLs to revisit");
  }
  auto attempted = frontier_.count_attempted();
  if (!attempted) return std::move(attempted).take_error();
  attempted_ = *attempted;
  started_ = Clock::now();
  next_status_ = started_ + seconds(options_.status_interval_seconds);
  auto hosts = frontier_.queued_hosts();
  if (!hosts) return std::move(hosts).take_error();
  for (const std::string& host_key : *hosts) {
    hosts_[host_key].more_queued = true;
    queued_hosts_.insert(host_key);
  }
  std::vector<FetchResult> results;
  while (true) {
    report_status(false);
    // Finished transfers and the next ones started share the open transaction.
    if (auto ok = open_batch(); !ok) return ok;
    for (FetchResult& result : results) {
      if (auto ok = handle(std::move(result)); !ok) return ok;
    }
    results.clear();
    auto took = schedule();
    if (!took) return std::move(took).take_error();
    if (flush_due()) {
      if (auto ok = flush_pending(); !ok) return ok;
    }
    if (fetcher_.active() == 0) {
      if (stop_) {
        summary_.interrupted = true;
        break;
      }
      if (!page_budget_left()) {
        summary_.page_limit_reached = true;
        break;
      }
      if (*took) continue;            // all taken were skipped or wait for robots.txt
      if (!earliest_delayed_) break;  // nothing queued that a later pass could take
      // Idle until a host may be asked again: a good moment to sync.
      if (auto ok = flush_pending(); !ok) return ok;
      auto wait = std::min<Clock::duration>(*earliest_delayed_ - Clock::now(),
                                            std::chrono::milliseconds(100));
      if (wait > Clock::duration::zero()) std::this_thread::sleep_for(wait);
      continue;
    }
    results = fetcher_.poll(100);
  }
  if (auto ok = flush_pending(); !ok) return ok;
  if (stop_) summary_.interrupted = true;
  if (auto ok = fill_summary(); !ok) return ok;
  report_status(true);
  if (options_.recrawl && !summary_.interrupted && !summary_.page_limit_reached) {
    auto it = summary_.by_state.find(UrlState::kQueued);
    if (it == summary_.by_state.end() || it->second == 0) {
      if (auto ok = frontier_.end_recrawl(); !ok) return ok;
    }
  }
  return {};
}

Status Crawl::fill_summary() {
  auto by_state = frontier_.count_by_state();
  if (!by_state) return std::move(by_state).take_error();
  summary_.by_state = std::move(*by_state);
  auto skipped = frontier_.count_by_reason(UrlState::kSkipped);
  if (!skipped) return std::move(skipped).take_error();
  summary_.skipped_by_reason = std::move(*skipped);
  auto failed = frontier_.count_by_reason(UrlState::kFailed);
  if (!failed) return std::move(failed).take_error();
  summary_.failed_by_reason = std::move(*failed);
  auto by_status = frontier_.count_by_status();
  if (!by_status) return std::move(by_status).take_error();
  summary_.by_status = std::move(*by_status);
  auto by_host = frontier_.count_by_host();
  if (!by_host) return std::move(by_host).take_error();
  summary_.by_host = std::move(*by_host);
  return {};
}

}  // namespace

std::string media_type(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  std::string out(type);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_kept_content_type(std::string_view content_type) {
  std::string type = media_type(content_type);
  static const std::set<std::string> kept = {"text/html",       "application/xhtml+xml",
                                             "application/pdf", "text/plain",
                                             "text/xml",        "application/xml"};
  if (type.empty() || kept.count(type)) return true;
  return type.size() > 4 && type.compare(type.size() - 4, 4, "+xml") == 0;
}

Result<CrawlSummary> run_crawl(const CrawlOptions& options, const std::atomic<bool>& stop) {
  if (options.out_dir.empty()) return fail("no crawl directory given");
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return fail("cannot create '" + options.out_dir + "': " + ec.message());
  DirectoryLock lock;
  if (auto ok = lock.acquire(options.out_dir); !ok) return std::move(ok).take_error();
  auto frontier = Frontier::open(options.out_dir + "/frontier.sqlite");
  if (!frontier) return std::move(frontier).take_error();
  WarcWriterOptions warc_options;
  warc_options.max_file_bytes = options.warc_max_file_bytes;
  warc_options.sync = false;  // the crawl syncs in groups (see PendingRecord)
  warc_options.software = "medcrawl/" MEDSEARCH_VERSION;
  auto warc = WarcWriter::open(options.out_dir + "/warc", warc_options);
  if (!warc) return std::move(warc).take_error();

  auto scope = CrawlScope::create(options.scope);
  if (!scope) return std::move(scope).take_error();

  int64_t requeued = frontier->requeued_on_open();
  uint64_t truncated = warc->truncated_bytes();
  Crawl crawl(options, stop, std::move(*frontier), std::move(*warc), std::move(*scope));
  crawl.summary().requeued_on_open = requeued;
  crawl.summary().warc_truncated_bytes = truncated;
  if (options.progress) {
    if (requeued > 0) {
      options.progress("resuming: " + std::to_string(requeued) +
                       " URLs left mid-fetch by an earlier run are queued again");
    }
    if (truncated > 0) {
      options.progress("cut a torn record (" + std::to_string(truncated) +
                       " bytes) off the end of the last WARC file");
    }
  }
  Status ran = crawl.run();
  if (!ran) return std::move(ran).take_error();
  return std::move(crawl.summary());
}

std::optional<double> parse_retry_after(std::string_view value, std::time_t now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    if (value.size() > 9) return std::nullopt;
    return static_cast<double>(std::stol(std::string(value)));
  }
  // An HTTP-date (RFC 9110 5.6.7), in its preferred IMF-fixdate form.
  std::tm tm{};
  std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  std::time_t when = timegm(&tm);
  return std::max(0.0, std::difftime(when, now));
}

std::string format_summary(const CrawlSummary& summary) {
  auto count = [&](UrlState state) {
    auto it = summary.by_state.find(state);
    return it == summary.by_state.end() ? int64_t{0} : it->second;
  };
  auto with_reasons = [](int64_t total, const std::map<std::string, int64_t>& reasons) {
    std::string text = std::to_string(total);
    std::string list;
    for (const auto& [reason, number] : reasons) {
      list += (list.empty() ? "" : ", ") + (reason.empty() ? "other" : reason) + " " +
              std::to_string(number);
    }
    return list.empty() ? text : text + " (" + list + ")";
  };
  std::string out = "crawl summary\n";
  out += "  requests this run: " + std::to_string(summary.requests) + " pages" +
         (summary.retries > 0 ? " (" + std::to_string(summary.retries) + " answered 429/503)"
                              : std::string()) +
         ", " + std::to_string(summary.robots_requests) + " robots.txt\n";
  out += "  fetched: " + std::to_string(count(UrlState::kFetched)) + "\n";
  out += "  skipped: " + with_reasons(count(UrlState::kSkipped), summary.skipped_by_reason) + "\n";
  out += "  failed: " + with_reasons(count(UrlState::kFailed), summary.failed_by_reason) + "\n";
  out += "  gone: " + std::to_string(count(UrlState::kGone)) + "\n";
  out +=
      "  queued: " + std::to_string(count(UrlState::kQueued) + count(UrlState::kFetching)) + "\n";
  std::string statuses;
  for (const auto& [status, number] : summary.by_status) {
    statuses +=
        (statuses.empty() ? "" : ", ") + std::to_string(status) + " " + std::to_string(number);
  }
  out += "  by status: " + (statuses.empty() ? std::string("none") : statuses) + "\n";
  if (summary.recrawl_queued > 0) {
    out += "  recrawl: " + std::to_string(summary.recrawl_queued) + " URLs queued again\n";
  }
  // By host, the busiest first; a crawl of many hosts lists the first 20.
  std::vector<std::pair<int64_t, std::string>> hosts;
  for (const auto& [host, states] : summary.by_host) {
    int64_t total = 0;
    for (const auto& [state, number] : states) total += number;
    hosts.emplace_back(-total, host);
  }
  std::sort(hosts.begin(), hosts.end());
  constexpr size_t kHostsShown = 20;
  if (!hosts.empty()) out += "  by host:\n";
  for (size_t i = 0; i < hosts.size() && i < kHostsShown; ++i) {
    const auto& states = summary.by_host.at(hosts[i].second);
    std::string line;
    for (const auto& [state, number] : states) {
      std::string_view name = state == UrlState::kFetching ? "queued" : to_string(state);
      line += (line.empty() ? "" : ", ") + std::string(name) + " " + std::to_string(number);
    }
    out += "    " + hosts[i].second + ": " + line + "\n";
  }
  if (hosts.size() > kHostsShown) {
    out += "    (" + std::to_string(hosts.size() - kHostsShown) + " more hosts)\n";
  }
  if (summary.page_limit_reached) out += "  stopped at the page limit (--max-pages)\n";
  if (summary.interrupted) {
    out += "  interrupted; run again with the same --out to resume\n";
  }
  return out;
}

}  // namespace medsearch
