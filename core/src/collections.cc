#include "medsearch/collections.h"

#include <sqlite3.h>
#include <xapian.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "index_metadata.h"
#include "medsearch/json.h"
#include "medsearch/schema.h"
#include "medsearch/text.h"
#include "sqlite_statement.h"

namespace medsearch {
namespace {

constexpr const char* kApplication = "medsearch-collections";

// migrations[i] upgrades a store from version i to i + 1, in one transaction
// with the update of meta.schema_version. Never edit a shipped step: add one.
constexpr const char* kMigrations[] = {
    // 0 -> 1: collections, their saved queries, items with a metadata snapshot.
    R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('application', 'medsearch-collections');
INSERT INTO meta (key, value) VALUES ('schema_version', '0');
CREATE TABLE collections (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  created     TEXT NOT NULL
);
CREATE TABLE queries (
  collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  position      INTEGER NOT NULL,
  text          TEXT NOT NULL,
  top           INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (collection_id, text)
);
CREATE TABLE items (
  id            INTEGER PRIMARY KEY,
  collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  key           TEXT NOT NULL,
  url           TEXT NOT NULL DEFAULT '',
  doi           TEXT NOT NULL DEFAULT '',
  pmid          TEXT NOT NULL DEFAULT '',
  snapshot      TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'unscreened'
                CHECK (status IN ('unscreened', 'include', 'exclude', 'maybe')),
  reason        TEXT NOT NULL DEFAULT '',
  note          TEXT NOT NULL DEFAULT '',
  source        TEXT NOT NULL DEFAULT '',
  added         TEXT NOT NULL,
  UNIQUE (collection_id, key)
);
CREATE INDEX items_doi ON items (collection_id, doi) WHERE doi != '';
CREATE INDEX items_pmid ON items (collection_id, pmid) WHERE pmid != '';
CREATE INDEX items_url ON items (collection_id, url) WHERE url != '';
)sql",
    // 1 -> 2: tags, refresh times, and every record a collection has seen
    // (items, duplicates, removed), for PRISMA counts and "new since".
    R"sql(
CREATE TABLE tags (
  item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
  tag     TEXT NOT NULL,
  PRIMARY KEY (item_id, tag)
);
ALTER TABLE collections ADD COLUMN last_refresh TEXT NOT NULL DEFAULT '';
CREATE TABLE sightings (
  collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  key           TEXT NOT NULL,
  outcome       TEXT NOT NULL CHECK (outcome IN ('item', 'duplicate', 'removed')),
  folded        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (collection_id, key)
);
INSERT INTO sightings (collection_id, key, outcome) SELECT collection_id, key, 'item' FROM items;
)sql",
};
static_assert(std::size(kMigrations) == static_cast<size_t>(CollectionStore::kSchemaVersion));

constexpr const char* kStatusNames[] = {"unscreened", "include", "exclude", "maybe"};

using internal::Statement;

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// DOIs compare without case and without a resolver prefix.
std::string normal_doi(std::string_view doi) {
  std::string text = ascii_lower(trim(doi));
  for (std::string_view prefix : {"https://doi.org/", "http://doi.org/", "https://dx.doi.org/",
                                  "http://dx.doi.org/", "doi:"}) {
    if (text.rfind(prefix, 0) == 0) return text.substr(prefix.size());
  }
  return text;
}

Status check_name(const std::string& name) {
  if (name.empty() || trim(name).empty()) return fail("a collection name cannot be empty");
  if (name.size() > 100) return fail("a collection name is at most 100 characters");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7F) return fail("a collection name cannot hold control characters");
  }
  if (valid_utf8(name) != name) return fail("a collection name must be UTF-8");
  return {};
}

std::string snapshot_json(const ItemSnapshot& snapshot) {
  JsonWriter out;
  out.begin_object();
  write_snapshot_members(out, snapshot);
  out.end_object();
  return out.str();
}

}  // namespace

std::string_view to_string(ScreeningStatus status) {
  return kStatusNames[static_cast<size_t>(status)];
}

std::optional<ScreeningStatus> parse_screening_status(std::string_view text) {
  for (size_t i = 0; i < std::size(kStatusNames); ++i) {
    if (text == kStatusNames[i]) return static_cast<ScreeningStatus>(i);
  }
  return std::nullopt;
}

std::string utc_date_today() { return utc_now().substr(0, 10); }

Status check_collection_name(const std::string& name) { return check_name(name); }

