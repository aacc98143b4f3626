#include "medsearch/extract.h"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <regex>
#include <set>

#include "medsearch/html_extract.h"
#include "medsearch/json.h"
#include "medsearch/text.h"
#include "medsearch/url.h"

namespace medsearch {
namespace {

int month_number(std::string_view name) {
  static const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                  "jul", "aug", "sep", "oct", "nov", "dec"};
  if (name.size() < 3) return 0;
  std::string lower = ascii_lower(name.substr(0, 3));
  for (int i = 0; i < 12; ++i)
    if (lower == kMonths[i]) return i + 1;
  return 0;
}

std::string format_date(int year, int month, int day) {
  if (year < 1800 || year > 2200) return "";
  char buf[16];
  if (month < 1 || month > 12) {
    std::snprintf(buf, sizeof buf, "%04d", year);
  } else if (day < 1 || day > 31) {
    std::snprintf(buf, sizeof buf, "%04d-%02d", year, month);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  }
  return buf;
}

std::string mime_of(std::string_view content_type) {
  std::string type = ascii_lower(trim(content_type.substr(0, content_type.find(';'))));
  return type;
}

// A content type for bytes that came without one.
std::string sniff_type(const std::string& url, std::string_view body) {
  std::string lower = ascii_lower(url.substr(0, url.find('?')));
  if (body.substr(0, 5) == "%PDF-" || lower.ends_with(".pdf")) return "application/pdf";
  if (lower.ends_with(".txt")) return "text/plain";
  if (lower.ends_with(".xhtml")) return "application/xhtml+xml";
  return "text/html";
}

std::string host_of(const std::string& url) {
  auto parsed = parse_url(url);
  return parsed ? parsed->host : std::string();
}

}  // namespace

std::string evidence_from_text(std::string_view raw) {
  std::string lower;
  std::string text = ascii_lower(raw);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find_first_of(".\n", start);
    if (end == std::string::npos) end = text.size();
    std::string_view sentence = std::string_view(text).substr(start, end - start);
    start = end + 1;
    bool hedged = false;
    for (const char* hedge : {"warranted", "needed", "required", "future", "should be"})
      if (sentence.find(hedge) != std::string_view::npos) hedged = true;
    if (!hedged) lower.append(sentence).push_back('\n');
  }
  auto has = [&](const char* phrase) { return lower.find(phrase) != std::string::npos; };
  if (has("meta-analysis") || has("meta analysis") || has("systematic review"))
    return "meta-analysis";
  if (has("randomized controlled") || has("randomised controlled") ||
      has("randomized, double-blind") || has("randomised, double-blind") ||
      has("randomized trial") || has("randomised trial"))
    return "rct";
  if (has("guideline") || has("consensus statement")) return "guideline";
  if (has("case report") || has("case study")) return "case-report";
  if (has("cohort study") || has("observational") || has("cross-sectional") ||
      has("case-control") || has("retrospective"))
    return "observational";
  if (has("review")) return "review";
  return "";
}

