#include "medsearch/frontier.h"

#include <sqlite3.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <unordered_map>

#include "sqlite_statement.h"

namespace medsearch {
namespace {

constexpr std::array<std::string_view, 6> kStateNames = {"queued", "fetching", "fetched",
                                                         "failed", "skipped",  "gone"};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS urls (
  id             INTEGER PRIMARY KEY,
  url            TEXT NOT NULL UNIQUE,
  host_key       TEXT NOT NULL,
  depth          INTEGER NOT NULL,
  redirects      INTEGER NOT NULL DEFAULT 0,
  referrer       TEXT NOT NULL DEFAULT '',
  state          TEXT NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued','fetching','fetched','failed','skipped','gone')),
  reason         TEXT NOT NULL DEFAULT '',
  detail         TEXT NOT NULL DEFAULT '',
  http_status    INTEGER NOT NULL DEFAULT 0,
  etag           TEXT NOT NULL DEFAULT '',
  last_modified  TEXT NOT NULL DEFAULT '',
  content_digest TEXT NOT NULL DEFAULT '',
  content_type   TEXT NOT NULL DEFAULT '',
  fetch_time     INTEGER NOT NULL DEFAULT 0,
  canonical_url  TEXT NOT NULL DEFAULT '',
  warc_file      TEXT NOT NULL DEFAULT '',
  warc_offset    INTEGER NOT NULL DEFAULT -1,
  added_time     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS urls_queue ON urls (state, host_key, depth, id);
)sql";

// Added without a version change: older readers ignore them, and every open
// creates them if missing.
constexpr const char* kAdditions = R"sql(
CREATE INDEX IF NOT EXISTS urls_digest ON urls (content_digest) WHERE content_digest != '';
CREATE TABLE IF NOT EXISTS robots (
  origin     TEXT PRIMARY KEY,
  status     INTEGER NOT NULL,
  body       BLOB NOT NULL,
  fetch_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS crawl_state (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

constexpr const char* kEntryColumns =
    "id, url, host_key, depth, redirects, referrer, state, reason, detail, http_status, etag, "
    "last_modified, content_digest, content_type, fetch_time, canonical_url, warc_file, "
    "warc_offset";

// The operating system's reason for the last error on `db` when a read or a
// write failed, as " (File too large)", else "": SQLite's own message for a
// write past a file size limit is only "disk I/O error". SQLite 3.40 does not
// keep the errno of every failed write (sqlite3_system_errno() is 0 after a
// failed write-ahead log write), so `saved_errno`, errno right after the
// failed call, stands in.
std::string system_reason(sqlite3* db, int saved_errno) {
  int code = sqlite3_extended_errcode(db) & 0xff;
  if (code != SQLITE_IOERR && code != SQLITE_FULL && code != SQLITE_CANTOPEN) return "";
  int system_errno = sqlite3_system_errno(db);
  if (system_errno == 0) system_errno = saved_errno;
  if (system_errno == 0) return "";
  return std::string(" (") + std::strerror(system_errno) + ")";
}

using internal::Statement;

// Prepared statements by SQL text, kept for the connection's lifetime:
// preparing is a large part of a small query's cost.
using StatementCache = std::unordered_map<std::string, std::unique_ptr<Statement>>;

// One use of a cached statement: reset before and after, so no read
// transaction is left open between uses.
class CachedStatement {
 public:
  CachedStatement(StatementCache& cache, sqlite3* db, const std::string& sql) {
    auto& slot = cache[sql];
    if (!slot) slot = std::make_unique<Statement>(db, sql.c_str());
    statement_ = slot.get();
    statement_->reset();
  }
  ~CachedStatement() { statement_->reset(); }
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;

  bool ok() const { return statement_->ok(); }
  std::string error() const { return statement_->error(); }
  void bind(int index, std::string_view text) { statement_->bind(index, text); }
  void bind(int index, int64_t value) { statement_->bind(index, value); }
  void bind(int index, int value) { statement_->bind(index, value); }
  int step() { return statement_->step(); }
  template <typename Row>
  bool each_row(Row&& row) {
    return statement_->each_row(std::forward<Row>(row));
  }
  void reset() { statement_->reset(); }
  int64_t integer(int column) const { return statement_->integer(column); }
  std::string text(int column) const { return statement_->text(column); }
  const Statement& statement() const { return *statement_; }

 private:
  Statement* statement_ = nullptr;
};

FrontierEntry read_entry(const Statement& row) {
  FrontierEntry entry;
  entry.id = row.integer(0);
  entry.url = row.text(1);
  entry.host_key = row.text(2);
  entry.depth = static_cast<int>(row.integer(3));
  entry.redirects = static_cast<int>(row.integer(4));
  entry.referrer = row.text(5);
  entry.state = url_state_from_string(row.text(6)).value_or(UrlState::kQueued);
  entry.reason = row.text(7);
  entry.detail = row.text(8);
  entry.http_status = static_cast<int>(row.integer(9));
  entry.etag = row.text(10);
  entry.last_modified = row.text(11);
  entry.content_digest = row.text(12);
  entry.content_type = row.text(13);
  entry.fetch_time = row.integer(14);
  entry.canonical_url = row.text(15);
  entry.warc_file = row.text(16);
  entry.warc_offset = row.integer(17);
  return entry;
}

}  // namespace

std::string_view to_string(UrlState state) { return kStateNames[static_cast<size_t>(state)]; }

std::optional<UrlState> url_state_from_string(std::string_view text) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == text) return static_cast<UrlState>(i);
  }
  return std::nullopt;
}