std::string default_collections_path(const std::string& index) {
  std::string path = index;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return (parent / "collections.sqlite").string();
}

void write_snapshot_members(JsonWriter& out, const ItemSnapshot& snapshot) {
  const Document& doc = snapshot.doc;
  out.key("key").value(snapshot.key);
  out.key("id").value(doc.id);
  out.key("url").value(doc.url);
  out.key("title").value(doc.title);
  out.key("authors").value(doc.authors);
  out.key("date").value(doc.date);
  out.key("site").value(doc.site);
  out.key("site_name").value(doc.site_name);
  out.key("journal").value(doc.journal);
  out.key("doi").value(doc.doi);
  out.key("pmid").value(doc.pmid);
  out.key("type").value(doc.type);
  out.key("evidence").value(doc.evidence);
  out.key("language").value(doc.language);
  out.key("description").value(doc.description);
  out.key("concepts").value(snapshot.concepts);
  out.key("accessed").value(snapshot.accessed);
  out.key("index_revision").value(snapshot.index_revision);
}

ItemSnapshot snapshot_from_json(const JsonValue& object) {
  ItemSnapshot snapshot;
  auto strings = [&](const char* name) {
    std::vector<std::string> out;
    if (const JsonValue* list = object.find(name); list && list->is_array()) {
      for (const JsonValue& item : list->items())
        if (item.is_string()) out.push_back(item.as_string());
    }
    return out;
  };
  Document& doc = snapshot.doc;
  snapshot.key = object.text("key");
  doc.id = object.text("id");
  doc.url = object.text("url");
  doc.title = object.text("title");
  doc.authors = strings("authors");
  doc.date = object.text("date");
  doc.site = object.text("site");
  doc.site_name = object.text("site_name");
  doc.journal = object.text("journal");
  doc.doi = object.text("doi");
  doc.pmid = object.text("pmid");
  doc.type = object.text("type");
  doc.evidence = object.text("evidence");
  doc.language = object.text("language");
  doc.description = object.text("description");
  snapshot.concepts = strings("concepts");
  snapshot.accessed = object.text("accessed");
  snapshot.index_revision = object.text("index_revision");
  return snapshot;
}

struct CollectionStore::Impl {
  sqlite3* db = nullptr;
  std::string path;
  bool read_only = false;

  ~Impl() { sqlite3_close(db); }

  // A message for the user; a file that is not a database, or is damaged,
  // says so plainly.
  Error error(const std::string& what) const {
    int code = sqlite3_errcode(db) & 0xFF;
    if (code == SQLITE_NOTADB)
      return fail("'" + path + "' is not a medsearch collections file (not an SQLite database)");
    if (code == SQLITE_CORRUPT)
      return fail("collections file '" + path + "' is damaged: " + sqlite3_errmsg(db));
    if (code == SQLITE_BUSY)
      return fail("collections file '" + path + "' is busy (another program holds it): " + what);
    return fail("collections file '" + path + "': " + what + ": " + sqlite3_errmsg(db));
  }

  Status exec(const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return error(sql);
    return {};
  }

