// Citation exports read back as reference managers read them: RIS and BibTeX
// through small parsers written here, CSL-JSON through the project's JSON
// parser with CSL's field names and types; RIS import round-trips export.
#include "medsearch/citation_export.h"

#include <catch2/catch.hpp>
#include <set>
#include <sstream>

#include "medsearch/json.h"

using namespace medsearch;

namespace {

CollectionItem item(int64_t id, const std::string& type, const std::string& title,
                    std::vector<std::string> authors, const std::string& date) {
  CollectionItem out;
  out.id = id;
  Document& doc = out.snapshot.doc;
  doc.type = type;
  doc.title = title;
  doc.authors = std::move(authors);
  doc.date = date;
  doc.url = "https://clinic.example/" + std::to_string(id) + ".html";
  doc.id = doc.url;
  doc.site = "clinic.example";
  doc.site_name = "Riverside Pain & Infusion Clinic";
  out.snapshot.key = doc.url;
  out.snapshot.accessed = "2024-05-01";
  out.snapshot.index_revision = "uuid@3";
  out.status = ScreeningStatus::kInclude;
  return out;
}

// A research article, a clinic blog post and another page, with the
// characters that each format must escape.
std::vector<CollectionItem> sample_items() {
  CollectionItem article = item(
      1, "research", "Low-dose ketamine & CRPS: a 50% reduction in pain_scores {trial}",
      {"Alicia M. Torres", "Whitfield, Jonas", "Smith JA", "Ludwig van Beethoven"}, "2023-04-17");
  article.snapshot.doc.journal = "Journal of Regional Pain $tudies #4";
  article.snapshot.doc.doi = "10.5555/jrps.2023.0417";
  article.snapshot.doc.pmid = "31234567";
  article.snapshot.doc.evidence = "rct";
  article.snapshot.doc.description = "Background: ketamine\nis an NMDA antagonist; ~0.35 mg/kg^1.";
  article.snapshot.concepts = {"Complex regional pain syndrome", "Ketamine"};
  CollectionItem blog = item(2, "clinic", "What \"central sensitisation\" means for you",
                             {"Nadia Cortez, PharmD"}, "2025-02");
  CollectionItem page = item(3, "other", "Visiting the clinic", {"Riverside Pain Clinic"}, "");
  page.snapshot.doc.site_name.clear();
  return {article, blog, page};
}

// A RIS reader for the tests: records of "XX  - value" lines from TY to ER.
using RisRecord = std::multimap<std::string, std::string>;
std::vector<RisRecord> parse_ris(const std::string& text) {
  std::vector<RisRecord> records;
  std::istringstream in(text);
  std::optional<RisRecord> current;
  for (std::string line; std::getline(in, line);) {
    REQUIRE(!line.empty());
    REQUIRE(line.back() == '\r');  // CRLF, as the RIS specification says
    line.pop_back();
    if (line.empty()) continue;
    INFO(line);
    REQUIRE(line.size() >= 6);
    REQUIRE(line.substr(2, 4) == "  - ");
    std::string tag = line.substr(0, 2), value = line.substr(6);
    if (tag == "TY") {
      REQUIRE_FALSE(current);
      current.emplace();
    }
    REQUIRE(current);
    if (tag == "ER") {
      CHECK(value.empty());
      records.push_back(*current);
      current.reset();
      continue;
    }
    CHECK_FALSE(value.empty());
    current->emplace(tag, value);
  }
  REQUIRE_FALSE(current);
  return records;
}

std::vector<std::string> values(const RisRecord& record, const std::string& tag) {
  std::vector<std::string> out;
  auto [begin, end] = record.equal_range(tag);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

std::string value(const RisRecord& record, const std::string& tag) {
  auto all = values(record, tag);
  REQUIRE(all.size() <= 1);
  return all.empty() ? "" : all[0];
}

// A BibTeX reader for the tests: @type{key, name = {value} or name = word, ...}
// with balanced braces; values are unescaped (\& -> &, \textasciitilde{} -> ~).
struct BibEntry {
  std::string type, key;
  std::map<std::string, std::string> fields;
};

std::string bibtex_unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      for (auto [command, plain] : {std::pair<std::string, std::string>{"textbackslash{}", "\\"},
                                    {"textasciitilde{}", "~"},
                                    {"textasciicircum{}", "^"}}) {
        if (text.compare(i + 1, command.size(), command) == 0) {
          out += plain;
          i += command.size();
          goto next;
        }
      }
      REQUIRE(i + 1 < text.size());
      REQUIRE(std::string("{}&%$#_").find(text[i + 1]) != std::string::npos);
      out += text[++i];
    } else if (text[i] != '{' && text[i] != '}') {
      // An unescaped special character would break BibTeX.
      REQUIRE(std::string("&%$#_~^").find(text[i]) == std::string::npos);
      out += text[i];
    }
  next:;
  }
  return out;
}