struct Frontier::Impl {
  sqlite3* db = nullptr;
  std::string path;
  StatementCache statements;

  ~Impl() {
    statements.clear();  // finalized before the connection closes
    sqlite3_close(db);
  }

  Error error(const std::string& what) const {
    int saved_errno = errno;
    return fail("frontier '" + path + "': " + what + ": " + sqlite3_errmsg(db) +
                system_reason(db, saved_errno));
  }

  Status exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      int saved_errno = errno;
      std::string text = (message ? message : "unknown error") + system_reason(db, saved_errno);
      sqlite3_free(message);
      return fail("frontier '" + path + "': " + text);
    }
    return {};
  }

  Result<int64_t> single_integer(const char* sql) {
    Statement statement(db, sql);
    if (!statement.ok() || statement.step() != SQLITE_ROW) return error("query failed");
    return statement.integer(0);
  }
};

Frontier::Frontier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Frontier::Frontier(Frontier&&) noexcept = default;
Frontier& Frontier::operator=(Frontier&&) noexcept = default;
Frontier::~Frontier() = default;

Result<Frontier> Frontier::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  if (sqlite3_open_v2(path.c_str(), &impl->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return impl->db ? impl->error("cannot open") : fail("cannot open frontier '" + path + "'");
  }
  sqlite3_busy_timeout(impl->db, 10000);
  // The CHECK on `state` costs SQLite a temporary b-tree for its IN list at
  // every insert and state change (a sixth of medcrawl's instructions); this
  // class writes states only from UrlState, so it cannot fail for our writes
  // (other writers, such as the sqlite3 shell, still get it).
  if (auto ok = impl->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                           "PRAGMA ignore_check_constraints=ON;");
      !ok) {
    return std::move(ok).take_error();
  }
  auto version = impl->single_integer("PRAGMA user_version");
  if (!version) return std::move(version).take_error();
  if (*version > kSchemaVersion) {
    return fail("frontier '" + path + "' has schema version " + std::to_string(*version) +
                ", newer than this program's " + std::to_string(kSchemaVersion) +
                "; use a newer medcrawl");
  }
  if (*version < kSchemaVersion) {
    // Version 0 is a new, empty database (there are no older schemas yet).
    std::string create = std::string("BEGIN IMMEDIATE;") + kSchema +
                         "PRAGMA user_version = " + std::to_string(kSchemaVersion) + "; COMMIT;";
    if (auto ok = impl->exec(create.c_str()); !ok) return std::move(ok).take_error();
  }
  if (auto ok = impl->exec(kAdditions); !ok) return std::move(ok).take_error();
  if (auto ok = impl->exec("UPDATE urls SET state = 'queued' WHERE state = 'fetching'"); !ok) {
    return std::move(ok).take_error();
  }
  int64_t requeued = sqlite3_changes(impl->db);
  Frontier frontier(std::move(impl));
  frontier.requeued_on_open_ = requeued;
  return frontier;
}