  // Runs `body` in one transaction (BEGIN IMMEDIATE: the write lock is taken
  // first, so two writers queue on the busy timeout instead of deadlocking).
  template <typename T, typename Body>
  Result<T> transaction(Body body) {
    if (read_only) return fail("collections file '" + path + "' is open read-only");
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
      return error("cannot start a transaction");
    Result<T> result = body();
    if (!result) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return result;
    }
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      Error failed = error("cannot commit");
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return failed;
    }
    return result;
  }

  Result<int64_t> collection_id(const std::string& name) {
    Statement select(db, "SELECT id FROM collections WHERE name = ?");
    select.bind(1, name);
    int rc = select.step();
    if (rc == SQLITE_ROW) return select.integer(0);
    if (rc == SQLITE_DONE) return fail("no collection named '" + name + "'");
    return error("reading collections");
  }

  // The version in meta, or 0 for an empty file; an error for another
  // program's database.
  Result<int> stored_version() {
    Statement tables(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
    std::set<std::string> names;
    if (!tables.each_row([&](const Statement& row) { names.insert(row.text(0)); }))
      return error("cannot read");
    if (names.empty()) return 0;
    std::string foreign =
        "'" + path + "' is not a medsearch collections file (it is another program's database)";
    if (!names.count("meta")) return fail(foreign);
    Statement meta(db, "SELECT key, value FROM meta");
    std::string application, version;
    bool read = meta.each_row([&](const Statement& row) {
      if (row.text(0) == "application") application = row.text(1);
      if (row.text(0) == "schema_version") version = row.text(1);
    });
    if (!read || application != kApplication) return fail(foreign);
    if (version.empty() || version.find_first_not_of("0123456789") != std::string::npos)
      return fail("collections file '" + path + "' is damaged: bad schema version '" + version +
                  "'");
    return std::stoi(version.substr(0, 6));
  }

  Status migrate() {
    auto done = transaction<int>([&]() -> Result<int> {
      auto version = stored_version();
      if (!version) return version;
      if (*version > kSchemaVersion) {
        return fail("collections file '" + path + "' has schema version " +
                    std::to_string(*version) + ", newer than this program's " +
                    std::to_string(kSchemaVersion) + "; use a newer medsearch");
      }
      for (int v = *version; v < kSchemaVersion; ++v) {
        if (auto ok = exec(kMigrations[v]); !ok) return std::move(ok).take_error();
        std::string update =
            "UPDATE meta SET value = '" + std::to_string(v + 1) + "' WHERE key = 'schema_version'";
        if (auto ok = exec(update.c_str()); !ok) return std::move(ok).take_error();
      }
      return kSchemaVersion;
    });
    if (!done) return std::move(done).take_error();
    return {};
  }

  Result<std::vector<CollectionItem>> read_items(int64_t collection,
                                                 std::optional<ScreeningStatus> status,
                                                 std::optional<int64_t> item_id = {}) {
    std::string sql =
        "SELECT id, snapshot, status, reason, note, source, added FROM items WHERE "
        "collection_id = ?";
    if (status) sql += " AND status = ?";
    if (item_id) sql += " AND id = ?";
    sql += " ORDER BY id";
    Statement select(db, sql.c_str());
    int next = 1;
    select.bind(next++, collection);
    if (status) select.bind(next++, to_string(*status));
    if (item_id) select.bind(next++, *item_id);
    Statement tags(db, "SELECT tag FROM tags WHERE item_id = ? ORDER BY tag");
    std::vector<CollectionItem> items;
    int rc;
    while ((rc = select.step()) == SQLITE_ROW) {
      CollectionItem item;
      item.id = select.integer(0);
      auto parsed = parse_json(select.text(1));
      if (!parsed)
        return fail("collections file '" + path + "' is damaged: item " + std::to_string(item.id) +
                    ": " + parsed.error());
      item.snapshot = snapshot_from_json(*parsed);
      item.status = parse_screening_status(select.text(2)).value_or(ScreeningStatus::kUnscreened);
      item.reason = select.text(3);
      item.note = select.text(4);
      item.source = select.text(5);
      item.added = select.text(6);
      tags.reset();
      tags.bind(1, item.id);
      if (!tags.each_row([&](const Statement& tag) { item.tags.push_back(tag.text(0)); }))
        return error("reading tags");
      items.push_back(std::move(item));
    }
    if (rc != SQLITE_DONE) return error("reading items");
    return items;
  }

  // The item `ref` names: its id, key, URL, DOI or PMID.
  Result<int64_t> item_id(int64_t collection, const std::string& name, const std::string& ref) {
    Statement select(db,
                     "SELECT id FROM items WHERE collection_id = ?1 AND (CAST(id AS TEXT) = ?2 OR "
                     "key = ?2 OR url = ?2 OR (doi != '' AND doi = ?3) OR (pmid != '' AND pmid = "
                     "?2)) ORDER BY key = ?2 DESC, id LIMIT 1");
    select.bind(1, collection);
    // "#12", as `show` prints item numbers, is item 12.
    select.bind(2, ref.size() > 1 && ref[0] == '#' ? ref.substr(1) : ref);
    select.bind(3, normal_doi(ref));
    int rc = select.step();
    if (rc == SQLITE_ROW) return select.integer(0);
    if (rc == SQLITE_DONE) return fail("collection '" + name + "' has no item '" + ref + "'");
    return error("reading items");
  }

  // The item with this DOI, PMID or URL (a duplicate), or 0.
  Result<int64_t> duplicate_of(int64_t collection, const Document& doc) {
    Statement select(db,
                     "SELECT id FROM items WHERE collection_id = ?1 AND ((?2 != '' AND doi = ?2) "
                     "OR (?3 != '' AND pmid = ?3) OR (?4 != '' AND url = ?4)) ORDER BY id LIMIT 1");
    select.bind(1, collection);
    select.bind(2, normal_doi(doc.doi));
    select.bind(3, std::string(trim(doc.pmid)));
    select.bind(4, doc.url);
    int rc = select.step();
    if (rc == SQLITE_ROW) return select.integer(0);
    if (rc == SQLITE_DONE) return int64_t{0};
    return error("reading items");
  }

  Result<int64_t> insert_item(int64_t collection, const ItemSnapshot& snapshot,
                              const std::string& source) {
    Statement insert(db,
                     "INSERT INTO items (collection_id, key, url, doi, pmid, snapshot, source, "
                     "added) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, collection);
    insert.bind(2, snapshot.key);
    insert.bind(3, snapshot.doc.url);
    insert.bind(4, normal_doi(snapshot.doc.doi));
    insert.bind(5, std::string(trim(snapshot.doc.pmid)));
    insert.bind(6, snapshot_json(snapshot));
    insert.bind(7, source);
    insert.bind(8, utc_now());
    if (insert.step() != SQLITE_DONE) return error("adding an item");
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db));
  }

  Status set_sighting(int64_t collection, const std::string& key, const char* outcome,
                      int64_t folded) {
    Statement upsert(db,
                     "INSERT INTO sightings (collection_id, key, outcome, folded) VALUES (?, ?, "
                     "?, ?) ON CONFLICT (collection_id, key) DO UPDATE SET outcome = "
                     "excluded.outcome");
    upsert.bind(1, collection);
    upsert.bind(2, key);
    upsert.bind(3, std::string_view(outcome));
    upsert.bind(4, folded);
    if (upsert.step() != SQLITE_DONE) return error("recording a record");
    return {};
  }

  Result<AddResult> add_one(int64_t collection, const Candidate& candidate,
                            const std::string& source, AddMode mode) {
    const ItemSnapshot& snapshot = candidate.snapshot;
    if (snapshot.key.empty()) return fail("a record without an id or URL cannot be added");
    Statement seen(db, "SELECT outcome FROM sightings WHERE collection_id = ? AND key = ?");
    seen.bind(1, collection);
    seen.bind(2, snapshot.key);
    int rc = seen.step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error("reading records");
    std::string outcome = rc == SQLITE_ROW ? seen.text(0) : "";
    if (outcome == "item") {
      Statement item(db, "SELECT id FROM items WHERE collection_id = ? AND key = ?");
      item.bind(1, collection);
      item.bind(2, snapshot.key);
      if (item.step() == SQLITE_ROW) return AddResult{AddOutcome::kKnown, item.integer(0)};
      outcome = "removed";  // an item lost without its sighting updated: treat as removed
    }
    if (outcome == "duplicate") {
      auto original = duplicate_of(collection, snapshot.doc);
      if (!original) return std::move(original).take_error();
      return AddResult{AddOutcome::kDuplicate, *original};
    }
    if (outcome == "removed" && mode == AddMode::kNewOnly) return AddResult{AddOutcome::kKnown, 0};
    int64_t folded = outcome.empty() ? candidate.folded_copies : 0;
    auto original = duplicate_of(collection, snapshot.doc);
    if (!original) return std::move(original).take_error();
    if (*original != 0) {
      if (auto ok = set_sighting(collection, snapshot.key, "duplicate", folded); !ok)
        return std::move(ok).take_error();
      return AddResult{AddOutcome::kDuplicate, *original};
    }
    auto id = insert_item(collection, snapshot, source);
    if (!id) return std::move(id).take_error();
    if (auto ok = set_sighting(collection, snapshot.key, "item", folded); !ok)
      return std::move(ok).take_error();
    return AddResult{AddOutcome::kAdded, *id};
  }

  // Runs `change` on the item `ref` of collection `name` in one transaction.
  template <typename Change>
  Status change_item(const std::string& name, const std::string& ref, Change change) {
    auto done = transaction<int>([&]() -> Result<int> {
      auto collection = collection_id(name);
      if (!collection) return std::move(collection).take_error();
      auto id = item_id(*collection, name, ref);
      if (!id) return std::move(id).take_error();
      if (Status ok = change(*collection, *id); !ok) return std::move(ok).take_error();
      return 0;
    });
    if (!done) return std::move(done).take_error();
    return {};
  }
};

