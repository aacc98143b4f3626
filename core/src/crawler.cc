#include "medsearch/crawler.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "medsearch/html_extract.h"
#include "medsearch/robots.h"
#include "medsearch/url.h"
#include "medsearch/warc.h"

namespace medsearch {
namespace {

using Clock = std::chrono::steady_clock;

// Politeness state of one host (host[:port]).
struct HostState {
  bool busy = false;     // a request to it is in flight
  bool blocked = false;  // its robots.txt could not be read: no more requests this run
  double delay = 0;      // seconds between requests
  Clock::time_point next_allowed{};
};

// robots.txt state of one origin (scheme://host[:port]).
struct RobotsState {
  std::optional<RobotsPolicy> policy;
  bool in_flight = false;
  int redirects = 0;
};

// A transfer in flight: a page of the frontier, or a robots.txt.
struct InFlight {
  bool is_robots = false;
  FrontierEntry entry;   // pages only
  std::string origin;    // robots only: the origin whose robots.txt this is
  std::string host_key;  // the host whose politeness slot it holds
};

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
        WarcWriter warc)
      : options_(options),
        stop_(stop),
        frontier_(std::move(frontier)),
        warc_(std::move(warc)),
        fetcher_(fetcher_options(options)) {}

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
    return fetcher;
  }

  void progress(const std::string& line) {
    if (options_.progress) options_.progress(line);
  }

  Status add_seeds();
  // Starts transfers for ready hosts. Returns whether anything was taken.
  Result<bool> schedule();
  Status start_robots(const std::string& origin, const std::string& robots_url,
                      const std::string& host_key);
  Status handle(FetchResult result);
  Status handle_robots(InFlight& flight, FetchResult& result);
  Status handle_page(InFlight& flight, FetchResult& result);
  Status queue_links(const FrontierEntry& entry, const Url& url, const FetchResult& result,
                     FetchOutcome& outcome);
  Status add_url(const Url& url, int depth, int redirects, const std::string& referrer);
  Result<WarcLocation> archive(const FetchResult& result);
  void release_host(const std::string& host_key);
  bool in_scope(const Url& url) const { return scope_.count(url.host_key()) > 0; }
  bool page_budget_left() const {
    return options_.max_pages <= 0 || attempted_ + pages_in_flight_ < options_.max_pages;
  }

  const CrawlOptions& options_;
  const std::atomic<bool>& stop_;
  Frontier frontier_;
  WarcWriter warc_;
  Fetcher fetcher_;
  CrawlSummary summary_;
  std::set<std::string> scope_;
  std::unordered_map<std::string, HostState> hosts_;
  std::unordered_map<std::string, RobotsState> robots_;
  std::unordered_map<uint64_t, InFlight> in_flight_;
  uint64_t next_token_ = 1;
  int64_t attempted_ = 0;  // page requests completed, over the whole crawl directory
  int64_t pages_in_flight_ = 0;
  std::optional<Clock::time_point> earliest_delayed_;  // set by schedule()
};

Status Crawl::add_seeds() {
  for (const std::string& seed : options_.seeds) {
    auto url = parse_url(seed);
    if (!url) return fail("bad seed URL '" + seed + "': " + url.error());
    if (auto added = frontier_.add({url->to_string(), url->host_key(), 0, 0, ""}); !added) {
      return std::move(added).take_error();
    }
  }
  auto hosts = frontier_.seed_hosts();
  if (!hosts) return std::move(hosts).take_error();
  scope_.insert(hosts->begin(), hosts->end());
  if (scope_.empty()) return fail("nothing to crawl: give at least one seed URL");
  return {};
}