namespace {

// "By Dr. Helen Marsh, MD" -> {"Helen Marsh"}; "By A. Lind and B. Okafor" -> two.
std::vector<std::string> authors_from_byline(std::string_view byline) {
  std::string text = collapse_whitespace(byline);
  if (starts_with_nocase(text, "by "))
    text = text.substr(3);
  else if (starts_with_nocase(text, "written by "))
    text = text.substr(11);
  std::vector<std::string> names;
  std::string rest = text;
  for (const char* sep : {" and ", " & "}) {
    size_t at;
    while ((at = rest.find(sep)) != std::string::npos) {
      names.push_back(rest.substr(0, at));
      rest = rest.substr(at + std::strlen(sep));
    }
  }
  names.push_back(rest);
  std::vector<std::string> out;
  for (std::string name : names) {
    name = name.substr(0, name.find(','));          // credentials: ", PharmD"
    name = name.substr(0, name.find(" \xC2\xB7"));  // "Name · date"
    for (const char* title : {"Dr. ", "Dr ", "Prof. ", "Prof ", "Professor "})
      if (name.rfind(title, 0) == 0) name = name.substr(std::strlen(title));
    name = collapse_whitespace(name);
    // A name is a few capitalised words, not a sentence.
    size_t words = static_cast<size_t>(std::count(name.begin(), name.end(), ' ')) + 1;
    if (!name.empty() && words <= 5 && std::isupper(static_cast<unsigned char>(name[0])))
      out.push_back(name);
  }
  return out;
}

// A date written out in the opening text of a post ("05 Jul 2026", "March 3, 2025").
std::string visible_date(std::string_view text) {
  static const std::regex kDayMonthYear(
      R"(\b(\d{1,2})(?:st|nd|rd|th)?\s+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?,?\s+(\d{4})\b)",
      std::regex::icase);
  static const std::regex kMonthDayYear(
      R"(\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b)",
      std::regex::icase);
  std::string head(utf8_prefix(text, 1500));
  std::smatch m;
  if (std::regex_search(head, m, kDayMonthYear))
    return format_date(std::stoi(m[3]), month_number(m[2].str()), std::stoi(m[1]));
  if (std::regex_search(head, m, kMonthDayYear))
    return format_date(std::stoi(m[3]), month_number(m[1].str()), std::stoi(m[2]));
  return "";
}

// What a page's JSON-LD says about the article on it.
struct JsonLdArticle {
  std::string type;  // Article, NewsArticle, BlogPosting, ScholarlyArticle, ...
  std::string headline;
  std::string date;
  std::string publisher;
  std::vector<std::string> authors;
};

bool is_article_type(const JsonValue& type) {
  static const char* kTypes[] = {"Article",
                                 "NewsArticle",
                                 "BlogPosting",
                                 "ScholarlyArticle",
                                 "MedicalScholarlyArticle",
                                 "MedicalWebPage",
                                 "Report",
                                 "ReportageNewsArticle",
                                 "AnalysisNewsArticle"};
  auto one = [](const std::string& t) {
    return std::any_of(std::begin(kTypes), std::end(kTypes), [&](const char* k) { return t == k; });
  };
  if (type.is_string()) return one(type.as_string());
  if (type.is_array())
    for (const auto& t : type.items())
      if (t.is_string() && one(t.as_string())) return true;
  return false;
}

// A JSON-LD name: "Jane Doe", {"name": "Jane Doe"}, or a list of them.
void json_ld_names(const JsonValue* value, std::vector<std::string>& out) {
  if (!value) return;
  if (value->is_string()) {
    std::string name = collapse_whitespace(value->as_string());
    if (!name.empty()) out.push_back(name);
  } else if (value->is_object()) {
    std::string name = collapse_whitespace(value->text("name"));
    if (!name.empty()) out.push_back(name);
  } else if (value->is_array()) {
    for (const auto& item : value->items()) json_ld_names(&item, out);
  }
}

// Depth-first search for the first article object (top level, arrays, @graph).
const JsonValue* find_json_ld_article(const JsonValue& value, int depth) {
  if (depth > 8) return nullptr;
  if (value.is_object()) {
    if (const JsonValue* type = value.find("@type"); type && is_article_type(*type)) return &value;
    if (const JsonValue* graph = value.find("@graph"))
      return find_json_ld_article(*graph, depth + 1);
  } else if (value.is_array()) {
    for (const auto& item : value.items())
      if (const JsonValue* found = find_json_ld_article(item, depth + 1)) return found;
  }
  return nullptr;
}

JsonLdArticle json_ld_article(const std::vector<std::string>& blocks) {
  JsonLdArticle article;
  for (const auto& block : blocks) {
    auto parsed = parse_json(trim(block));
    if (!parsed) continue;  // broken JSON-LD is common; the page's other metadata still counts
    const JsonValue* found = find_json_ld_article(*parsed, 0);
    if (!found) continue;
    const JsonValue* type = found->find("@type");
    article.type = type->is_string() ? type->as_string() : type->items().front().text("");
    if (type->is_array())
      for (const auto& t : type->items())
        if (t.is_string()) article.type = t.as_string();
    article.headline = collapse_whitespace(found->text("headline"));
    article.date = found->text("datePublished");
    if (article.date.empty()) article.date = found->text("dateCreated");
    std::vector<std::string> publisher;
    json_ld_names(found->find("publisher"), publisher);
    if (!publisher.empty()) article.publisher = publisher.front();
    json_ld_names(found->find("author"), article.authors);
    break;
  }
  return article;
}

// DOIs and PMIDs written in `text` (a reference list), `own_doi` left out.
void find_citations(std::string_view text, const std::string& own_doi, Document& doc) {
  std::set<std::string> dois, pmids;
  for (size_t at = text.find("10."); at != std::string_view::npos; at = text.find("10.", at + 3)) {
    if (at > 0 && std::isalnum(static_cast<unsigned char>(text[at - 1]))) continue;
    size_t i = at + 3, digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
    if (digits < 4 || digits > 9 || i >= text.size() || text[i] != '/') continue;
    size_t end = i + 1;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) &&
           text[end] != '"' && text[end] != '<' && text[end] != '>')
      ++end;
    std::string doi = normalize_doi(text.substr(at, end - at));
    while (!doi.empty() && (doi.back() == ')' || doi.back() == ']')) doi.pop_back();
    if (doi.size() > i - at + 1 && !equals_nocase(doi, own_doi)) dois.insert(doi);
  }
  for (size_t at = text.find("PMID"); at != std::string_view::npos;
       at = text.find("PMID", at + 4)) {
    size_t i = at + 4;
    while (i < text.size() && (text[i] == ':' || text[i] == ' ')) ++i;
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i - start >= 1 && i - start <= 9) pmids.insert(std::string(text.substr(start, i - start)));
  }
  pmids.erase(doc.pmid);
  doc.cited_dois.assign(dois.begin(), dois.end());
  doc.cited_pmids.assign(pmids.begin(), pmids.end());
}

