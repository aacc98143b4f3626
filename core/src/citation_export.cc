#include "medsearch/citation_export.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "medsearch/json.h"
#include "medsearch/output.h"
#include "medsearch/text.h"
#include "medsearch/url.h"

namespace medsearch {
namespace {

// Words that make an author an organisation, compared in lowercase.
const std::set<std::string> kOrganisationWords = {
    "agency",        "association",   "board",        "center",     "centre",     "clinic",
    "collaboration", "collaborative", "college",      "committee",  "consortium", "council",
    "department",    "editors",       "foundation",   "group",      "hospital",   "institute",
    "network",       "organisation",  "organization", "service",    "services",   "society",
    "staff",         "team",          "trust",        "university", "working"};

// Degrees and credentials written after a name, compared case-sensitively
// without dots ("Ph.D." is "PhD"), so that a given name "Ma" is not "MA".
const std::set<std::string> kCredentials = {
    "MD",   "PhD",   "PharmD", "RN",      "BSN",  "MSN",  "NP",  "FNP",  "DNP",   "DO",
    "DDS",  "DPT",   "PT",     "MPH",     "MS",   "MSc",  "BSc", "MBBS", "MBChB", "FRCP",
    "FRCA", "FACP",  "CRNA",   "PA",      "PA-C", "LPN",  "MA",  "BA",   "PsyD",  "LCSW",
    "RD",   "FRCPC", "FANZCA", "FFPMRCA", "MRCP", "DrPH", "MBA", "OT",   "OTR",   "CNS"};

const std::set<std::string> kSuffixes = {"Jr", "Jr.", "Sr", "Sr.", "II", "III", "IV"};

// Lowercase particles that begin a family name ("van Beethoven").
const std::set<std::string> kParticles = {"van", "von",   "de",  "der", "den", "da",  "di",
                                          "du",  "la",    "le",  "ten", "ter", "dos", "das",
                                          "del", "della", "des", "bin", "ibn", "al",  "el"};

std::string without_dots(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != '.') out.push_back(c);
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator, size_t begin,
                 size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < parts.size(); ++i) {
    if (i > begin) out += separator;
    out += parts[i];
  }
  return out;
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  for (const std::string& word : split(text, ' '))
    if (!word.empty()) out.push_back(word);
  return out;
}

