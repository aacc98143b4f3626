// The collections store: collections, records offered to them (new, known,
// duplicates), screening, PRISMA counts, schema migrations and the errors a
// foreign, damaged or newer file gets.
#include "medsearch/collections.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "medsearch/json.h"
#include "process.h"

using namespace medsearch;
using medsearch::testing::TempDir;

namespace {

Candidate record(const std::string& key, const std::string& title, const std::string& doi = "",
                 const std::string& pmid = "", uint32_t folded = 0) {
  Candidate candidate;
  candidate.snapshot.key = key;
  candidate.snapshot.doc.id = key;
  candidate.snapshot.doc.url = key.rfind("http", 0) == 0 ? key : "";
  candidate.snapshot.doc.title = title;
  candidate.snapshot.doc.doi = doi;
  candidate.snapshot.doc.pmid = pmid;
  candidate.snapshot.doc.type = "research";
  candidate.snapshot.accessed = "2024-05-01";
  candidate.snapshot.index_revision = "uuid@7";
  candidate.folded_copies = folded;
  return candidate;
}

CollectionStore open_store(const std::string& path) {
  auto store = CollectionStore::open(path);
  INFO((store ? "" : store.error()));
  REQUIRE(store);
  return std::move(*store);
}

// Runs SQL on the file directly, as another program (or an older medsearch) would.
void run_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* message = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  std::string text = message ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  INFO(text);
  REQUIRE(rc == SQLITE_OK);
}

std::vector<AddOutcome> outcomes(const std::vector<AddResult>& results) {
  std::vector<AddOutcome> out;
  for (const AddResult& r : results) out.push_back(r.outcome);
  return out;
}

}  // namespace

TEST_CASE("collections are created, listed, renamed and deleted", "[collections]") {
  TempDir dir;
  CollectionStore store = open_store(dir / "c.sqlite");
  REQUIRE(store.create("ketamine-crps", "ketamine for CRPS", {{"ketamine CRPS", 20}}));
  REQUIRE(store.create("opioids", "", {}));
  Status again = store.create("opioids", "", {});
  REQUIRE_FALSE(again);
  CHECK(again.error().find("exists") != std::string::npos);

  auto all = store.list();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].name == "ketamine-crps");
  CHECK((*all)[0].description == "ketamine for CRPS");
  REQUIRE((*all)[0].queries.size() == 1);
  CHECK((*all)[0].queries[0].text == "ketamine CRPS");
  CHECK((*all)[0].queries[0].top == 20);

  REQUIRE(store.save_query("opioids", {"opioid memory", 0}));
  REQUIRE(store.save_query("opioids", {"opioid memory", 0}));  // saved once
  CHECK(store.info("opioids")->queries.size() == 1);

  CHECK_FALSE(store.rename("opioids", "ketamine-crps"));
  REQUIRE(store.rename("opioids", "opioids and memory"));
  CHECK_FALSE(store.info("opioids"));
  REQUIRE(store.add("opioids and memory", {record("https://a.example/1", "One")}, "added",
                    AddMode::kExplicit));
  REQUIRE(store.remove_collection("opioids and memory"));
  CHECK_FALSE(store.info("opioids and memory"));
  CHECK(store.list()->size() == 1);
  Status missing = store.remove_collection("nothing");
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == "no collection named 'nothing'");
}

TEST_CASE("bad collection names are refused", "[collections]") {
  TempDir dir;
  CollectionStore store = open_store(dir / "c.sqlite");
  const char* errors[] = {"", "   ", "tab\there", "line\nbreak", "bad \xff utf-8"};
  for (const char* name : errors) {
    INFO(name);
    CHECK_FALSE(store.create(name, "", {}));
  }
  CHECK_FALSE(store.create(std::string(101, 'x'), "", {}));
  CHECK(store.create("Ketamine & CRPS (2024)", "", {}));
  CHECK(store.list()->size() == 1);
}

