// `medsearch collection` as a researcher runs it, on the fixture site indexed
// by the real medindex: create from queries, screen, refresh after two new
// pages are indexed (fixtures/collection-update/), export in every format and
// read it back, import, concurrent writers, and bad input.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "csv_reader.h"
#include "medsearch/json.h"
#include "process.h"

using namespace medsearch;
using namespace medsearch::testing;

namespace {

std::string file_url(const std::string& relative) {
  return "file://" + source_path("fixtures/" + relative);
}

const std::string kOralKetamine = file_url("collection-update/oral-ketamine-crps-maintenance.html");
const std::string kFlareDiary = file_url("collection-update/crps-flare-diary.html");
const std::string kFibromyalgiaRct = file_url("site/articles/ketamine-fibromyalgia-rct.html");
const std::string kCrpsBasics = file_url("site/learn/complex-regional-pain-syndrome.html");

// A fresh index of fixtures/site in a temporary directory.
struct Workspace {
  TempDir dir;
  std::string index = dir / "index";

  Workspace() {
    ProcessResult r =
        run_process({bin_path("medindex"), "--db", index, "--quiet", source_path("fixtures/site")});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }

  ProcessResult collection(std::vector<std::string> args) {
    std::vector<std::string> argv{bin_path("medsearch"), "collection", "--db", index};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
  }