Result<bool> Frontier::add(const NewUrl& url) {
  CachedStatement insert(impl_->statements, impl_->db,
                         "INSERT OR IGNORE INTO urls (url, host_key, depth, redirects, referrer, "
                         "added_time) VALUES (?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return impl_->error("cannot prepare insert");
  insert.bind(1, url.url);
  insert.bind(2, url.host_key);
  insert.bind(3, url.depth);
  insert.bind(4, url.redirects);
  insert.bind(5, url.referrer);
  insert.bind(6, static_cast<int64_t>(std::time(nullptr)));
  if (insert.step() != SQLITE_DONE) return impl_->error("cannot add '" + url.url + "'");
  return sqlite3_changes(impl_->db) > 0;
}

int64_t Frontier::last_added_id() const { return sqlite3_last_insert_rowid(impl_->db); }

Result<std::vector<FrontierEntry>> Frontier::take_next(
    size_t limit, const std::function<bool(const std::string& host_key)>& host_ready) {
  std::vector<FrontierEntry> taken;
  if (limit == 0) return taken;
  if (auto ok = impl_->exec("BEGIN IMMEDIATE"); !ok) return std::move(ok).take_error();
  // The index on (state, host_key, depth, id) makes both queries cheap however
  // large the frontier grows.
  CachedStatement hosts(impl_->statements, impl_->db,
                        // A skip-scan of the queue index: one seek per host,
                        // however many URLs are queued.
                        "WITH RECURSIVE hosts(key) AS ("
                        " SELECT (SELECT MIN(host_key) FROM urls WHERE state = 'queued')"
                        " UNION ALL SELECT (SELECT MIN(host_key) FROM urls"
                        "  WHERE state = 'queued' AND host_key > hosts.key)"
                        " FROM hosts WHERE hosts.key IS NOT NULL)"
                        " SELECT key FROM hosts WHERE key IS NOT NULL");
  std::string next_sql = std::string("SELECT ") + kEntryColumns +
                         " FROM urls WHERE state = 'queued' AND host_key = ? "
                         "ORDER BY depth, id LIMIT 1";
  CachedStatement next(impl_->statements, impl_->db, next_sql);
  CachedStatement mark(impl_->statements, impl_->db,
                       "UPDATE urls SET state = 'fetching' WHERE id = ?");
  bool failed = !hosts.ok() || !next.ok() || !mark.ok();
  std::vector<std::string> ready_hosts;
  while (!failed) {
    int rc = hosts.step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      failed = true;
      break;
    }
    std::string host = hosts.text(0);
    if (host_ready(host)) ready_hosts.push_back(std::move(host));
  }
  for (const std::string& host : ready_hosts) {
    if (failed || taken.size() >= limit) break;
    next.reset();
    next.bind(1, host);
    if (next.step() != SQLITE_ROW) continue;
    FrontierEntry entry = read_entry(next.statement());
    mark.reset();
    mark.bind(1, entry.id);
    if (mark.step() != SQLITE_DONE) {
      failed = true;
      break;
    }
    entry.state = UrlState::kFetching;
    taken.push_back(std::move(entry));
  }
  if (failed) {
    Error error = impl_->error("cannot take queued URLs");
    (void)impl_->exec("ROLLBACK");
    return error;
  }
  if (auto ok = impl_->exec("COMMIT"); !ok) return std::move(ok).take_error();
  return taken;
}

