// IndexWriter and Searcher against real Xapian databases in temporary directories.
#include <xapian.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "medsearch/index_writer.h"
#include "medsearch/indexer.h"
#include "medsearch/json.h"
#include "medsearch/output.h"
#include "medsearch/schema.h"
#include "medsearch/searcher.h"
#include "medsearch/text.h"
#include "medsearch/vocabulary.h"
#include "process.h"

using namespace medsearch;
using medsearch::testing::read_file;
using medsearch::testing::TempDir;

namespace {

Document make_doc(const std::string& id, const std::string& title, const std::string& text) {
  Document d;
  d.id = id;
  d.url = id;
  d.title = title;
  d.text = text;
  d.site = "clinic.test";
  d.type = "clinic";
  d.date = "2024-05-06";
  return d;
}

std::vector<std::string> ids(const SearchResults& results) {
  std::vector<std::string> out;
  for (const auto& hit : results.hits) out.push_back(hit.doc.id);
  return out;
}

}  // namespace

TEST_CASE("document data round-trips every field, newlines included", "[schema]") {
  Document d = make_doc("http://a.test/x", "Title = with equals", "line one\n\nline \\ two");
  d.authors = {"Ada Lovelace", "Per Lind"};
  d.doi = "10.5555/x";
  d.pmid = "123";
  d.evidence = "rct";
  d.description = "desc";
  d.language = "en";
  d.journal = "Pain Medicine";
  d.site_name = "Riverside Pain Clinic";
  d.mime_type = "text/html";
  Document back = schema::decode_document_data(schema::encode_document_data(d));
  CHECK(back.id == d.id);
  CHECK(back.url == d.url);
  CHECK(back.site == d.site);
  CHECK(back.site_name == d.site_name);
  CHECK(back.date == d.date);
  CHECK(back.journal == d.journal);
  CHECK(back.type == d.type);
  CHECK(back.mime_type == d.mime_type);
  CHECK(back.description == d.description);
  CHECK(back.title == d.title);
  CHECK(back.text == d.text);
  CHECK(back.authors == d.authors);
  CHECK(back.doi == d.doi);
  CHECK(back.pmid == d.pmid);
  CHECK(back.evidence == d.evidence);
  CHECK(back.language == "en");
  CHECK(schema::date_slot_value("2024-05") == "20240500");
  CHECK(schema::date_slot_value("May 2024") == "");
}

TEST_CASE("long ids get distinct unique terms within Xapian's limit", "[schema]") {
  std::string a = "http://a.test/" + std::string(400, 'x') + "1";
  std::string b = "http://a.test/" + std::string(400, 'x') + "2";
  CHECK(schema::unique_term(a).size() <= schema::kMaxTermBytes);
  CHECK(schema::unique_term(a) != schema::unique_term(b));
  CHECK(schema::unique_term("http://a.test/") == "Qhttp://a.test/");
}

TEST_CASE("IndexWriter adds, skips unchanged, replaces and deletes by id", "[index]") {
  TempDir dir;
  std::string db = dir / "index";
  {
    auto writer = IndexWriter::open(db);
    REQUIRE(writer);
    auto& w = **writer;
    CHECK(*w.put(make_doc("http://a.test/1", "Ketamine infusion", "ketamine for pain")) ==
          PutOutcome::kAdded);
    CHECK(*w.put(make_doc("http://a.test/2", "Fibromyalgia", "widespread pain")) ==
          PutOutcome::kAdded);
    CHECK(*w.put(make_doc("http://a.test/1", "Ketamine infusion", "ketamine for pain")) ==
          PutOutcome::kUnchanged);
    CHECK(*w.put(make_doc("http://a.test/1", "Ketamine infusion", "ketamine for nerve pain")) ==
          PutOutcome::kReplaced);
    CHECK(w.document_count() == 2);
    CHECK(*w.remove("http://a.test/2"));
    CHECK_FALSE(*w.remove("http://a.test/never"));
    REQUIRE(w.commit());
    CHECK(w.document_count() == 1);
  }
  auto searcher = Searcher::open({db});
  REQUIRE(searcher);
  auto results = searcher->search("nerve", {});
  REQUIRE(results);
  CHECK(ids(*results) == std::vector<std::string>{"http://a.test/1"});
  CHECK(results->hits[0].snippet.find("<mark>nerve</mark>") != std::string::npos);
}

TEST_CASE("a second writer gets a clear locked error", "[index]") {
  TempDir dir;
  auto first = IndexWriter::open(dir / "index");
  REQUIRE(first);
  auto second = IndexWriter::open(dir / "index");
  REQUIRE_FALSE(second);
  CHECK(second.error().find("locked by another writer") != std::string::npos);
}