TEST_CASE("records offered twice, or with the DOI or PMID of an item, are not added again",
          "[collections]") {
  TempDir dir;
  CollectionStore store = open_store(dir / "c.sqlite");
  REQUIRE(store.create("c", "", {}));
  auto first = store.add("c",
                         {record("https://a.example/1", "One", "10.5555/ONE"),
                          record("https://a.example/2", "Two", "", "111", 2),
                          record("https://a.example/1", "One again")},
                         "query: one", AddMode::kNewOnly);
  REQUIRE(first);
  CHECK(outcomes(*first) ==
        std::vector<AddOutcome>{AddOutcome::kAdded, AddOutcome::kAdded, AddOutcome::kKnown});
  CHECK((*first)[2].item_id == (*first)[0].item_id);

  // A copy under another URL: same DOI (case and resolver prefix ignored), same PMID.
  auto second =
      store.add("c",
                {record("https://mirror.example/1", "One", "https://doi.org/10.5555/one"),
                 record("record:9", "Two", "", "111"), record("https://a.example/3", "Three")},
                "query: two", AddMode::kNewOnly);
  REQUIRE(second);
  CHECK(outcomes(*second) == std::vector<AddOutcome>{AddOutcome::kDuplicate, AddOutcome::kDuplicate,
                                                     AddOutcome::kAdded});
  CHECK((*second)[0].item_id == (*first)[0].item_id);
  CHECK((*second)[1].item_id == (*first)[1].item_id);

  auto items = store.items("c");
  REQUIRE(items);
  REQUIRE(items->size() == 3);
  CHECK((*items)[0].snapshot.doc.title == "One");  // the first snapshot is kept
  CHECK((*items)[0].source == "query: one");
  CHECK((*items)[2].source == "query: two");

  auto counts = store.counts("c");
  REQUIRE(counts);
  CHECK(counts->identified == 5 + 2);  // five distinct records and two folded near-copies
  CHECK(counts->duplicates == 2 + 2);
  CHECK(counts->items == 3);
  CHECK(counts->unscreened == 3);

  auto known = store.known_keys(
      "c", {"https://a.example/1", "https://mirror.example/1", "https://a.example/4"});
  REQUIRE(known);
  CHECK(*known == std::vector<std::string>{"https://a.example/1", "https://mirror.example/1"});

  Candidate no_key = record("", "No key");
  auto refused =
      store.add("c", {record("https://a.example/5", "Five"), no_key}, "x", AddMode::kNewOnly);
  REQUIRE_FALSE(refused);
  CHECK(store.items("c")->size() == 3);  // the whole batch is rolled back
}

TEST_CASE("a removed item stays out of query adds but can be added again by hand",
          "[collections]") {
  TempDir dir;
  CollectionStore store = open_store(dir / "c.sqlite");
  REQUIRE(store.create("c", "", {}));
  REQUIRE(store.add("c", {record("https://a.example/1", "One")}, "q", AddMode::kNewOnly));
  REQUIRE(store.remove_item("c", "https://a.example/1"));
  CHECK(store.items("c")->empty());
  auto again = store.add("c", {record("https://a.example/1", "One")}, "q", AddMode::kNewOnly);
  REQUIRE(again);
  CHECK((*again)[0].outcome == AddOutcome::kKnown);
  CHECK(store.items("c")->empty());
  CHECK(store.counts("c")->removed == 1);
  auto by_hand =
      store.add("c", {record("https://a.example/1", "One")}, "added", AddMode::kExplicit);
  REQUIRE(by_hand);
  CHECK((*by_hand)[0].outcome == AddOutcome::kAdded);
  CHECK(store.items("c")->size() == 1);
  CHECK(store.counts("c")->removed == 0);
  CHECK(store.counts("c")->identified == 1);
  CHECK_FALSE(store.remove_item("c", "https://a.example/404"));
}