Result<bool> Crawl::schedule() {
  earliest_delayed_.reset();
  if (stop_) return false;
  int slots = options_.concurrency - static_cast<int>(fetcher_.active());
  if (options_.max_pages > 0) {
    slots = static_cast<int>(
        std::min<int64_t>(slots, options_.max_pages - attempted_ - pages_in_flight_));
  }
  if (slots <= 0) return false;
  Clock::time_point now = Clock::now();
  auto ready = [&](const std::string& host_key) {
    HostState& host = hosts_[host_key];
    if (host.busy || host.blocked) return false;
    if (host.next_allowed > now) {
      if (!earliest_delayed_ || host.next_allowed < *earliest_delayed_) {
        earliest_delayed_ = host.next_allowed;
      }
      return false;
    }
    return true;
  };
  auto taken = frontier_.take_next(static_cast<size_t>(slots), ready);
  if (!taken) return std::move(taken).take_error();
  for (FrontierEntry& entry : *taken) {
    auto url = parse_url(entry.url);
    if (!url) {
      FetchOutcome outcome = outcome_without_response(UrlState::kFailed, "bad-url", url.error());
      if (auto ok = frontier_.record(entry.id, outcome); !ok) return std::move(ok).take_error();
      continue;
    }
    std::string origin = url->origin();
    RobotsState& robots = robots_[origin];
    if (!robots.policy) {
      // Fetch robots.txt first; the page waits in the queue until it is known.
      if (auto ok = frontier_.requeue(entry.id); !ok) return std::move(ok).take_error();
      if (!robots.in_flight) {
        if (auto ok = start_robots(origin, origin + "/robots.txt", url->host_key()); !ok) {
          return std::move(ok).take_error();
        }
      }
      continue;
    }
    if (!robots.policy->allowed(url->path_and_query())) {
      FetchOutcome outcome =
          outcome_without_response(UrlState::kSkipped, "robots", "disallowed by robots.txt");
      if (auto ok = frontier_.record(entry.id, outcome); !ok) return std::move(ok).take_error();
      progress(progress_line(entry.url, outcome));
      continue;
    }
    uint64_t token = next_token_++;
    hosts_[url->host_key()].busy = true;
    ++pages_in_flight_;
    in_flight_[token] = InFlight{false, entry, "", url->host_key()};
    fetcher_.start(token, entry.url);
  }
  return !taken->empty();
}

Status Crawl::start_robots(const std::string& origin, const std::string& robots_url,
                           const std::string& host_key) {
  RobotsState& robots = robots_[origin];
  robots.in_flight = true;
  hosts_[host_key].busy = true;
  uint64_t token = next_token_++;
  in_flight_[token] = InFlight{true, {}, origin, host_key};
  fetcher_.start(token, robots_url, /*any_content_type=*/true);
  return {};
}

void Crawl::release_host(const std::string& host_key) {
  HostState& host = hosts_[host_key];
  host.busy = false;
  double delay = std::max(options_.delay_seconds, host.delay);
  host.next_allowed = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(delay));
}

Result<WarcLocation> Crawl::archive(const FetchResult& result) {
  WarcExchange exchange;
  exchange.target_uri = result.url;
  exchange.request = result.raw_request;
  exchange.response = result.raw_response;
  exchange.ip_address = result.ip_address;
  exchange.date = result.started;
  return warc_.write_exchange(exchange);
}

Status Crawl::handle(FetchResult result) {
  auto it = in_flight_.find(result.token);
  if (it == in_flight_.end()) return {};
  InFlight flight = std::move(it->second);
  in_flight_.erase(it);
  release_host(flight.host_key);
  if (flight.is_robots) return handle_robots(flight, result);
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
  std::string agent = options_.user_agent;
  if (!result.ok() || result.status >= 500 || result.status == 0) {
    // Unreachable: RFC 9309 says assume complete disallow. The host's URLs
    // stay queued for a later run rather than being marked as skipped.
    robots.policy = RobotsPolicy::disallow_all();
    hosts_[flight.host_key].blocked = true;
    progress("robots.txt unreachable for " + flight.origin + " (" +
             (result.ok() ? "HTTP " + std::to_string(result.status) : result.error) +
             "); not crawling it this run");
    return {};
  }
  robots.policy = robots_policy_for_response(result.status, result.body, agent);
  if (auto delay = robots.policy->crawl_delay()) {
    hosts_[flight.host_key].delay = std::max(hosts_[flight.host_key].delay, *delay);
    release_host(flight.host_key);  // the first page waits the Crawl-delay too
  }
  progress("robots.txt " + std::to_string(result.status) + " " + flight.origin);
  return {};
}

Status Crawl::add_url(const Url& url, int depth, int redirects, const std::string& referrer) {
  auto added = frontier_.add({url.to_string(), url.host_key(), depth, redirects, referrer});
  if (!added) return std::move(added).take_error();
  return {};
}