Result<std::vector<std::string>> Frontier::queued_hosts() {
  CachedStatement hosts(impl_->statements, impl_->db,
                        // A skip-scan of the queue index: one seek per host.
                        "WITH RECURSIVE hosts(key) AS ("
                        " SELECT (SELECT MIN(host_key) FROM urls WHERE state = 'queued')"
                        " UNION ALL SELECT (SELECT MIN(host_key) FROM urls"
                        "  WHERE state = 'queued' AND host_key > hosts.key)"
                        " FROM hosts WHERE hosts.key IS NOT NULL)"
                        " SELECT key FROM hosts WHERE key IS NOT NULL");
  if (!hosts.ok()) return impl_->error("cannot prepare query");
  std::vector<std::string> keys;
  if (!hosts.each_row([&](const Statement& row) { keys.push_back(row.text(0)); }))
    return impl_->error("query failed");
  return keys;
}

Result<std::vector<FrontierEntry>> Frontier::peek_queued(
    const std::string& host_key, size_t limit, std::optional<std::pair<int, int64_t>> after) {
  // A row value after the last one read: a seek in the queue index.
  std::string sql = std::string("SELECT ") + kEntryColumns +
                    " FROM urls WHERE state = 'queued' AND host_key = ? " +
                    (after ? "AND (depth, id) > (?, ?) " : "") + "ORDER BY depth, id LIMIT ?";
  CachedStatement select(impl_->statements, impl_->db, sql);
  if (!select.ok()) return impl_->error("cannot prepare query");
  int column = 1;
  select.bind(column++, host_key);
  if (after) {
    select.bind(column++, static_cast<int64_t>(after->first));
    select.bind(column++, after->second);
  }
  select.bind(column, static_cast<int64_t>(limit));
  std::vector<FrontierEntry> entries;
  if (!select.each_row([&](const Statement& row) { entries.push_back(read_entry(row)); }))
    return impl_->error("query failed");
  return entries;
}

Status Frontier::record(int64_t id, const FetchOutcome& outcome) {
  CachedStatement update(
      impl_->statements, impl_->db,
      "UPDATE urls SET state = ?, reason = ?, detail = ?, http_status = ?, etag = ?, "
      "last_modified = ?, content_digest = ?, content_type = ?, fetch_time = ?, "
      "canonical_url = ?, warc_file = ?, warc_offset = ? WHERE id = ?");
  if (!update.ok()) return impl_->error("cannot prepare update");
  update.bind(1, to_string(outcome.state));
  update.bind(2, outcome.reason);
  update.bind(3, outcome.detail);
  update.bind(4, outcome.http_status);
  update.bind(5, outcome.etag);
  update.bind(6, outcome.last_modified);
  update.bind(7, outcome.content_digest);
  update.bind(8, outcome.content_type);
  int64_t fetch_time = outcome.fetch_time;
  // Skips decided before any request (robots.txt, scope) have no fetch time.
  if (fetch_time == 0 && (outcome.http_status != 0 || outcome.state == UrlState::kFetched ||
                          outcome.state == UrlState::kFailed)) {
    fetch_time = static_cast<int64_t>(std::time(nullptr));
  }
  update.bind(9, fetch_time);
  update.bind(10, outcome.canonical_url);
  update.bind(11, outcome.warc_file);
  update.bind(12, outcome.warc_offset);
  update.bind(13, id);
  if (update.step() != SQLITE_DONE) return impl_->error("cannot record fetch");
  return {};
}

Status Frontier::begin_batch() {
  if (batch_depth_++ > 0) return {};
  return impl_->exec("BEGIN IMMEDIATE");
}

Status Frontier::end_batch() {
  if (batch_depth_ == 0 || --batch_depth_ > 0) return {};
  return impl_->exec("COMMIT");
}

Status Frontier::requeue(int64_t id) {
  CachedStatement update(impl_->statements, impl_->db,
                         "UPDATE urls SET state = 'queued' WHERE id = ?");
  if (!update.ok()) return impl_->error("cannot prepare update");
  update.bind(1, id);
  if (update.step() != SQLITE_DONE) return impl_->error("cannot requeue");
  return {};
}