std::vector<BibEntry> parse_bibtex(const std::string& text) {
  std::vector<BibEntry> entries;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  auto word = [&] {
    size_t start = i;
    while (i < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '-' || text[i] == '_'))
      ++i;
    return text.substr(start, i - start);
  };
  while (true) {
    skip_space();
    if (i >= text.size()) break;
    REQUIRE(text[i] == '@');
    ++i;
    BibEntry entry;
    entry.type = word();
    REQUIRE(text[i++] == '{');
    entry.key = word();
    REQUIRE(!entry.key.empty());
    while (true) {
      skip_space();
      if (text[i] == '}') {
        ++i;
        break;
      }
      REQUIRE(text[i++] == ',');
      skip_space();
      if (text[i] == '}') {
        ++i;
        break;
      }
      std::string name = word();
      REQUIRE(!name.empty());
      skip_space();
      REQUIRE(text[i++] == '=');
      skip_space();
      std::string raw;
      if (text[i] == '{') {
        int depth = 0;
        size_t start = i;
        do {
          REQUIRE(i < text.size());
          if (text[i] == '\\') {
            i += 2;
            continue;
          }
          if (text[i] == '{') ++depth;
          if (text[i] == '}') --depth;
          ++i;
        } while (depth > 0);
        raw = text.substr(start + 1, i - start - 2);
      } else {
        raw = word();
      }
      REQUIRE(entry.fields.count(name) == 0);
      entry.fields[name] = name == "url" || name == "doi" ? raw : bibtex_unescape(raw);
    }
    entries.push_back(entry);
  }
  return entries;
}

}  // namespace

TEST_CASE("author names are split into family and given names", "[citation]") {
  struct Case {
    const char* input;
    const char* family;
    const char* given;
    const char* suffix;
    bool literal;
  };
  const Case cases[] = {
      {"Alicia M. Torres", "Torres", "Alicia M.", "", false},
      {"Torres, Alicia M.", "Torres", "Alicia M.", "", false},
      {"Smith JA", "Smith", "J. A.", "", false},  // PubMed
      {"Li X", "Li", "X.", "", false},
      {"van der Berg JA", "van der Berg", "J. A.", "", false},
      {"Ludwig van Beethoven", "van Beethoven", "Ludwig", "", false},
      {"García Márquez, Gabriel", "García Márquez", "Gabriel", "", false},
      {"Mei-Ling Cho", "Cho", "Mei-Ling", "", false},
      {"Nadia Cortez, PharmD", "Cortez", "Nadia", "", false},
      {"Jane Roe, M.D., Ph.D.", "Roe", "Jane", "", false},
      {"Martin Luther King Jr.", "King", "Martin Luther", "Jr.", false},
      {"King, Martin Luther, Jr.", "King", "Martin Luther", "Jr.", false},
      {"Henry Ford III", "Ford", "Henry", "III", false},
      {"Wang, Ma", "Wang", "Ma", "", false},
      {"Plato", "Plato", "", "", false},
      {"  Alicia   Torres ", "Torres", "Alicia", "", false},
      {"Riverside Pain & Infusion Clinic", "Riverside Pain & Infusion Clinic", "", "", true},
      {"WHO Working Group", "WHO Working Group", "", "", true},
      {"", "", "", "", false},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    PersonName name = split_author_name(c.input);
    CHECK(name.family == c.family);
    CHECK(name.given == c.given);
    CHECK(name.suffix == c.suffix);
    CHECK(name.literal == c.literal);
  }
}