Status Crawl::queue_links(const FrontierEntry& entry, const Url& url, const FetchResult& result,
                          FetchOutcome& outcome) {
  HtmlPage page = parse_html(result.body);
  Url base = url;
  if (!page.base_href.empty()) {
    if (auto resolved = resolve_url(url, page.base_href)) base = *resolved;
  }
  if (!page.canonical.empty()) {
    if (auto canonical = resolve_url(base, page.canonical)) {
      outcome.canonical_url = canonical->to_string();
    }
  }
  if (page.nofollow || entry.depth + 1 > options_.max_depth) return {};
  for (const std::string& href : page.links) {
    auto link = resolve_url(base, href);
    if (!link || !in_scope(*link)) continue;
    if (auto ok = add_url(*link, entry.depth + 1, 0, entry.url); !ok) return ok;
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
  if (!result.ok()) {
    if (result.aborted == "content-type" || result.aborted == "too-large") {
      outcome.state = UrlState::kSkipped;
      outcome.reason = result.aborted;
    } else {
      outcome.state = UrlState::kFailed;
      outcome.reason = result.status == 0 ? "network" : "bad-response";
    }
    outcome.detail = result.error;
  } else {
    auto archived = archive(result);
    if (!archived) return std::move(archived).take_error();
    outcome.warc_file = archived->file;
    outcome.warc_offset = static_cast<int64_t>(archived->offset);
    if (auto payload = http_payload(result.raw_response)) {
      outcome.content_digest = warc_sha1_digest(*payload);
    }
    auto url = parse_url(entry.url);
    int status = result.status;
    std::string location = result.header("Location");
    if (status >= 300 && status < 400 && !location.empty() && url) {
      outcome.state = UrlState::kFetched;
      outcome.reason = "redirect";
      auto target = resolve_url(*url, location);
      if (!target) {
        outcome.detail = "bad Location '" + location + "': " + target.error();
      } else if (entry.redirects + 1 > options_.max_redirects) {
        outcome.detail = "too many redirects; not following " + target->to_string();
      } else if (!in_scope(*target) && entry.depth != 0) {
        outcome.detail = "out of scope; not following " + target->to_string();
      } else {
        // A seed's redirect to another host brings that host into scope.
        scope_.insert(target->host_key());
        outcome.detail = target->to_string();
        if (auto ok = add_url(*target, entry.depth, entry.redirects + 1, entry.url); !ok) return ok;
      }
    } else if (status >= 200 && status < 300) {
      if (!is_kept_content_type(outcome.content_type)) {
        outcome.state = UrlState::kSkipped;
        outcome.reason = "content-type";
      } else {
        outcome.state = UrlState::kFetched;
        std::string type = media_type(outcome.content_type);
        if (url && (type == "text/html" || type == "application/xhtml+xml")) {
          if (auto ok = queue_links(entry, *url, result, outcome); !ok) return ok;
        }
      }
    } else if (status == 410) {
      outcome.state = UrlState::kGone;
      outcome.reason = "http-410";
    } else {
      outcome.state = UrlState::kFailed;
      outcome.reason = "http-" + std::to_string(status);
    }
  }
  if (auto ok = frontier_.record(entry.id, outcome); !ok) return ok;
  progress(progress_line(entry.url, outcome));
  return {};
}

Status Crawl::run() {
  if (auto ok = add_seeds(); !ok) return ok;
  auto attempted = frontier_.count_attempted();
  if (!attempted) return std::move(attempted).take_error();
  attempted_ = *attempted;
  while (true) {
    auto took = schedule();
    if (!took) return std::move(took).take_error();
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
      auto wait = std::min<Clock::duration>(*earliest_delayed_ - Clock::now(),
                                            std::chrono::milliseconds(100));
      if (wait > Clock::duration::zero()) std::this_thread::sleep_for(wait);
      continue;
    }
    for (FetchResult& result : fetcher_.poll(100)) {
      if (auto ok = handle(std::move(result)); !ok) return ok;
    }
  }
  if (stop_) summary_.interrupted = true;
  return fill_summary();
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
  warc_options.software = "medcrawl/" MEDSEARCH_VERSION;
  auto warc = WarcWriter::open(options.out_dir + "/warc", warc_options);
  if (!warc) return std::move(warc).take_error();

  int64_t requeued = frontier->requeued_on_open();
  uint64_t truncated = warc->truncated_bytes();
  Crawl crawl(options, stop, std::move(*frontier), std::move(*warc));
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
  out += "  requests this run: " + std::to_string(summary.requests) + " pages, " +
         std::to_string(summary.robots_requests) + " robots.txt\n";
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
  if (summary.page_limit_reached) out += "  stopped at the page limit (--max-pages)\n";
  if (summary.interrupted) {
    out += "  interrupted; run again with the same --out to resume\n";
  }
  return out;
}

}  // namespace medsearch