TEST_CASE("screening marks, notes and tags give PRISMA counts", "[collections]") {
  TempDir dir;
  CollectionStore store = open_store(dir / "c.sqlite");
  REQUIRE(store.create("c", "", {}));
  std::vector<Candidate> records;
  for (int i = 1; i <= 6; ++i)
    records.push_back(record("https://a.example/" + std::to_string(i), "Doc " + std::to_string(i),
                             "10.5555/doc." + std::to_string(i), std::to_string(1000 + i)));
  REQUIRE(store.add("c", records, "q", AddMode::kNewOnly));

  // An item is named by URL, key, numeric id, DOI or PMID.
  REQUIRE(store.mark("c", "https://a.example/1", ScreeningStatus::kInclude, ""));
  REQUIRE(store.mark("c", "10.5555/DOC.2", ScreeningStatus::kInclude, "RCT"));
  REQUIRE(store.mark("c", "1003", ScreeningStatus::kExclude, "not an RCT"));
  REQUIRE(store.mark("c", "https://a.example/4", ScreeningStatus::kExclude, "not an RCT"));
  REQUIRE(store.mark("c", "https://a.example/5", ScreeningStatus::kExclude, ""));
  auto sixth = store.find_item("c", "https://a.example/6");
  REQUIRE(sixth);
  REQUIRE(store.mark("c", "#" + std::to_string(sixth->id), ScreeningStatus::kMaybe, ""));
  REQUIRE(store.set_note("c", "https://a.example/1", "check the dose, \"0.35 mg/kg\""));
  REQUIRE(store.add_tag("c", "https://a.example/1", "dose"));
  REQUIRE(store.add_tag("c", "https://a.example/1", "adults"));
  REQUIRE(store.add_tag("c", "https://a.example/1", "dose"));
  CHECK_FALSE(store.add_tag("c", "https://a.example/1", "  "));
  CHECK_FALSE(store.mark("c", "https://a.example/99", ScreeningStatus::kInclude, ""));

  auto item = store.find_item("c", "https://a.example/1");
  REQUIRE(item);
  CHECK(item->status == ScreeningStatus::kInclude);
  CHECK(item->note == "check the dose, \"0.35 mg/kg\"");
  CHECK(item->tags == std::vector<std::string>{"adults", "dose"});
  CHECK(store.find_item("c", "https://a.example/2")->reason == "RCT");

  auto included = store.items("c", ScreeningStatus::kInclude);
  REQUIRE(included);
  REQUIRE(included->size() == 2);
  CHECK((*included)[0].snapshot.key == "https://a.example/1");

  auto counts = store.counts("c");
  REQUIRE(counts);
  CHECK(counts->identified == 6);
  CHECK(counts->items == 6);
  CHECK(counts->screened == 6);
  CHECK(counts->included == 2);
  CHECK(counts->excluded == 3);
  CHECK(counts->maybe == 1);
  CHECK(counts->unscreened == 0);
  CHECK(counts->exclusion_reasons == std::map<std::string, uint64_t>{{"not an RCT", 2}, {"", 1}});
}

TEST_CASE("screening statuses are named as on the command line", "[collections]") {
  for (auto status : {ScreeningStatus::kUnscreened, ScreeningStatus::kInclude,
                      ScreeningStatus::kExclude, ScreeningStatus::kMaybe}) {
    CHECK(parse_screening_status(to_string(status)) == status);
  }
  CHECK_FALSE(parse_screening_status("included"));
  CHECK_FALSE(parse_screening_status(""));
}

TEST_CASE("a snapshot is kept whole across a reopen", "[collections]") {
  TempDir dir;
  Candidate candidate =
      record("https://a.example/ü", "Ketamine \"infusions\" & CRPS\nline two", "10.5555/x", "123");
  Document& doc = candidate.snapshot.doc;
  doc.authors = {"Alicia M. Torres", "Smith JA"};
  doc.date = "2023-04";
  doc.site = "a.example";
  doc.site_name = "Riverside";
  doc.journal = "J Pain";
  doc.evidence = "rct";
  doc.language = "en";
  doc.description = "An abstract.";
  doc.text = "never stored";
  candidate.snapshot.concepts = {"Complex regional pain syndrome", "Ketamine"};
  {
    CollectionStore store = open_store(dir / "c.sqlite");
    REQUIRE(store.create("c", "", {}));
    REQUIRE(store.add("c", {candidate}, "q", AddMode::kNewOnly));
  }
  CollectionStore store = open_store(dir / "c.sqlite");
  auto items = store.items("c");
  REQUIRE(items);
  REQUIRE(items->size() == 1);
  const ItemSnapshot& got = (*items)[0].snapshot;
  CHECK(got.key == candidate.snapshot.key);
  CHECK(got.doc.title == doc.title);
  CHECK(got.doc.authors == doc.authors);
  CHECK(got.doc.date == "2023-04");
  CHECK(got.doc.site_name == "Riverside");
  CHECK(got.doc.journal == "J Pain");
  CHECK(got.doc.evidence == "rct");
  CHECK(got.doc.description == "An abstract.");
  CHECK(got.doc.text.empty());
  CHECK(got.concepts == candidate.snapshot.concepts);
  CHECK(got.accessed == "2024-05-01");
  CHECK(got.index_revision == "uuid@7");
  CHECK((*items)[0].added.size() == 20);  // YYYY-MM-DDTHH:MM:SSZ
}