TEST_CASE("a creation interrupted by a kill does not make the index unopenable", "[index]") {
  TempDir dir;
  std::string db = dir / "index";
  // What Xapian had written when a medindex creating the index was killed
  // (seen in a kill test): a lock, empty tables, the version file's
  // temporary copy, and no version file.
  std::filesystem::create_directory(db);
  for (const char* name : {"flintlock", "postlist.glass", "termlist.glass"})
    std::ofstream(db + "/" + name).flush();
  std::ofstream(db + "/v.tmp") << std::string(77, 'x');
  // And the directory of a creation beside it whose process is gone (no
  // process has pid 2^22 + 1, above Linux's limit).
  std::string abandoned = dir / "index.new-4194305";
  std::filesystem::create_directory(abandoned);
  {
    auto writer = IndexWriter::open(db);
    INFO((writer ? "" : writer.error()));
    REQUIRE(writer);
    CHECK(*(*writer)->put(make_doc("http://a.test/1", "Ketamine", "ketamine for pain")) ==
          PutOutcome::kAdded);
    REQUIRE((*writer)->commit());
  }
  CHECK_FALSE(std::filesystem::exists(db + "/v.tmp"));
  CHECK_FALSE(std::filesystem::exists(abandoned));
  CHECK(Xapian::Database(db).get_doccount() == 1);
}

TEST_CASE("a directory holding other files is not cleared to make an index", "[index]") {
  TempDir dir;
  std::string db = dir / "index";
  std::filesystem::create_directory(db);
  std::ofstream(db + "/postlist.glass").flush();
  std::ofstream(db + "/notes.txt") << "not Xapian's";
  auto writer = IndexWriter::open(db);
  REQUIRE_FALSE(writer);
  CHECK(writer.error().find("cannot open index") != std::string::npos);
  CHECK(read_file(db + "/notes.txt") == "not Xapian's");
  CHECK(std::filesystem::exists(db + "/postlist.glass"));
}

TEST_CASE("Searcher ranks title matches first and knows fields and phrases", "[search]") {
  TempDir dir;
  {
    auto writer = IndexWriter::open(dir / "index");
    REQUIRE(writer);
    REQUIRE((*writer)->put(make_doc("http://a.test/body", "Living with pain",
                                    "Some patients ask about ketamine receptors in passing.")));
    REQUIRE((*writer)->put(make_doc("http://a.test/title", "Ketamine receptors explained",
                                    "How the drug acts on the NMDA receptor.")));
    REQUIRE((*writer)->commit());
  }
  auto searcher = Searcher::open({dir / "index"});
  REQUIRE(searcher);
  struct Case {
    std::string query;
    std::vector<std::string> expected;
  } cases[] = {
      {"ketamine receptors", {"http://a.test/title", "http://a.test/body"}},
      {"title:ketamine", {"http://a.test/title"}},
      {"\"NMDA receptor\"", {"http://a.test/title"}},
      {"ketamine -nmda", {"http://a.test/body"}},
      {"site:clinic.test receptor", {"http://a.test/title", "http://a.test/body"}},
      {"site:other.test receptor", {}},
      {"year:2024 living", {"http://a.test/body"}},
  };
  for (const auto& c : cases) {
    INFO(c.query);
    auto results = searcher->search(c.query, {});
    REQUIRE(results);
    CHECK(ids(*results) == c.expected);
  }
}

TEST_CASE("Searcher answers bad syntax with a note, never an error", "[search]") {
  TempDir dir;
  {
    auto writer = IndexWriter::open(dir / "index");
    REQUIRE(writer);
    REQUIRE((*writer)->put(make_doc("http://a.test/1", "Opioids", "opioids and memory")));
  }
  auto searcher = Searcher::open({dir / "index"});
  REQUIRE(searcher);
  for (const char* query : {"opioids AND", "(memory", "\"unclosed", "NOT", "*", "title:", ")("}) {
    INFO(query);
    auto results = searcher->search(query, {});
    REQUIRE(results);
  }
  auto results = searcher->search("opioids AND", {});
  REQUIRE(results);
  CHECK(ids(*results) == std::vector<std::string>{"http://a.test/1"});
}

TEST_CASE("Searcher::open names the missing index", "[search]") {
  auto searcher = Searcher::open({"/nonexistent/index"});
  REQUIRE_FALSE(searcher);
  CHECK(searcher.error().find("/nonexistent/index") != std::string::npos);
}

TEST_CASE("results_to_json is valid JSON with the documented fields", "[output]") {
  SearchResults results;
  results.query = "ket\"amine";
  results.total = 1;
  SearchHit hit;
  hit.rank = 1;
  hit.score = 1.5;
  hit.doc = make_doc("http://a.test/1", "T", "");
  hit.snippet = "a <mark>ketamine</mark> &amp; b";
  results.hits.push_back(hit);
  auto parsed = parse_json(results_to_json(results));
  REQUIRE(parsed);
  CHECK(parsed->text("query") == "ket\"amine");
  CHECK(parsed->text("total") == "1");
  const auto& first = parsed->find("results")->items().at(0);
  for (const char* field : {"rank", "url", "title", "snippet", "score", "site", "date", "type"}) {
    INFO(field);
    CHECK(first.find(field) != nullptr);
  }
  CHECK(snippet_to_text(hit.snippet, "[", "]") == "a [ketamine] & b");
}

