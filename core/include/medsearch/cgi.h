// The web search box: request decoding, configuration and the request handler
// behind medsearch.cgi (CGI and FastCGI), kept in core so it can be tested and
// fuzzed without a web server. docs/cgi.md describes it for site owners.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "medsearch/result.h"
#include "medsearch/searcher.h"

namespace medsearch {

// Decodes an application/x-www-form-urlencoded query string ("q=a+b&page=2")
// into name -> values. Fails on malformed percent-encoding or invalid UTF-8.
Result<std::multimap<std::string, std::string>> parse_query_string(std::string_view query);

// `text` percent-encoded for use inside a URL query value.
std::string url_encode(std::string_view text);

// Limits that protect the server from one request.
inline constexpr size_t kCgiMaxQueryBytes = 1000;
inline constexpr size_t kCgiMaxQueryStringBytes = 8192;
inline constexpr uint32_t kCgiMaxPage = 100;
inline constexpr uint32_t kCgiMaxPerPage = 50;
inline constexpr size_t kCgiMaxFilterValues = 20;  // per filter parameter
// A collection lists everything it holds, so its pages go further than a
// search's; the handler clamps to the collection's last page.
inline constexpr uint32_t kCgiMaxCollectionPage = 1000000;

// The parameters of one request (a search, or a published collection),
// decoded and checked.
struct CgiParams {
  std::string query;  // q, at most kCgiMaxQueryBytes
  // 1..kCgiMaxPage, or 1..kCgiMaxCollectionPage for a collection
  // (out-of-range values are clamped)
  uint32_t page = 1;
  SortOrder sort = SortOrder::kRelevance;
  std::vector<std::string> sites, types, evidence, concepts;
  std::string years;        // "2015" or "2015..2024"
  std::string like;         // a document's docid, id or URL
  bool json = false;        // format=json
  bool opensearch = false;  // opensearch=1
  bool css = false;         // css=1: the stylesheet
  // collection=NAME: a published collection's page instead of a search;
  // never together with q, like, filters or sort.
  std::optional<std::string> collection;

  bool has_filters() const {
    return !sites.empty() || !types.empty() || !evidence.empty() || !concepts.empty() ||
           !years.empty();
  }
};

// Reads and checks the parameters. Fails (a 400) on an over-long query, an
// unknown sort order, a bad filter value or format, or a collection asked for
// together with a search; unknown parameters are ignored, as browsers and
// crawlers add their own.
Result<CgiParams> parse_cgi_params(const std::multimap<std::string, std::string>& params);

// The site owner's configuration (docs/cgi.md).
struct CgiConfig {
  std::vector<std::string> indexes;  // index = PATH (repeatable)
  std::string title = "Medical search";
  uint32_t per_page = 10;  // 1..kCgiMaxPerPage
  std::vector<std::string> facets = {"site", "year", "type", "evidence"};
  std::string templates;  // template directory; default_template_dir() when empty
  std::string base_url;   // absolute URL of the CGI, for OpenSearch; else from the request
  // collection = NAME (repeatable): the only collections ?collection= shows.
  std::vector<std::string> collections;
  // collections = PATH: the store, opened read-only; parse_cgi_config sets the
  // default, collections.sqlite beside the first index.
  std::string collections_path;
};

// Parses "key = value" lines ('#' starts a comment line); `path` is used in
// messages. Unknown keys and bad values are errors naming the line.
Result<CgiConfig> parse_cgi_config(std::string_view text, const std::string& path);
Result<CgiConfig> load_cgi_config(const std::string& path);

// $MEDSEARCH_DATA_DIR/templates, else the source tree's data/templates.
std::string default_template_dir();

// What the handler needs from the CGI environment.
struct CgiRequest {
  std::string method = "GET";  // REQUEST_METHOD
  std::string query_string;    // QUERY_STRING
  std::string script_name;     // SCRIPT_NAME: where links and the form point
  std::string host;            // HTTP_HOST, for OpenSearch without base_url
  bool https = false;          // HTTPS=on

  // Reads the variables through `get` (getenv, or FastCGI's parameters).
  static CgiRequest from_environment(const std::function<const char*(const char*)>& get);
};

struct CgiResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
  std::string log;  // detail for the server log (stderr), never shown to the user
};

// The CGI response: "Status:", Content-Type, the security headers, the extra
// headers, a blank line, then the body unless `head_only`.
std::string format_cgi_response(const CgiResponse& response, bool head_only);

// A page for errors that happen before the templates are loaded.
CgiResponse cgi_fallback_error(int status, const std::string& message);

// Answers requests with one configuration and one Searcher, kept open from
// request to request (FastCGI). Not thread-safe: one per thread.
class CgiHandler {
 public:
  // Loads the templates and the stylesheet; fails on a missing file or a
  // template error (the message names the file and line). The index is
  // opened at the first search.
  static Result<CgiHandler> create(CgiConfig config);
  CgiHandler(CgiHandler&&) noexcept;
  CgiHandler& operator=(CgiHandler&&) noexcept;
  ~CgiHandler();

  // Never throws: internal errors become a 500 page with the detail in `log`.
  CgiResponse handle(const CgiRequest& request);

 private:
  struct Impl;
  explicit CgiHandler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medsearch
