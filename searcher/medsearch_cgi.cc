// medsearch.cgi: the search box for a web site, as a CGI/1.1 program or, when
// a FastCGI server starts it with a listening socket on fd 0, as a FastCGI
// responder that keeps its configuration, templates and index open. The
// request handling itself is medsearch::CgiHandler (core/src/cgi_handler.cc);
// docs/cgi.md describes installation, configuration and limits.
#include <fcgiapp.h>
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

// RLIMIT_CPU counts the whole life of the process, so a FastCGI process
// serving many requests would be killed for its total, not for one runaway
// request. Before each request the soft limit is moved to the CPU time used
// so far plus kCpuSecondsPerRequest: only a request that alone uses that much
// gets SIGXCPU (the process ends; the FastCGI server starts a fresh one).
void limit_cpu_for_next_request() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  rlim_t used = static_cast<rlim_t>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + 1;
  rlimit cpu{};
  if (getrlimit(RLIMIT_CPU, &cpu) != 0) return;
  rlim_t soft = used + kCpuSecondsPerRequest;
  if (cpu.rlim_max != RLIM_INFINITY && soft > cpu.rlim_max) soft = cpu.rlim_max;
  cpu.rlim_cur = soft;
  setrlimit(RLIMIT_CPU, &cpu);
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

int serve_fastcgi() {
  if (FCGX_Init() != 0) {
    std::cerr << "medsearch.cgi: error: FastCGI initialisation failed\n";
    return 1;
  }
  Setup setup = set_up();
  if (!setup.handler) std::cerr << "medsearch.cgi: error: " << setup.error << "\n";
  FCGX_Request fcgi;
  FCGX_InitRequest(&fcgi, 0, 0);
  while (FCGX_Accept_r(&fcgi) >= 0) {
    limit_cpu_for_next_request();
    CgiRequest request = CgiRequest::from_environment(
        [&](const char* name) -> const char* { return FCGX_GetParam(name, fcgi.envp); });
    CgiResponse response = answer(setup, request);
    if (!response.log.empty())
      FCGX_FPrintF(fcgi.err, "medsearch.cgi: error: %s\n", response.log.c_str());
    std::string out = format_cgi_response(response, request.method == "HEAD");
    FCGX_PutStr(out.data(), static_cast<int>(out.size()), fcgi.out);
    FCGX_Finish_r(&fcgi);
  }
  return 0;
}

constexpr const char* kHelp =
    "Usage: medsearch.cgi (run by a web server as a CGI/1.1 or FastCGI program)\n\n"
    "Serves a search page for GET and HEAD requests. Parameters: q, page, sort\n"
    "(relevance, date, -date), the filters site, year (2015 or 2015..2024), type,\n"
    "evidence and concept (repeatable), like (more like this document), format=json,\n"
    "opensearch=1 (OpenSearch description) and css=1 (the stylesheet); or\n"
    "collection=NAME (a published collection's included items) with page and format.\n\n"
    "FastCGI: when a FastCGI server starts it with a listening socket on fd 0\n"
    "(e.g. lighttpd's fastcgi.server with \"bin-path\"), the same program answers\n"
    "request after request, keeping the configuration and the index open.\n\n"
    "Configuration is read from $MEDSEARCH_CONFIG, or from medsearch.conf beside\n"
    "this program, with 'key = value' lines (relative paths are taken from the\n"
    "configuration file's directory):\n"
    "  index = /path/to/index    (repeatable: several indexes search as one)\n"
    "  title = Site search       (site title)\n"
    "  per_page = 10             (results per page, 1-50)\n"
    "  facets = site,year,type,evidence  (sidebar; also concept; empty for none)\n"
    "  templates = /path/to/dir  (page templates; default: the installed ones)\n"
    "  base_url = https://example.org/cgi-bin/medsearch.cgi  (for OpenSearch)\n"
    "  collection = NAME         (repeatable: published read-only at ?collection=NAME)\n"
    "  collections = /path/to/collections.sqlite  (default: beside the first index)\n\n"
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
  return FCGX_IsCGI() ? serve_cgi() : serve_fastcgi();
}