namespace {

// An article-length text (near-duplicate detection needs more than a few
// sentences), with one word that differs between copies.
std::string long_text(const std::string& changed_word) {
  return "Ketamine infusions are offered to selected patients with complex regional pain "
         "syndrome after physiotherapy and medicines have not helped enough. Each course "
         "starts with an assessment by a pain physician, and infusions run over four hours "
         "in a monitored suite with a nurse present throughout. Most patients notice some "
         "dreaminess during the infusion, which settles within an hour of stopping. Blood "
         "pressure and heart rate are checked every fifteen minutes, and anyone with poorly "
         "controlled hypertension, psychosis or significant liver disease is not treated. "
         "Before the first infusion we agree goals with each patient, such as walking further, "
         "sleeping through the night or returning to part-time work, because pain scores "
         "alone say little about whether treatment has changed daily life. Afterwards the "
         "physiotherapist sees the patient within a week, while any relief is at its "
         "strongest, to push rehabilitation forward. The benefit, when it comes, tends to be " +
         changed_word +
         ", so we review progress at six weeks and again at three months, and we stop "
         "offering infusions when they no longer help patients reach the goals they set. "
         "Side effects, including nausea, vivid dreams and a brief rise in blood pressure, "
         "are recorded at every visit and shared with the family doctor in a short letter.";
}

std::string value_of(const std::string& db, const std::string& id, unsigned slot) {
  Xapian::Database database(db);
  std::string term = schema::unique_term(id);
  auto it = database.postlist_begin(term);
  REQUIRE(it != database.postlist_end(term));
  return database.get_document(*it).get_value(slot);
}

}  // namespace

TEST_CASE("an exact copy under another id is not stored twice", "[index]") {
  TempDir dir;
  auto writer = IndexWriter::open(dir / "index");
  REQUIRE(writer);
  auto& w = **writer;
  CHECK(*w.put(make_doc("http://a.test/original", "Opioids and memory", "long text")) ==
        PutOutcome::kAdded);
  CHECK(*w.put(make_doc("http://mirror.test/copy", "Opioids and memory", "long text")) ==
        PutOutcome::kDuplicate);
  CHECK(w.last_duplicate_of() == "http://a.test/original");
  // Re-indexing the original itself is not a duplicate.
  CHECK(*w.put(make_doc("http://a.test/original", "Opioids and memory", "long text")) ==
        PutOutcome::kUnchanged);
  CHECK(w.document_count() == 1);
}

