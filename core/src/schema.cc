#include "medsearch/schema.h"

#include "medsearch/text.h"

namespace medsearch::schema {

std::string boolean_term(std::string_view prefix, std::string_view value) {
  std::string term(prefix);
  if (prefix.size() + value.size() <= kMaxTermBytes) {
    term += value;
    return term;
  }
  // Keep a readable head, then a hash of the whole value.
  term += utf8_prefix(value, kMaxTermBytes - prefix.size() - 17);
  term += '#';
  term += hex64(fnv1a64(value));
  return term;
}

std::string unique_term(std::string_view id) { return boolean_term(kUniqueId, id); }

std::string concept_term(std::string_view concept_id) {
  std::string term(kConcept);
  if (!concept_id.empty() && concept_id[0] >= 'A' && concept_id[0] <= 'Z') term += ':';
  term += concept_id;
  return term;
}

namespace {

void put_field(std::string& out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  out += name;
  out += '=';
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      continue;
    else
      out += c;
  }
  out += '\n';
}

std::string unescape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) {
      ++i;
      out += value[i] == 'n' ? '\n' : value[i];
    } else {
      out += value[i];
    }
  }
  return out;
}

}  // namespace

std::string encode_document_data(const Document& doc) {
  std::string out;
  put_field(out, "id", doc.id);
  put_field(out, "url", doc.url);
  put_field(out, "title", doc.title);
  put_field(out, "site", doc.site);
  put_field(out, "site_name", doc.site_name);
  put_field(out, "date", doc.date);
  for (const auto& author : doc.authors) put_field(out, "author", author);
  put_field(out, "doi", doc.doi);
  put_field(out, "pmid", doc.pmid);
  put_field(out, "journal", doc.journal);
  put_field(out, "type", doc.type);
  put_field(out, "evidence", doc.evidence);
  put_field(out, "lang", doc.language);
  put_field(out, "mime", doc.mime_type);
  put_field(out, "description", doc.description);
  put_field(out, "text", utf8_prefix(doc.text, kMaxStoredText));
  return out;
}

Document decode_document_data(std::string_view data) {
  Document doc;
  size_t start = 0;
  while (start < data.size()) {
    size_t end = data.find('\n', start);
    if (end == std::string_view::npos) end = data.size();
    std::string_view line = data.substr(start, end - start);
    start = end + 1;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = line.substr(0, eq);
    std::string value = unescape(line.substr(eq + 1));
    if (name == "id")
      doc.id = std::move(value);
    else if (name == "url")
      doc.url = std::move(value);
    else if (name == "title")
      doc.title = std::move(value);
    else if (name == "site")
      doc.site = std::move(value);
    else if (name == "site_name")
      doc.site_name = std::move(value);
    else if (name == "journal")
      doc.journal = std::move(value);
    else if (name == "date")
      doc.date = std::move(value);
    else if (name == "author")
      doc.authors.push_back(std::move(value));
    else if (name == "doi")
      doc.doi = std::move(value);
    else if (name == "pmid")
      doc.pmid = std::move(value);
    else if (name == "type")
      doc.type = std::move(value);
    else if (name == "evidence")
      doc.evidence = std::move(value);
    else if (name == "lang")
      doc.language = std::move(value);
    else if (name == "mime")
      doc.mime_type = std::move(value);
    else if (name == "description")
      doc.description = std::move(value);
    else if (name == "text")
      doc.text = std::move(value);
  }
  return doc;
}

std::string date_slot_value(std::string_view date) {
  std::string digits;
  for (char c : date)
    if (c >= '0' && c <= '9')
      digits += c;
    else if (c != '-')
      return "";
  if (digits.size() == 4) return digits + "0000";
  if (digits.size() == 6) return digits + "00";
  if (digits.size() == 8) return digits;
  return "";
}

}  // namespace medsearch::schema
