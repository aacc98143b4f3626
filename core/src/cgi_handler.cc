// The request handler of medsearch.cgi: one request in, one response out,
// with the page built from the site owner's templates (docs/cgi.md).
#include <xapian.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "medsearch/cgi.h"
#include "medsearch/cgi_template.h"
#include "medsearch/collections.h"
#include "medsearch/json.h"
#include "medsearch/output.h"
#include "medsearch/text.h"

namespace medsearch {
namespace {

// The files of a template directory, and the names each may use. A name not
// listed here is a typo in the template, reported when it is loaded.
const std::set<std::string> kPageNames = {"page_title", "site_title", "css_url", "opensearch_url",
                                          "home_url",   "action",     "query",   "autofocus",
                                          "hidden",     "name",       "value",   "content"};
const std::set<std::string> kLandingNames = {"site_title", "document_count", "home_url"};
const std::set<std::string> kResultsNames = {
    "query",     "notes",      "text",       "suggestion", "suggestion_url", "chips",
    "label",     "remove_url", "count_text", "range_text", "seconds",        "sorts",
    "url",       "current",    "first_rank", "hits",       "rank",           "title",
    "site",      "date",       "type",       "type_label", "evidence",       "evidence_label",
    "authors",   "journal",    "doi",        "snippet",    "similar",        "like_url",
    "coins",     "pages",      "number",     "prev_url",   "next_url",       "explain",
    "facets",    "values",     "count",      "active",     "has_facets",     "has_hits",
    "has_chips", "has_pages",  "value"};
const std::set<std::string> kCollectionNames = {
    "name",    "description", "count_text", "range_text", "json_url",       "has_items",
    "items",   "first_rank",  "rank",       "url",        "title",          "site",
    "date",    "type",        "type_label", "evidence",   "evidence_label", "authors",
    "journal", "doi",         "doi_url",    "snippet",    "coins",          "has_pages",
    "pages",   "number",      "current",    "prev_url",   "next_url"};
const std::set<std::string> kErrorNames = {"status", "reason", "message", "home_url"};
const std::set<std::string> kOpenSearchNames = {"short_name", "site_title", "search_url"};

struct TemplateFile {
  const char* file;
  const std::set<std::string>* names;
};

Result<Template> load_template(const std::string& dir, const TemplateFile& spec) {
  std::string path = dir + "/" + spec.file;
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read template " + path);
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = Template::parse(text.str(), path);
  if (!parsed) return parsed;
  for (const auto& name : parsed->names())
    if (!spec.names->count(name)) return fail(path + ": unknown name '" + name + "'");
  return parsed;
}

std::string format_count(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string type_label(const std::string& type) {
  if (type == "research") return "Research";
  if (type == "clinic") return "Clinic page";
  if (type == "news") return "News";
  if (type == "other") return "Other";
  return type;
}

std::string evidence_label(const std::string& evidence) {
  if (evidence == "rct") return "Randomised trial";
  if (evidence == "meta-analysis") return "Meta-analysis";
  if (evidence == "review") return "Review";
  if (evidence == "guideline") return "Guideline";
  if (evidence == "case-report") return "Case report";
  if (evidence == "observational") return "Observational";
  return evidence;
}

std::string facet_title(const std::string& name) {
  if (name == "site") return "Site";
  if (name == "year") return "Year";
  if (name == "type") return "Type";
  if (name == "evidence") return "Evidence";
  if (name == "concept") return "Topic";
  return name;
}

// Links in the page go only to web (or file) URLs: never javascript: or data:.
std::string safe_link(const std::string& url) {
  std::string lower = ascii_lower(url.substr(0, 8));
  if (lower.rfind("http://", 0) == 0 || lower.rfind("https://", 0) == 0 ||
      lower.rfind("file://", 0) == 0)
    return url;
  return "";
}

// A DOI as a link to its resolver: percent-encoded except for the slashes
// that structure it, so no DOI can leave the href or the path.
std::string doi_link(std::string_view doi) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "https://doi.org/";
  for (unsigned char c : doi) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "A, B, C et al.": the byline of a result or a collection item.
std::string byline(const std::vector<std::string>& authors) {
  std::string out;
  for (size_t i = 0; i < authors.size() && i < 3; ++i) out += (i ? ", " : "") + authors[i];
  if (authors.size() > 3) out += " et al.";
  return out;
}

// The start of a description or abstract, cut at a word when it is long.
std::string description_snippet(const std::string& text) {
  constexpr size_t kMaxBytes = 320;
  if (text.size() <= kMaxBytes) return text;
  std::string_view cut = utf8_prefix(text, kMaxBytes);
  if (size_t space = cut.rfind(' '); space != std::string_view::npos && space > kMaxBytes / 2)
    cut = cut.substr(0, space);
  return std::string(trim(cut)) + "…";
}

// A value of an OpenURL ContextObject (KEV): percent-encoded, spaces as %20.
std::string kev_encode(std::string_view text) {
  std::string out = url_encode(text), fixed;
  for (char c : out) fixed += c == '+' ? std::string("%20") : std::string(1, c);
  return fixed;
}

// COinS (Z39.88-2004 in a span's title) so reference managers such as
// Zotero can save the result: a journal article for research, else Dublin Core.
std::string coins(const Document& d) {
  std::string kev = "ctx_ver=Z39.88-2004";
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) kev += std::string("&") + key + "=" + kev_encode(value);
  };
  if (d.type == "research") {
    add("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal");
    add("rft.genre", "article");
    add("rft.atitle", d.title);
    add("rft.jtitle", d.journal);
    for (const auto& author : d.authors) add("rft.au", author);
    add("rft.date", d.date);
  } else {
    add("rft_val_fmt", "info:ofi/fmt:kev:mtx:dc");
    add("rft.title", d.title);
    for (const auto& author : d.authors) add("rft.creator", author);
    add("rft.date", d.date);
    add("rft.publisher", d.site_name);
  }
  if (!d.doi.empty()) add("rft_id", "info:doi/" + d.doi);
  if (!d.pmid.empty()) add("rft_id", "info:pmid/" + d.pmid);
  add("rft_id", safe_link(d.url));
  return kev;
}

bool contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

void toggle(std::vector<std::string>& values, const std::string& value) {
  auto it = std::find(values.begin(), values.end(), value);
  if (it == values.end())
    values.push_back(value);
  else
    values.erase(it);
}

// The filter list of `params` a facet or chip of `name` changes.
std::vector<std::string>* filter_list(CgiParams& params, const std::string& name) {
  if (name == "site") return &params.sites;
  if (name == "type") return &params.types;
  if (name == "evidence") return &params.evidence;
  if (name == "concept") return &params.concepts;
  return nullptr;
}

const char* sort_value(SortOrder sort) {
  switch (sort) {
    case SortOrder::kDate:
      return "date";
    case SortOrder::kDateDescending:
      return "-date";
    case SortOrder::kRelevance:
      break;
  }
  return "relevance";
}

}  // namespace