TEST_CASE("near-copies share a collapse key and other documents do not", "[index]") {
  TempDir dir;
  std::string db = dir / "index";
  {
    auto writer = IndexWriter::open(db);
    REQUIRE(writer);
    REQUIRE(
        (*writer)->put(make_doc("http://a.test/post", "Ketamine for CRPS", long_text("brief"))));
    REQUIRE((*writer)->put(
        make_doc("http://syndicate.test/post", "Ketamine for CRPS", long_text("temporary"))));
    REQUIRE((*writer)->put(make_doc(
        "http://a.test/other", "Fibromyalgia",
        "Fibromyalgia causes widespread pain, poor sleep and fatigue. Exercise, sleep care and "
        "some medicines help many people, and a small number are referred for specialist "
        "assessment when pain stays severe despite months of steady treatment at home and at "
        "work and with the support of a physiotherapist and a psychologist together.")));
  }
  std::string original = value_of(db, "http://a.test/post", schema::kSlotCollapse);
  CHECK_FALSE(original.empty());
  CHECK(value_of(db, "http://syndicate.test/post", schema::kSlotCollapse) == original);
  CHECK(value_of(db, "http://a.test/other", schema::kSlotCollapse) != original);
  // The later copy is marked, so that searches know the index has copies.
  const std::string near_copy(schema::kNearCopy);
  {
    Xapian::Database read(db);
    CHECK(read.get_metadata(std::string(schema::kMetaNearCopyTerms)) == "1");
    CHECK(read.get_termfreq(near_copy) == 1);
    auto it = read.postlist_begin(near_copy);
    REQUIRE(it != read.postlist_end(near_copy));
    CHECK(schema::decode_document_data(read.get_document(*it).get_data()).id ==
          "http://syndicate.test/post");
  }
  // What a search shows: the copy collapsed into the original, or, where
  // the index has no mark, every document as it is.
  auto shown = [&](const std::string& path) {
    auto searcher = Searcher::open({path});
    REQUIRE(searcher);
    auto results = searcher->search("ketamine", {});
    REQUIRE(results);
    std::map<std::string, uint32_t> similar;
    for (const auto& hit : results->hits) similar[hit.doc.id] = hit.similar;
    return similar;
  };
  const std::map<std::string, uint32_t> collapsed = {{"http://a.test/post", 1}};
  CHECK(shown(db) == collapsed);
  auto tamper = [&](const std::string& meta) {
    Xapian::WritableDatabase writable(db);
    for (auto it = writable.postlist_begin(near_copy); it != writable.postlist_end(near_copy);) {
      Xapian::docid did = *it++;
      Xapian::Document doc = writable.get_document(did);
      doc.remove_term(near_copy);
      writable.replace_document(did, doc);
    }
    writable.set_metadata(std::string(schema::kMetaNearCopyTerms), meta);
    writable.commit();
  };
  // An index written before copies were marked has neither the mark nor the
  // metadata: it is collapsed as before.
  tamper("");
  CHECK(shown(db) == collapsed);
  // The decision follows the marks: an index that says it marks its copies
  // but has none is searched without collapsing.
  tamper("1");
  const std::map<std::string, uint32_t> apart = {{"http://a.test/post", 0},
                                                 {"http://syndicate.test/post", 0}};
  CHECK(shown(db) == apart);

  SECTION("an empty index from an earlier writer is marked from its first document") {
    std::string earlier = dir / "earlier";
    {
      Xapian::WritableDatabase created(earlier, Xapian::DB_CREATE);
      created.set_metadata(std::string(schema::kMetaSchemaVersion), schema::kSchemaVersion);
      created.commit();
    }
    {
      auto writer = IndexWriter::open(earlier);
      REQUIRE(writer);
      REQUIRE((*writer)->put(make_doc("http://a.test/post", "Ketamine", long_text("brief"))));
      REQUIRE((*writer)->put(make_doc("http://b.test/post", "Ketamine", long_text("short"))));
    }
    Xapian::Database read(earlier);
    CHECK(read.get_metadata(std::string(schema::kMetaNearCopyTerms)) == "1");
    CHECK(read.get_termfreq(near_copy) == 1);
  }

  SECTION("copies indexed by parallel shard writers are marked too") {
    // Texts of 80 words drawn from 400 (SplitMix64 seeded by the pair), each
    // pair unlike the others; the copy has the same text under another title.
    auto pair_text = [](int pair) {
      uint64_t state = 0x6d656473ULL + static_cast<uint64_t>(pair);
      std::string text = "ketamine";
      for (int w = 0; w < 80; ++w) {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        text += " w" + std::to_string(z % 400);
      }
      return text;
    };
    // Pairs of copies in a bulk build with two shard writers, which deal
    // documents by id: those landing in different shards are matched at the
    // merge.
    std::string bulk = dir / "bulk";
    std::string input = dir / "pairs.jsonl";
    {
      std::ofstream out(input);
      for (int i = 0; i < 8; ++i) {
        for (const char* site : {"a.test", "b.test"}) {
          JsonWriter record;
          record.begin_object();
          record.key("_id").value("http://" + std::string(site) + "/" + std::to_string(i));
          record.key("url").value("http://" + std::string(site) + "/" + std::to_string(i));
          record.key("title").value("Ketamine for CRPS " + std::to_string(i) +
                                    (site[0] == 'a' ? "" : " (mirror)"));
          record.key("text").value(pair_text(i));
          record.end_object();
          out << record.str() << "\n";
        }
      }
    }
    {
      auto writer = IndexWriter::open(bulk);
      REQUIRE(writer);
      IndexerOptions options;
      options.bulk_shards = 2;
      Indexer indexer(**writer, options);
      REQUIRE(indexer.add_input(input));
      REQUIRE(indexer.finish());
    }
    Xapian::Database read(bulk);
    REQUIRE(read.get_doccount() == 16);
    CHECK(read.get_metadata(std::string(schema::kMetaNearCopyTerms)) == "1");
    CHECK(read.get_termfreq(near_copy) == 8);
    auto searcher = Searcher::open({bulk});
    REQUIRE(searcher);
    SearchOptions all;
    all.limit = 100;
    auto results = searcher->search("ketamine", all);
    REQUIRE(results);
    CHECK(results->hits.size() == 8);
    for (const auto& hit : results->hits) CHECK(hit.similar == 1);
  }
}

TEST_CASE("British and American spellings are one term for matching", "[index][spelling]") {
  TempDir dir;
  {
    auto writer = IndexWriter::open(dir / "index");
    REQUIRE(writer);
    REQUIRE((*writer)->put(make_doc("http://a.test/uk", "Central sensitisation",
                                    "The anaesthetic reduced oedema and behaviour changed.")));
    REQUIRE((*writer)->put(make_doc("http://a.test/us", "Central sensitization",
                                    "The anesthetic reduced edema and behavior changed.")));
  }
  auto searcher = Searcher::open({dir / "index"});
  REQUIRE(searcher);
  for (const char* query : {"sensitisation", "sensitization", "anaesthetic", "anesthetic", "oedema",
                            "edema", "behaviour", "central sensitization"}) {
    INFO(query);
    auto results = searcher->search(query, {});
    REQUIRE(results);
    CHECK(results->hits.size() == 2);
  }
}

