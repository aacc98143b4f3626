#include "medsearch/records.h"

#include <algorithm>
#include <utility>

#include "medsearch/extract.h"
#include "medsearch/json.h"
#include "medsearch/text.h"
#include "medsearch/url.h"
#include "medsearch/xml.h"

namespace medsearch {

namespace {

constexpr size_t kDescriptionBytes = 300;
constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::string_view kPubmedUrl = "https://pubmed.ncbi.nlm.nih.gov/";

// ISO 639-2/B codes PubMed uses, to the ISO 639-1 codes the index stores.
struct LanguageCode {
  std::string_view three;
  std::string_view two;
};
constexpr LanguageCode kLanguages[] = {
    {"eng", "en"}, {"fre", "fr"}, {"fra", "fr"}, {"ger", "de"}, {"deu", "de"}, {"spa", "es"},
    {"ita", "it"}, {"por", "pt"}, {"dut", "nl"}, {"nld", "nl"}, {"rus", "ru"}, {"jpn", "ja"},
    {"chi", "zh"}, {"zho", "zh"}, {"kor", "ko"}, {"pol", "pl"}, {"swe", "sv"}, {"dan", "da"},
    {"nor", "no"}, {"fin", "fi"}, {"cze", "cs"}, {"ces", "cs"}, {"hun", "hu"}, {"gre", "el"},
    {"ell", "el"}, {"tur", "tr"}, {"heb", "he"}, {"ara", "ar"}, {"per", "fa"}, {"fas", "fa"},
    {"ukr", "uk"}, {"rum", "ro"}, {"ron", "ro"}, {"hrv", "hr"}, {"slv", "sl"}, {"slo", "sk"},
    {"slk", "sk"}, {"bul", "bg"}, {"srp", "sr"}, {"lit", "lt"}, {"lav", "lv"}, {"est", "et"},
    {"ice", "is"}, {"isl", "is"}, {"cat", "ca"}, {"tha", "th"}, {"vie", "vi"}, {"ind", "id"},
    {"may", "ms"}, {"msa", "ms"}, {"hin", "hi"}, {"afr", "af"},
};

// "eng" -> "en"; two-letter codes pass through; "und" and unknown codes -> as written.
std::string language_code(std::string_view raw) {
  std::string code = ascii_lower(trim(raw));
  if (code == "und") return "";
  for (const auto& language : kLanguages)
    if (language.three == code) return std::string(language.two);
  return code;
}

// "Jun", "june", "06", "6" -> 6; 0 if not a month.
int month_number(std::string_view raw) {
  std::string text = ascii_lower(trim(raw));
  if (text.empty()) return 0;
  if (text[0] >= '0' && text[0] <= '9') {
    if (text.size() > 2) return 0;
    int month = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return 0;
      month = month * 10 + (c - '0');
    }
    return month >= 1 && month <= 12 ? month : 0;
  }
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  if (text.size() < 3) return 0;
  for (int i = 0; i < 12; ++i)
    if (text.compare(0, 3, kMonths[i]) == 0) return i + 1;
  return 0;
}

// A positive number of at most `max_digits` digits, or -1.
int small_number(std::string_view raw, size_t max_digits) {
  std::string_view text = trim(raw);
  if (text.empty() || text.size() > max_digits) return -1;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// Year/Month/Day elements to "YYYY-MM-DD", "YYYY-MM" or "YYYY"; "" without a year.
std::string format_date_parts(std::string_view year_text, std::string_view month_text,
                              std::string_view day_text) {
  int year = small_number(year_text, 4);
  if (year < 1000) return "";
  std::string date = std::to_string(year);
  int month = month_number(month_text);
  if (month == 0) return date;
  date += (month < 10 ? "-0" : "-") + std::to_string(month);
  int day = small_number(day_text, 2);
  if (day < 1 || day > 31) return date;
  date += (day < 10 ? "-0" : "-") + std::to_string(day);
  return date;
}

// PubMed MedlineDate: "2019 Nov-Dec" -> "2019-11", "1998 Dec-1999 Jan" -> "1998-12",
// "2000 Spring" -> "2000"; the first month named wins.
std::string medline_date(std::string_view raw) {
  std::string_view text = trim(raw);
  if (text.size() < 4) return "";
  std::string_view year = text.substr(0, 4);
  if (text.size() > 4 && text[4] != ' ' && text[4] != '-') return "";
  std::string_view rest = trim(text.substr(4));
  size_t letters = 0;
  while (letters < rest.size() && ((rest[letters] >= 'a' && rest[letters] <= 'z') ||
                                   (rest[letters] >= 'A' && rest[letters] <= 'Z')))
    ++letters;
  std::string_view month = letters >= 3 ? rest.substr(0, letters) : std::string_view();
  return format_date_parts(year, month, "");
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// 1-based line numbers of byte offsets, for offsets that never decrease.
class LineCounter {
 public:
  explicit LineCounter(std::string_view data) : data_(data) {}
  size_t line_at(size_t offset) {
    offset = std::min(offset, data_.size());
    if (offset < counted_to_) return line_;  // not expected; stays monotonic
    line_ +=
        static_cast<size_t>(std::count(data_.begin() + static_cast<std::ptrdiff_t>(counted_to_),
                                       data_.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
    counted_to_ = offset;
    return line_;
  }

 private:
  std::string_view data_;
  size_t counted_to_ = 0;
  size_t line_ = 1;
};

// ---- JSON Lines ----

// A JSON member that must be text: absent, null, a string or a number.
bool is_textual(const JsonValue& record, const std::string& name) {
  const JsonValue* v = record.find(name);
  return !v || v->is_null() || v->is_string() || v->is_number();
}

// Strings from a member that is an array of strings or one string split on ';'.
Result<std::vector<std::string>> string_list(const JsonValue& record, const std::string& name) {
  std::vector<std::string> out;
  const JsonValue* v = record.find(name);
  if (!v || v->is_null()) return out;
  std::vector<std::string> raw;
  if (v->is_string()) {
    raw = split(v->as_string(), ';');
  } else if (v->is_array()) {
    for (const auto& item : v->items()) {
      if (!item.is_string())
        return fail("'" + name + "' must be an array of strings or a ';'-separated string");
      raw.push_back(item.as_string());
    }
  } else {
    return fail("'" + name + "' must be an array of strings or a ';'-separated string");
  }
  for (const auto& item : raw) {
    std::string clean = collapse_whitespace(valid_utf8(item));
    if (!clean.empty()) out.push_back(std::move(clean));
  }
  return out;
}

// ---- PubMed XML ----

struct DateParts {
  std::string year, month, day;
};

// What one PubmedArticle says, as written.
struct PubmedFields {
  std::string pmid;
  std::string fallback_pmid;  // PubmedData ArticleId IdType="pubmed"
  std::string title;
  std::string journal;
  std::string elocation_doi;
  std::string article_id_doi;
  std::string language;
  std::vector<std::string> abstract_sections;
  std::vector<std::string> authors;
  std::vector<std::string> publication_types;
  DateParts article_date;
  DateParts pub_date;
  std::string medline_date;
};

// The parts of one Author element.
struct AuthorParts {
  std::string last_name, fore_name, initials, suffix, collective_name;
  std::string display() const {
    if (!collective_name.empty()) return collective_name;
    std::string given = fore_name.empty() ? initials : fore_name;
    std::string name = given.empty() ? last_name : given + " " + last_name;
    if (!suffix.empty() && !last_name.empty()) name += " " + suffix;
    return collapse_whitespace(name);
  }
};

// Paths below PubmedArticle of the elements read.
constexpr std::string_view kPmidPath = "MedlineCitation/PMID";
constexpr std::string_view kArticlePath = "MedlineCitation/Article";
constexpr std::string_view kAuthorPath = "MedlineCitation/Article/AuthorList/Author";
constexpr std::string_view kArticleDatePath = "MedlineCitation/Article/ArticleDate";
constexpr std::string_view kPubDatePath = "MedlineCitation/Article/Journal/JournalIssue/PubDate";
constexpr std::string_view kArticleIdPath = "PubmedData/ArticleIdList/ArticleId";

// The text of the element just started, whitespace collapsed.
Result<std::string> leaf_text(XmlReader& reader) {
  auto text = read_element_text(reader);
  if (!text) return std::move(text).take_error();
  return collapse_whitespace(*text);
}

// Stores the date part named `element` (Year, Month, Day) of the element just started.
Status read_date_part(XmlReader& reader, std::string_view element, DateParts& date) {
  std::string* slot = element == "Year"    ? &date.year
                      : element == "Month" ? &date.month
                      : element == "Day"   ? &date.day
                                           : nullptr;
  auto text = read_element_text(reader);
  if (!text) return std::move(text).take_error();
  if (slot && slot->empty()) *slot = std::string(trim(*text));
  return {};
}

// Reads one PubmedArticle whose kStart was the last event, through its kEnd.
// Fails only on malformed XML.
Status read_pubmed_fields(XmlReader& reader, PubmedFields& fields) {
  std::string path;  // below PubmedArticle, e.g. "MedlineCitation/Article/Journal/Title"
  std::vector<size_t> parent_lengths;
  AuthorParts author;
  int article_dates = 0;  // only the first ArticleDate is read
  for (;;) {
    auto event = reader.next();
    if (!event) return std::move(event).take_error();
    if (*event == XmlReader::Event::kText) continue;
    if (*event == XmlReader::Event::kEof) return fail("XML: unexpected end of document");
    if (*event == XmlReader::Event::kEnd) {
      if (parent_lengths.empty()) return {};  // </PubmedArticle>
      if (path == kAuthorPath) {
        std::string name = author.display();
        if (!name.empty()) fields.authors.push_back(std::move(name));
      }
      path.resize(parent_lengths.back());
      parent_lengths.pop_back();
      continue;
    }
    const std::string name = reader.name();  // a copy: reading text moves the reader on
    std::string child = path.empty() ? name : path + "/" + name;
    // Each branch that reads the element's text has consumed its kEnd as well.
    std::string* leaf = nullptr;
    if (child == kPmidPath && fields.pmid.empty()) {
      leaf = &fields.pmid;
    } else if (path == kArticlePath && name == "ArticleTitle") {
      leaf = &fields.title;
    } else if (path == kArticlePath && name == "ELocationID") {
      bool doi =
          equals_nocase(reader.attribute("EIdType"), "doi") && reader.attribute("ValidYN") != "N";
      auto text = leaf_text(reader);
      if (!text) return std::move(text).take_error();
      if (doi && fields.elocation_doi.empty()) fields.elocation_doi = *text;
      continue;
    } else if (path == kArticlePath && name == "Language") {
      auto text = leaf_text(reader);
      if (!text) return std::move(text).take_error();
      if (fields.language.empty()) fields.language = *text;
      continue;
    } else if (child == "MedlineCitation/Article/Abstract/AbstractText") {
      std::string label = collapse_whitespace(reader.attribute("Label"));
      auto text = leaf_text(reader);
      if (!text) return std::move(text).take_error();
      if (text->empty()) continue;
      if (label.empty() || equals_nocase(label, "UNLABELLED"))
        fields.abstract_sections.push_back(std::move(*text));
      else
        fields.abstract_sections.push_back(label + ": " + *text);
      continue;
    } else if (child == "MedlineCitation/Article/Journal/Title") {
      leaf = &fields.journal;
    } else if (child == "MedlineCitation/Article/PublicationTypeList/PublicationType") {
      auto text = leaf_text(reader);
      if (!text) return std::move(text).take_error();
      fields.publication_types.push_back(std::move(*text));
      continue;
    } else if (path == kAuthorPath) {
      leaf = name == "LastName"         ? &author.last_name
             : name == "ForeName"       ? &author.fore_name
             : name == "Initials"       ? &author.initials
             : name == "Suffix"         ? &author.suffix
             : name == "CollectiveName" ? &author.collective_name
                                        : nullptr;
      if (!leaf) {
        // Affiliations, identifiers: not needed, skipped whole.
        auto skipped = read_element_text(reader);
        if (!skipped) return std::move(skipped).take_error();
        continue;
      }
    } else if (path == kArticleDatePath && article_dates == 1) {
      auto status = read_date_part(reader, name, fields.article_date);
      if (!status) return status;
      continue;
    } else if (path == kPubDatePath) {
      if (name == "MedlineDate") {
        leaf = &fields.medline_date;
      } else {
        auto status = read_date_part(reader, name, fields.pub_date);
        if (!status) return status;
        continue;
      }
    } else if (child == kArticleIdPath) {
      std::string type = ascii_lower(reader.attribute("IdType"));
      auto text = leaf_text(reader);
      if (!text) return std::move(text).take_error();
      if (type == "doi" && fields.article_id_doi.empty()) fields.article_id_doi = *text;
      if (type == "pubmed" && fields.fallback_pmid.empty()) fields.fallback_pmid = *text;
      continue;
    }
    if (leaf) {
      auto text = leaf_text(reader);
      if (!text) return std::move(text).take_error();
      *leaf = std::move(*text);
      continue;
    }
    if (child == kAuthorPath) author = AuthorParts{};
    if (child == kArticleDatePath) ++article_dates;
    if (reader.self_closing()) {
      auto end = reader.next();  // the matching kEnd
      if (!end) return std::move(end).take_error();
      continue;
    }
    parent_lengths.push_back(path.size());
    path = std::move(child);
  }
}

// The Document for one article's fields, or the reason it cannot be indexed.
Result<Document> pubmed_document(PubmedFields&& fields) {
  std::string pmid = fields.pmid.empty() ? fields.fallback_pmid : fields.pmid;
  if (pmid.empty()) return fail("PubmedArticle without a PMID");
  if (!all_digits(pmid)) return fail("PubmedArticle with an invalid PMID '" + pmid + "'");
  Document doc;
  doc.pmid = pmid;
  doc.url = std::string(kPubmedUrl) + pmid + "/";
  doc.id = doc.url;
  doc.site = "pubmed.ncbi.nlm.nih.gov";
  doc.type = "research";
  doc.mime_type = "application/xml";
  doc.title = std::move(fields.title);
  for (auto& section : fields.abstract_sections) {
    if (!doc.text.empty()) doc.text += "\n\n";
    doc.text += section;
  }
  if (doc.title.empty() && doc.text.empty())
    return fail("PubMed article " + pmid + " has no title and no abstract");
  doc.description = std::string(utf8_prefix(doc.text, kDescriptionBytes));
  doc.authors = std::move(fields.authors);
  const DateParts& article = fields.article_date;
  const DateParts& pub = fields.pub_date;
  doc.date = format_date_parts(article.year, article.month, article.day);
  if (doc.date.empty()) doc.date = format_date_parts(pub.year, pub.month, pub.day);
  if (doc.date.empty()) doc.date = medline_date(fields.medline_date);
  doc.doi = normalize_doi(fields.elocation_doi);
  if (doc.doi.empty()) doc.doi = normalize_doi(fields.article_id_doi);
  doc.language = language_code(fields.language);
  doc.evidence = evidence_from_publication_types(fields.publication_types);
  doc.journal = collapse_whitespace(fields.journal);
  return doc;
}

// True if `head` has the tag "<name" followed by whitespace, '>' or '/'.
bool has_tag(std::string_view head, std::string_view name) {
  for (size_t at = head.find(name); at != std::string_view::npos; at = head.find(name, at + 1)) {
    if (at == 0 || head[at - 1] != '<') continue;
    size_t after = at + name.size();
    if (after >= head.size()) return true;  // cut by the 4 KB window
    char c = head[after];
    if (c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
  }
  return false;
}

// `data` without a UTF-8 BOM and leading whitespace.
std::string_view content_start(std::string_view data) {
  if (data.starts_with(kBom)) data.remove_prefix(kBom.size());
  size_t first = data.find_first_not_of(" \t\r\n");
  return first == std::string_view::npos ? std::string_view() : data.substr(first);
}

}  // namespace

std::string evidence_from_publication_types(const std::vector<std::string>& types) {
  struct Mapping {
    std::string_view type;
    std::string_view evidence;
  };
  // Strongest first: the first evidence level any type maps to wins.
  static constexpr Mapping kMappings[] = {
      {"Meta-Analysis", "meta-analysis"},
      {"Systematic Review", "meta-analysis"},
      {"Randomized Controlled Trial", "rct"},
      {"Practice Guideline", "guideline"},
      {"Guideline", "guideline"},
      {"Case Reports", "case-report"},
      {"Observational Study", "observational"},
      {"Review", "review"},
  };
  for (const auto& mapping : kMappings)
    for (const auto& type : types)
      if (equals_nocase(trim(type), mapping.type)) return std::string(mapping.evidence);
  return "";
}

Result<Document> document_from_json_record(std::string_view line) {
  auto parsed = parse_json(line);
  if (!parsed) return std::move(parsed).take_error();
  const JsonValue& record = *parsed;
  if (!record.is_object()) return fail("a record must be a JSON object");
  for (const char* name : {"id", "_id", "url", "title", "text", "abstract", "date", "doi", "pmid",
                           "journal", "type", "language"}) {
    if (!is_textual(record, name))
      return fail(std::string("'") + name + "' must be a string or a number");
  }
  auto authors = string_list(record, "authors");
  if (!authors) return std::move(authors).take_error();
  auto publication_types = string_list(record, "publication_types");
  if (!publication_types) return std::move(publication_types).take_error();

  Document doc;
  std::string url(trim(valid_utf8(record.text("url"))));
  std::string id(trim(valid_utf8(record.text("id"))));
  if (id.empty()) id = trim(valid_utf8(record.text("_id")));
  if (!url.empty()) {
    // The normal form lets records and crawled pages of one URL share an id.
    if (auto parsed_url = parse_url(url)) {
      doc.site = parsed_url->host;
      url = parsed_url->to_string();
    }
    doc.url = url;
    doc.id = url;
  } else if (!id.empty()) {
    doc.id = "record:" + id;
  } else {
    return fail("the record has no 'url', 'id' or '_id'");
  }
  doc.title = collapse_whitespace(valid_utf8(record.text("title")));
  std::string abstract(trim(valid_utf8(record.text("abstract"))));
  std::string text(trim(valid_utf8(record.text("text"))));
  doc.text = abstract;
  if (!abstract.empty() && !text.empty()) doc.text += "\n\n";
  doc.text += text;
  if (doc.title.empty() && doc.text.empty()) return fail("the record has no title and no text");
  doc.description = std::string(utf8_prefix(doc.text, kDescriptionBytes));
  doc.authors = std::move(*authors);
  doc.date = normalize_date(record.text("date"));
  doc.doi = normalize_doi(record.text("doi"));
  doc.pmid = std::string(trim(record.text("pmid")));
  doc.journal = collapse_whitespace(valid_utf8(record.text("journal")));
  doc.language = language_code(valid_utf8(record.text("language")));
  doc.evidence = evidence_from_publication_types(*publication_types);
  doc.mime_type = "application/x-ndjson";
  std::string type = ascii_lower(trim(record.text("type")));
  if (type == "research" || type == "clinic" || type == "news" || type == "other") {
    doc.type = type;
  } else {
    bool scholarly = !doc.doi.empty() || !doc.pmid.empty() || !abstract.empty() ||
                     !trim(record.text("journal")).empty();
    doc.type = scholarly ? "research" : "other";
  }
  return doc;
}

Status read_json_lines(std::string_view data, const std::function<void(Document&&)>& sink,
                       const std::function<void(const RecordError&)>& on_error) {
  if (data.starts_with(kBom)) data.remove_prefix(kBom.size());
  size_t line_number = 0;
  size_t good = 0;
  size_t bad = 0;
  std::string first_error;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string_view::npos) end = data.size();
    std::string_view line = data.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (trim(line).empty()) continue;
    auto doc = document_from_json_record(line);
    if (!doc) {
      ++bad;
      if (first_error.empty())
        first_error = "line " + std::to_string(line_number) + ": " + doc.error();
      on_error(RecordError{line_number, doc.error()});
      continue;
    }
    ++good;
    sink(std::move(*doc));
  }
  if (good == 0 && bad > 0)
    return fail("no readable record in " + std::to_string(bad) + " line(s); is this JSON Lines? (" +
                first_error + ")");
  return {};
}

Status read_pubmed_xml(std::string_view xml, const std::function<void(Document&&)>& sink,
                       const std::function<void(const RecordError&)>& on_error) {
  XmlReader reader(xml);
  LineCounter lines(xml);
  auto malformed = [&](const std::string& message) {
    return fail(message + " (line " + std::to_string(lines.line_at(reader.offset())) + ")");
  };
  // One article whose kStart was the last event: to the sink, or reported.
  auto read_article = [&]() -> Status {
    size_t line = lines.line_at(reader.offset());
    PubmedFields fields;
    auto status = read_pubmed_fields(reader, fields);
    if (!status) return malformed(status.error());
    auto doc = pubmed_document(std::move(fields));
    if (doc)
      sink(std::move(*doc));
    else
      on_error(RecordError{line, doc.error()});
    return {};
  };

  auto root = reader.next();
  if (!root) return malformed(root.error());
  // The reader skips everything before the root, so the first event is its kStart.
  if (reader.name() == "PubmedArticle") {
    auto status = read_article();
    if (!status) return status;
  } else if (reader.name() == "PubmedArticleSet") {
    for (;;) {
      auto event = reader.next();
      if (!event) return malformed(event.error());
      if (*event == XmlReader::Event::kEnd) break;  // </PubmedArticleSet>
      if (*event != XmlReader::Event::kStart) continue;
      if (reader.name() == "PubmedArticle") {
        auto status = read_article();
        if (!status) return status;
        continue;
      }
      size_t line = lines.line_at(reader.offset());
      std::string name = reader.name();
      auto skipped = read_element_text(reader);
      if (!skipped) return malformed(skipped.error());
      if (name == "PubmedBookArticle")
        on_error(RecordError{line, "PubmedBookArticle skipped: book records are not indexed"});
      // Anything else (DeleteCitation) is not an article: skipped silently.
    }
  } else {
    return fail("not PubMed XML: the root element is <" + reader.name() +
                ">, expected <PubmedArticleSet>");
  }
  auto end = reader.next();
  if (!end) return malformed(end.error());
  return {};
}

bool looks_like_pubmed_xml(std::string_view data) {
  std::string_view head = content_start(data).substr(0, 4096);
  if (!head.starts_with("<")) return false;
  return has_tag(head, "PubmedArticleSet") || has_tag(head, "PubmedArticle") ||
         head.find("<!DOCTYPE PubmedArticle") != std::string_view::npos;
}

bool looks_like_json_lines(std::string_view data) { return content_start(data).starts_with("{"); }

}  // namespace medsearch
