// medsearch.cgi: the search box for a web site, as a CGI/1.1 program. The
// request handling itself is medsearch::CgiHandler (core/src/cgi_handler.cc);
// docs/cgi.md describes installation, configuration and limits.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "medsearch/cgi.h"

using namespace medsearch;

namespace {

// CPU seconds one request may use before the kernel stops the process.
constexpr rlim_t kCpuSecondsPerRequest = 10;

std::string config_path() {
  if (const char* env = std::getenv("MEDSEARCH_CONFIG"); env && *env) return env;
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return "medsearch.conf";
  std::string path(exe, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + "medsearch.conf";
}

// The handler, or the reason there is none (logged; the user sees a 500).
struct Setup {
  std::optional<CgiHandler> handler;
  std::string error;
};

Setup set_up() {
  Setup setup;
  auto config = load_cgi_config(config_path());
  if (!config) {
    setup.error = config.error();
    return setup;
  }
  auto handler = CgiHandler::create(std::move(*config));
  if (!handler) {
    setup.error = handler.error();
    return setup;
  }
  setup.handler.emplace(std::move(*handler));
  return setup;
}

CgiResponse answer(Setup& setup, const CgiRequest& request) {
  if (setup.handler) return setup.handler->handle(request);
  CgiResponse response = cgi_fallback_error(500, "The search is not configured correctly.");
  response.log = setup.error;
  return response;
}

int serve_cgi() {
  // One request per process: a plain limit suffices (SIGXCPU at 10 s, KILL at 11 s).
  rlimit cpu{kCpuSecondsPerRequest, kCpuSecondsPerRequest + 1};
  setrlimit(RLIMIT_CPU, &cpu);
  CgiRequest request =
      CgiRequest::from_environment([](const char* name) { return std::getenv(name); });
  Setup setup = set_up();
  CgiResponse response = answer(setup, request);
  if (!response.log.empty()) std::cerr << "medsearch.cgi: error: " << response.log << "\n";
  std::cout << format_cgi_response(response, request.method == "HEAD");
  std::cout.flush();
  return std::cout ? 0 : 1;
}

constexpr const char* kHelp =
    "Usage: medsearch.cgi (run by a web server as a CGI/1.1 program)\n\n"
    "Serves a search page for GET and HEAD requests. Parameters: q, page, sort\n"
    "(relevance, date, -date), the filters site, year (2015 or 2015..2024), type,\n"
    "evidence and concept (repeatable), like (more like this document), format=json,\n"
    "opensearch=1 (OpenSearch description) and css=1 (the stylesheet).\n\n"
    "Configuration is read from $MEDSEARCH_CONFIG, or from medsearch.conf beside\n"
    "this program, with 'key = value' lines (relative paths are taken from the\n"
    "configuration file's directory):\n"
    "  index = /path/to/index    (repeatable: several indexes search as one)\n"
    "  title = Site search       (site title)\n"
    "  per_page = 10             (results per page, 1-50)\n"
    "  facets = site,year,type,evidence  (sidebar; also concept; empty for none)\n"
    "  templates = /path/to/dir  (page templates; default: the installed ones)\n"
    "  base_url = https://example.org/cgi-bin/medsearch.cgi  (for OpenSearch)\n\n"
    "See docs/cgi.md.\n";

}  // namespace

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
  return serve_cgi();
}