CollectionStore::CollectionStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CollectionStore::CollectionStore(CollectionStore&&) noexcept = default;
CollectionStore& CollectionStore::operator=(CollectionStore&&) noexcept = default;
CollectionStore::~CollectionStore() = default;

Result<CollectionStore> CollectionStore::open(const std::string& path, bool create,
                                              int busy_timeout_ms) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &impl->db, flags, nullptr) != SQLITE_OK) {
    if (!create) return fail("no collections file '" + path + "'");
    return impl->db ? impl->error("cannot open") : fail("cannot open '" + path + "'");
  }
  sqlite3_busy_timeout(impl->db, busy_timeout_ms);
  sqlite3_extended_result_codes(impl->db, 1);
  if (auto ok = impl->exec("PRAGMA foreign_keys = ON"); !ok) return std::move(ok).take_error();
  if (auto ok = impl->migrate(); !ok) return std::move(ok).take_error();
  return CollectionStore(std::move(impl));
}

Result<CollectionStore> CollectionStore::open_read_only(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->read_only = true;
  if (sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return fail("cannot open collections file '" + path + "'");
  }
  sqlite3_busy_timeout(impl->db, kDefaultBusyTimeoutMs);
  auto version = impl->stored_version();
  if (!version) return std::move(version).take_error();
  if (*version != kSchemaVersion) {
    return fail("collections file '" + path + "' has schema version " + std::to_string(*version) +
                "; this program reads version " + std::to_string(kSchemaVersion) +
                " (run medsearch collection list to upgrade it)");
  }
  return CollectionStore(std::move(impl));
}

