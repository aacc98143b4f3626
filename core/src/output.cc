#include "medsearch/output.h"

#include <cstdio>

#include "medsearch/json.h"

namespace medsearch {

std::string results_to_json(const SearchResults& results) {
  JsonWriter w;
  w.begin_object();
  w.key("query").value(results.query);
  w.key("parsed").value(results.parsed);
  w.key("total").value(results.total);
  w.key("notes").value(results.notes);
  w.key("results").begin_array();
  for (const auto& hit : results.hits) {
    const Document& d = hit.doc;
    w.begin_object();
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
    w.key("snippet").value(hit.snippet);
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
        out += c;
    }
  }
  return out;
}

std::string results_to_text(const SearchResults& results, bool color) {
  const std::string bold = color ? "\x1b[1m" : "";
  const std::string dim = color ? "\x1b[2m" : "";
  const std::string reset = color ? "\x1b[0m" : "";
  std::string out;
  for (const auto& note : results.notes) out += "note: " + note + "\n";
  if (results.hits.empty()) {
    out += "No results for \"" + results.query + "\".\n";
    return out;
  }
  out += "About " + std::to_string(results.total) + " results for \"" + results.query + "\"\n\n";
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
    out += "   " + dim + details + reset + "\n";
    std::string snippet = snippet_to_text(hit.snippet, bold, reset);
    if (!snippet.empty()) out += "   " + snippet + "\n";
    out += "\n";
  }
  return out;
}

}  // namespace medsearch