// PubMed's initials: one to three capital ASCII letters ("J", "JA", "JAM").
bool is_initials(std::string_view word) {
  if (word.empty() || word.size() > 3) return false;
  return std::all_of(word.begin(), word.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool is_organisation(std::string_view name) {
  for (const std::string& word : words_of(name)) {
    std::string lower;
    for (char c : word)
      if (std::isalpha(static_cast<unsigned char>(c)))
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (kOrganisationWords.count(lower)) return true;
  }
  return false;
}

// "2023-04-17" -> {2023, 4, 17}; "2023-04" -> {2023, 4}; "" or junk -> {}.
std::vector<int> date_parts(std::string_view date) {
  std::vector<int> parts;
  for (const std::string& part : split(date, '-')) {
    if (part.empty() || part.size() > 4 ||
        part.find_first_not_of("0123456789") != std::string::npos)
      break;
    int value = std::stoi(part);
    if (value == 0) break;
    parts.push_back(value);
    if (parts.size() == 3) break;
  }
  return parts;
}

std::string two_digits(int value) {
  std::string out = std::to_string(value);
  return value < 10 ? "0" + out : out;
}

// RIS dates are "YYYY/MM/DD/other"; unknown parts stay empty ("2023/04//").
std::string ris_date(std::string_view date) {
  std::vector<int> parts = date_parts(date);
  if (parts.empty()) return "";
  std::string out = std::to_string(parts[0]) + "/";
  out += (parts.size() > 1 ? two_digits(parts[1]) : "") + "/";
  out += (parts.size() > 2 ? two_digits(parts[2]) : "") + "/";
  return out;
}

// "2023/04/17/" (or "2023/4/17", "2023") -> "2023-04-17" ("2023-04", "2023").
std::string date_from_ris(std::string_view value) {
  std::vector<std::string> parts = split(value, '/');
  std::string out;
  for (size_t i = 0; i < parts.size() && i < 3; ++i) {
    std::string part(trim(parts[i]));
    // A year has four digits, a month or day two: longer runs are not dates
    // (and would overflow stoi).
    if (part.empty() || part.size() > (i == 0 ? 4u : 2u) ||
        part.find_first_not_of("0123456789") != std::string::npos)
      break;
    int number = std::stoi(part);
    if (number == 0) break;
    out += i == 0 ? std::to_string(number) : "-" + two_digits(number);
  }
  return out;
}

// RIS values are one line.
std::string one_line(std::string_view text) { return collapse_whitespace(text); }

std::string container_of(const Document& doc) {
  if (!doc.journal.empty()) return doc.journal;
  if (!doc.site_name.empty()) return doc.site_name;
  return doc.site;
}

// Latin letters with diacritics (two-byte UTF-8) to ASCII, for citation keys.
std::string ascii_letters(std::string_view text) {
  static const std::pair<const char*, const char*> kFold[] = {
      {"à", "a"}, {"á", "a"}, {"â", "a"}, {"ã", "a"}, {"ä", "a"}, {"å", "a"}, {"ç", "c"},
      {"è", "e"}, {"é", "e"}, {"ê", "e"}, {"ë", "e"}, {"ì", "i"}, {"í", "i"}, {"î", "i"},
      {"ï", "i"}, {"ñ", "n"}, {"ò", "o"}, {"ó", "o"}, {"ô", "o"}, {"õ", "o"}, {"ö", "o"},
      {"ø", "o"}, {"ù", "u"}, {"ú", "u"}, {"û", "u"}, {"ü", "u"}, {"ý", "y"}, {"ß", "ss"},
      {"ł", "l"}, {"ś", "s"}, {"ź", "z"}, {"ż", "z"}, {"ć", "c"}, {"ń", "n"}, {"ę", "e"},
      {"ą", "a"}, {"š", "s"}, {"č", "c"}, {"ž", "z"}, {"ř", "r"}, {"ğ", "g"}, {"ı", "i"},
      {"À", "a"}, {"Á", "a"}, {"Â", "a"}, {"Ä", "a"}, {"Å", "a"}, {"Ç", "c"}, {"È", "e"},
      {"É", "e"}, {"Ê", "e"}, {"Í", "i"}, {"Ñ", "n"}, {"Ó", "o"}, {"Ö", "o"}, {"Ø", "o"},
      {"Ú", "u"}, {"Ü", "u"}, {"Ł", "l"}, {"Š", "s"}, {"Č", "c"}, {"Ž", "z"}, {"Ś", "s"}};
  std::string lower;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (std::isalnum(c)) lower.push_back(static_cast<char>(std::tolower(c)));
      ++i;
      continue;
    }
    bool folded = false;
    for (const auto& [from, to] : kFold) {
      std::string_view f(from);
      if (text.substr(i, f.size()) == f) {
        lower += to;
        i += f.size();
        folded = true;
        break;
      }
    }
    if (folded) continue;
    // Other letters are left out: skip the whole UTF-8 sequence.
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
  }
  return lower;
}