  // Runs a command that must succeed; its standard output.
  std::string ok(std::vector<std::string> args) {
    ProcessResult r = collection(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// "  records identified     25" -> 25.
uint64_t count_in(const std::string& show, const std::string& label) {
  for (const std::string& line : lines_of(show)) {
    std::string trimmed = line.substr(line.find_first_not_of(' '));
    if (trimmed.rfind(label, 0) == 0 && trimmed.size() > label.size() &&
        trimmed[label.size()] == ' ')
      return std::stoull(trimmed.substr(trimmed.find_last_of(' ') + 1));
  }
  FAIL("no line '" << label << "' in:\n" << show);
  return 0;
}

// The "new: ..." lines of a refresh, as the URLs between < and >.
std::set<std::string> new_urls(const std::string& out) {
  std::set<std::string> urls;
  for (const std::string& line : lines_of(out)) {
    if (line.rfind("new: ", 0) != 0) continue;
    size_t open = line.rfind('<');
    REQUIRE(open != std::string::npos);
    REQUIRE(line.back() == '>');
    urls.insert(line.substr(open + 1, line.size() - open - 2));
  }
  return urls;
}

// RIS as the tests read it: "XX  - value" lines from TY to ER, CRLF.
using RisRecord = std::multimap<std::string, std::string>;
std::vector<RisRecord> parse_ris(const std::string& text) {
  std::vector<RisRecord> records;
  std::optional<RisRecord> current;
  for (std::string line : lines_of(text)) {
    REQUIRE(!line.empty());
    REQUIRE(line.back() == '\r');
    line.pop_back();
    if (line.empty()) continue;
    INFO(line);
    REQUIRE(line.size() >= 6);
    REQUIRE(line.substr(2, 4) == "  - ");
    std::string tag = line.substr(0, 2);
    if (tag == "TY") {
      REQUIRE_FALSE(current);
      current.emplace();
    }
    REQUIRE(current);
    if (tag == "ER") {
      records.push_back(*current);
      current.reset();
    } else {
      current->emplace(tag, line.substr(6));
    }
  }
  REQUIRE_FALSE(current);
  return records;
}

std::string ris_value(const RisRecord& record, const std::string& tag) {
  auto it = record.find(tag);
  return it == record.end() ? "" : it->second;
}

std::vector<std::string> ris_values(const RisRecord& record, const std::string& tag) {
  std::vector<std::string> out;
  auto [begin, end] = record.equal_range(tag);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

const RisRecord& ris_by_url(const std::vector<RisRecord>& records, const std::string& url) {
  for (const RisRecord& record : records)
    if (ris_value(record, "UR") == url) return record;
  FAIL("no RIS record for " << url);
  return records.front();
}

// BibTeX entries: type, key and raw field values (braces balanced).
struct BibEntry {
  std::string type, key;
  std::map<std::string, std::string> fields;
};

std::vector<BibEntry> parse_bibtex(const std::string& text) {
  std::vector<BibEntry> entries;
  size_t i = 0;
  auto space = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  auto word = [&] {
    size_t start = i;
    while (i < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '-' || text[i] == '_'))
      ++i;
    return text.substr(start, i - start);
  };
  for (space(); i < text.size(); space()) {
    REQUIRE(text[i++] == '@');
    BibEntry entry;
    entry.type = word();
    REQUIRE(text[i++] == '{');
    entry.key = word();
    REQUIRE_FALSE(entry.key.empty());
    for (;;) {
      space();
      if (text[i] == '}') break;
      REQUIRE(text[i++] == ',');
      space();
      if (text[i] == '}') break;
      std::string name = word();
      space();
      REQUIRE(text[i++] == '=');
      space();
      std::string value;
      if (text[i] == '{') {
        int depth = 0;
        size_t start = i;
        do {
          REQUIRE(i < text.size());
          if (text[i] == '\\') {
            i += 2;
            continue;
          }
          depth += text[i] == '{' ? 1 : text[i] == '}' ? -1 : 0;
          ++i;
        } while (depth > 0);
        value = text.substr(start + 1, i - start - 2);
      } else {
        value = word();
      }
      entry.fields[name] = value;
    }
    ++i;
    entries.push_back(entry);
  }
  return entries;
}

}  // namespace

TEST_CASE("a collection is built from queries, screened, refreshed and exported",
          "[collection-cli]") {
  Workspace w;
  std::string created = w.ok({"create", "crps", "--description", "ketamine for CRPS", "--query",
                              "ketamine", "--query", "CRPS"});
  CHECK(created.find("created collection 'crps'") != std::string::npos);
  CHECK(std::filesystem::exists(w.dir / "collections.sqlite"));  // beside the index

  std::string show = w.ok({"show", "crps"});
  uint64_t first_items = count_in(show, "records in the collection");
  CHECK(first_items >= 10);
  CHECK(count_in(show, "records identified") == first_items + count_in(show, "duplicates removed"));
  CHECK(count_in(show, "not yet screened") == first_items);
  CHECK(show.find(kFibromyalgiaRct) != std::string::npos);

  // Screening: items named by DOI and by URL.
  w.ok({"mark", "crps", "10.5555/ctpm.2024.0122", "include", "--reason", "RCT"});
  w.ok({"mark", "crps", kCrpsBasics, "exclude", "--reason", "patient leaflet"});
  w.ok({"note", "crps", kFibromyalgiaRct, "fibromyalgia,", "not CRPS: check"});
  w.ok({"tag", "crps", kFibromyalgiaRct, "rct", "adults"});
  show = w.ok({"show", "crps"});
  CHECK(count_in(show, "records screened") == 2);
  CHECK(count_in(show, "included") == 1);
  CHECK(count_in(show, "excluded") == 1);
  CHECK(count_in(show, "patient leaflet") == 1);
  std::string included = w.ok({"show", "crps", "--status", "include"});
  CHECK(included.find(kFibromyalgiaRct) != std::string::npos);
  CHECK(included.find(kCrpsBasics) == std::string::npos);
  CHECK(included.find("1 include items") != std::string::npos);
  CHECK(included.find("note: fibromyalgia, not CRPS: check") != std::string::npos);

  // Nothing is new until the index changes.
  CHECK(new_urls(w.ok({"refresh", "crps"})).empty());
  ProcessResult indexed = run_process({bin_path("medindex"), "--db", w.index, "--quiet",
                                       source_path("fixtures/collection-update")});
  INFO(indexed.err);
  REQUIRE(indexed.exit_code == 0);
  const std::set<std::string> two_new = {kOralKetamine, kFlareDiary};
  std::string dry = w.ok({"refresh", "crps", "--dry-run"});
  CHECK(new_urls(dry) == two_new);
  CHECK(dry.find("2 new since") != std::string::npos);
  CHECK(count_in(w.ok({"show", "crps"}), "records in the collection") == first_items);
  std::string refreshed = w.ok({"refresh", "crps"});
  CHECK(new_urls(refreshed) == two_new);  // exactly the two new pages, each once
  CHECK(count_in(w.ok({"show", "crps"}), "records in the collection") == first_items + 2);
  CHECK(new_urls(w.ok({"refresh", "crps"})).empty());

  SECTION("RIS") {
    auto records = parse_ris(w.ok({"export", "crps", "--format", "ris"}));
    CHECK(records.size() == first_items + 2);
    const RisRecord& article = ris_by_url(records, kOralKetamine);
    CHECK(ris_value(article, "TY") == "JOUR");
    CHECK(ris_values(article, "AU") ==
          std::vector<std::string>{"Okonkwo-Hale, Beatrix", "Ågaard, Søren", "Whitfield, J."});
    CHECK(ris_value(article, "T2") == "CRPS & Neuropathic Pain Reports");
    CHECK(ris_value(article, "DA") == "2025/03/11/");
    CHECK(ris_value(article, "DO") == "10.5555/cnpr.2025.0311");
    CHECK(ris_value(article, "AN") == "39990311");
    auto keywords = ris_values(article, "KW");
    CHECK(std::find(keywords.begin(), keywords.end(), "ketamine") != keywords.end());
    CHECK(ris_value(article, "Y2").size() == 11);  // YYYY/MM/DD/
    const RisRecord& blog = ris_by_url(records, kFlareDiary);
    CHECK(ris_value(blog, "TY") == "BLOG");
    CHECK(ris_values(blog, "AU") == std::vector<std::string>{"Raman, Priya"});
    CHECK(ris_value(blog, "T2") == "Riverside Pain & Infusion Clinic");
    for (const RisRecord& record : records) {
      std::string type = ris_value(record, "TY");
      CHECK((type == "JOUR" || type == "BLOG" || type == "ELEC"));
      CHECK_FALSE(ris_value(record, "TI").empty());
    }
  }
  SECTION("CSL-JSON") {
    auto parsed = parse_json(w.ok({"export", "crps", "--format", "csljson"}));
    REQUIRE(parsed);
    REQUIRE(parsed->is_array());
    CHECK(parsed->items().size() == first_items + 2);
    std::set<std::string> ids;
    bool found_article = false;
    for (const JsonValue& entry : parsed->items()) {
      std::string type = entry.text("type");
      CHECK((type == "article-journal" || type == "post-weblog" || type == "webpage"));
      CHECK(ids.insert(entry.text("id")).second);
      REQUIRE(entry.find("accessed"));
      CHECK(entry.find("accessed")->find("date-parts")->items()[0].items()[0].is_number());
      if (entry.text("URL") != kOralKetamine) continue;
      found_article = true;
      CHECK(type == "article-journal");
      CHECK(entry.text("container-title") == "CRPS & Neuropathic Pain Reports");
      CHECK(entry.text("DOI") == "10.5555/cnpr.2025.0311");
      CHECK(entry.text("PMID") == "39990311");
      const auto& authors = entry.find("author")->items();
      REQUIRE(authors.size() == 3);
      CHECK(authors[0].text("family") == "Okonkwo-Hale");
      CHECK(authors[0].text("given") == "Beatrix");
      const auto& issued = entry.find("issued")->find("date-parts")->items()[0].items();
      REQUIRE(issued.size() == 3);
      CHECK(issued[0].as_number() == 2025);
      CHECK(issued[2].as_number() == 11);
    }
    CHECK(found_article);
  }
  SECTION("BibTeX") {
    auto entries = parse_bibtex(w.ok({"export", "crps", "--format", "bibtex"}));
    CHECK(entries.size() == first_items + 2);
    std::set<std::string> keys;
    for (const BibEntry& entry : entries) {
      CHECK((entry.type == "article" || entry.type == "online"));
      CHECK(keys.insert(entry.key).second);
      if (entry.fields.count("url") && entry.fields.at("url") == kOralKetamine) {
        CHECK(entry.type == "article");
        CHECK(entry.key == "okonkwohale2025oral");
        CHECK(entry.fields.at("journal") == "CRPS \\& Neuropathic Pain Reports");
      }
    }
    // The keys are the same when only the included items are exported.
    auto included_entries =
        parse_bibtex(w.ok({"export", "crps", "--format", "bibtex", "--status", "include"}));
    REQUIRE(included_entries.size() == 1);
    CHECK(keys.count(included_entries[0].key) == 1);
  }
  SECTION("CSV") {
    auto rows = parse_csv(w.ok({"export", "crps", "--format", "csv"}));
    REQUIRE(rows.size() == first_items + 3);
    CHECK(rows[0][0] == "item");
    CHECK(rows[0][2] == "status");
    size_t includes = 0;
    for (size_t i = 1; i < rows.size(); ++i) {
      CHECK(rows[i].size() == rows[0].size());
      includes += rows[i][2] == "include";
    }
    CHECK(includes == 1);
  }
  SECTION("JSON Lines, with the index revision each item came from") {
    auto items = lines_of(w.ok({"export", "crps", "--format", "jsonl"}));
    CHECK(items.size() == first_items + 2);
    std::set<std::string> revisions;
    std::string new_revision;
    for (const std::string& line : items) {
      auto parsed = parse_json(line);
      REQUIRE(parsed);
      CHECK(parsed->text("index_revision").find('@') != std::string::npos);
      revisions.insert(parsed->text("index_revision"));
      if (parsed->text("url") == kFlareDiary) new_revision = parsed->text("index_revision");
    }
    CHECK(revisions.size() == 2);  // before and after the second medindex
    CHECK_FALSE(new_revision.empty());
  }
  SECTION("to a file, only the included, and imported back") {
    std::string path = w.dir / "included.ris";
    ProcessResult r =
        w.collection({"export", "crps", "--format", "ris", "--status", "include", "-o", path});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.empty());
    auto records = parse_ris(read_file(path));
    REQUIRE(records.size() == 1);
    CHECK(ris_value(records[0], "UR") == kFibromyalgiaRct);

    std::string all = w.dir / "all.ris";
    w.ok({"export", "crps", "--format", "ris", "-o", all});
    std::string imported = w.ok({"import", "seeded", all});
    CHECK(imported.find("created collection 'seeded'") != std::string::npos);
    CHECK(imported.find(std::to_string(first_items + 2) + " added") != std::string::npos);
    // The seeded collection exports what was imported (notes are not part of RIS records).
    auto original = parse_ris(read_file(all));
    auto again = parse_ris(w.ok({"export", "seeded", "--format", "ris"}));
    REQUIRE(again.size() == original.size());
    for (size_t i = 0; i < original.size(); ++i) {
      original[i].erase("N1");
      CHECK(again[i] == original[i]);
    }
    // Importing the same file again adds nothing.
    CHECK(w.ok({"import", "seeded", all}).find(" 0 added") != std::string::npos);
  }
}

TEST_CASE("two processes adding to one collection at once lose nothing", "[collection-cli]") {
  Workspace w;
  w.ok({"create", "shared"});
  std::vector<std::string> articles, pages;
  // ketamine-crps-review.html is not here: medindex keeps one of two exact copies.
  for (const char* name :
       {"ketamine-crps-review-print.html", "ketamine-fibromyalgia-rct.html",
        "ketamine-neuropathic-pain-trial.html", "ketamine-ptsd-chronic-pain-case.html",
        "nmda-receptors-central-pain-review.html"})
    articles.push_back(file_url(std::string("site/articles/") + name));
  for (const char* folder : {"fixtures/site/blog", "fixtures/site/learn"})
    for (const auto& entry : std::filesystem::directory_iterator(source_path(folder)))
      if (entry.path().extension() == ".html" && entry.path().filename() != "index.html")
        pages.push_back("file://" + entry.path().string());
  REQUIRE(articles.size() >= 4);
  REQUIRE(pages.size() >= 10);
  // Each process adds its documents one command at a time, so the two
  // interleave their transactions.
  auto script = [&](const std::vector<std::string>& urls) {
    std::string text = "set -e\n";
    for (const std::string& url : urls)
      text += "'" + bin_path("medsearch") + "' collection --db '" + w.index + "' add shared '" +
              url + "' > /dev/null\n";
    return text;
  };
  std::ofstream(w.dir / "a.sh") << script(articles);
  std::ofstream(w.dir / "b.sh") << script(pages);
  BackgroundProcess a({"/bin/sh", w.dir / "a.sh"}, w.dir / "a.out");
  BackgroundProcess b({"/bin/sh", w.dir / "b.sh"}, w.dir / "b.out");
  int a_status = a.wait(), b_status = b.wait();
  INFO(read_file(w.dir / "a.out") << read_file(w.dir / "b.out"));
  CHECK(a_status == 0);
  CHECK(b_status == 0);
  std::set<std::string> urls;
  for (const std::string& line : lines_of(w.ok({"export", "shared", "--format", "jsonl"}))) {
    auto parsed = parse_json(line);
    REQUIRE(parsed);
    urls.insert(parsed->text("url"));
  }
  // A record with the DOI or PMID of an item is counted as a duplicate, not added.
  size_t duplicates = count_in(w.ok({"show", "shared"}), "duplicates removed");
  CHECK(urls.size() + duplicates == articles.size() + pages.size());
  for (const std::string& url : pages) CHECK(urls.count(url) == 1);
}

TEST_CASE("bad input exits 2 with one line and keeps what was stored", "[collection-cli]") {
  Workspace w;
  w.ok({"create", "c", "--query", "ketamine", "--top", "5"});
  w.ok({"mark", "c", kFibromyalgiaRct, "include"});
  std::string before = w.ok({"export", "c", "--format", "jsonl"});
  std::string not_ris = w.dir / "notes.txt";
  std::ofstream(not_ris) << "just some notes\n";
  struct Case {
    std::vector<std::string> args;
    const char* error;
  };
  const Case errors[] = {
      {{"frobnicate", "c"}, "unknown collection command 'frobnicate'"},
      {{"create", "c"}, "a collection named 'c' exists"},
      {{"create", ""}, "a collection name cannot be empty"},
      {{"show", "nothing"}, "no collection named 'nothing'"},
      {{"mark", "c", kFibromyalgiaRct, "yes"}, "mark wants include, exclude, maybe or unscreened"},
      {{"mark", "c", "https://nowhere.example/", "include"}, "has no item"},
      {{"note", "c", kFibromyalgiaRct}, "usage: medsearch collection note NAME URL TEXT"},
      {{"add", "c", kCrpsBasics, "https://nowhere.example/"}, "no document with the URL"},
      {{"add", "c", "--query", "x", kCrpsBasics}, "give --query or documents, not both"},
      {{"remove", "c", kFibromyalgiaRct, "https://nowhere.example/"}, "has no item"},
      {{"export", "c", "--format", "endnote"},
       "--format must be ris, csljson, bibtex, csv or jsonl"},
      {{"export", "c"}, "export needs --format"},
      {{"export", "c", "--format", "ris", "--status", "good"}, "--status must be include"},
      {{"import", "c", not_ris}, "line 1: expected a RIS tag"},
      {{"import", "c", w.dir / "missing.ris"}, "cannot read"},
      {{"rename", "c"}, "usage: medsearch collection rename"},
      {{"refresh", "c", "--reason", "x"}, "--reason does not go with 'refresh'"},
      {{"add", "c", "--query", "ketamine", "--top", "0"}, "--top must be between 1 and 1000"},
  };
  for (const Case& c : errors) {
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    INFO(joined);
    ProcessResult r = w.collection(c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("medsearch: error: ", 0) == 0);
    CHECK(r.err.find(c.error) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK(w.ok({"export", "c", "--format", "jsonl"}) == before);

  // A collections file that is something else is an error (1), and is left alone.
  std::string foreign = w.dir / "foreign.sqlite";
  std::ofstream(foreign) << "This is not a database, and it must survive being opened.\n";
  ProcessResult r = run_process({bin_path("medsearch"), "collection", "--db", w.index,
                                 "--collections", foreign, "create", "x"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("is not a medsearch collections file") != std::string::npos);
  CHECK(read_file(foreign) == "This is not a database, and it must survive being opened.\n");
}

TEST_CASE("the collections option puts the store elsewhere and reading commands create nothing",
          "[collection-cli]") {
  Workspace w;
  std::string elsewhere = w.dir / "mine.sqlite";
  ProcessResult list = w.collection({"--collections", elsewhere, "list"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.empty());
  ProcessResult show = w.collection({"--collections", elsewhere, "show", "c"});
  CHECK(show.exit_code == 2);
  CHECK_FALSE(std::filesystem::exists(elsewhere));
  w.ok({"--collections", elsewhere, "create", "c", "--description", "mine"});
  CHECK(std::filesystem::exists(elsewhere));
  CHECK_FALSE(std::filesystem::exists(w.dir / "collections.sqlite"));
  CHECK(w.ok({"--collections", elsewhere, "list"}).rfind("c\t0 items\t0 queries", 0) == 0);
  w.ok({"--collections", elsewhere, "rename", "c", "d"});
  w.ok({"--collections", elsewhere, "delete", "d"});
  CHECK(w.ok({"--collections", elsewhere, "list"}).empty());
}