TEST_CASE("export formats are named as on the command line", "[citation]") {
  CHECK(parse_export_format("ris") == ExportFormat::kRis);
  CHECK(parse_export_format("csljson") == ExportFormat::kCslJson);
  CHECK(parse_export_format("csl-json") == ExportFormat::kCslJson);
  CHECK(parse_export_format("bibtex") == ExportFormat::kBibtex);
  CHECK(parse_export_format("csv") == ExportFormat::kCsv);
  CHECK(parse_export_format("jsonl") == ExportFormat::kJsonl);
  CHECK_FALSE(parse_export_format("RIS"));
  CHECK_FALSE(parse_export_format("endnote"));
}

TEST_CASE("RIS has the Zotero types, one AU per author and every field", "[citation]") {
  auto records = parse_ris(export_ris(sample_items()));
  REQUIRE(records.size() == 3);
  const RisRecord& article = records[0];
  CHECK(value(article, "TY") == "JOUR");
  CHECK(values(article, "AU") == std::vector<std::string>{"Torres, Alicia M.", "Whitfield, Jonas",
                                                          "Smith, J. A.", "van Beethoven, Ludwig"});
  CHECK(value(article, "TI") == "Low-dose ketamine & CRPS: a 50% reduction in pain_scores {trial}");
  CHECK(value(article, "T2") == "Journal of Regional Pain $tudies #4");
  CHECK(value(article, "DA") == "2023/04/17/");
  CHECK(value(article, "PY") == "2023");
  CHECK(value(article, "DO") == "10.5555/jrps.2023.0417");
  CHECK(value(article, "AN") == "31234567");
  CHECK(value(article, "UR") == "https://clinic.example/1.html");
  CHECK(value(article, "AB") == "Background: ketamine is an NMDA antagonist; ~0.35 mg/kg^1.");
  CHECK(values(article, "KW") ==
        std::vector<std::string>{"Complex regional pain syndrome", "Ketamine"});
  CHECK(value(article, "Y2") == "2024/05/01/");

  const RisRecord& blog = records[1];
  CHECK(value(blog, "TY") == "BLOG");
  CHECK(values(blog, "AU") == std::vector<std::string>{"Cortez, Nadia"});
  CHECK(value(blog, "T2") == "Riverside Pain & Infusion Clinic");
  CHECK(value(blog, "DA") == "2025/02//");
  CHECK(value(blog, "PY") == "2025");

  const RisRecord& page = records[2];
  CHECK(value(page, "TY") == "ELEC");
  CHECK(values(page, "AU") == std::vector<std::string>{"Riverside Pain Clinic"});
  CHECK(value(page, "T2") == "clinic.example");
  CHECK(value(page, "DA").empty());
  CHECK(value(page, "PY").empty());
}

TEST_CASE("RIS import reads back what export wrote", "[citation]") {
  std::vector<CollectionItem> items = sample_items();
  std::string exported = export_ris(items);
  auto imported = import_ris(exported);
  REQUIRE(imported);
  REQUIRE(imported->size() == items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const ItemSnapshot& original = items[i].snapshot;
    const ItemSnapshot& back = (*imported)[i];
    INFO(original.doc.title);
    CHECK(back.key == original.doc.url);
    CHECK(back.doc.type == original.doc.type);
    CHECK(back.doc.title == original.doc.title);
    CHECK(back.doc.date == original.doc.date);
    CHECK(back.doc.doi == original.doc.doi);
    CHECK(back.doc.pmid == original.doc.pmid);
    CHECK(back.doc.url == original.doc.url);
    CHECK(back.doc.site == "clinic.example");
    CHECK(back.concepts == original.concepts);
    CHECK(back.accessed == original.accessed);
    REQUIRE(back.doc.authors.size() == original.doc.authors.size());
    for (size_t a = 0; a < back.doc.authors.size(); ++a) {
      PersonName was = split_author_name(original.doc.authors[a]);
      PersonName is = split_author_name(back.doc.authors[a]);
      CHECK(is.family == was.family);
      CHECK(is.given == was.given);
    }
  }
  // Exported again, the imported records give the same file.
  std::vector<CollectionItem> again;
  for (size_t i = 0; i < imported->size(); ++i) {
    CollectionItem copy;
    copy.id = static_cast<int64_t>(i + 1);
    copy.snapshot = (*imported)[i];
    again.push_back(copy);
  }
  CHECK(export_ris(again) == exported);
}