TEST_CASE("concept variants find each other through the vocabulary stored in the index",
          "[index][vocabulary]") {
  TempDir dir;
  auto vocabulary = std::make_shared<Vocabulary>();
  REQUIRE(vocabulary->load_tsv(
      "crps\tComplex regional pain syndrome\tCRPS|complex regional pain syndrome|reflex "
      "sympathetic dystrophy\n"
      "nmda\tN-methyl-D-aspartate\tNMDA|N-methyl-D-aspartate\n"
      "ketamine\tKetamine\tketamine|Ketalar\n",
      "test"));
  vocabulary->compile();
  {
    auto writer = IndexWriter::open(dir / "index");
    REQUIRE(writer);
    REQUIRE((*writer)->set_vocabulary(vocabulary));
    REQUIRE((*writer)->put(make_doc("http://a.test/long", "About the condition",
                                    "Complex regional pain syndrome follows an injury.")));
    REQUIRE((*writer)->put(
        make_doc("http://a.test/short", "About the condition", "CRPS follows an injury.")));
    REQUIRE((*writer)->put(make_doc("http://a.test/old", "About the condition",
                                    "Reflex sympathetic dystrophy is an old name.")));
    REQUIRE((*writer)->put(make_doc("http://a.test/receptor", "Receptors",
                                    "N-methyl-D-aspartate receptors and Ketalar.")));
  }
  auto searcher = Searcher::open({dir / "index"});
  REQUIRE(searcher);
  auto found = [&](const std::string& query) {
    auto results = searcher->search(query, {});
    REQUIRE(results);
    auto list = ids(*results);
    std::sort(list.begin(), list.end());
    return list;
  };
  std::vector<std::string> crps = {"http://a.test/long", "http://a.test/old",
                                   "http://a.test/short"};
  CHECK(found("CRPS") == crps);
  CHECK(found("crps") == crps);
  CHECK(found("complex regional pain syndrome") == crps);
  CHECK(found("reflex sympathetic dystrophy") == crps);
  CHECK(found("NMDA") == std::vector<std::string>{"http://a.test/receptor"});
  CHECK(found("ketamine") == std::vector<std::string>{"http://a.test/receptor"});
  // Quoted text is searched exactly as written, without expansion.
  CHECK(found("\"CRPS\"") == std::vector<std::string>{"http://a.test/short"});
  // Operators around a concept keep working.
  CHECK(found("CRPS -injury") == std::vector<std::string>{"http://a.test/old"});
  CHECK(found("title:receptors NMDA") == std::vector<std::string>{"http://a.test/receptor"});

  // The vocabulary travels with the index.
  auto writer = IndexWriter::open(dir / "index");
  REQUIRE(writer);
  auto stored = (*writer)->stored_vocabulary();
  REQUIRE(stored);
  REQUIRE(*stored);
  CHECK((*stored)->concepts().size() == 3);
}