struct CgiHandler::Impl {
  CgiConfig config;
  Template page_template, landing_template, results_template, error_template, opensearch_template;
  Template collection_template;  // loaded only when a collection is published
  std::string css;
  std::optional<Searcher> searcher;

  // ?q=...&site=...: the state of a page as a link (HTML-escaped when inserted).
  std::string link(const CgiRequest& request, const CgiParams& p) const {
    std::string query;
    auto add = [&](const char* name, const std::string& value) {
      query += (query.empty() ? "?" : "&") + std::string(name) + "=" + url_encode(value);
    };
    if (p.collection) add("collection", *p.collection);
    if (!p.query.empty()) add("q", p.query);
    for (const auto& v : p.sites) add("site", v);
    if (!p.years.empty()) add("year", p.years);
    for (const auto& v : p.types) add("type", v);
    for (const auto& v : p.evidence) add("evidence", v);
    for (const auto& v : p.concepts) add("concept", v);
    if (!p.like.empty()) add("like", p.like);
    if (p.sort != SortOrder::kRelevance) add("sort", sort_value(p.sort));
    if (p.page > 1) add("page", std::to_string(p.page));
    if (p.json) add("format", "json");
    return request.script_name + (query.empty() ? "?" : query);
  }

  CgiResponse html_page(const CgiRequest& request, const CgiParams* params, int status,
                        const std::string& title, std::string content) const {
    TemplateData data;
    data.text("site_title", config.title)
        .text("page_title", title.empty() ? config.title : title + " – " + config.title)
        .text("css_url", request.script_name + "?css=1")
        .text("opensearch_url", request.script_name + "?opensearch=1")
        .text("home_url", request.script_name.empty() ? "?" : request.script_name)
        .text("action", request.script_name)
        .html("content", std::move(content));
    std::vector<TemplateData> hidden;
    if (params) {
      data.text("query", params->query);
      data.flag("autofocus",
                params->query.empty() && !params->has_filters() && !params->collection);
      // The form keeps the filters and the sort order when the words change.
      auto keep = [&](const char* name, const std::string& value) {
        TemplateData item;
        item.text("name", name).text("value", value);
        hidden.push_back(std::move(item));
      };
      for (const auto& v : params->sites) keep("site", v);
      if (!params->years.empty()) keep("year", params->years);
      for (const auto& v : params->types) keep("type", v);
      for (const auto& v : params->evidence) keep("evidence", v);
      for (const auto& v : params->concepts) keep("concept", v);
      if (params->sort != SortOrder::kRelevance) keep("sort", sort_value(params->sort));
    } else {
      data.flag("autofocus", true);
    }
    data.list("hidden", std::move(hidden));
    CgiResponse response;
    response.status = status;
    response.body = page_template.render(data);
    return response;
  }

