#include "medsearch/cgi.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "medsearch/collections.h"
#include "medsearch/output.h"
#include "medsearch/text.h"

namespace medsearch {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> decode_component(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return fail("malformed percent-encoding in the request");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  if (valid_utf8(out) != out) return fail("the request is not valid UTF-8");
  return out;
}

}  // namespace

Result<std::multimap<std::string, std::string>> parse_query_string(std::string_view query) {
  std::multimap<std::string, std::string> params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find_first_of("&;", start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto name = decode_component(pair.substr(0, eq));
    if (!name) return std::move(name).take_error();
    auto value = decode_component(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!value) return std::move(value).take_error();
    params.emplace(std::move(*name), std::move(*value));
  }
  return params;
}

std::string url_encode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {

// The first value of `name`, or "".
std::string first_value(const std::multimap<std::string, std::string>& params,
                        const std::string& name) {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

// Every non-empty value of `name`, trimmed; fails past kCgiMaxFilterValues.
Result<std::vector<std::string>> all_values(const std::multimap<std::string, std::string>& params,
                                            const std::string& name) {
  std::vector<std::string> out;
  auto [begin, end] = params.equal_range(name);
  for (auto it = begin; it != end; ++it) {
    std::string value(trim(it->second));
    if (value.empty()) continue;
    if (value.size() > 200) return fail("the " + name + " filter is too long");
    if (std::find(out.begin(), out.end(), value) != out.end()) continue;
    out.push_back(std::move(value));
  }
  if (out.size() > kCgiMaxFilterValues)
    return fail("too many " + name + " filters (at most " + std::to_string(kCgiMaxFilterValues) +
                ")");
  return out;
}

// Concept ids as the concept facet gives them ("D020918", "chronic-pain").
bool valid_concept_id(std::string_view id) {
  if (id.empty() || id.size() > 100) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  return true;
}

bool is_absolute_http_url(std::string_view url) {
  return url.substr(0, 7) == "http://" || url.substr(0, 8) == "https://";
}

// A positive number, or nothing.
bool parse_count(std::string_view text, unsigned long& out) {
  if (text.empty() || text.size() > 9) return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<unsigned long>(c - '0');
  }
  return true;
}

}  // namespace

Result<CgiParams> parse_cgi_params(const std::multimap<std::string, std::string>& params) {
  CgiParams out;
  out.query = first_value(params, "q");
  // Control characters mean nothing in a query, and HTML cannot show them:
  // they separate words like spaces do.
  for (char& c : out.query)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (out.query.size() > kCgiMaxQueryBytes)
    return fail("the query is longer than " + std::to_string(kCgiMaxQueryBytes) + " bytes");
  if (auto it = params.find("collection"); it != params.end()) {
    if (it->second.size() > 1000) return fail("the collection name is too long");
    out.collection = it->second;
  }
  // A page number out of range is clamped, not refused: it is what a user
  // gets by editing the URL, and the nearest page is the useful answer.
  uint32_t max_page = out.collection ? kCgiMaxCollectionPage : kCgiMaxPage;
  unsigned long page = 1;
  if (parse_count(trim(first_value(params, "page")), page))
    out.page = static_cast<uint32_t>(std::clamp<unsigned long>(page, 1, max_page));
  else if (trim(first_value(params, "page")).size() > 9)
    out.page = max_page;
  if (std::string sort(trim(first_value(params, "sort"))); !sort.empty()) {
    auto order = parse_sort_order(sort);
    if (!order) return fail("sort: " + order.error());
    out.sort = *order;
  }
  for (auto [name, target] : {std::pair<const char*, std::vector<std::string>*>{"site", &out.sites},
                              {"type", &out.types},
                              {"evidence", &out.evidence},
                              {"concept", &out.concepts}}) {
    auto values = all_values(params, name);
    if (!values) return std::move(values).take_error();
    *target = std::move(*values);
  }
  for (const auto& id : out.concepts)
    if (!valid_concept_id(id))
      return fail("concept: wants a concept id such as D020918 or chronic-pain, not '" + id + "'");
  auto years = all_values(params, "year");
  if (!years) return std::move(years).take_error();
  if (years->size() > 1) return fail("give one year or range of years");
  if (!years->empty()) out.years = years->front();
  out.like = std::string(trim(first_value(params, "like")));
  if (out.like.size() > 2000) return fail("the like parameter is too long");
  std::string format(trim(first_value(params, "format")));
  if (format != "" && format != "html" && format != "json")
    return fail("format must be html or json, not '" + format + "'");
  out.json = format == "json";
  out.opensearch = !first_value(params, "opensearch").empty();
  out.css = !first_value(params, "css").empty();

  SearchOptions check;
  check.sites = out.sites;
  check.types = out.types;
  check.evidence = out.evidence;
  check.years = out.years;
  if (Status valid = validate_search_options(check); !valid) return fail(valid.error());
  // A collection page is not a search of the collection: refuse what would
  // look as if it narrowed the list but would be ignored.
  if (out.collection &&
      (!trim(out.query).empty() || out.has_filters() || !out.like.empty() || params.count("sort")))
    return fail("ask for a search (q) or a collection, not both");
  return out;
}

