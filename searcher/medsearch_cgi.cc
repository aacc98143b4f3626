// medsearch.cgi: the search box for a web site, as a CGI/1.1 program.
// Configuration comes from $MEDSEARCH_CONFIG or medsearch.conf beside the
// binary; the request can never name an index, a file or a template.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "medsearch/cgi.h"
#include "medsearch/output.h"
#include "medsearch/searcher.h"
#include "medsearch/text.h"

using namespace medsearch;

namespace {

constexpr size_t kMaxQueryBytes = 1000;
constexpr uint32_t kMaxPage = 100;

struct Config {
  std::vector<std::string> indexes;
  std::string site_title = "Medical search";
  uint32_t per_page = 10;
};

std::string config_path() {
  if (const char* env = std::getenv("MEDSEARCH_CONFIG"); env && *env) return env;
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return "medsearch.conf";
  std::string path(exe, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + "medsearch.conf";
}

// "key = value" lines; '#' starts a comment. `index` may repeat.
Result<Config> load_config() {
  std::string path = config_path();
  std::ifstream in(path);
  if (!in) return fail("cannot read configuration file " + path);
  Config config;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    size_t eq = text.find('=');
    if (eq == std::string_view::npos)
      return fail(path + ":" + std::to_string(number) + ": expected 'key = value'");
    std::string key(trim(text.substr(0, eq)));
    std::string value(trim(text.substr(eq + 1)));
    if (key == "index")
      config.indexes.push_back(value);
    else if (key == "title")
      config.site_title = value;
    else if (key == "per_page")
      config.per_page = std::clamp<uint32_t>(std::stoul(value), 1, 50);
    else
      return fail(path + ":" + std::to_string(number) + ": unknown key '" + key + "'");
  }
  if (config.indexes.empty()) return fail(path + ": no 'index' configured");
  return config;
}

void send_headers(int status, const char* content_type) {
  static const std::map<int, const char*> kReasons = {{200, "OK"},
                                                      {400, "Bad Request"},
                                                      {405, "Method Not Allowed"},
                                                      {500, "Internal Server Error"}};
  std::cout << "Status: " << status << " " << kReasons.at(status) << "\r\n"
            << "Content-Type: " << content_type << "\r\n"
            << "X-Content-Type-Options: nosniff\r\n"
            << "Referrer-Policy: same-origin\r\n"
            << "Content-Security-Policy: default-src 'none'; style-src 'self'; "
               "form-action 'self'; frame-ancestors 'none'\r\n"
            << "\r\n";
}

std::string page_head(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>" +
         html_escape(title) + "</title>\n</head>\n<body>\n";
}

std::string search_form(const std::string& query, bool autofocus) {
  return "<header><form role=\"search\" method=\"get\" action=\"\">\n"
         "<label for=\"q\">Search articles</label>\n"
         "<input type=\"search\" id=\"q\" name=\"q\" value=\"" +
         html_escape(query) + "\"" + (autofocus ? " autofocus" : "") +
         ">\n<button type=\"submit\">Search</button>\n"
         "</form></header>\n";
}

void error_page(int status, bool head_only, const std::string& message) {
  send_headers(status, "text/html; charset=utf-8");
  if (head_only) return;
  std::cout << page_head("Error") << "<main><h1>" << status << "</h1><p>" << html_escape(message)
            << "</p></main>\n</body>\n</html>\n";
}

std::string param(const std::multimap<std::string, std::string>& params, const std::string& name) {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

int serve() {
  const char* method_env = std::getenv("REQUEST_METHOD");
  std::string method = method_env ? method_env : "GET";
  bool head_only = method == "HEAD";
  if (method != "GET" && method != "HEAD") {
    error_page(405, false, "Only GET and HEAD are supported.");
    return 0;
  }
  const char* query_env = std::getenv("QUERY_STRING");
  auto params = parse_query_string(query_env ? query_env : "");
  if (!params) {
    error_page(400, head_only, "The request could not be read: " + params.error() + ".");
    return 0;
  }
  auto config = load_config();
  if (!config) {
    std::cerr << "medsearch.cgi: error: " << config.error() << "\n";
    error_page(500, head_only, "The search is not configured correctly.");
    return 0;
  }
  std::string query = param(*params, "q");
  if (query.size() > kMaxQueryBytes) {
    error_page(400, head_only, "The query is too long.");
    return 0;
  }
  bool json = param(*params, "format") == "json";
  uint32_t page = 1;
  if (std::string p = param(*params, "page"); !p.empty()) {
    char* end = nullptr;
    unsigned long n = std::strtoul(p.c_str(), &end, 10);
    page = (end && *end == '\0' && n >= 1)
               ? static_cast<uint32_t>(std::min<unsigned long>(n, kMaxPage))
               : 1;
  }

  SearchResults results;
  results.query = query;
  double seconds = 0;
  if (!trim(query).empty()) {
    auto searcher = Searcher::open(config->indexes);
    if (!searcher) {
      std::cerr << "medsearch.cgi: error: " << searcher.error() << "\n";
      error_page(500, head_only, "The search index is not available.");
      return 0;
    }
    SearchOptions options;
    options.limit = config->per_page;
    options.offset = (page - 1) * config->per_page;
    auto start = std::chrono::steady_clock::now();
    auto found = searcher->search(query, options);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!found) {
      std::cerr << "medsearch.cgi: error: " << found.error() << "\n";
      error_page(500, head_only, "The search failed.");
      return 0;
    }
    results = std::move(*found);
  }

  if (json) {
    send_headers(200, "application/json");
    if (!head_only) std::cout << results_to_json(results) << "\n";
    return 0;
  }
  send_headers(200, "text/html; charset=utf-8");
  if (head_only) return 0;
  std::string title = query.empty() ? config->site_title : query + " – " + config->site_title;
  std::cout << page_head(title) << search_form(query, query.empty()) << "<main>\n";
  if (query.empty()) {
    std::cout << "<h1>" << html_escape(config->site_title) << "</h1>\n<p>Try: ";
    for (const char* example : {"CRPS", "NMDA receptor", "ketamine depression"})
      std::cout << "<a href=\"?q=" << url_encode(example) << "\">" << html_escape(example)
                << "</a> ";
    std::cout << "</p>\n";
  } else {
    for (const auto& note : results.notes)
      std::cout << "<p class=\"note\">" << html_escape(note) << "</p>\n";
    char timing[64];
    std::snprintf(timing, sizeof timing, "%.3f", seconds);
    std::cout << "<p class=\"count\">About " << results.total << " results (" << timing
              << " seconds)</p>\n<ol class=\"results\" start=\""
              << (results.hits.empty() ? 1 : results.hits[0].rank) << "\">\n";
    for (const auto& hit : results.hits) {
      const Document& d = hit.doc;
      std::cout << "<li><h2><a href=\"" << html_escape(d.url) << "\">"
                << html_escape(d.title.empty() ? d.url : d.title) << "</a></h2>\n<p class=\"meta\">"
                << html_escape(d.site);
      if (!d.date.empty()) std::cout << " · " << html_escape(d.date);
      if (!d.type.empty()) std::cout << " · " << html_escape(d.type);
      // The snippet is already HTML-escaped by Xapian, with <mark> added.
      std::cout << "</p>\n<p class=\"snippet\">" << hit.snippet << "</p></li>\n";
    }
    std::cout << "</ol>\n";
    if (results.hits.empty()) std::cout << "<p>No results.</p>\n";
    std::cout << "<nav aria-label=\"pages\">";
    if (page > 1)
      std::cout << "<a rel=\"prev\" href=\"?q=" << url_encode(query) << "&amp;page=" << page - 1
                << "\">Previous</a> ";
    if (static_cast<uint64_t>(page) * config->per_page < results.total && page < kMaxPage)
      std::cout << "<a rel=\"next\" href=\"?q=" << url_encode(query) << "&amp;page=" << page + 1
                << "\">Next</a>";
    std::cout << "</nav>\n";
  }
  std::cout << "</main>\n</body>\n</html>\n";
  return 0;
}

}  // namespace

