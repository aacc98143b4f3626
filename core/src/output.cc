#include "medsearch/output.h"

#include <cstdio>
#include <string_view>

#include "medsearch/json.h"

namespace medsearch {

namespace {

// The members of one result object (results[] in JSON, a line in JSON Lines).
void write_hit_fields(JsonWriter& w, const SearchHit& hit) {
  const Document& d = hit.doc;
  w.key("rank").value(static_cast<uint64_t>(hit.rank));
  w.key("url").value(d.url);
  w.key("id").value(d.id);
  w.key("title").value(d.title);
  w.key("site").value(d.site);
  w.key("site_name").value(d.site_name);
  w.key("date").value(d.date);
  w.key("authors").value(d.authors);
  w.key("type").value(d.type);
  w.key("evidence").value(d.evidence);
  w.key("doi").value(d.doi);
  w.key("pmid").value(d.pmid);
  w.key("journal").value(d.journal);
  w.key("score").value(hit.score);
  w.key("similar").value(static_cast<uint64_t>(hit.similar));
  w.key("snippet").value(hit.snippet);
}

void write_explain(JsonWriter& w, const Explanation& e) {
  w.begin_object();
  w.key("concepts").begin_array();
  for (const auto& c : e.concepts) {
    w.begin_object();
    w.key("text").value(c.text);
    w.key("id").value(c.id);
    w.key("name").value(c.name);
    w.key("variants").value(c.variants);
    w.key("variant_count").value(static_cast<uint64_t>(c.variant_count));
    w.end_object();
  }
  w.end_array();
  w.key("fields").value(e.fields);
  w.key("filters").value(e.filters);
  w.key("spelling").value(e.spelling);
  w.key("like").value(e.like);
  w.key("query").value(e.query);
  w.end_object();
}

void write_facets(JsonWriter& w, const std::vector<Facet>& facets) {
  w.begin_object();
  for (const auto& facet : facets) {
    w.key(facet.name).begin_object();
    w.key("distinct").value(facet.distinct);
    w.key("values").begin_array();
    for (const auto& v : facet.values) {
      w.begin_object();
      w.key("value").value(v.value);
      w.key("label").value(v.label);
      w.key("count").value(v.count);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_object();
}

}  // namespace

std::string results_to_json(const SearchResults& results) {
  JsonWriter w;
  w.begin_object();
  w.key("query").value(results.query);
  w.key("parsed").value(results.parsed);
  w.key("total").value(results.total);
  w.key("total_exact").value(results.total_exact);
  w.key("related").value(results.related);
  w.key("suggestion").value(results.suggestion);
  w.key("corrected_from").value(results.corrected_from);
  w.key("notes").value(results.notes);
  w.key("explain");
  write_explain(w, results.explain);
  w.key("facets");
  write_facets(w, results.facets);
  w.key("results").begin_array();
  for (const auto& hit : results.hits) {
    w.begin_object();
    write_hit_fields(w, hit);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str();
}

std::string snippet_to_text(const std::string& snippet, const std::string& open,
                            const std::string& close) {
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}};
  std::string out;
  for (size_t i = 0; i < snippet.size();) {
    if (snippet.compare(i, 6, "<mark>") == 0) {
      out += open;
      i += 6;
      continue;
    }
    if (snippet.compare(i, 7, "</mark>") == 0) {
      out += close;
      i += 7;
      continue;
    }
    bool replaced = false;
    if (snippet[i] == '&') {
      for (auto [entity, plain] : kEntities) {
        size_t len = std::char_traits<char>::length(entity);
        if (snippet.compare(i, len, entity) == 0) {
          out += plain;
          i += len;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += snippet[i++];
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\t':
      case '\n':
      case '\r':
        out += c;
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // HTML has no place for the other control characters (NUL, ESC...).
        out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
    }
  }
  return out;
}

std::string explanation_to_text(const Explanation& e) {
  std::string out = "Search details:\n";
  for (const auto& c : e.concepts) {
    out += "  concept  \"" + c.text + "\" -> " + c.name + " [" + c.id + "]";
    std::string variants;
    for (const auto& v : c.variants) variants += (variants.empty() ? "" : ", ") + v;
    if (!variants.empty()) out += ": " + variants;
    if (c.variant_count > c.variants.size())
      out += " (+" + std::to_string(c.variant_count - c.variants.size()) + " more)";
    out += "\n";
  }
  for (const auto& f : e.fields) out += "  field    " + f + "\n";
  for (const auto& f : e.filters) out += "  filter   " + f + "\n";
  for (const auto& s : e.spelling) out += "  spelling " + s + "\n";
  if (!e.like.empty()) out += "  like     " + e.like + "\n";
  out += "  query    " + e.query + "\n";
  return out;
}

std::string results_to_text(const SearchResults& results, bool color, bool explain) {
  const std::string bold = color ? "\x1b[1m" : "";
  const std::string dim = color ? "\x1b[2m" : "";
  const std::string reset = color ? "\x1b[0m" : "";
  std::string out;
  for (const auto& note : results.notes) out += "note: " + note + "\n";
  if (explain) out += explanation_to_text(results.explain) + "\n";
  if (!results.suggestion.empty())
    out += "Did you mean: " + bold + results.suggestion + reset + "\n";
  for (const auto& facet : results.facets) {
    out += facet.name + ":";
    for (const auto& v : facet.values) out += "  " + v.label + " (" + std::to_string(v.count) + ")";
    if (facet.distinct > facet.values.size())
      out += "  [" + std::to_string(facet.distinct - facet.values.size()) + " more]";
    out += "\n";
  }
  if (!results.facets.empty()) out += "\n";
  if (results.hits.empty()) {
    out += "No results for \"" + results.query + "\".\n";
    return out;
  }
  std::string what = results.query.empty() && !results.explain.like.empty()
                         ? "documents like " + results.explain.like
                         : "\"" + results.query + "\"";
  out += (results.total_exact ? "" : "About ") + std::to_string(results.total) + " results for " +
         what;
  if (results.related > 0) out += ", and about " + std::to_string(results.related) + " related";
  out += "\n\n";
  for (const auto& hit : results.hits) {
    const Document& d = hit.doc;
    char score[32];
    std::snprintf(score, sizeof score, "%.2f", hit.score);
    out +=
        std::to_string(hit.rank) + ". " + bold + (d.title.empty() ? d.url : d.title) + reset + "\n";
    out += "   " + d.url + "\n";
    std::string details = d.site;
    auto add = [&details](const std::string& part) {
      if (part.empty()) return;
      if (!details.empty()) details += " · ";
      details += part;
    };
    add(d.date);
    add(d.type);
    add(d.evidence);
    if (!d.doi.empty()) add("doi:" + d.doi);
    add(std::string("score ") + score);
    if (hit.similar > 0) add("and " + std::to_string(hit.similar) + " similar");
    out += "   " + dim + details + reset + "\n";
    std::string snippet = snippet_to_text(hit.snippet, bold, reset);
    if (!snippet.empty()) out += "   " + snippet + "\n";
    out += "\n";
  }
  return out;
}

std::string run_document_id(const Document& doc) {
  // records.h: a record without a URL has the id "record:" + its own id.
  constexpr std::string_view kRecordPrefix = "record:";
  std::string_view id = doc.id;
  if (id.starts_with(kRecordPrefix)) id.remove_prefix(kRecordPrefix.size());
  return std::string(id);
}

namespace {

// `field` as one whitespace-free TREC column: runs of whitespace become '_'.
std::string trec_column(std::string_view field) {
  std::string out;
  for (char c : field) {
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    if (!space)
      out += c;
    else if (out.empty() || out.back() != '_')
      out += '_';
  }
  return out.empty() ? "-" : out;
}

}  // namespace

std::string results_to_trec(const SearchResults& results, const std::string& query_id,
                            const std::string& run_name) {
  std::string out;
  const std::string qid = trec_column(query_id), tag = trec_column(run_name);
  for (const auto& hit : results.hits) {
    char score[32];
    std::snprintf(score, sizeof score, "%.9g", hit.score);
    out += qid + " Q0 " + trec_column(run_document_id(hit.doc)) + " " + std::to_string(hit.rank) +
           " " + score + " " + tag + "\n";
  }
  return out;
}

std::string results_to_jsonl(const SearchResults& results, const std::string& query_id) {
  std::string out;
  for (const auto& hit : results.hits) {
    JsonWriter w;
    w.begin_object();
    if (!query_id.empty()) w.key("qid").value(query_id);
    w.key("query").value(results.query);
    write_hit_fields(w, hit);
    w.end_object();
    out += w.str() + "\n";
  }
  return out;
}

std::string results_to_batch_json(const SearchResults& results, const std::string& query_id) {
  // The single-query object with "qid" in front; results_to_json always
  // starts with '{', so the member is spliced in rather than the writer duplicated.
  std::string object = results_to_json(results);
  return "{\"qid\":" + json_quote(query_id) + "," + object.substr(1);
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace {

constexpr const char* kCsvColumns[] = {"qid", "query", "rank",    "id",      "score",  "title",
                                       "url", "site",  "date",    "authors", "type",   "evidence",
                                       "doi", "pmid",  "journal", "snippet", "similar"};

}  // namespace

std::string results_csv_header() {
  std::string out;
  for (const char* column : kCsvColumns) out += (out.empty() ? "" : ",") + std::string(column);
  return out + "\r\n";
}

std::string results_to_csv(const SearchResults& results, const std::string& query_id) {
  std::string out;
  for (const auto& hit : results.hits) {
    const Document& d = hit.doc;
    char score[32];
    std::snprintf(score, sizeof score, "%.9g", hit.score);
    std::string authors;
    for (const auto& author : d.authors) authors += (authors.empty() ? "" : "; ") + author;
    const std::string fields[] = {query_id,
                                  results.query,
                                  std::to_string(hit.rank),
                                  d.id,
                                  score,
                                  d.title,
                                  d.url,
                                  d.site,
                                  d.date,
                                  authors,
                                  d.type,
                                  d.evidence,
                                  d.doi,
                                  d.pmid,
                                  d.journal,
                                  snippet_to_text(hit.snippet, "", ""),
                                  std::to_string(hit.similar)};
    static_assert(sizeof fields / sizeof fields[0] == sizeof kCsvColumns / sizeof kCsvColumns[0]);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; ++i)
      out += (i ? "," : "") + csv_field(fields[i]);
    out += "\r\n";
  }
  return out;
}

}  // namespace medsearch