TEST_CASE("RIS import reads files from other writers", "[citation]") {
  // LF line ends, a BOM, a wrapped abstract, PubMed's AN and a DOI as a link.
  std::string text =
      "\xEF\xBB\xBFTY  - JOUR\nA1  - Osei, Daniel\nT1  - Ketamine in CRPS\nJO  - Pain Rep\n"
      "PY  - 2021///\nDO  - https://doi.org/10.5555/ABC\nAN  - PMID: 999\nN2  - First part\n"
      "   second part\nER  - \n\nTY  - GEN\nTI  - A note\nER  -\n";
  auto records = import_ris(text);
  INFO((records ? "" : records.error()));
  REQUIRE(records);
  REQUIRE(records->size() == 2);
  const ItemSnapshot& first = (*records)[0];
  CHECK(first.doc.type == "research");
  CHECK(first.doc.authors == std::vector<std::string>{"Osei, Daniel"});
  CHECK(first.doc.journal == "Pain Rep");
  CHECK(first.doc.date == "2021");
  CHECK(first.doc.doi == "10.5555/abc");
  CHECK(first.doc.pmid == "999");
  CHECK(first.doc.description == "First part second part");
  CHECK(first.key == "doi:10.5555/abc");
  CHECK((*records)[1].doc.type == "other");
  CHECK((*records)[1].key.rfind("ris:", 0) == 0);
}

TEST_CASE("RIS import takes over-long digit runs as no date, not a crash", "[citation]") {
  // Found by fuzz/ris_fuzz.cc: stoi threw out_of_range on a 30-digit year.
  auto records = import_ris(
      "TY  - JOUR\nTI  - T\nDA  - 111111111111111111111111111111/01\n"
      "PY  - 2021/123/05\nER  - \n");
  INFO((records ? "" : records.error()));
  REQUIRE(records);
  REQUIRE(records->size() == 1);
  CHECK((*records)[0].doc.date.find("1111") == std::string::npos);
}

TEST_CASE("RIS import refuses malformed files with the line", "[citation]") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case errors[] = {
      {"", "no RIS records found"},
      {"@article{x,\n}\n", "line 1: expected a RIS tag"},
      {"TI  - no type\nER  - \n", "line 1: 'TI' before the record's TY line"},
      {"TY  - JOUR\nTI  - cut short\n", "record at line 1 has no ER line"},
      {"TY  - JOUR\nTI  - one\nTY  - JOUR\n", "line 3: a new record starts before the ER"},
      {"TY  - JOUR\nPY  - 2020\nER  - \n", "record at line 1 has no title, URL or DOI"},
  };
  for (const Case& c : errors) {
    INFO(c.text);
    auto records = import_ris(c.text);
    REQUIRE_FALSE(records);
    CHECK(records.error().find(c.error) != std::string::npos);
  }
}