Result<std::optional<FrontierEntry>> Frontier::find(const std::string& url) {
  std::string sql = std::string("SELECT ") + kEntryColumns + " FROM urls WHERE url = ?";
  CachedStatement select(impl_->statements, impl_->db, sql);
  if (!select.ok()) return impl_->error("cannot prepare query");
  select.bind(1, url);
  int rc = select.step();
  if (rc == SQLITE_DONE) return std::optional<FrontierEntry>();
  if (rc != SQLITE_ROW) return impl_->error("query failed");
  return std::optional<FrontierEntry>(read_entry(select.statement()));
}

Result<std::vector<std::string>> Frontier::seed_hosts() {
  CachedStatement select(impl_->statements, impl_->db,
                         "SELECT DISTINCT host_key FROM urls WHERE depth = 0");
  if (!select.ok()) return impl_->error("cannot prepare query");
  std::vector<std::string> hosts;
  if (!select.each_row([&](const Statement& row) { hosts.push_back(row.text(0)); }))
    return impl_->error("query failed");
  return hosts;
}

Result<std::vector<FrontierEntry>> Frontier::entries() {
  std::string sql = std::string("SELECT ") + kEntryColumns + " FROM urls ORDER BY id";
  CachedStatement select(impl_->statements, impl_->db, sql);
  if (!select.ok()) return impl_->error("cannot prepare query");
  std::vector<FrontierEntry> entries;
  if (!select.each_row([&](const Statement& row) { entries.push_back(read_entry(row)); }))
    return impl_->error("query failed");
  return entries;
}

Result<std::map<UrlState, int64_t>> Frontier::count_by_state() {
  CachedStatement select(impl_->statements, impl_->db,
                         "SELECT state, COUNT(*) FROM urls GROUP BY state");
  if (!select.ok()) return impl_->error("cannot prepare query");
  std::map<UrlState, int64_t> counts;
  bool read = select.each_row([&](const Statement& row) {
    if (auto state = url_state_from_string(row.text(0))) counts[*state] = row.integer(1);
  });
  if (!read) return impl_->error("query failed");
  return counts;
}

Result<std::map<std::string, int64_t>> Frontier::count_by_reason(UrlState state) {
  CachedStatement select(impl_->statements, impl_->db,
                         "SELECT reason, COUNT(*) FROM urls WHERE state = ? GROUP BY reason");
  if (!select.ok()) return impl_->error("cannot prepare query");
  select.bind(1, to_string(state));
  std::map<std::string, int64_t> counts;
  if (!select.each_row([&](const Statement& row) { counts[row.text(0)] = row.integer(1); }))
    return impl_->error("query failed");
  return counts;
}

Result<std::map<int, int64_t>> Frontier::count_by_status() {
  CachedStatement select(impl_->statements, impl_->db,
                         "SELECT http_status, COUNT(*) FROM urls WHERE http_status != 0 "
                         "GROUP BY http_status");
  if (!select.ok()) return impl_->error("cannot prepare query");
  std::map<int, int64_t> counts;
  bool read = select.each_row(
      [&](const Statement& row) { counts[static_cast<int>(row.integer(0))] = row.integer(1); });
  if (!read) return impl_->error("query failed");
  return counts;
}

Result<int64_t> Frontier::count_attempted() {
  return impl_->single_integer(
      "SELECT COUNT(*) FROM urls WHERE fetch_time != 0 AND state != 'queued'");
}

Result<int64_t> Frontier::count_attempted(const std::string& host_key) {
  CachedStatement select(impl_->statements, impl_->db,
                         "SELECT COUNT(*) FROM urls WHERE host_key = ? AND fetch_time != 0 "
                         "AND state != 'queued'");
  if (!select.ok()) return impl_->error("cannot prepare query");
  select.bind(1, host_key);
  if (select.step() != SQLITE_ROW) return impl_->error("query failed");
  return select.integer(0);
}

Result<std::map<std::string, std::map<UrlState, int64_t>>> Frontier::count_by_host() {
  CachedStatement select(impl_->statements, impl_->db,
                         "SELECT host_key, state, COUNT(*) FROM urls GROUP BY host_key, state");
  if (!select.ok()) return impl_->error("cannot prepare query");
  std::map<std::string, std::map<UrlState, int64_t>> counts;
  bool read = select.each_row([&](const Statement& row) {
    if (auto state = url_state_from_string(row.text(1))) {
      counts[row.text(0)][*state] = row.integer(2);
    }
  });
  if (!read) return impl_->error("query failed");
  return counts;
}