TEST_CASE("the vocabulary is stored in pieces, and an index without them still searches",
          "[index][vocabulary]") {
  TempDir dir;
  auto vocabulary = std::make_shared<Vocabulary>();
  REQUIRE(
      vocabulary->load_tsv("crps\tComplex regional pain syndrome\tCRPS|reflex sympathetic "
                           "dystrophy\nketamine\tKetamine\tketamine|Ketalar\n",
                           "test"));
  vocabulary->compile();
  const std::string prefix(schema::kMetaVocabularyPiece);
  auto pieces_in = [&] {
    Xapian::Database db(dir / "index");
    std::vector<std::string> keys;
    for (auto it = db.metadata_keys_begin(prefix); it != db.metadata_keys_end(prefix); ++it)
      keys.push_back((*it).substr(prefix.size()));
    return keys;
  };
  {
    auto writer = IndexWriter::open(dir / "index");
    REQUIRE(writer);
    REQUIRE((*writer)->set_vocabulary(vocabulary));
    REQUIRE((*writer)->put(
        make_doc("http://a.test/old", "Names", "Reflex sympathetic dystrophy is an old name.")));
  }
  std::vector<std::string> expected;
  for (const auto& [key, value] : vocabulary->pieces()) expected.push_back(key);
  std::sort(expected.begin(), expected.end());
  CHECK(pieces_in() == expected);
  auto crps_found = [&] {
    auto searcher = Searcher::open({dir / "index"});
    REQUIRE(searcher);
    auto results = searcher->search("CRPS", {});
    REQUIRE(results);
    return ids(*results) == std::vector<std::string>{"http://a.test/old"};
  };
  CHECK(crps_found());

  // As an index written before the pieces: the whole vocabulary only.
  {
    Xapian::WritableDatabase db(dir / "index", Xapian::DB_OPEN);
    for (const auto& key : expected) db.set_metadata(prefix + key, "");
    db.set_metadata(std::string(schema::kMetaVocabularyPieces), "");
    db.commit();
  }
  CHECK(pieces_in().empty());
  CHECK(crps_found());
  // Its next update stores them; a new vocabulary replaces them.
  {
    auto writer = IndexWriter::open(dir / "index");
    REQUIRE(writer);
    REQUIRE((*writer)->set_vocabulary(vocabulary));
  }
  CHECK(pieces_in() == expected);
  const std::string pieces_format_key(schema::kMetaVocabularyPieces);
  auto metadata = [&](const std::string& key) {
    return Xapian::Database(dir / "index").get_metadata(key);
  };
  CHECK(metadata(pieces_format_key) == schema::kVocabularyPiecesFormat);

  // Pieces of format 1 ("w:" lines without the variants' normalised words)
  // are searched as they are, and rewritten by the next update.
  std::map<std::string, std::string> word_pieces;  // key -> format 2 lines
  for (const auto& key : expected)
    if (key.rfind("w:", 0) == 0) word_pieces[key] = metadata(prefix + key);
  REQUIRE(word_pieces.count("w:reflex"));
  {
    Xapian::WritableDatabase db(dir / "index", Xapian::DB_OPEN);
    for (const auto& [key, lines] : word_pieces) {
      REQUIRE(std::count(lines.begin(), lines.end(), '\t') ==
              3 * std::count(lines.begin(), lines.end(), '\n'));
      std::string old_lines;
      for (const std::string& line : split(lines, '\n'))
        if (!line.empty()) old_lines += line.substr(0, line.rfind('\t')) + "\n";
      db.set_metadata(prefix + key, old_lines);
    }
    db.set_metadata(pieces_format_key, "1");
    db.commit();
  }
  CHECK(crps_found());
  {
    auto searcher = Searcher::open({dir / "index"});
    REQUIRE(searcher);
    auto results = searcher->search("reflex sympathetic dystrophy", {});
    REQUIRE(results);
    CHECK(ids(*results) == std::vector<std::string>{"http://a.test/old"});
    REQUIRE(results->explain.concepts.size() == 1);
    CHECK(results->explain.concepts[0].id == "crps");
  }
  {
    auto writer = IndexWriter::open(dir / "index");
    REQUIRE(writer);
    REQUIRE((*writer)->set_vocabulary(vocabulary));
  }
  for (const auto& [key, lines] : word_pieces) CHECK(metadata(prefix + key) == lines);
  CHECK(metadata(pieces_format_key) == schema::kVocabularyPiecesFormat);

  auto smaller = std::make_shared<Vocabulary>();
  REQUIRE(smaller->load_tsv("ketamine\tKetamine\tketamine|Ketalar\n", "test"));
  smaller->compile();
  {
    auto writer = IndexWriter::open(dir / "index");
    REQUIRE(writer);
    REQUIRE((*writer)->set_vocabulary(smaller));
  }
  std::vector<std::string> fewer = pieces_in();
  CHECK(std::find(fewer.begin(), fewer.end(), "c:crps") == fewer.end());
  CHECK(std::find(fewer.begin(), fewer.end(), "c:ketamine") != fewer.end());
  CHECK_FALSE(crps_found());
}

TEST_CASE("vocabulary words are never corrected, though not in the spelling data",
          "[index][spelling]") {
  TempDir dir;
  auto vocabulary = std::make_shared<Vocabulary>();
  REQUIRE(
      vocabulary->load_tsv("rsd\tReflex sympathetic dystrophy\treflex sympathetic dystrophy\n"
                           "cellulitis\tCellulitis\tcellulitis\n",
                           "test"));
  vocabulary->compile();
  {
    auto writer = IndexWriter::open(dir / "index");
    REQUIRE(writer);
    REQUIRE((*writer)->set_vocabulary(vocabulary));
    for (int i = 0; i < 12; ++i)
      REQUIRE((*writer)->put(make_doc("http://a.test/" + std::to_string(i), "Muscle",
                                      "A dystrophic muscle, case " + std::to_string(i))));
    REQUIRE((*writer)->put(make_doc("http://a.test/rsd", "Old name", "Dystrophy of the hand.")));
    // Two edits from "cellulite" each: the vocabulary's word in 3 documents,
    // another in 4.
    for (int i = 0; i < 7; ++i)
      REQUIRE((*writer)->put(
          make_doc("http://b.test/" + std::to_string(i), "Skin",
                   (i < 3 ? "Cellulitis of the leg, case " : "Cellulose fibre, sample ") +
                       std::to_string(i))));
  }
  auto suggestion = [&](const std::string& query) {
    auto searcher = Searcher::open({dir / "index"});
    REQUIRE(searcher);
    auto results = searcher->search(query, {});
    REQUIRE(results);
    return results->suggestion;
  };
  // "dystrophy" is in one document, "dystrophic" (two edits away) in twelve:
  // only the vocabulary keeps the rarer word from being corrected.
  CHECK(suggestion("dystrophik") == "dystrophic");
  CHECK(suggestion("cellulite") == "cellulitis");
  CHECK(suggestion("dystrophy").empty());
  CHECK(suggestion("sympathetic").empty());
  {
    Xapian::Database db(dir / "index");
    std::map<std::string, Xapian::doccount> spelling;
    for (auto it = db.spellings_begin(); it != db.spellings_end(); ++it)
      spelling[*it] = it.get_termfreq();
    CHECK(spelling["dystrophy"] == 2);  // one document; a vocabulary word counts double
    CHECK(spelling["dystrophic"] == 12);
    CHECK(spelling.count("sympathetic") == 0);  // in no document
    CHECK(spelling["cellulitis"] == 6);
    CHECK(spelling["cellulose"] == 4);
  }

  // Without the "s:" pieces (an index of pieces format 2) the word is
  // corrected, as it was then: having it in the spelling data, as those
  // indexes did for every vocabulary word, does not stop Xapian suggesting
  // another.
  {
    const std::string prefix(schema::kMetaVocabularyPiece);
    Xapian::WritableDatabase db(dir / "index", Xapian::DB_OPEN);
    std::vector<std::string> spelling_pieces;
    for (auto it = db.metadata_keys_begin(prefix + "s:"); it != db.metadata_keys_end(prefix + "s:");
         ++it)
      spelling_pieces.push_back(*it);
    CHECK(spelling_pieces == std::vector<std::string>{prefix + "s:cellulitis",
                                                      prefix + "s:dystrophy", prefix + "s:reflex",
                                                      prefix + "s:sympathetic"});
    for (const auto& key : spelling_pieces) db.set_metadata(key, "");
    db.set_metadata(std::string(schema::kMetaVocabularyPieces), "2");
    db.add_spelling("dystrophy", 1);
    db.commit();
  }
  CHECK(suggestion("dystrophy") == "dystrophic");
}