Result<int> CollectionStore::schema_version() { return impl_->stored_version(); }

Status CollectionStore::create(const std::string& name, const std::string& description,
                               const std::vector<SavedQuery>& queries) {
  if (Status ok = check_name(name); !ok) return ok;
  auto done = impl_->transaction<int>([&]() -> Result<int> {
    Statement exists(impl_->db, "SELECT 1 FROM collections WHERE name = ?");
    exists.bind(1, name);
    if (exists.step() == SQLITE_ROW) return fail("a collection named '" + name + "' exists");
    Statement insert(impl_->db,
                     "INSERT INTO collections (name, description, created) VALUES (?, ?, ?)");
    insert.bind(1, name);
    insert.bind(2, description);
    insert.bind(3, utc_now());
    if (insert.step() != SQLITE_DONE) return impl_->error("creating '" + name + "'");
    int64_t id = sqlite3_last_insert_rowid(impl_->db);
    Statement query(impl_->db,
                    "INSERT OR IGNORE INTO queries (collection_id, position, text, top) VALUES "
                    "(?, ?, ?, ?)");
    for (size_t i = 0; i < queries.size(); ++i) {
      query.reset();
      query.bind(1, id);
      query.bind(2, static_cast<int64_t>(i));
      query.bind(3, queries[i].text);
      query.bind(4, static_cast<int64_t>(queries[i].top));
      if (query.step() != SQLITE_DONE) return impl_->error("saving a query");
    }
    return 0;
  });
  if (!done) return std::move(done).take_error();
  return {};
}

Result<std::vector<CollectionInfo>> CollectionStore::list() {
  Statement select(impl_->db,
                   "SELECT c.id, c.name, c.description, c.created, c.last_refresh, (SELECT "
                   "count(*) FROM items i WHERE i.collection_id = c.id) FROM collections c "
                   "ORDER BY c.name");
  Statement queries(impl_->db,
                    "SELECT text, top FROM queries WHERE collection_id = ? ORDER BY position");
  std::vector<CollectionInfo> out;
  bool read_queries = true;
  bool read = select.each_row([&](const Statement& row) {
    CollectionInfo info;
    info.name = row.text(1);
    info.description = row.text(2);
    info.created = row.text(3);
    info.last_refresh = row.text(4);
    info.items = static_cast<uint64_t>(row.integer(5));
    queries.reset();
    queries.bind(1, row.integer(0));
    read_queries &= queries.each_row([&](const Statement& query) {
      info.queries.push_back({query.text(0), static_cast<uint32_t>(query.integer(1))});
    });
    out.push_back(std::move(info));
  });
  if (!read || !read_queries) return impl_->error("reading collections");
  return out;
}

Result<CollectionInfo> CollectionStore::info(const std::string& name) {
  auto all = list();
  if (!all) return std::move(all).take_error();
  for (CollectionInfo& info : *all) {
    if (info.name == name) return std::move(info);
  }
  return fail("no collection named '" + name + "'");
}

Status CollectionStore::remove_collection(const std::string& name) {
  auto done = impl_->transaction<int>([&]() -> Result<int> {
    auto id = impl_->collection_id(name);
    if (!id) return std::move(id).take_error();
    Statement remove(impl_->db, "DELETE FROM collections WHERE id = ?");
    remove.bind(1, *id);
    if (remove.step() != SQLITE_DONE) return impl_->error("deleting '" + name + "'");
    return 0;
  });
  if (!done) return std::move(done).take_error();
  return {};
}

