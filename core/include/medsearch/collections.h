// Research collections: named sets of documents gathered from searches,
// screened (include / exclude / maybe), kept up to date by re-running their
// saved queries, and exported to reference managers (citation_export.h).
// Stored in SQLite (collections.sqlite beside the index); docs/collections.md
// describes the commands, the storage and the export conventions.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/document.h"
#include "medsearch/result.h"

namespace medsearch {

// Where a screened item stands, in the words of a systematic review.
enum class ScreeningStatus { kUnscreened, kInclude, kExclude, kMaybe };

// "unscreened", "include", "exclude", "maybe".
std::string_view to_string(ScreeningStatus status);
// The inverse of to_string; nullopt for anything else.
std::optional<ScreeningStatus> parse_screening_status(std::string_view text);

// What a collection keeps about a document, frozen when it was added, so an
// export is reproducible after the page changes or leaves the index.
struct ItemSnapshot {
  // Document::id (canonical URL or "record:..."), or for an imported record
  // "doi:...", "pmid:..." or the URL; unique within a collection.
  std::string key;
  // The stored fields at the time (text is never kept; description holds
  // the abstract or meta description).
  Document doc;
  std::vector<std::string> concepts;  // preferred names of the concepts found in it
  std::string accessed;               // access date, YYYY-MM-DD
  // The index it came from: "UUID@REVISION" (Xapian), or "" for imports.
  std::string index_revision;
};

// One document in a collection: its snapshot and the screening decisions.
struct CollectionItem {
  int64_t id = 0;  // stable within the store
  ItemSnapshot snapshot;
  ScreeningStatus status = ScreeningStatus::kUnscreened;
  std::string reason;  // why excluded (or included), free text
  std::string note;
  std::vector<std::string> tags;  // sorted
  std::string source;             // how it came in: "query: ...", "added", "import: FILE"
  std::string added;              // UTC time it was added, YYYY-MM-DDTHH:MM:SSZ
};

// A query saved with a collection: `refresh` runs it again.
struct SavedQuery {
  std::string text;
  uint32_t top = 0;  // how many results are taken (0: the default)
};

struct CollectionInfo {
  std::string name;
  std::string description;
  std::string created;       // UTC, YYYY-MM-DDTHH:MM:SSZ
  std::string last_refresh;  // UTC, or "" when never refreshed
  std::vector<SavedQuery> queries;
  uint64_t items = 0;
};

// Counts in the manner of a PRISMA flow diagram.
struct ScreeningCounts {
  uint64_t identified = 0;  // records found by queries, imports and adds (first sightings)
  uint64_t duplicates = 0;  // of those, same DOI or PMID as an item, or near-copies folded
  uint64_t removed = 0;     // taken out by hand (`remove`)
  uint64_t items = 0;       // records in the collection now
  uint64_t screened = 0;    // items marked include, exclude or maybe
  uint64_t included = 0;
  uint64_t excluded = 0;
  uint64_t maybe = 0;
  uint64_t unscreened = 0;
  std::map<std::string, uint64_t> exclusion_reasons;  // "" for no reason given
};

// What happened to one record offered to a collection.
enum class AddOutcome {
  kAdded,      // new: now an item
  kKnown,      // already seen by this collection (an item, or removed by hand)
  kDuplicate,  // a new record with the DOI or PMID of an item: counted, not added
};

struct AddResult {
  AddOutcome outcome = AddOutcome::kAdded;
  int64_t item_id = 0;  // the item added, or the one it duplicates / already is
};

// A record offered to a collection, with the near-copies the search folded
// into it (counted as duplicates the first time it is seen).
struct Candidate {
  ItemSnapshot snapshot;
  uint32_t folded_copies = 0;
};

// How `add` treats a record the collection has already seen.
enum class AddMode {
  kNewOnly,   // queries and refresh: records seen before are left alone
  kExplicit,  // a record named by hand: re-added if it was removed
};

// The collections store: one SQLite file holding any number of collections.
// Each call is one transaction, so two processes changing the same collection
// lose nothing (a writer waits up to `busy_timeout_ms` for the other). Not
// thread-safe; use one CollectionStore per thread.
class CollectionStore {
 public:
  // The schema version this program writes; older files are migrated on open.
  static constexpr int kSchemaVersion = 2;
  static constexpr int kDefaultBusyTimeoutMs = 15000;