TEST_CASE("statistics count documents and concepts; compaction keeps the index", "[index]") {
  TempDir dir;
  std::string db = dir / "index";
  {
    auto writer = IndexWriter::open(db);
    REQUIRE(writer);
    for (int i = 0; i < 50; ++i)
      REQUIRE((*writer)->put(make_doc("http://a.test/" + std::to_string(i), "Page",
                                      "ketamine infusion number " + std::to_string(i))));
  }
  auto stats = index_statistics(db);
  REQUIRE(stats);
  CHECK(stats->documents == 50);
  CHECK(stats->unique_terms > 50);
  CHECK(stats->bytes_on_disk > 0);
  REQUIRE(compact_index(db));
  auto searcher = Searcher::open({db});
  REQUIRE(searcher);
  CHECK(searcher->document_count() == 50);
  auto results = searcher->search("infusion", {});
  REQUIRE(results);
  CHECK(results->total == 50);

  auto writer = IndexWriter::open(db);
  REQUIRE(writer);
  auto locked = compact_index(db);
  REQUIRE_FALSE(locked);
  CHECK(locked.error().find("locked") != std::string::npos);
}

TEST_CASE("facets with many values and with few are counted alike on every path",
          "[search][facets]") {
  // Few values (years here) are counted 64 documents at a time from a bit
  // set per value; many (sites here, more than 64) document by document.
  TempDir dir;
  auto writer = IndexWriter::open(dir / "index");
  REQUIRE(writer);
  std::map<std::string, uint64_t> sites, years;
  for (int i = 0; i < 300; ++i) {
    Document d = make_doc("http://h" + std::to_string(i % 90) + ".test/" + std::to_string(i),
                          "Page " + std::to_string(i), "Unique text number " + std::to_string(i));
    d.site = "h" + std::to_string(i % 90) + ".test";
    d.date = std::to_string(2000 + i % 7) + "-01-01";
    // Every third document has the word searched for.
    if (i % 3 == 0) {
      d.text += " with allodynia";
      ++sites[d.site];
      ++years[d.date.substr(0, 4)];
    }
    REQUIRE((*writer)->put(d));
  }
  REQUIRE((*writer)->commit());
  auto searcher = Searcher::open({dir / "index"});
  REQUIRE(searcher);
  SearchOptions options;
  options.facets = {"site", "year"};
  options.facet_values = 1000;
  // The first search reads each match's values; the later ones use columns
  // and count while the ranking runs.
  for (int round = 0; round < 3; ++round) {
    INFO("search " << round + 1);
    auto results = searcher->search("allodynia", options);
    REQUIRE(results);
    CHECK(results->total == 100);
    REQUIRE(results->facets.size() == 2);
    std::map<std::string, uint64_t> got_sites, got_years;
    for (const auto& v : results->facets[0].values) got_sites[v.value] = v.count;
    for (const auto& v : results->facets[1].values) got_years[v.value] = v.count;
    CHECK(got_sites == sites);
    CHECK(got_years == years);
    CHECK(results->facets[0].distinct == sites.size());
  }
}

