// The crawl frontier: every URL a crawl has seen, what became of it, and which
// URLs come next. Stored in SQLite (OUT/frontier.sqlite) so a crawl survives
// being stopped or killed; SQLite stays behind this interface.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/result.h"

namespace medsearch {

// What has become of a URL.
enum class UrlState {
  kQueued,    // waiting to be fetched
  kFetching,  // handed out by take_next(); back to kQueued if the run dies
  kFetched,   // a response was received and written to the WARC (2xx kept, or a redirect)
  kFailed,    // no usable response: network error, HTTP 4xx/5xx (but 410)
  kSkipped,   // not fetched or not kept by a rule: robots.txt, content type, size, scope
  kGone,      // HTTP 410 Gone
};

// "queued", "fetching", "fetched", "failed", "skipped", "gone".
std::string_view to_string(UrlState state);
std::optional<UrlState> url_state_from_string(std::string_view text);

// One URL of the frontier as stored.
struct FrontierEntry {
  int64_t id = 0;
  std::string url;       // normal form (see url.h)
  std::string host_key;  // Url::host_key(), the unit of politeness
  int depth = 0;         // links from a seed (seeds are 0)
  int redirects = 0;     // redirect hops that led here (0: reached by a link or a seed)
  std::string referrer;  // URL it was found on or redirected from; "" for seeds
  UrlState state = UrlState::kQueued;
  std::string reason;   // short machine-readable reason for the state, e.g. "http-404", "robots"
  std::string detail;   // longer human-readable detail, e.g. a network error message
  int http_status = 0;  // 0 when no response was received
  std::string etag;
  std::string last_modified;
  std::string content_digest;  // WARC-Payload-Digest of the response
  std::string content_type;    // Content-Type as sent
  int64_t fetch_time = 0;      // Unix time the fetch finished; 0 if never fetched
  std::string canonical_url;   // rel=canonical of the page, resolved
  std::string warc_file;       // file holding the response record, e.g. "crawl-00000.warc.gz"
  int64_t warc_offset = -1;    // offset of that record's gzip member, -1 if none
};

// The outcome of one fetch, recorded by Frontier::record().
struct FetchOutcome {
  UrlState state = UrlState::kFetched;
  std::string reason;
  std::string detail;
  int http_status = 0;
  std::string etag;
  std::string last_modified;
  std::string content_digest;
  std::string content_type;
  int64_t fetch_time = 0;  // 0: now
  std::string canonical_url;
  std::string warc_file;
  int64_t warc_offset = -1;
};

// A URL to add to the frontier.
struct NewUrl {
  std::string url;  // normal form
  std::string host_key;
  int depth = 0;
  int redirects = 0;
  std::string referrer;
};

// A robots.txt answer kept for later runs (RFC 9309 2.4: at most 24 hours).
struct CachedRobots {
  int status = 0;          // the final HTTP status after redirects
  std::string body;        // at most kMaxRobotsBytes
  int64_t fetch_time = 0;  // Unix time
};

// The frontier database of one crawl directory. Owns its SQLite connection;
// movable, not copyable; one thread at a time. Writes are committed before a
// call returns, so a killed crawler loses at most the URLs it was fetching,
// which go back to the queue on the next open().
class Frontier {
 public:
  // The schema version this code reads and writes (PRAGMA user_version).
  static constexpr int kSchemaVersion = 1;

  // Opens or creates `path` (WAL mode, busy timeout), creates or checks the
  // schema, and puts URLs left kFetching by a dead run back to kQueued.
  static Result<Frontier> open(const std::string& path);
  Frontier(Frontier&&) noexcept;
  Frontier& operator=(Frontier&&) noexcept;
  ~Frontier();

  // How many URLs open() put back from kFetching to kQueued.
  int64_t requeued_on_open() const { return requeued_on_open_; }

  // Adds `url` as kQueued unless it is already known; returns whether it was new.
  Result<bool> add(const NewUrl& url);
  // The id given to the URL by the last add() that returned true, if called
  // right after it (before any other write).
  int64_t last_added_id() const;

  // Takes up to `limit` queued URLs, at most one per host, only from hosts for
  // which `host_ready(host_key)` is true, lowest depth first, then oldest;
  // marks them kFetching.
  Result<std::vector<FrontierEntry>> take_next(
      size_t limit, const std::function<bool(const std::string& host_key)>& host_ready);

  // The hosts that have queued URLs, in host_key order.
  Result<std::vector<std::string>> queued_hosts();
  // Up to `limit` queued URLs of `host_key` in take_next()'s order (lowest
  // depth first, then oldest), left kQueued: for a caller that keeps each
  // host's next URLs in memory. With `after` (a depth and an id), only those
  // that come after it in that order: the next part of a queue read before.
  Result<std::vector<FrontierEntry>> peek_queued(
      const std::string& host_key, size_t limit,
      std::optional<std::pair<int, int64_t>> after = std::nullopt);

  // Records what became of URL `id`.
  Status record(int64_t id, const FetchOutcome& outcome);

  // Groups the writes until the matching end_batch() into one transaction
  // (much faster than one per write). Batches nest; only the outermost
  // commits. take_next(), begin_recrawl() and open() must not be called inside one.
  Status begin_batch();
  Status end_batch();
  // Puts URL `id` back to kQueued (e.g. its host's robots.txt was unreachable).
  Status requeue(int64_t id);

  // The stored entry for `url` (normal form), if known.
  Result<std::optional<FrontierEntry>> find(const std::string& url);
  // The hosts of depth-0 URLs (seeds and the targets they redirect to): the
  // scope of a same-host crawl, kept across runs.
  Result<std::vector<std::string>> seed_hosts();
  // All entries, in id order (for tests, reports and exports).
  Result<std::vector<FrontierEntry>> entries();

  // Number of URLs in each state (states with none are absent).
  Result<std::map<UrlState, int64_t>> count_by_state();
  // Number of URLs in `state` by reason.
  Result<std::map<std::string, int64_t>> count_by_reason(UrlState state);
  // Number of URLs by HTTP status, for those with a response.
  Result<std::map<int, int64_t>> count_by_status();
  // Number of URLs whose latest request completed (fetch_time set, not queued
  // again for a recrawl): what --max-pages limits.
  Result<int64_t> count_attempted();
  // The same for one host.
  Result<int64_t> count_attempted(const std::string& host_key);
  // Number of URLs in each state, by host_key.
  Result<std::map<std::string, std::map<UrlState, int64_t>>> count_by_host();

  // The first fetched URL (lowest id, other than `id`, not itself a
  // duplicate) whose content_digest is `digest`, if any.
  Result<std::optional<FrontierEntry>> find_by_digest(const std::string& digest, int64_t id);
  // Changes the reason and detail of URL `id`, keeping everything else.
  Status set_reason(int64_t id, const std::string& reason, const std::string& detail);

  // The stored robots.txt answer for `origin` (scheme://host[:port]), if any.
  Result<std::optional<CachedRobots>> cached_robots(const std::string& origin);
  Status store_robots(const std::string& origin, const CachedRobots& robots);

  // Starts a recrawl: every fetched or failed URL goes back to kQueued (its
  // ETag, Last-Modified and digest kept for a conditional GET). If a recrawl was
  // started and never finished (the run was killed), nothing is queued again
  // and it simply continues. Returns how many URLs were queued again.
  Result<int64_t> begin_recrawl();
  // Marks the recrawl finished (call when nothing is left queued).
  Status end_recrawl();

 private:
  struct Impl;
  explicit Frontier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int64_t requeued_on_open_ = 0;
  int batch_depth_ = 0;
};

}  // namespace medsearch