TEST_CASE("CSL-JSON has the CSL field names and types", "[citation]") {
  std::vector<CollectionItem> items = sample_items();
  auto parsed = parse_json(export_csl_json(items, citation_keys(items)));
  REQUIRE(parsed);
  REQUIRE(parsed->is_array());
  REQUIRE(parsed->items().size() == 3);
  const std::set<std::string> known_fields = {
      "id",  "type", "title", "author",   "container-title", "issued",   "accessed",
      "DOI", "PMID", "URL",   "abstract", "keyword",         "language", "note"};
  std::set<std::string> ids;
  for (const JsonValue& entry : parsed->items()) {
    REQUIRE(entry.is_object());
    for (const auto& [name, member] : entry.members()) {
      INFO(name);
      CHECK(known_fields.count(name) == 1);
      if (name == "author") {
        REQUIRE(member.is_array());
        for (const JsonValue& person : member.items()) {
          REQUIRE(person.is_object());
          bool literal = person.find("literal") != nullptr;
          CHECK((literal || person.find("family")->is_string()));
          for (const auto& [part, text] : person.members()) {
            CHECK(std::set<std::string>{"family", "given", "suffix", "literal"}.count(part) == 1);
            CHECK(text.is_string());
          }
        }
      } else if (name == "issued" || name == "accessed") {
        REQUIRE(member.is_object());
        const JsonValue* parts = member.find("date-parts");
        REQUIRE(parts);
        REQUIRE(parts->items().size() == 1);
        REQUIRE_FALSE(parts->items()[0].items().empty());
        for (const JsonValue& part : parts->items()[0].items()) CHECK(part.is_number());
      } else {
        CHECK(member.is_string());
      }
    }
    CHECK(ids.insert(entry.text("id")).second);
  }
  const JsonValue& article = parsed->items()[0];
  CHECK(article.text("type") == "article-journal");
  CHECK(article.text("container-title") == "Journal of Regional Pain $tudies #4");
  CHECK(article.text("DOI") == "10.5555/jrps.2023.0417");
  CHECK(article.text("PMID") == "31234567");
  CHECK(article.text("URL") == "https://clinic.example/1.html");
  CHECK(article.text("keyword") == "Complex regional pain syndrome, Ketamine");
  const auto& authors = article.find("author")->items();
  REQUIRE(authors.size() == 4);
  CHECK(authors[2].text("family") == "Smith");
  CHECK(authors[2].text("given") == "J. A.");
  const auto& issued = article.find("issued")->find("date-parts")->items()[0].items();
  REQUIRE(issued.size() == 3);
  CHECK(issued[0].as_number() == 2023);
  CHECK(issued[1].as_number() == 4);
  CHECK(issued[2].as_number() == 17);
  const auto& accessed = article.find("accessed")->find("date-parts")->items()[0].items();
  CHECK(accessed.size() == 3);
  CHECK(parsed->items()[1].text("type") == "post-weblog");
  CHECK(parsed->items()[1].find("issued")->find("date-parts")->items()[0].items().size() == 2);
  const JsonValue& page = parsed->items()[2];
  CHECK(page.text("type") == "webpage");
  CHECK(page.find("issued") == nullptr);
  CHECK(page.find("author")->items()[0].text("literal") == "Riverside Pain Clinic");
}

TEST_CASE("BibTeX entries parse back, with special characters escaped", "[citation]") {
  std::vector<CollectionItem> items = sample_items();
  auto entries = parse_bibtex(export_bibtex(items, citation_keys(items)));
  REQUIRE(entries.size() == 3);
  const BibEntry& article = entries[0];
  CHECK(article.type == "article");
  CHECK(article.key == "torres2023lowdose");
  CHECK(article.fields.at("title") ==
        "Low-dose ketamine & CRPS: a 50% reduction in pain_scores {trial}");
  CHECK(article.fields.at("journal") == "Journal of Regional Pain $tudies #4");
  CHECK(article.fields.at("author") ==
        "Torres, Alicia M. and Whitfield, Jonas and Smith, J. A. and van Beethoven, Ludwig");
  CHECK(article.fields.at("year") == "2023");
  CHECK(article.fields.at("month") == "apr");
  CHECK(article.fields.at("doi") == "10.5555/jrps.2023.0417");
  CHECK(article.fields.at("pmid") == "31234567");
  CHECK(article.fields.at("urldate") == "2024-05-01");
  CHECK(article.fields.at("abstract") ==
        "Background: ketamine is an NMDA antagonist; ~0.35 mg/kg^1.");
  CHECK(article.fields.at("keywords") == "Complex regional pain syndrome, Ketamine");
  CHECK(entries[1].type == "online");
  CHECK(entries[1].key == "cortez2025central");
  CHECK(entries[1].fields.at("title") == "What \"central sensitisation\" means for you");
  CHECK(entries[2].type == "online");
  CHECK(entries[2].key == "riversidendvisiting");
  CHECK(entries[2].fields.at("author") == "Riverside Pain Clinic");  // braced whole
  CHECK(entries[2].fields.count("year") == 0);
}