  CgiResponse error_page(const CgiRequest& request, int status, const std::string& message,
                         bool json) const {
    CgiResponse response;
    if (json) {
      response.status = status;
      response.content_type = "application/json";
      response.body = "{\"error\": " + json_quote(message) + "}\n";
      return response;
    }
    TemplateData data;
    data.text("status", std::to_string(status))
        .text("message", message)
        .text("home_url", request.script_name.empty() ? "?" : request.script_name);
    data.text("reason", status == 400   ? "Bad request"
                        : status == 404 ? "Not found"
                        : status == 405 ? "Method not allowed"
                                        : "Something went wrong");
    CgiResponse response_page =
        html_page(request, nullptr, status, "Error", error_template.render(data));
    if (status == 405) response_page.headers.emplace_back("Allow", "GET, HEAD");
    return response_page;
  }

  CgiResponse opensearch_description(const CgiRequest& request) const {
    std::string search_url = config.base_url;
    if (search_url.empty()) {
      // The Host header is the client's word; use it only if it looks like a host.
      bool host_ok = !request.host.empty() && request.host.size() < 256;
      for (char c : request.host)
        host_ok = host_ok &&
                  ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '-' || c == ':' || c == '[' || c == ']');
      search_url = host_ok ? std::string(request.https ? "https://" : "http://") + request.host +
                                 request.script_name
                           : request.script_name;
    }
    TemplateData data;
    data.text("short_name", std::string(utf8_prefix(config.title, 16)))
        .text("site_title", config.title)
        .text("search_url", search_url);
    CgiResponse response;
    response.content_type = "application/opensearchdescription+xml; charset=utf-8";
    response.body = opensearch_template.render(data);
    return response;
  }

  // Runs the search; if opening the index or searching it fails, opens it
  // afresh and tries once more: it may have been replaced under a
  // long-running FastCGI process, or medindex may have committed twice while
  // it was being opened (Xapian's DatabaseModifiedError, which a CGI process,
  // opening the index for every request, meets under frequent commits).
  Result<SearchResults> run_search(const std::string& text, const SearchOptions& options,
                                   std::string& log) {
    std::string user_message;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!searcher) {
        auto opened = Searcher::open(config.indexes);
        if (!opened) {
          log = opened.error();
          user_message = "The search index is not available.";
          continue;
        }
        searcher.emplace(std::move(*opened));
      }
      auto found = searcher->search(text, options);
      if (found) return found;
      // A --like document that is not there is the user's mistake, not ours.
      if (found.error().rfind("--like:", 0) == 0) return found;
      log = found.error();
      user_message = "The search failed.";
      searcher.reset();
    }
    return fail(user_message);
  }

  CgiResponse handle(const CgiRequest& request) {
    if (request.method != "GET" && request.method != "HEAD")
      return error_page(request, 405, "Only GET and HEAD requests are answered.", false);
    if (request.query_string.size() > kCgiMaxQueryStringBytes)
      return error_page(request, 400, "The request is too long.", false);
    auto decoded = parse_query_string(request.query_string);
    if (!decoded)
      return error_page(request, 400, "The request could not be read: " + decoded.error() + ".",
                        false);
    bool wants_json = false;
    if (auto it = decoded->find("format"); it != decoded->end()) wants_json = it->second == "json";
    auto params = parse_cgi_params(*decoded);
    if (!params)
      return error_page(request, 400, "The request could not be read: " + params.error() + ".",
                        wants_json);
    if (params->css) {
      CgiResponse response;
      response.content_type = "text/css; charset=utf-8";
      response.headers.emplace_back("Cache-Control", "public, max-age=86400");
      response.body = css;
      return response;
    }
    if (params->opensearch) return opensearch_description(request);
    if (params->collection) return collection_page(request, *params);

    bool searching = !trim(params->query).empty() || params->has_filters() || !params->like.empty();
    if (!searching) {
      if (params->json) {
        CgiResponse response;
        response.content_type = "application/json";
        response.body = results_to_json(SearchResults{}) + "\n";
        return response;
      }
      TemplateData data;
      data.text("site_title", config.title)
          .text("home_url", request.script_name.empty() ? "?" : request.script_name);
      if (searcher) data.text("document_count", format_count(searcher->document_count()));
      return html_page(request, &*params, 200, "", landing_template.render(data));
    }

    SearchOptions options;
    options.limit = config.per_page;
    options.offset = (params->page - 1) * config.per_page;
    options.sort = params->sort;
    options.sites = params->sites;
    options.types = params->types;
    options.evidence = params->evidence;
    options.years = params->years;
    options.concepts = params->concepts;
    options.facets = config.facets;
    options.like = params->like;
    std::string log;
    auto start = std::chrono::steady_clock::now();
    auto found = run_search(params->query, options, log);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string user_note;
    SearchResults results;
    if (found) {
      results = std::move(*found);
    } else if (found.error().rfind("--like:", 0) == 0) {
      user_note = "The article to find similar articles for is not in the index.";
    } else {
      CgiResponse response = error_page(request, 500, found.error(), params->json);
      response.log = log;
      return response;
    }
    if (params->json) {
      CgiResponse response;
      response.content_type = "application/json";
      if (!user_note.empty()) {
        response.status = 400;
        response.body = "{\"error\": " + json_quote(user_note) + "}\n";
      } else {
        response.body = results_to_json(results) + "\n";
      }
      return response;
    }
    if (!user_note.empty()) results.notes.push_back(user_note);
    return html_page(request, &*params, 200, params->query.empty() ? "Search" : params->query,
                     results_content(request, *params, results, seconds));
  }

  // ?collection=NAME: the included items of a collection the configuration
  // publishes. The store is opened read-only for each request, so a
  // long-running FastCGI process shows changes at once and holds no lock.
  CgiResponse collection_page(const CgiRequest& request, const CgiParams& params) const {
    const std::string& name = *params.collection;
    // An unpublished name and a missing collection get the same answer, so
    // the page does not tell which private collections exist.
    auto not_found = [&](std::string log) {
      CgiResponse response =
          error_page(request, 404, "There is no published collection by that name.", params.json);
      response.log = std::move(log);
      return response;
    };
    auto unavailable = [&](std::string log) {
      CgiResponse response =
          error_page(request, 500, "The collection is not available.", params.json);
      response.log = std::move(log);
      return response;
    };
    if (!contains(config.collections, name)) return not_found("");
    auto store = CollectionStore::open_read_only(config.collections_path);
    if (!store) return unavailable(store.error());
    auto all = store->list();
    if (!all) return unavailable(all.error());
    auto info = std::find_if(all->begin(), all->end(),
                             [&](const CollectionInfo& c) { return c.name == name; });
    if (info == all->end())
      return not_found("collection '" + name +
                       "' is published by the configuration but is not in " +
                       config.collections_path);
    auto items = store->items(name, ScreeningStatus::kInclude);
    if (!items) return unavailable(items.error());

    uint64_t total = items->size();
    uint64_t pages_total = std::max<uint64_t>(1, (total + config.per_page - 1) / config.per_page);
    uint32_t last_page =
        static_cast<uint32_t>(std::min<uint64_t>(pages_total, kCgiMaxCollectionPage));
    CgiParams at = params;
    at.page = std::min(params.page, last_page);
    uint64_t first = static_cast<uint64_t>(at.page - 1) * config.per_page;
    uint64_t end = std::min<uint64_t>(total, first + config.per_page);

    CgiResponse response;
    if (params.json) {
      JsonWriter out;
      out.begin_object();
      out.key("collection").value(name);
      out.key("description").value(info->description);
      out.key("total").value(total);
      out.key("page").value(static_cast<uint64_t>(at.page));
      out.key("per_page").value(static_cast<uint64_t>(config.per_page));
      out.key("items").begin_array();
      for (uint64_t i = first; i < end; ++i) {
        out.begin_object();
        write_snapshot_members(out, (*items)[i].snapshot);
        out.end_object();
      }
      out.end_array();
      out.end_object();
      response.content_type = "application/json";
      response.body = out.str() + "\n";
      return response;
    }

    TemplateData data;
    data.text("name", name).text("description", info->description);
    data.text("count_text", total == 0   ? "No included items"
                            : total == 1 ? "1 included item"
                                         : format_count(total) + " included items");
    if (end > first) data.text("range_text", format_count(first + 1) + "–" + format_count(end));
    CgiParams as_json = at;
    as_json.json = true;
    data.text("json_url", link(request, as_json));
    data.text("first_rank", std::to_string(first + 1));
    std::vector<TemplateData> rows;
    for (uint64_t i = first; i < end; ++i) {
      const Document& d = (*items)[i].snapshot.doc;
      TemplateData item;
      item.text("rank", std::to_string(i + 1))
          .text("url", safe_link(d.url))
          .text("title", d.title.empty() ? d.url : d.title)
          .text("site", d.site_name.empty() ? d.site : d.site_name)
          .text("date", d.date)
          .text("type", d.type)
          .text("type_label", type_label(d.type))
          .text("evidence", d.evidence)
          .text("evidence_label", evidence_label(d.evidence))
          .text("authors", byline(d.authors))
          .text("journal", d.journal)
          .text("doi", d.doi)
          .text("doi_url", d.doi.empty() ? "" : doi_link(d.doi))
          .text("snippet", description_snippet(d.description))
          .text("coins", coins(d));
      rows.push_back(std::move(item));
    }
    data.flag("has_items", !rows.empty());
    data.list("items", std::move(rows));
    add_pagination(data, request, at, last_page);
    return html_page(request, &params, 200, name, collection_template.render(data));
  }

  // Page links around `params.page`, and Previous / Next.
  void add_pagination(TemplateData& data, const CgiRequest& request, const CgiParams& params,
                      uint32_t last_page) const {
    std::vector<TemplateData> pages;
    if (last_page > 1) {
      uint32_t from = params.page > 3 ? params.page - 3 : 1;
      uint32_t to = std::min(last_page, from + 6);
      for (uint32_t n = from; n <= to; ++n) {
        CgiParams at = params;
        at.page = n;
        TemplateData item;
        item.text("number", std::to_string(n))
            .text("url", link(request, at))
            .flag("current", n == params.page);
        pages.push_back(std::move(item));
      }
    }
    data.flag("has_pages", !pages.empty() || params.page > 1);
    data.list("pages", std::move(pages));
    if (params.page > 1) {
      CgiParams prev = params;
      prev.page = std::min(params.page - 1, last_page);
      data.text("prev_url", link(request, prev));
    }
    if (params.page < last_page) {
      CgiParams next = params;
      next.page = params.page + 1;
      data.text("next_url", link(request, next));
    }
  }

  std::string results_content(const CgiRequest& request, const CgiParams& params,
                              const SearchResults& results, double seconds) const {
    TemplateData data;
    data.text("query", params.query);
    std::vector<TemplateData> notes;
    for (const auto& note : results.notes) {
      TemplateData item;
      item.text("text", note);
      notes.push_back(std::move(item));
    }
    data.list("notes", std::move(notes));
    if (!results.suggestion.empty()) {
      CgiParams corrected = params;
      corrected.query = results.suggestion;
      corrected.page = 1;
      data.text("suggestion", results.suggestion).text("suggestion_url", link(request, corrected));
    }

    // Chips: one per active filter, each a link without it.
    std::vector<TemplateData> chips;
    auto chip = [&](const std::string& label, const std::string& value, CgiParams without) {
      without.page = 1;
      TemplateData item;
      item.text("label", label).text("value", value).text("remove_url", link(request, without));
      chips.push_back(std::move(item));
    };
    for (const char* name : {"site", "type", "evidence", "concept"}) {
      CgiParams copy = params;
      for (const auto& value : *filter_list(copy, name)) {
        CgiParams without = params;
        toggle(*filter_list(without, name), value);
        std::string shown = value;
        if (std::string(name) == "type") shown = type_label(value);
        if (std::string(name) == "evidence") shown = evidence_label(value);
        if (std::string(name) == "concept") {
          for (const auto& facet : results.facets)
            if (facet.name == "concept")
              for (const auto& v : facet.values)
                if (v.value == value) shown = v.label;
        }
        chip(facet_title(name), shown, without);
      }
    }
    if (!params.years.empty()) {
      CgiParams without = params;
      without.years.clear();
      chip("Year", params.years, without);
    }
    if (!params.like.empty()) {
      CgiParams without = params;
      without.like.clear();
      chip("Similar to", results.explain.like.empty() ? params.like : results.explain.like,
           without);
    }
    data.flag("has_chips", !chips.empty());
    data.list("chips", std::move(chips));

    uint64_t first = results.hits.empty() ? 0 : results.hits.front().rank;
    uint64_t last = results.hits.empty() ? 0 : results.hits.back().rank;
    std::string count = results.total == 0    ? "No results"
                        : results.total_exact ? format_count(results.total) +
                                                    (results.total == 1 ? " result" : " results")
                                              : "About " + format_count(results.total) + " results";
    if (results.related > 0) count += ", and about " + format_count(results.related) + " related";
    data.text("count_text", count);
    if (first > 0) data.text("range_text", format_count(first) + "–" + format_count(last));
    char timing[32];
    std::snprintf(timing, sizeof timing, "%.3f", seconds);
    data.text("seconds", timing);
    data.text("first_rank", std::to_string(first > 0 ? first : 1));

    std::vector<TemplateData> sorts;
    for (auto [order, label] :
         {std::pair{SortOrder::kRelevance, "Relevance"},
          std::pair{SortOrder::kDateDescending, "Newest"}, std::pair{SortOrder::kDate, "Oldest"}}) {
      CgiParams sorted = params;
      sorted.sort = order;
      sorted.page = 1;
      TemplateData item;
      item.text("label", label)
          .text("url", link(request, sorted))
          .flag("current", order == params.sort);
      sorts.push_back(std::move(item));
    }
    data.list("sorts", std::move(sorts));

    std::vector<TemplateData> hits;
    for (const SearchHit& hit : results.hits) {
      const Document& d = hit.doc;
      TemplateData item;
      CgiParams similar;
      similar.like = d.id.empty() ? std::to_string(hit.docid) : d.id;
      item.text("rank", std::to_string(hit.rank))
          .text("url", safe_link(d.url))
          .text("title", d.title.empty() ? d.url : d.title)
          .text("site", d.site_name.empty() ? d.site : d.site_name)
          .text("date", d.date)
          .text("type", d.type)
          .text("type_label", type_label(d.type))
          .text("evidence", d.evidence)
          .text("evidence_label", evidence_label(d.evidence))
          .text("authors", byline(d.authors))
          .text("journal", d.journal)
          .text("doi", d.doi)
          // Xapian's snippet: the text HTML-escaped, with <mark> added.
          .html("snippet", hit.snippet)
          .text("similar", hit.similar > 0 ? std::to_string(hit.similar) : "")
          .text("like_url", link(request, similar))
          .text("coins", coins(d));
      hits.push_back(std::move(item));
    }
    data.flag("has_hits", !hits.empty());
    data.list("hits", std::move(hits));

    // The related documents are ranked after (or among) the matches: pages go on to them.
    uint64_t pages_total =
        (results.total + results.related + config.per_page - 1) / config.per_page;
    uint32_t last_page = static_cast<uint32_t>(std::clamp<uint64_t>(pages_total, 1, kCgiMaxPage));
    add_pagination(data, request, params, last_page);

    data.text("explain", explanation_to_text(results.explain));

    std::vector<TemplateData> facets;
    for (const Facet& facet : results.facets) {
      std::vector<TemplateData> values;
      for (const FacetValue& v : facet.values) {
        CgiParams changed = params;
        changed.page = 1;
        bool active;
        if (facet.name == "year") {
          active = params.years == v.value;
          changed.years = active ? "" : v.value;
        } else {
          std::vector<std::string>* list = filter_list(changed, facet.name);
          if (!list) continue;
          active = contains(*list, v.value);
          toggle(*list, v.value);
        }
        std::string label = facet.name == "type"       ? type_label(v.value)
                            : facet.name == "evidence" ? evidence_label(v.value)
                                                       : v.label;
        TemplateData item;
        item.text("label", label)
            .text("count", format_count(v.count))
            .text("url", link(request, changed))
            .flag("active", active);
        values.push_back(std::move(item));
      }
      if (values.empty()) continue;
      TemplateData item;
      item.text("title", facet_title(facet.name)).list("values", std::move(values));
      facets.push_back(std::move(item));
    }
    data.flag("has_facets", !facets.empty());
    data.list("facets", std::move(facets));
    return results_template.render(data);
  }
};