TEST_CASE("a version 1 file is migrated to the current schema, items kept", "[collections]") {
  TempDir dir;
  std::string path = dir / "old.sqlite";
  // The schema medsearch wrote at version 1 (no tags, no sightings, no refresh time).
  run_sql(path, R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('application', 'medsearch-collections'), ('schema_version', '1');
CREATE TABLE collections (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '', created TEXT NOT NULL);
CREATE TABLE queries (collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  position INTEGER NOT NULL, text TEXT NOT NULL, top INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (collection_id, text));
CREATE TABLE items (id INTEGER PRIMARY KEY,
  collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  key TEXT NOT NULL, url TEXT NOT NULL DEFAULT '', doi TEXT NOT NULL DEFAULT '',
  pmid TEXT NOT NULL DEFAULT '', snapshot TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'unscreened'
    CHECK (status IN ('unscreened', 'include', 'exclude', 'maybe')),
  reason TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '',
  added TEXT NOT NULL, UNIQUE (collection_id, key));
INSERT INTO collections VALUES (1, 'old', 'from version 1', '2024-01-02T03:04:05Z');
INSERT INTO queries VALUES (1, 0, 'ketamine', 0);
INSERT INTO items VALUES (1, 1, 'https://a.example/1', 'https://a.example/1', '10.5555/a', '',
  '{"key":"https://a.example/1","title":"Old item","accessed":"2024-01-02"}', 'include', '',
  '', 'query: ketamine', '2024-01-02T03:04:05Z');
)sql");
  CollectionStore store = open_store(path);
  CHECK(*store.schema_version() == CollectionStore::kSchemaVersion);
  auto info = store.info("old");
  REQUIRE(info);
  CHECK(info->description == "from version 1");
  CHECK(info->last_refresh.empty());
  auto items = store.items("old");
  REQUIRE(items);
  REQUIRE(items->size() == 1);
  CHECK((*items)[0].snapshot.doc.title == "Old item");
  CHECK((*items)[0].status == ScreeningStatus::kInclude);
  // The old item counts as identified, and is known to later adds.
  CHECK(store.counts("old")->identified == 1);
  auto again =
      store.add("old", {record("https://a.example/1", "Old item")}, "q", AddMode::kNewOnly);
  REQUIRE(again);
  CHECK((*again)[0].outcome == AddOutcome::kKnown);
  REQUIRE(store.add_tag("old", "https://a.example/1", "kept"));
  REQUIRE(store.mark_refreshed("old"));
  CHECK_FALSE(store.info("old")->last_refresh.empty());
}