constexpr const char* kHelp =
    "Usage: medsearch.cgi (run by a web server as a CGI/1.1 program)\n\n"
    "Serves a search page for GET and HEAD requests with the parameters q, page\n"
    "and format=json. Configuration is read from $MEDSEARCH_CONFIG, or from\n"
    "medsearch.conf beside this program, with 'key = value' lines:\n"
    "  index = /path/to/index    (repeatable: several indexes search as one)\n"
    "  title = Site search       (page title)\n"
    "  per_page = 10             (results per page, 1-50)\n";

int main(int argc, char** argv) {
  // Outside a web server (no REQUEST_METHOD), answer --help and --version.
  if (argc > 1 && !std::getenv("REQUEST_METHOD")) {
    std::string arg = argv[1];
    if (arg == "--help" || arg == "-h") {
      std::cout << kHelp;
      return 0;
    }
    if (arg == "--version") {
      std::cout << "medsearch.cgi " << MEDSEARCH_VERSION << "\n";
      return 0;
    }
    std::cerr << "medsearch.cgi: error: unknown argument '" << arg << "' (see --help)\n";
    return 2;
  }
  // A runaway request must not hold the server's CPU.
  rlimit cpu{10, 11};
  setrlimit(RLIMIT_CPU, &cpu);
  try {
    return serve();
  } catch (const std::exception& e) {
    std::cerr << "medsearch.cgi: error: " << e.what() << "\n";
    error_page(500, false, "An internal error occurred.");
    return 0;
  }
}