Result<CgiHandler> CgiHandler::create(CgiConfig config) {
  auto impl = std::make_unique<Impl>();
  std::string dir = config.templates.empty() ? default_template_dir() : config.templates;
  struct Slot {
    Template* target;
    TemplateFile spec;
  };
  for (const Slot& slot :
       {Slot{&impl->page_template, {"page.html", &kPageNames}},
        Slot{&impl->landing_template, {"landing.html", &kLandingNames}},
        Slot{&impl->results_template, {"results.html", &kResultsNames}},
        Slot{&impl->error_template, {"error.html", &kErrorNames}},
        Slot{&impl->opensearch_template, {"opensearch.xml", &kOpenSearchNames}}}) {
    auto loaded = load_template(dir, slot.spec);
    if (!loaded) return std::move(loaded).take_error();
    *slot.target = std::move(*loaded);
  }
  // Sites that publish no collection need not have the template (older
  // copies of data/templates/ lack it).
  if (!config.collections.empty()) {
    auto loaded = load_template(dir, {"collection.html", &kCollectionNames});
    if (!loaded) return std::move(loaded).take_error();
    impl->collection_template = std::move(*loaded);
  }
  std::ifstream css(dir + "/medsearch.css", std::ios::binary);
  if (!css) return fail("cannot read stylesheet " + dir + "/medsearch.css");
  std::ostringstream text;
  text << css.rdbuf();
  impl->css = text.str();
  impl->config = std::move(config);
  return CgiHandler(std::move(impl));
}

CgiHandler::CgiHandler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CgiHandler::CgiHandler(CgiHandler&&) noexcept = default;
CgiHandler& CgiHandler::operator=(CgiHandler&&) noexcept = default;
CgiHandler::~CgiHandler() = default;

CgiResponse CgiHandler::handle(const CgiRequest& request) {
  std::string detail;
  try {
    return impl_->handle(request);
  } catch (const std::exception& e) {
    detail = e.what();
  } catch (const Xapian::Error& e) {
    detail = e.get_description();
  } catch (...) {
    detail = "unknown exception";
  }
  // Whatever state the index was in, start afresh at the next request.
  impl_->searcher.reset();
  CgiResponse response = cgi_fallback_error(500, "An internal error occurred.");
  response.log = detail;
  return response;
}

}  // namespace medsearch