Status CollectionStore::rename(const std::string& from, const std::string& to) {
  if (Status ok = check_name(to); !ok) return ok;
  auto done = impl_->transaction<int>([&]() -> Result<int> {
    auto id = impl_->collection_id(from);
    if (!id) return std::move(id).take_error();
    Statement exists(impl_->db, "SELECT 1 FROM collections WHERE name = ?");
    exists.bind(1, to);
    if (exists.step() == SQLITE_ROW) return fail("a collection named '" + to + "' exists");
    Statement update(impl_->db, "UPDATE collections SET name = ? WHERE id = ?");
    update.bind(1, to);
    update.bind(2, *id);
    if (update.step() != SQLITE_DONE) return impl_->error("renaming '" + from + "'");
    return 0;
  });
  if (!done) return std::move(done).take_error();
  return {};
}

Status CollectionStore::save_query(const std::string& name, const SavedQuery& query) {
  auto done = impl_->transaction<int>([&]() -> Result<int> {
    auto id = impl_->collection_id(name);
    if (!id) return std::move(id).take_error();
    Statement insert(impl_->db,
                     "INSERT OR IGNORE INTO queries (collection_id, position, text, top) SELECT "
                     "?1, coalesce(max(position) + 1, 0), ?2, ?3 FROM queries WHERE "
                     "collection_id = ?1");
    insert.bind(1, *id);
    insert.bind(2, query.text);
    insert.bind(3, static_cast<int64_t>(query.top));
    if (insert.step() != SQLITE_DONE) return impl_->error("saving a query");
    return 0;
  });
  if (!done) return std::move(done).take_error();
  return {};
}

Status CollectionStore::mark_refreshed(const std::string& name) {
  auto done = impl_->transaction<int>([&]() -> Result<int> {
    auto id = impl_->collection_id(name);
    if (!id) return std::move(id).take_error();
    Statement update(impl_->db, "UPDATE collections SET last_refresh = ? WHERE id = ?");
    update.bind(1, utc_now());
    update.bind(2, *id);
    if (update.step() != SQLITE_DONE) return impl_->error("recording the refresh");
    return 0;
  });
  if (!done) return std::move(done).take_error();
  return {};
}

Result<std::vector<AddResult>> CollectionStore::add(const std::string& name,
                                                    const std::vector<Candidate>& candidates,
                                                    const std::string& source, AddMode mode) {
  return impl_->transaction<std::vector<AddResult>>([&]() -> Result<std::vector<AddResult>> {
    auto id = impl_->collection_id(name);
    if (!id) return std::move(id).take_error();
    std::vector<AddResult> results;
    for (const Candidate& candidate : candidates) {
      auto one = impl_->add_one(*id, candidate, source, mode);
      if (!one) return std::move(one).take_error();
      results.push_back(*one);
    }
    return results;
  });
}

Result<std::vector<std::string>> CollectionStore::known_keys(const std::string& name,
                                                             const std::vector<std::string>& keys) {
  auto id = impl_->collection_id(name);
  if (!id) return std::move(id).take_error();
  Statement seen(impl_->db, "SELECT 1 FROM sightings WHERE collection_id = ? AND key = ?");
  std::vector<std::string> known;
  for (const std::string& key : keys) {
    seen.reset();
    seen.bind(1, *id);
    seen.bind(2, key);
    int rc = seen.step();
    if (rc == SQLITE_ROW)
      known.push_back(key);
    else if (rc != SQLITE_DONE)
      return impl_->error("reading records");
  }
  return known;
}

Result<CollectionItem> CollectionStore::find_item(const std::string& name, const std::string& ref) {
  auto collection = impl_->collection_id(name);
  if (!collection) return std::move(collection).take_error();
  auto id = impl_->item_id(*collection, name, ref);
  if (!id) return std::move(id).take_error();
  auto items = impl_->read_items(*collection, std::nullopt, *id);
  if (!items) return std::move(items).take_error();
  if (items->empty()) return fail("collection '" + name + "' has no item '" + ref + "'");
  return std::move(items->front());
}