  // Opens (creating when missing, unless `create` is false) the store at
  // `path`. Fails with a clear message for a file that is not SQLite, a
  // SQLite file of another program, or one written by a newer medsearch.
  static Result<CollectionStore> open(const std::string& path, bool create = true,
                                      int busy_timeout_ms = kDefaultBusyTimeoutMs);
  // Opens read-only (for the CGI): fails if the file is missing; never writes.
  static Result<CollectionStore> open_read_only(const std::string& path);
  CollectionStore(CollectionStore&&) noexcept;
  CollectionStore& operator=(CollectionStore&&) noexcept;
  ~CollectionStore();

  // The schema version of the open file (kSchemaVersion after open()).
  Result<int> schema_version();

  // Collections. Names: 1-100 characters, no control characters, not all spaces.
  Status create(const std::string& name, const std::string& description,
                const std::vector<SavedQuery>& queries);
  Result<std::vector<CollectionInfo>> list();
  Result<CollectionInfo> info(const std::string& name);
  Status remove_collection(const std::string& name);
  Status rename(const std::string& from, const std::string& to);
  // Saves a query with the collection unless it is saved already (same text).
  Status save_query(const std::string& name, const SavedQuery& query);
  // Records that a refresh ran now.
  Status mark_refreshed(const std::string& name);

  // Offers records to a collection, all in one transaction (in order; a
  // record's duplicates within the batch are detected too). `source` says
  // where they came from ("query: ketamine").
  Result<std::vector<AddResult>> add(const std::string& name,
                                     const std::vector<Candidate>& candidates,
                                     const std::string& source, AddMode mode);
  // The keys among `keys` that this collection has seen (items, removed
  // items, duplicates): what refresh does not report as new.
  Result<std::vector<std::string>> known_keys(const std::string& name,
                                              const std::vector<std::string>& keys);

  // Items: `ref` is an item's key, URL, DOI or its numeric id.
  Result<CollectionItem> find_item(const std::string& name, const std::string& ref);
  // Removes the item; later queries and refreshes do not bring it back.
  Status remove_item(const std::string& name, const std::string& ref);
  Status mark(const std::string& name, const std::string& ref, ScreeningStatus status,
              const std::string& reason);
  Status set_note(const std::string& name, const std::string& ref, const std::string& note);
  Status add_tag(const std::string& name, const std::string& ref, const std::string& tag);

  // Items in the order they were added; only those with `status` when given.
  Result<std::vector<CollectionItem>> items(const std::string& name,
                                            std::optional<ScreeningStatus> status = {});
  Result<ScreeningCounts> counts(const std::string& name);

 private:
  struct Impl;
  explicit CollectionStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// For a read-only front end (the CGI's ?collection=NAME): the included items
// of collection `name` in the store at `path`, in the order they were added.
// Never creates or changes anything.
Result<std::vector<CollectionItem>> list_included_items(const std::string& path,
                                                        const std::string& name);

// Today's date in UTC, YYYY-MM-DD (the access date of new items).
std::string utc_date_today();

// Whether `name` can name a collection: 1-100 characters of UTF-8, no control
// characters, not all spaces. The message says what is wrong.
Status check_collection_name(const std::string& name);

// Where the store lives when none is named: collections.sqlite beside the
// (first) index, "var/index" -> "var/collections.sqlite".
std::string default_collections_path(const std::string& index);

class JsonWriter;
class JsonValue;

// Writes the snapshot's members ("key", "id", "url", "title", "authors",
// "date", ..., "concepts", "accessed", "index_revision") into the object
// `out` has open. The store keeps snapshots this way; JSON Lines exports too.
void write_snapshot_members(JsonWriter& out, const ItemSnapshot& snapshot);
// The inverse: members missing from `object` are left empty.
ItemSnapshot snapshot_from_json(const JsonValue& object);

// Snapshots of documents in an index, read with Xapian directly: the
// Searcher's API has no lookup by URL or docid, no concept list per document
// and no revision. Read-only; not thread-safe.
class IndexSnapshots {
 public:
  // Opens the indexes (searched as one, as the Searcher does).
  static Result<IndexSnapshots> open(const std::vector<std::string>& paths);
  IndexSnapshots(IndexSnapshots&&) noexcept;
  IndexSnapshots& operator=(IndexSnapshots&&) noexcept;
  ~IndexSnapshots();

  // "UUID@REVISION" of each index, joined with "+".
  const std::string& revision() const;
  // The document with this URL, id or docid, as a snapshot accessed today.
  Result<ItemSnapshot> find(const std::string& ref);
  // A snapshot of `doc` (as a search returned it), with the concepts the
  // index tagged it with, accessed today.
  ItemSnapshot snapshot_of(const Document& doc);

 private:
  struct Impl;
  explicit IndexSnapshots(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medsearch