Result<std::optional<FrontierEntry>> Frontier::find_by_digest(const std::string& digest,
                                                              int64_t id) {
  std::string sql = std::string("SELECT ") + kEntryColumns +
                    " FROM urls WHERE content_digest = ? AND content_digest != '' AND id != ? "
                    "AND state = 'fetched' AND reason != 'duplicate' ORDER BY id LIMIT 1";
  CachedStatement select(impl_->statements, impl_->db, sql);
  if (!select.ok()) return impl_->error("cannot prepare query");
  select.bind(1, digest);
  select.bind(2, id);
  int rc = select.step();
  if (rc == SQLITE_DONE) return std::optional<FrontierEntry>();
  if (rc != SQLITE_ROW) return impl_->error("query failed");
  return std::optional<FrontierEntry>(read_entry(select.statement()));
}

Status Frontier::set_reason(int64_t id, const std::string& reason, const std::string& detail) {
  CachedStatement update(impl_->statements, impl_->db,
                         "UPDATE urls SET reason = ?, detail = ? WHERE id = ?");
  if (!update.ok()) return impl_->error("cannot prepare update");
  update.bind(1, reason);
  update.bind(2, detail);
  update.bind(3, id);
  if (update.step() != SQLITE_DONE) return impl_->error("cannot update reason");
  return {};
}

Result<std::optional<CachedRobots>> Frontier::cached_robots(const std::string& origin) {
  CachedStatement select(impl_->statements, impl_->db,
                         "SELECT status, body, fetch_time FROM robots WHERE origin = ?");
  if (!select.ok()) return impl_->error("cannot prepare query");
  select.bind(1, origin);
  int rc = select.step();
  if (rc == SQLITE_DONE) return std::optional<CachedRobots>();
  if (rc != SQLITE_ROW) return impl_->error("query failed");
  return std::optional<CachedRobots>(
      CachedRobots{static_cast<int>(select.integer(0)), select.text(1), select.integer(2)});
}

Status Frontier::store_robots(const std::string& origin, const CachedRobots& robots) {
  CachedStatement insert(impl_->statements, impl_->db,
                         "INSERT OR REPLACE INTO robots (origin, status, body, fetch_time) "
                         "VALUES (?, ?, ?, ?)");
  if (!insert.ok()) return impl_->error("cannot prepare insert");
  insert.bind(1, origin);
  insert.bind(2, robots.status);
  insert.bind(3, robots.body);
  insert.bind(4, robots.fetch_time);
  if (insert.step() != SQLITE_DONE) return impl_->error("cannot store robots.txt");
  return {};
}

Result<int64_t> Frontier::begin_recrawl() {
  auto running =
      impl_->single_integer("SELECT COUNT(*) FROM crawl_state WHERE key = 'recrawl_started'");
  if (!running) return running;
  if (*running > 0) return int64_t{0};
  if (auto ok = impl_->exec("BEGIN IMMEDIATE"); !ok) return std::move(ok).take_error();
  std::string sql = "INSERT INTO crawl_state (key, value) VALUES ('recrawl_started', '" +
                    std::to_string(std::time(nullptr)) +
                    "'); UPDATE urls SET state = 'queued' WHERE state IN ('fetched', 'failed');";
  if (auto ok = impl_->exec(sql.c_str()); !ok) {
    (void)impl_->exec("ROLLBACK");
    return std::move(ok).take_error();
  }
  int64_t queued = sqlite3_changes(impl_->db);
  if (auto ok = impl_->exec("COMMIT"); !ok) return std::move(ok).take_error();
  return queued;
}

Status Frontier::end_recrawl() {
  return impl_->exec("DELETE FROM crawl_state WHERE key = 'recrawl_started'");
}

}  // namespace medsearch