Status CollectionStore::remove_item(const std::string& name, const std::string& ref) {
  return impl_->change_item(name, ref, [&](int64_t collection, int64_t id) -> Status {
    Statement key(impl_->db, "SELECT key FROM items WHERE id = ?");
    key.bind(1, id);
    if (key.step() != SQLITE_ROW) return impl_->error("reading an item");
    std::string item_key = key.text(0);
    Statement remove(impl_->db, "DELETE FROM items WHERE id = ?");
    remove.bind(1, id);
    if (remove.step() != SQLITE_DONE) return impl_->error("removing an item");
    return impl_->set_sighting(collection, item_key, "removed", 0);
  });
}

Status CollectionStore::mark(const std::string& name, const std::string& ref,
                             ScreeningStatus status, const std::string& reason) {
  return impl_->change_item(name, ref, [&](int64_t, int64_t id) -> Status {
    Statement update(impl_->db, "UPDATE items SET status = ?, reason = ? WHERE id = ?");
    update.bind(1, to_string(status));
    update.bind(2, reason);
    update.bind(3, id);
    if (update.step() != SQLITE_DONE) return impl_->error("marking an item");
    return {};
  });
}

Status CollectionStore::set_note(const std::string& name, const std::string& ref,
                                 const std::string& note) {
  return impl_->change_item(name, ref, [&](int64_t, int64_t id) -> Status {
    Statement update(impl_->db, "UPDATE items SET note = ? WHERE id = ?");
    update.bind(1, note);
    update.bind(2, id);
    if (update.step() != SQLITE_DONE) return impl_->error("noting an item");
    return {};
  });
}

Status CollectionStore::add_tag(const std::string& name, const std::string& ref,
                                const std::string& tag) {
  std::string clean(trim(tag));
  if (clean.empty()) return fail("a tag cannot be empty");
  return impl_->change_item(name, ref, [&](int64_t, int64_t id) -> Status {
    Statement insert(impl_->db, "INSERT OR IGNORE INTO tags (item_id, tag) VALUES (?, ?)");
    insert.bind(1, id);
    insert.bind(2, clean);
    if (insert.step() != SQLITE_DONE) return impl_->error("tagging an item");
    return {};
  });
}

Result<std::vector<CollectionItem>> CollectionStore::items(const std::string& name,
                                                           std::optional<ScreeningStatus> status) {
  auto collection = impl_->collection_id(name);
  if (!collection) return std::move(collection).take_error();
  return impl_->read_items(*collection, status);
}

Result<ScreeningCounts> CollectionStore::counts(const std::string& name) {
  auto collection = impl_->collection_id(name);
  if (!collection) return std::move(collection).take_error();
  ScreeningCounts counts;
  Statement sightings(impl_->db,
                      "SELECT outcome, count(*), sum(folded) FROM sightings WHERE collection_id "
                      "= ? GROUP BY outcome");
  sightings.bind(1, *collection);
  bool read = sightings.each_row([&](const Statement& row) {
    auto n = static_cast<uint64_t>(row.integer(1));
    auto folded = static_cast<uint64_t>(row.integer(2));
    counts.identified += n + folded;
    counts.duplicates += folded;
    if (row.text(0) == "duplicate") counts.duplicates += n;
    if (row.text(0) == "removed") counts.removed += n;
  });
  if (!read) return impl_->error("counting records");
  Statement statuses(impl_->db,
                     "SELECT status, reason, count(*) FROM items WHERE collection_id = ? GROUP "
                     "BY status, reason");
  statuses.bind(1, *collection);
  read = statuses.each_row([&](const Statement& row) {
    auto n = static_cast<uint64_t>(row.integer(2));
    counts.items += n;
    switch (parse_screening_status(row.text(0)).value_or(ScreeningStatus::kUnscreened)) {
      case ScreeningStatus::kUnscreened:
        counts.unscreened += n;
        break;
      case ScreeningStatus::kInclude:
        counts.included += n;
        break;
      case ScreeningStatus::kExclude:
        counts.excluded += n;
        counts.exclusion_reasons[std::string(trim(row.text(1)))] += n;
        break;
      case ScreeningStatus::kMaybe:
        counts.maybe += n;
        break;
    }
  });
  if (!read) return impl_->error("counting items");
  counts.screened = counts.included + counts.excluded + counts.maybe;
  return counts;
}

Result<std::vector<CollectionItem>> list_included_items(const std::string& path,
                                                        const std::string& name) {
  auto store = CollectionStore::open_read_only(path);
  if (!store) return std::move(store).take_error();
  return store->items(name, ScreeningStatus::kInclude);
}

// ---------------------------------------------------------------------------
// Index snapshots