TEST_CASE("a file written by a newer medsearch is refused", "[collections]") {
  TempDir dir;
  std::string path = dir / "c.sqlite";
  { open_store(path); }
  run_sql(path, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  auto store = CollectionStore::open(path);
  REQUIRE_FALSE(store);
  CHECK(store.error().find("schema version 99, newer than") != std::string::npos);
}

TEST_CASE("a foreign or damaged file gets a clear error and is left as it was", "[collections]") {
  TempDir dir;
  SECTION("another program's SQLite database") {
    std::string path = dir / "frontier.sqlite";
    run_sql(path,
            "CREATE TABLE urls (id INTEGER PRIMARY KEY, url TEXT); INSERT INTO urls "
            "VALUES (1, 'x');");
    std::string before = medsearch::testing::read_file(path);
    auto store = CollectionStore::open(path);
    REQUIRE_FALSE(store);
    CHECK(store.error() == "'" + path +
                               "' is not a medsearch collections file (it is another program's "
                               "database)");
    CHECK(medsearch::testing::read_file(path) == before);
  }
  SECTION("a text file") {
    std::string path = dir / "notes.txt";
    std::ofstream(path) << "These are my notes, not a database. They go on for a while so that "
                           "the file is longer than an SQLite header would be.\n";
    std::string before = medsearch::testing::read_file(path);
    auto store = CollectionStore::open(path);
    REQUIRE_FALSE(store);
    CHECK(store.error().find("is not a medsearch collections file (not an SQLite database)") !=
          std::string::npos);
    CHECK(medsearch::testing::read_file(path) == before);
  }
  SECTION("an SQLite file whose pages were overwritten") {
    std::string path = dir / "c.sqlite";
    {
      CollectionStore store = open_store(path);
      REQUIRE(store.create("c", "", {}));
    }
    std::string bytes = medsearch::testing::read_file(path);
    REQUIRE(bytes.size() > 1000);
    for (size_t i = 100; i < bytes.size(); ++i) bytes[i] = static_cast<char>(0xA5);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    auto store = CollectionStore::open(path);
    REQUIRE_FALSE(store);
    INFO(store.error());
    CHECK(store.error().find(path) != std::string::npos);
    CHECK((store.error().find("damaged") != std::string::npos ||
           store.error().find("not an SQLite database") != std::string::npos));
  }
}

TEST_CASE("the read-only view lists included items and changes nothing", "[collections]") {
  TempDir dir;
  std::string path = dir / "c.sqlite";
  CHECK_FALSE(list_included_items(path, "c"));
  CHECK_FALSE(std::filesystem::exists(path));  // not created
  {
    CollectionStore store = open_store(path);
    REQUIRE(store.create("c", "", {}));
    REQUIRE(store.add("c",
                      {record("https://a.example/1", "One"), record("https://a.example/2", "Two")},
                      "q", AddMode::kNewOnly));
    REQUIRE(store.mark("c", "https://a.example/2", ScreeningStatus::kInclude, ""));
  }
  auto included = list_included_items(path, "c");
  REQUIRE(included);
  REQUIRE(included->size() == 1);
  CHECK((*included)[0].snapshot.doc.title == "Two");
  auto unknown = list_included_items(path, "other");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error() == "no collection named 'other'");

  auto read_only = CollectionStore::open_read_only(path);
  REQUIRE(read_only);
  CHECK_FALSE(read_only->create("new", "", {}));
  CHECK_FALSE(read_only->mark("c", "https://a.example/1", ScreeningStatus::kInclude, ""));
  CHECK(read_only->list()->size() == 1);
}

TEST_CASE("two connections adding to one collection at once lose nothing", "[collections]") {
  TempDir dir;
  std::string path = dir / "c.sqlite";
  {
    CollectionStore store = open_store(path);
    REQUIRE(store.create("c", "", {}));
  }
  auto writer = [&](const std::string& prefix, bool* ok) {
    auto store = CollectionStore::open(path);
    *ok = static_cast<bool>(store);
    for (int i = 0; i < 40 && *ok; ++i) {
      auto added =
          store->add("c", {record(prefix + std::to_string(i), "Doc")}, prefix, AddMode::kNewOnly);
      *ok = static_cast<bool>(added);
    }
  };
  bool first_ok = false, second_ok = false;
  std::thread first(writer, "https://a.example/", &first_ok);
  std::thread second(writer, "https://b.example/", &second_ok);
  first.join();
  second.join();
  CHECK(first_ok);
  CHECK(second_ok);
  CollectionStore store = open_store(path);
  CHECK(store.items("c")->size() == 80);
  CHECK(store.counts("c")->identified == 80);
}