Result<CgiConfig> parse_cgi_config(std::string_view text, const std::string& path) {
  CgiConfig config;
  // Relative paths are taken from the configuration file's directory, not
  // from wherever the web server happens to start the program.
  std::string dir;
  if (size_t slash = path.rfind('/'); slash != std::string::npos) dir = path.substr(0, slash + 1);
  auto resolve = [&](const std::string& value) {
    return value.empty() || value[0] == '/' ? value : dir + value;
  };
  int number = 0;
  for (const std::string& raw : split(text, '\n')) {
    ++number;
    std::string_view line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    auto where = path + ":" + std::to_string(number) + ": ";
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return fail(where + "expected 'key = value'");
    std::string key(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (key == "index") {
      if (value.empty()) return fail(where + "index wants a path");
      config.indexes.push_back(resolve(value));
    } else if (key == "title") {
      config.title = value;
    } else if (key == "per_page") {
      unsigned long n = 0;
      if (!parse_count(value, n) || n < 1 || n > kCgiMaxPerPage)
        return fail(where + "per_page must be a number from 1 to " +
                    std::to_string(kCgiMaxPerPage) + ", not '" + value + "'");
      config.per_page = static_cast<uint32_t>(n);
    } else if (key == "facets") {
      config.facets.clear();
      for (const std::string& name : split(value, ',')) {
        std::string facet(trim(name));
        if (facet.empty()) continue;
        SearchOptions check;
        check.facets = {facet};
        if (Status valid = validate_search_options(check); !valid)
          return fail(where + valid.error());
        config.facets.push_back(facet);
      }
    } else if (key == "templates") {
      config.templates = resolve(value);
    } else if (key == "collection") {
      if (Status valid = check_collection_name(value); !valid)
        return fail(where + "collection: " + valid.error());
      if (std::find(config.collections.begin(), config.collections.end(), value) ==
          config.collections.end())
        config.collections.push_back(value);
    } else if (key == "collections") {
      if (value.empty()) return fail(where + "collections wants the path of the collections file");
      config.collections_path = resolve(value);
    } else if (key == "base_url") {
      if (!is_absolute_http_url(value))
        return fail(where + "base_url must start with http:// or https://");
      config.base_url = value;
    } else {
      return fail(where + "unknown key '" + key +
                  "'; keys are index, title, per_page, facets, templates, base_url, collection, "
                  "collections");
    }
  }
  if (config.indexes.empty()) return fail(path + ": no 'index' configured");
  // Where `medsearch collection` keeps it when not told otherwise.
  if (config.collections_path.empty())
    config.collections_path = default_collections_path(config.indexes.front());
  return config;
}

Result<CgiConfig> load_cgi_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read configuration file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_cgi_config(text.str(), path);
}

std::string default_template_dir() {
  if (const char* dir = std::getenv("MEDSEARCH_DATA_DIR"); dir != nullptr && *dir != '\0')
    return std::string(dir) + "/templates";
#ifdef MEDSEARCH_SOURCE_DATA_DIR
  return std::string(MEDSEARCH_SOURCE_DATA_DIR) + "/templates";
#else
  return "data/templates";
#endif
}

CgiRequest CgiRequest::from_environment(const std::function<const char*(const char*)>& get) {
  auto value = [&](const char* name) {
    const char* v = get(name);
    return v ? std::string(v) : std::string();
  };
  CgiRequest request;
  request.method = value("REQUEST_METHOD");
  if (request.method.empty()) request.method = "GET";
  request.query_string = value("QUERY_STRING");
  request.script_name = value("SCRIPT_NAME");
  request.host = value("HTTP_HOST");
  std::string https = ascii_lower(value("HTTPS"));
  request.https = https == "on" || https == "1";
  return request;
}

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 500:
      return "Internal Server Error";
    default:
      return "Unknown";
  }
}

}  // namespace

std::string format_cgi_response(const CgiResponse& response, bool head_only) {
  std::string out =
      "Status: " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "X-Content-Type-Options: nosniff\r\n";
  out += "Referrer-Policy: same-origin\r\n";
  // Only our own stylesheet; no scripts, frames, plugins or foreign images.
  out +=
      "Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self'; "
      "form-action 'self'; base-uri 'none'; frame-ancestors 'none'\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (!head_only) out += response.body;
  return out;
}

CgiResponse cgi_fallback_error(int status, const std::string& message) {
  CgiResponse response;
  response.status = status;
  response.body =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>Error</title>\n</head>\n<body>\n<main>\n<h1>" +
      std::to_string(status) + " " + reason_phrase(status) + "</h1>\n<p>" + html_escape(message) +
      "</p>\n</main>\n</body>\n</html>\n";
  return response;
}

}  // namespace medsearch