namespace {

// schema::decode_document_data does not read back the `journal` and
// `site_name` fields that encode_document_data writes; read them here.
void fill_undecoded_fields(Document& doc, std::string_view data) {
  auto unescape = [](std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\\' && i + 1 < text.size()) {
        ++i;
        out.push_back(text[i] == 'n' ? '\n' : text[i]);
      } else {
        out.push_back(text[i]);
      }
    }
    return out;
  };
  for (const std::string& line : split(data, '\n')) {
    if (doc.journal.empty() && line.rfind("journal=", 0) == 0)
      doc.journal = unescape(std::string_view(line).substr(8));
    if (doc.site_name.empty() && line.rfind("site_name=", 0) == 0)
      doc.site_name = unescape(std::string_view(line).substr(10));
  }
}

}  // namespace

struct IndexSnapshots::Impl {
  Xapian::Database db;
  std::string revision;
  std::unordered_map<std::string, std::string> concept_names;  // id -> preferred name

  // The preferred names of the concepts the index tagged document `did` with.
  std::vector<std::string> concepts_of(Xapian::docid did) {
    std::vector<std::string> names;
    std::string prefix(schema::kConcept);
    auto term = db.termlist_begin(did);
    term.skip_to(prefix);  // terms are sorted: the concept terms are one run
    for (; term != db.termlist_end(did); ++term) {
      std::string name = *term;
      if (name.rfind(prefix, 0) != 0) break;
      std::string id = name.substr(prefix.size());
      if (!id.empty() && id[0] == ':') id.erase(0, 1);
      auto known = concept_names.find(id);
      names.push_back(known != concept_names.end() ? known->second : id);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
  }

  // The document `ref` names (URL, id or docid), or 0.
  Xapian::docid docid_of(const std::string& ref) { return internal::find_document(db, ref); }

  // `did` 0: a document not found in the index (no concepts).
  ItemSnapshot snapshot(Document doc, Xapian::docid did) {
    ItemSnapshot out;
    if (did != 0) {
      std::string data = db.get_document(did).get_data();
      doc = schema::decode_document_data(data);
      fill_undecoded_fields(doc, data);
    }
    doc.text.clear();
    out.key = doc.id.empty() ? doc.url : doc.id;
    if (did != 0) out.concepts = concepts_of(did);
    out.doc = std::move(doc);
    out.accessed = utc_date_today();
    out.index_revision = revision;
    return out;
  }
};

IndexSnapshots::IndexSnapshots(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IndexSnapshots::IndexSnapshots(IndexSnapshots&&) noexcept = default;
IndexSnapshots& IndexSnapshots::operator=(IndexSnapshots&&) noexcept = default;
IndexSnapshots::~IndexSnapshots() = default;

Result<IndexSnapshots> IndexSnapshots::open(const std::vector<std::string>& paths) {
  auto impl = std::make_unique<Impl>();
  try {
    for (const std::string& path : paths) {
      Xapian::Database one(path);
      if (!impl->revision.empty()) impl->revision += "+";
      impl->revision += one.get_uuid() + "@" + std::to_string(one.get_revision());
      auto vocabulary = internal::load_stored_vocabulary(one);
      if (vocabulary && *vocabulary) {
        for (const Concept& known : (*vocabulary)->concepts())
          impl->concept_names.emplace(known.id, known.name);
      }
      impl->db.add_database(one);
    }
  } catch (const Xapian::Error& e) {
    return fail("cannot open the index: " + e.get_msg());
  }
  return IndexSnapshots(std::move(impl));
}

const std::string& IndexSnapshots::revision() const { return impl_->revision; }

Result<ItemSnapshot> IndexSnapshots::find(const std::string& ref) {
  try {
    Xapian::docid did = impl_->docid_of(ref);
    if (did == 0) return fail("no document with the URL, id or docid '" + ref + "' in the index");
    return impl_->snapshot(Document(), did);
  } catch (const Xapian::Error& e) {
    return fail("reading the index: " + e.get_msg());
  }
}

ItemSnapshot IndexSnapshots::snapshot_of(const Document& doc) {
  Xapian::docid did = 0;
  try {
    if (!doc.id.empty()) did = impl_->docid_of(doc.id);
    if (did == 0 && !doc.url.empty()) did = impl_->docid_of(doc.url);
  } catch (const Xapian::Error&) {
    did = 0;  // the snapshot is still worth keeping without its concepts
  }
  return impl_->snapshot(doc, did);
}

}  // namespace medsearch