std::string key_base(const Document& doc) {
  static const std::set<std::string> kSkip = {
      "a",   "an",  "the", "of",  "on", "in",   "for",  "and",  "to",    "with", "what",
      "how", "why", "is",  "are", "do", "does", "your", "from", "about", "at",   "by"};
  std::string who;
  if (!doc.authors.empty()) {
    PersonName first = split_author_name(doc.authors.front());
    // An organisation is known by its first word ("Riverside Pain Clinic").
    std::vector<std::string> words = words_of(first.family);
    who = ascii_letters(first.literal && !words.empty() ? words[0] : first.family);
  }
  if (who.empty()) {
    std::vector<std::string> site = words_of(container_of(doc));
    for (const std::string& word : site) {
      who = ascii_letters(word);
      if (!who.empty() && !kSkip.count(who)) break;
    }
  }
  if (who.empty()) who = "anon";
  std::vector<int> date = date_parts(doc.date);
  std::string year = date.empty() ? "nd" : std::to_string(date[0]);
  std::string word;
  for (const std::string& candidate : words_of(doc.title)) {
    std::string ascii = ascii_letters(candidate);
    if (!ascii.empty() && !kSkip.count(ascii)) {
      word = ascii;
      break;
    }
  }
  return who.substr(0, 30) + year + word.substr(0, 20);
}

// BibTeX's braces must balance in URLs; they and spaces are percent-encoded.
std::string bibtex_url(std::string_view url) {
  std::string out;
  for (char c : url) {
    if (c == '{')
      out += "%7B";
    else if (c == '}')
      out += "%7D";
    else if (c == ' ')
      out += "%20";
    else if (c == '\\')
      out += "%5C";
    else
      out.push_back(c);
  }
  return out;
}

std::string bibtex_name(const PersonName& name) {
  if (name.literal) return "{" + bibtex_escape(name.family) + "}";
  std::string family = bibtex_escape(name.family);
  // A family name of several words that starts in capitals is kept whole.
  if (family.find(' ') != std::string::npos && !family.empty() &&
      std::isupper(static_cast<unsigned char>(family[0])))
    family = "{" + family + "}";
  std::string out = family;
  if (!name.suffix.empty()) out += ", " + bibtex_escape(name.suffix);
  if (!name.given.empty()) out += ", " + bibtex_escape(name.given);
  return out;
}

void write_csl_date(JsonWriter& out, const std::vector<int>& parts) {
  out.begin_object().key("date-parts").begin_array().begin_array();
  for (int part : parts) out.value(part);
  out.end_array().end_array().end_object();
}

std::string join_tags(const std::vector<std::string>& tags) {
  std::string out;
  for (const std::string& tag : tags) out += (out.empty() ? "" : "; ") + tag;
  return out;
}

}  // namespace

PersonName split_author_name(std::string_view raw) {
  PersonName out;
  std::string name = collapse_whitespace(raw);
  if (name.empty()) return out;
  if (name.find(',') == std::string::npos && is_organisation(name)) {
    out.family = name;
    out.literal = true;
    return out;
  }
  std::vector<std::string> parts;
  for (const std::string& part : split(name, ',')) {
    std::string clean(trim(part));
    if (!clean.empty()) parts.push_back(clean);
  }
  while (parts.size() > 1 && kCredentials.count(without_dots(parts.back()))) parts.pop_back();
  if (parts.size() > 1 && kSuffixes.count(parts.back())) {
    out.suffix = parts.back();
    parts.pop_back();
  }
  if (parts.size() >= 2) {  // "Last, First"
    out.family = parts[0];
    out.given = join(parts, " ", 1, parts.size());
    return out;
  }
  std::vector<std::string> words = words_of(parts.empty() ? name : parts[0]);
  while (words.size() > 2 && kCredentials.count(without_dots(words.back()))) words.pop_back();
  if (words.size() >= 2 && out.suffix.empty()) {
    const std::string& last = words.back();
    bool roman = last == "II" || last == "III" || last == "IV";
    if ((kSuffixes.count(last) && !roman) || (roman && words.size() >= 3)) {
      out.suffix = last;
      words.pop_back();
    }
  }
  if (words.size() == 1) {
    out.family = words[0];
    return out;
  }
  if (words.size() >= 2 && is_initials(words.back())) {  // PubMed: "Smith JA"
    out.family = join(words, " ", 0, words.size() - 1);
    for (char initial : words.back()) {
      if (!out.given.empty()) out.given += " ";
      out.given += std::string(1, initial) + ".";
    }
    return out;
  }
  size_t family_start = words.size() - 1;
  for (size_t i = 1; i + 1 < words.size(); ++i) {
    if (kParticles.count(words[i])) {
      family_start = i;
      break;
    }
  }
  out.given = join(words, " ", 0, family_start);
  out.family = join(words, " ", family_start, words.size());
  return out;
}