TEST_CASE("a long-running searcher counts facets of documents added since it opened",
          "[search][facets]") {
  TempDir dir;
  auto writer = IndexWriter::open(dir / "index");
  REQUIRE(writer);
  REQUIRE((*writer)->put(make_doc("http://a.test/1", "Pain clinic", "Chronic pain care.")));
  REQUIRE((*writer)->commit());
  auto searcher = Searcher::open({dir / "index"});
  REQUIRE(searcher);
  SearchOptions options;
  options.facets = {"site", "type"};
  auto count = [&] {
    auto results = searcher->search("pain", options);
    REQUIRE(results);
    REQUIRE(results->facets.size() == 2);
    REQUIRE(results->facets[0].values.size() == 1);
    CHECK(results->total == results->facets[0].values[0].count);
    return results->facets[0].values[0].count;
  };
  CHECK(count() == 1);
  Document other = make_doc("http://b.test/2", "Pain research", "Pain trials.");
  REQUIRE((*writer)->put(other));
  REQUIRE((*writer)->put(make_doc("http://a.test/3", "Pain again", "More pain care.")));
  REQUIRE((*writer)->commit());
  CHECK(count() == 3);
  // Once it has searched, it counts on a second handle of its own, which
  // must follow the commits too.
  CHECK(count() == 3);
  REQUIRE((*writer)->put(make_doc("http://a.test/4", "Pain, once more", "Pain relief.")));
  REQUIRE((*writer)->commit());
  CHECK(count() == 4);
  auto removed = (*writer)->remove("http://a.test/3");
  REQUIRE(removed);
  REQUIRE(*removed);
  REQUIRE((*writer)->commit());
  CHECK(count() == 3);
}

TEST_CASE("text_position is where the text's words and concepts start, after title and authors",
          "[index][vocabulary]") {
  TempDir dir;
  auto vocabulary = std::make_shared<Vocabulary>();
  REQUIRE(vocabulary->load_tsv(
      "crps\tComplex regional pain syndrome\tCRPS|complex regional pain syndrome\n"
      "ketamine\tKetamine\tketamine|Ketalar\n",
      "test"));
  vocabulary->compile();
  Document in_text = make_doc("http://a.test/text", "Ketamine infusions: a review of CRPS care",
                              "Physicians give ketamine slowly. Complex regional pain syndrome "
                              "improved in half.");
  in_text.authors = {"Ada Lovelace", "Per Lind", "Jo"};
  // The concepts only in the title (and a text that names neither).
  Document in_title = make_doc("http://a.test/title", "Ketamine for complex regional pain syndrome",
                               "Infusions were given slowly over four hours.");
  Document no_title = make_doc("http://a.test/untitled", "", "Ketalar first. Then CRPS.");
  {
    auto writer = IndexWriter::open(dir / "index");
    REQUIRE(writer);
    REQUIRE((*writer)->set_vocabulary(vocabulary));
    for (const Document* d : {&in_text, &in_title, &no_title}) REQUIRE((*writer)->put(*d));
  }
  Xapian::Database db(dir / "index");
  auto positions = [&](const std::string& id, const std::string& term) {
    Xapian::PostingIterator p = db.postlist_begin(schema::unique_term(id));
    REQUIRE(p != db.postlist_end(schema::unique_term(id)));
    std::vector<Xapian::termpos> out;
    for (auto it = db.positionlist_begin(*p, term); it != db.positionlist_end(*p, term); ++it)
      out.push_back(*it);
    return out;
  };
  // The text's first word is the first position after text_position, and
  // its concepts follow it by their token index: "ketamine" is word 3,
  // "Complex regional pain syndrome" word 5.
  const Xapian::termpos base = DocumentBuilder::text_position(in_text);
  CHECK(positions(in_text.id, "physicians").front() == base + 1);
  auto ketamine = positions(in_text.id, schema::concept_term("ketamine"));
  CHECK(std::count_if(ketamine.begin(), ketamine.end(), [&](auto p) { return p > base; }) == 1);
  CHECK(std::count(ketamine.begin(), ketamine.end(), base + 3) == 1);
  auto crps = positions(in_text.id, schema::concept_term("crps"));
  CHECK(std::count(crps.begin(), crps.end(), base + 5) == 1);
  // The title's and the authors' words come before it.
  CHECK(positions(in_text.id, "infusions").back() < base);
  CHECK(positions(in_text.id, std::string(schema::kAuthor) + "lind").back() < base);
  // The title-only concepts are all below it.
  const Xapian::termpos title_base = DocumentBuilder::text_position(in_title);
  CHECK(positions(in_title.id, "infusions").front() == title_base + 1);
  for (const char* id : {"ketamine", "crps"})
    for (auto p : positions(in_title.id, schema::concept_term(id))) CHECK(p < title_base);
  // Without title or authors the text starts at the first position.
  CHECK(DocumentBuilder::text_position(no_title) == 0);
  CHECK(positions(no_title.id, schema::concept_term("ketamine")).front() == 1);

  // Snippets mark a concept where the text names it, and not where only the
  // title does.
  auto searcher = Searcher::open({dir / "index"});
  REQUIRE(searcher);
  auto results = searcher->search("CRPS", {});
  REQUIRE(results);
  std::map<std::string, std::string> snippets;
  for (const auto& hit : results->hits) snippets[hit.doc.id] = hit.snippet;
  REQUIRE(snippets.size() == 3);
  CHECK(snippets[in_text.id].find("<mark>Complex regional pain syndrome</mark>") !=
        std::string::npos);
  CHECK(snippets[no_title.id].find("<mark>CRPS</mark>") != std::string::npos);
  CHECK(snippets[in_title.id] == "Infusions were given slowly over four hours.");
}