TEST_CASE("BibTeX escapes every special character", "[citation]") {
  struct Case {
    const char* input;
    const char* escaped;
  };
  const Case cases[] = {
      {"plain words", "plain words"},
      {"A & B", "A \\& B"},
      {"50%", "50\\%"},
      {"$5 #1 a_b", "\\$5 \\#1 a\\_b"},
      {"{x}", "\\{x\\}"},
      {"~^", "\\textasciitilde{}\\textasciicircum{}"},
      {"a\\b", "a\\textbackslash{}b"},
      {"Müller", "Müller"},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    CHECK(bibtex_escape(c.input) == c.escaped);
  }
}

TEST_CASE("citation keys are unique and do not change as items come and go", "[citation]") {
  std::vector<CollectionItem> items = {
      item(1, "research", "Ketamine for pain", {"Torres, Alicia"}, "2023"),
      item(2, "research", "Ketamine for pain, again", {"Alicia Torres"}, "2023-05"),
      item(3, "research", "The ketamine question", {"Torres A"}, "2023"),
      item(4, "research", "Über Schmerz", {"Jürgen Groß"}, ""),
  };
  CitationKeys keys = citation_keys(items);
  CHECK(keys.at(1) == "torres2023ketamine");
  CHECK(keys.at(2) == "torres2023ketamineb");
  CHECK(keys.at(3) == "torres2023ketaminec");
  CHECK(keys.at(4) == "grossnduber");
  // Items given in another order, or with a new one added, keep their keys.
  std::vector<CollectionItem> reordered = {items[3], items[2], items[0], items[1],
                                           item(5, "research", "Ketamine", {"Torres, A."}, "2023")};
  CitationKeys again = citation_keys(reordered);
  for (int64_t id = 1; id <= 4; ++id) CHECK(again.at(id) == keys.at(id));
  CHECK(again.at(5) == "torres2023ketamined");
}

TEST_CASE("CSV has a header and one quoted record an item", "[citation]") {
  std::vector<CollectionItem> items = sample_items();
  items[0].note = "dose, \"0.35\"";
  items[0].tags = {"adults", "dose"};
  std::string csv = export_csv(items);
  std::istringstream in(csv);
  std::string header;
  std::getline(in, header);
  CHECK(header.rfind("item,key,status,reason,tags,note,title,authors,date,", 0) == 0);
  CHECK(header.back() == '\r');
  CHECK(csv.find("\"dose, \"\"0.35\"\"\"") != std::string::npos);
  CHECK(csv.find(",adults; dose,") != std::string::npos);
  CHECK(csv.find(",include,") != std::string::npos);
  // The abstract's line break stays inside its quoted field.
  CHECK(csv.find("\"Background: ketamine\nis an NMDA") != std::string::npos);
}

TEST_CASE("JSON Lines hold the snapshot and the screening, a line an item", "[citation]") {
  std::vector<CollectionItem> items = sample_items();
  items[1].tags = {"patients"};
  std::istringstream in(export_jsonl(items));
  size_t n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    auto parsed = parse_json(line);
    REQUIRE(parsed);
    ItemSnapshot back = snapshot_from_json(*parsed);
    const ItemSnapshot& original = items[n].snapshot;
    CHECK(back.key == original.key);
    CHECK(back.doc.title == original.doc.title);
    CHECK(back.doc.authors == original.doc.authors);
    CHECK(back.doc.description == original.doc.description);
    CHECK(back.concepts == original.concepts);
    CHECK(back.index_revision == "uuid@3");
    CHECK(parsed->text("status") == "include");
    CHECK(parsed->text("item") == std::to_string(items[n].id));
    CHECK(parsed->find("tags")->items().size() == items[n].tags.size());
  }
  CHECK(n == items.size());
}