std::optional<ExportFormat> parse_export_format(std::string_view text) {
  if (text == "ris") return ExportFormat::kRis;
  if (text == "csljson" || text == "csl-json") return ExportFormat::kCslJson;
  if (text == "bibtex") return ExportFormat::kBibtex;
  if (text == "csv") return ExportFormat::kCsv;
  if (text == "jsonl") return ExportFormat::kJsonl;
  return std::nullopt;
}

std::string ris_type(const Document& doc) {
  if (doc.type == "research") return "JOUR";
  if (doc.type == "clinic") return "BLOG";
  return "ELEC";
}

std::string csl_type(const Document& doc) {
  if (doc.type == "research") return "article-journal";
  if (doc.type == "clinic") return "post-weblog";
  return "webpage";
}

CitationKeys citation_keys(const std::vector<CollectionItem>& all_items) {
  std::vector<const CollectionItem*> by_id;
  for (const CollectionItem& item : all_items) by_id.push_back(&item);
  std::sort(by_id.begin(), by_id.end(),
            [](const CollectionItem* a, const CollectionItem* b) { return a->id < b->id; });
  CitationKeys keys;
  std::set<std::string> taken;
  for (const CollectionItem* item : by_id) {
    std::string base = key_base(item->snapshot.doc);
    std::string key = base;
    // "b" for the second item with this base, then "c", ..., "z", "ba", ...
    for (size_t n = 1; taken.count(key); ++n) {
      std::string suffix;
      for (size_t rest = n; rest > 0; rest /= 26)
        suffix.insert(suffix.begin(), static_cast<char>('a' + rest % 26));
      key = base + suffix;
    }
    taken.insert(key);
    keys[item->id] = key;
  }
  return keys;
}

std::string bibtex_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\textbackslash{}";
        break;
      case '{':
      case '}':
      case '&':
      case '%':
      case '$':
      case '#':
      case '_':
        out.push_back('\\');
        out.push_back(c);
        break;
      case '~':
        out += "\\textasciitilde{}";
        break;
      case '^':
        out += "\\textasciicircum{}";
        break;
      case '\n':
      case '\r':
      case '\t':
        out.push_back(' ');
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string export_ris(const std::vector<CollectionItem>& items) {
  std::string out;
  auto line = [&](const char* tag, std::string_view value) {
    std::string clean = one_line(value);
    if (!clean.empty()) out += std::string(tag) + "  - " + clean + "\r\n";
  };
  for (const CollectionItem& item : items) {
    const ItemSnapshot& snapshot = item.snapshot;
    const Document& doc = snapshot.doc;
    out += "TY  - " + ris_type(doc) + "\r\n";
    for (const std::string& author : doc.authors) {
      PersonName name = split_author_name(author);
      if (name.literal || name.given.empty()) {
        line("AU", name.family);
      } else {
        line("AU",
             name.family + ", " + name.given + (name.suffix.empty() ? "" : ", " + name.suffix));
      }
    }
    line("TI", doc.title);
    line("T2", container_of(doc));
    line("DA", ris_date(doc.date));
    std::vector<int> parts = date_parts(doc.date);
    if (!parts.empty()) line("PY", std::to_string(parts[0]));
    line("DO", doc.doi);
    line("AN", doc.pmid);
    line("UR", doc.url);
    line("AB", doc.description);
    for (const std::string& concept_name : snapshot.concepts) line("KW", concept_name);
    line("LA", doc.language);
    line("Y2", ris_date(snapshot.accessed));
    line("N1", item.note);
    out += "ER  - \r\n\r\n";
  }
  return out;
}