Result<Document> extract_html(const std::string& url, std::string_view body, std::string mime) {
  HtmlPage page = parse_html(body);
  if (page.noindex) return fail("the page asks not to be indexed (robots noindex)");
  Document doc;
  doc.url = url;
  doc.id = url;
  doc.mime_type = std::move(mime);
  doc.site = host_of(url);
  if (!page.canonical.empty()) {
    // A canonical link is honoured on the same host only: another site cannot
    // claim our page, nor we theirs.
    auto base = parse_url(url);
    std::string href = page.canonical;
    if (base) {
      auto canonical = resolve_url(*base, href);
      // Results show the canonical URL, so every copy indexes as the same document.
      if (canonical && canonical->host == base->host) doc.id = doc.url = canonical->to_string();
    }
  }
  doc.title = page.title;
  doc.text = page.text;
  if (doc.text.empty()) return fail("no main text found");

  for (const char* key : {"description", "og:description", "citation_abstract", "dc.description"}) {
    if (doc.description.empty()) doc.description = page.meta_value(key);
  }
  for (auto [it, end] = page.meta.equal_range("citation_author"); it != end; ++it)
    doc.authors.push_back(it->second);
  if (doc.authors.empty()) {
    for (auto [it, end] = page.meta.equal_range("dc.creator"); it != end; ++it)
      doc.authors.push_back(it->second);
  }
  JsonLdArticle json_ld = json_ld_article(page.json_ld);
  if (doc.authors.empty()) doc.authors = json_ld.authors;
  if (doc.authors.empty() && !page.meta_value("author").empty())
    doc.authors.push_back(page.meta_value("author"));
  if (doc.authors.empty() && !page.listing) doc.authors = authors_from_byline(page.byline);

  for (const char* key : {"citation_publication_date", "citation_date", "citation_online_date",
                          "article:published_time", "dc.date", "date", "dcterms.date"}) {
    if (doc.date.empty()) doc.date = normalize_date(page.meta_value(key));
  }
  if (doc.date.empty()) doc.date = normalize_date(json_ld.date);
  if (doc.date.empty() && !page.listing) doc.date = normalize_date(page.time_datetime);
  if (doc.date.empty() && !page.listing) doc.date = visible_date(doc.text);

  for (const char* key : {"citation_doi", "dc.identifier", "prism.doi", "bepress_citation_doi"}) {
    if (doc.doi.empty()) doc.doi = normalize_doi(page.meta_value(key));
  }
  doc.pmid = page.meta_value("citation_pmid");
  doc.journal = page.meta_value("citation_journal_title");
  doc.site_name = page.meta_value("og:site_name");
  if (doc.site_name.empty()) doc.site_name = json_ld.publisher;
  if (doc.site_name.empty()) doc.site_name = page.meta_value("application-name");
  if (doc.title.empty()) doc.title = json_ld.headline;
  find_citations(doc.text, doc.doi, doc);

  doc.language = page.lang.substr(0, page.lang.find('-'));
  if (doc.language.empty()) doc.language = ascii_lower(page.meta_value("citation_language"));

  bool scholarly = !page.meta_value("citation_title").empty() || !doc.doi.empty() ||
                   !page.meta_value("citation_journal_title").empty();
  if (scholarly) {
    doc.type = "research";
    doc.evidence = evidence_from_text(doc.title + "\n" + doc.description + "\n" +
                                      std::string(utf8_prefix(doc.text, 1500)));
  } else {
    size_t words = 0;
    for (size_t i = 0; i < doc.text.size(); ++i)
      if (doc.text[i] == ' ' || doc.text[i] == '\n') ++words;
    bool news = json_ld.type.find("News") != std::string::npos || json_ld.type == "Report";
    doc.type = news ? "news" : words >= 100 && !page.listing ? "clinic" : "other";
  }
  return doc;
}