std::string export_csl_json(const std::vector<CollectionItem>& items, const CitationKeys& keys) {
  JsonWriter out;
  out.begin_array();
  for (const CollectionItem& item : items) {
    const ItemSnapshot& snapshot = item.snapshot;
    const Document& doc = snapshot.doc;
    out.begin_object();
    auto key = keys.find(item.id);
    out.key("id").value(key != keys.end() ? key->second : std::to_string(item.id));
    out.key("type").value(csl_type(doc));
    out.key("title").value(doc.title);
    if (!doc.authors.empty()) {
      out.key("author").begin_array();
      for (const std::string& author : doc.authors) {
        PersonName name = split_author_name(author);
        out.begin_object();
        if (name.literal) {
          out.key("literal").value(name.family);
        } else {
          out.key("family").value(name.family);
          if (!name.given.empty()) out.key("given").value(name.given);
          if (!name.suffix.empty()) out.key("suffix").value(name.suffix);
        }
        out.end_object();
      }
      out.end_array();
    }
    if (std::string container = container_of(doc); !container.empty())
      out.key("container-title").value(container);
    if (std::vector<int> issued = date_parts(doc.date); !issued.empty()) {
      out.key("issued");
      write_csl_date(out, issued);
    }
    if (std::vector<int> accessed = date_parts(snapshot.accessed); !accessed.empty()) {
      out.key("accessed");
      write_csl_date(out, accessed);
    }
    if (!doc.doi.empty()) out.key("DOI").value(doc.doi);
    if (!doc.pmid.empty()) out.key("PMID").value(doc.pmid);
    if (!doc.url.empty()) out.key("URL").value(doc.url);
    if (!doc.description.empty()) out.key("abstract").value(doc.description);
    if (!snapshot.concepts.empty()) {
      std::string keywords;
      for (const std::string& name : snapshot.concepts)
        keywords += (keywords.empty() ? "" : ", ") + name;
      out.key("keyword").value(keywords);
    }
    if (!doc.language.empty()) out.key("language").value(doc.language);
    if (!item.note.empty()) out.key("note").value(item.note);
    out.end_object();
  }
  out.end_array();
  return out.str() + "\n";
}

std::string export_bibtex(const std::vector<CollectionItem>& items, const CitationKeys& keys) {
  std::string out;
  for (const CollectionItem& item : items) {
    const ItemSnapshot& snapshot = item.snapshot;
    const Document& doc = snapshot.doc;
    bool article = doc.type == "research";
    auto key = keys.find(item.id);
    out += std::string(article ? "@article{" : "@online{") +
           (key != keys.end() ? key->second : "item" + std::to_string(item.id)) + ",\n";
    auto field = [&](const char* name, const std::string& value) {
      if (!value.empty()) out += "  " + std::string(name) + " = {" + value + "},\n";
    };
    std::string authors;
    for (const std::string& author : doc.authors)
      authors += (authors.empty() ? "" : " and ") + bibtex_name(split_author_name(author));
    field("author", authors);
    field("title", bibtex_escape(one_line(doc.title)));
    field(article ? "journal" : "organization", bibtex_escape(one_line(container_of(doc))));
    std::vector<int> parts = date_parts(doc.date);
    if (!parts.empty()) field("year", std::to_string(parts[0]));
    if (parts.size() > 1) {
      static const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                      "jul", "aug", "sep", "oct", "nov", "dec"};
      if (parts[1] >= 1 && parts[1] <= 12)
        out += "  month = " + std::string(kMonths[parts[1] - 1]) + ",\n";
    }
    if (!parts.empty()) field("date", doc.date.substr(0, 10));
    field("doi", bibtex_url(doc.doi));
    field("pmid", bibtex_escape(doc.pmid));
    field("url", bibtex_url(doc.url));
    field("urldate", snapshot.accessed);
    field("abstract", bibtex_escape(one_line(doc.description)));
    std::string keywords;
    for (const std::string& name : snapshot.concepts)
      keywords += (keywords.empty() ? "" : ", ") + name;
    field("keywords", bibtex_escape(keywords));
    field("language", bibtex_escape(doc.language));
    field("note", bibtex_escape(one_line(item.note)));
    out += "}\n\n";
  }
  return out;
}