Result<Document> extract_pdf(const std::string& url, std::string_view body) {
  // poppler prints parse complaints to stderr; the Result carries our own message.
  static const bool quiet = [] {
    poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
    return true;
  }();
  (void)quiet;
  std::unique_ptr<poppler::document> pdf(
      poppler::document::load_from_raw_data(body.data(), static_cast<int>(body.size())));
  if (!pdf) return fail("not a readable PDF");
  if (pdf->is_locked()) return fail("the PDF is encrypted");
  Document doc;
  doc.url = url;
  doc.id = url;
  doc.site = host_of(url);
  doc.mime_type = "application/pdf";
  auto utf8 = [](const poppler::ustring& s) {
    auto bytes = s.to_utf8();
    return collapse_whitespace(valid_utf8(std::string_view(bytes.data(), bytes.size())));
  };
  doc.title = utf8(pdf->get_title());
  std::string author = utf8(pdf->get_author());
  for (const auto& name : split(author, ';')) {
    std::string clean = collapse_whitespace(name);
    if (!clean.empty()) doc.authors.push_back(clean);
  }
  std::string text;
  for (int i = 0; i < pdf->pages(); ++i) {
    std::unique_ptr<poppler::page> page(pdf->create_page(i));
    if (!page) continue;
    auto bytes = page->text().to_utf8();
    if (!text.empty()) text += "\n\n";
    text += valid_utf8(std::string_view(bytes.data(), bytes.size()));
  }
  // Lines of a PDF page are layout, not paragraphs: fold them.
  doc.text = collapse_whitespace(text);
  if (doc.text.empty()) return fail("the PDF has no text (scanned images only?)");
  if (doc.title.empty()) doc.title = std::string(utf8_prefix(doc.text, 120));
  doc.type = "research";
  doc.evidence = evidence_from_text(doc.title + "\n" + std::string(utf8_prefix(doc.text, 1500)));
  static const std::regex kDoi(R"(\b(10\.\d{4,9}/[^\s"<>]+))");
  std::smatch m;
  std::string head(utf8_prefix(doc.text, 3000));
  if (std::regex_search(head, m, kDoi)) doc.doi = normalize_doi(m[1].str());
  static const std::regex kPmid(R"(\bPMID:?\s*(\d{1,9})\b)");
  if (std::regex_search(head, m, kPmid)) doc.pmid = m[1].str();
  find_citations(doc.text, doc.doi, doc);
  doc.date = visible_date(head);
  return doc;
}

Result<Document> extract_text(const std::string& url, std::string_view body) {
  Document doc;
  doc.url = url;
  doc.id = url;
  doc.site = host_of(url);
  doc.mime_type = "text/plain";
  std::string text = valid_utf8(body);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = collapse_whitespace(std::string_view(text).substr(start, end - start));
    start = end + 1;
    if (!line.empty()) {
      doc.title = std::string(utf8_prefix(line, 200));
      break;
    }
  }
  // Keep paragraph breaks (blank lines), fold the rest.
  std::string paragraphs;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = text.find("\n\n", pos);
    if (next == std::string::npos) next = text.size();
    std::string para = collapse_whitespace(std::string_view(text).substr(pos, next - pos));
    if (!para.empty()) {
      if (!paragraphs.empty()) paragraphs += "\n\n";
      paragraphs += para;
    }
    pos = next + 2;
  }
  doc.text = std::move(paragraphs);
  if (doc.text.empty()) return fail("empty text");
  doc.type = "other";
  return doc;
}

}  // namespace

std::string normalize_date(std::string_view raw) {
  std::string text = collapse_whitespace(raw);
  if (text.empty()) return "";
  static const std::regex kIso(R"(^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:[T ].*)?$)");
  std::smatch m;
  if (std::regex_match(text, m, kIso)) {
    int month = m[2].matched ? std::stoi(m[2]) : 0;
    int day = m[3].matched ? std::stoi(m[3]) : 0;
    return format_date(std::stoi(m[1]), month, day);
  }
  std::string found = visible_date(text);
  if (!found.empty()) return found;
  static const std::regex kMonthYear(R"(^([A-Za-z]+)\.?\s+(\d{4})$)");
  if (std::regex_match(text, m, kMonthYear) && month_number(m[1].str()))
    return format_date(std::stoi(m[2]), month_number(m[1].str()), 0);
  return "";
}

std::string normalize_doi(std::string_view raw) {
  std::string text(trim(raw));
  size_t at = text.find("10.");
  if (at == std::string::npos) return "";
  std::string doi = text.substr(at);
  if (doi.find('/') == std::string::npos) return "";
  while (!doi.empty() && (doi.back() == '.' || doi.back() == ',' || doi.back() == ';'))
    doi.pop_back();
  return doi;
}

Result<Document> extract_document(const std::string& url, std::string_view content_type,
                                  std::string_view body) {
  std::string mime = mime_of(content_type);
  if (mime.empty() || mime == "application/octet-stream") mime = sniff_type(url, body);
  if (mime == "text/html" || mime == "application/xhtml+xml") return extract_html(url, body, mime);
  if (mime == "application/pdf" || mime == "application/x-pdf") return extract_pdf(url, body);
  if (mime == "text/plain") return extract_text(url, body);
  return fail("unsupported content type '" + mime + "'");
}

}  // namespace medsearch