std::string export_csv(const std::vector<CollectionItem>& items) {
  static const char* kColumns[] = {
      "item",     "key",      "status",   "reason",         "tags",   "note", "title", "authors",
      "date",     "type",     "evidence", "journal",        "site",   "url",  "doi",   "pmid",
      "concepts", "abstract", "accessed", "index_revision", "source", "added"};
  std::string out;
  for (size_t i = 0; i < std::size(kColumns); ++i) out += (i ? "," : "") + std::string(kColumns[i]);
  out += "\r\n";
  for (const CollectionItem& item : items) {
    const ItemSnapshot& snapshot = item.snapshot;
    const Document& doc = snapshot.doc;
    std::vector<std::string> row = {std::to_string(item.id),
                                    snapshot.key,
                                    std::string(to_string(item.status)),
                                    item.reason,
                                    join_tags(item.tags),
                                    item.note,
                                    doc.title,
                                    join_tags(doc.authors),
                                    doc.date,
                                    doc.type,
                                    doc.evidence,
                                    doc.journal,
                                    doc.site,
                                    doc.url,
                                    doc.doi,
                                    doc.pmid,
                                    join_tags(snapshot.concepts),
                                    doc.description,
                                    snapshot.accessed,
                                    snapshot.index_revision,
                                    item.source,
                                    item.added};
    for (size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + csv_field(row[i]);
    out += "\r\n";
  }
  return out;
}

std::string export_jsonl(const std::vector<CollectionItem>& items) {
  std::string out;
  for (const CollectionItem& item : items) {
    JsonWriter line;
    line.begin_object();
    line.key("item").value(static_cast<int64_t>(item.id));
    write_snapshot_members(line, item.snapshot);
    line.key("status").value(to_string(item.status));
    line.key("reason").value(item.reason);
    line.key("note").value(item.note);
    line.key("tags").value(item.tags);
    line.key("source").value(item.source);
    line.key("added").value(item.added);
    line.end_object();
    out += line.str() + "\n";
  }
  return out;
}

std::string export_items(ExportFormat format, const std::vector<CollectionItem>& items,
                         const CitationKeys& keys) {
  switch (format) {
    case ExportFormat::kRis:
      return export_ris(items);
    case ExportFormat::kCslJson:
      return export_csl_json(items, keys);
    case ExportFormat::kBibtex:
      return export_bibtex(items, keys);
    case ExportFormat::kCsv:
      return export_csv(items);
    case ExportFormat::kJsonl:
      return export_jsonl(items);
  }
  return "";
}

Result<std::vector<ItemSnapshot>> import_ris(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<ItemSnapshot> records;
  std::optional<ItemSnapshot> current;
  size_t record_line = 0;
  std::string* last_value = nullptr;  // where a continuation line goes
  size_t line_number = 0;
  for (std::string_view rest = text; !rest.empty();) {
    size_t end = rest.find('\n');
    std::string_view raw = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    ++line_number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string where = "line " + std::to_string(line_number);
    // "TY  - JOUR": two characters (capital or digit), two spaces, a dash.
    bool tagged = raw.size() >= 5 && std::isupper(static_cast<unsigned char>(raw[0])) &&
                  std::isalnum(static_cast<unsigned char>(raw[1])) && raw.substr(2, 3) == "  -";
    if (!tagged) {
      if (trim(raw).empty()) continue;
      if (!current) return fail(where + ": expected a RIS tag such as 'TY  - JOUR'");
      if (last_value) *last_value += " " + collapse_whitespace(raw);  // a wrapped value
      continue;
    }
    std::string tag(raw.substr(0, 2));
    std::string value = collapse_whitespace(raw.size() > 5 ? raw.substr(5) : std::string_view());
    if (tag == "TY") {
      if (current)
        return fail(where + ": a new record starts before the ER of the one at line " +
                    std::to_string(record_line));
      current.emplace();
      record_line = line_number;
      last_value = nullptr;
      if (value == "JOUR" || value == "EJOUR" || value == "JFULL" || value == "MGZN")
        current->doc.type = "research";
      else if (value == "BLOG")
        current->doc.type = "clinic";
      else
        current->doc.type = "other";
      continue;
    }
    if (!current) return fail(where + ": '" + tag + "' before the record's TY line");
    Document& doc = current->doc;
    last_value = nullptr;
    if (tag == "ER") {
      if (doc.title.empty() && doc.url.empty() && doc.doi.empty())
        return fail("record at line " + std::to_string(record_line) + " has no title, URL or DOI");
      std::string key;
      if (!doc.url.empty())
        key = doc.url;
      else if (!doc.doi.empty())
        key = "doi:" + doc.doi;
      else if (!doc.pmid.empty())
        key = "pmid:" + doc.pmid;
      else
        key = "ris:" + hex64(fnv1a64(doc.title + "\n" + doc.date + "\n" + join_tags(doc.authors)));
      current->key = key;
      doc.id = key;
      if (!doc.url.empty()) {
        if (auto url = parse_url(doc.url)) doc.site = url->host;
      }
      records.push_back(std::move(*current));
      current.reset();
    } else if (tag == "AU" || tag == "A1") {
      if (!value.empty()) doc.authors.push_back(value);
    } else if (tag == "TI" || tag == "T1") {
      doc.title = value;
      last_value = &doc.title;
    } else if (tag == "T2" || tag == "JO" || tag == "JF" || tag == "JA") {
      std::string& container = doc.type == "research" ? doc.journal : doc.site_name;
      if (container.empty() || tag == "T2") container = value;
    } else if (tag == "DA") {
      if (std::string date = date_from_ris(value); !date.empty()) doc.date = date;
    } else if (tag == "PY" || tag == "Y1") {
      std::string date = date_from_ris(value);
      if (doc.date.empty() || doc.date.size() < date.size()) doc.date = date;
    } else if (tag == "DO") {
      std::string doi = ascii_lower(value);
      for (std::string_view prefix : {"https://doi.org/", "http://doi.org/", "https://dx.doi.org/"})
        if (doi.rfind(prefix, 0) == 0) doi.erase(0, prefix.size());
      doc.doi = doi;
    } else if (tag == "AN") {
      std::string pmid = value.rfind("PMID:", 0) == 0 ? std::string(trim(value.substr(5))) : value;
      if (!pmid.empty() && pmid.find_first_not_of("0123456789") == std::string::npos)
        doc.pmid = pmid;
    } else if (tag == "UR") {
      if (doc.url.empty()) doc.url = value;
    } else if (tag == "AB" || tag == "N2") {
      if (doc.description.empty() || tag == "AB") doc.description = value;
      last_value = &doc.description;
    } else if (tag == "KW") {
      if (!value.empty()) current->concepts.push_back(value);
    } else if (tag == "Y2") {
      current->accessed = date_from_ris(value);
    } else if (tag == "LA") {
      doc.language = value;
    }
  }
  if (current)
    return fail("record at line " + std::to_string(record_line) +
                " has no ER line (file cut short?)");
  if (records.empty()) return fail("no RIS records found (a record starts with 'TY  - ')");
  return records;
}

}  // namespace medsearch
