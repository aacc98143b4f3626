// medcrawl: crawls medical sites into a crawl directory (frontier.sqlite and
// WARC files) for medindex. Glue between the command line and run_crawl().
#include <signal.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "medsearch/crawler.h"
#include "medsearch/url.h"

namespace po = boost::program_options;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

std::atomic<bool> stop_requested{false};

// First SIGINT/SIGTERM: finish the transfers in flight, then stop. The handler
// resets itself, so a second signal ends the process at once.
void on_stop_signal(int) { stop_requested = true; }

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int error(const std::string& message, int code) {
  std::cerr << "medcrawl: error: " << message << "\n";
  return code;
}

// Seed URLs from a file: one per line; blank lines and lines starting with '#' are ignored.
bool read_seeds(const std::string& path, std::vector<std::string>& seeds) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    size_t end = line.find_last_not_of(" \t\r");
    seeds.push_back(line.substr(start, end - start + 1));
  }
  return true;
}

int run(int argc, char** argv) {
  medsearch::CrawlOptions options;
  std::string seeds_file;
  std::vector<std::string> urls;
  po::options_description visible(
      "Usage: medcrawl --out DIR [options] URL...\n"
      "Crawls the sites of the seed URLs (same host only) politely into DIR:\n"
      "DIR/frontier.sqlite and DIR/warc/crawl-NNNNN.warc.gz. Running again with\n"
      "the same --out resumes the crawl. Progress and the summary go to stderr.\n\n"
      "Options");
  visible.add_options()("help,h", "show this help and exit")(
      "version", "show the version and exit")("out,o", po::value<std::string>(),
                                              "crawl directory (required)")(
      "seeds", po::value<std::string>(&seeds_file), "file of seed URLs, one per line")(
      "delay", po::value<double>(&options.delay_seconds)->default_value(1.0, "1"),
      "seconds between requests to one host (robots.txt Crawl-delay may raise it)")(
      "max-pages", po::value<int64_t>(&options.max_pages)->default_value(options.max_pages),
      "page requests over the whole crawl, 0 for no limit")(
      "max-depth", po::value<int>(&options.max_depth)->default_value(options.max_depth),
      "links followed from a seed")(
      "user-agent", po::value<std::string>(&options.user_agent),
      "User-Agent header (its first word is matched against robots.txt)")(
      "concurrency", po::value<int>(&options.concurrency)->default_value(options.concurrency),
      "transfers at once (at most one per host)")("quiet,q", "no progress lines");
  po::options_description hidden;
  hidden.add_options()("url", po::value<std::vector<std::string>>(&urls));
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("url", -1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return error(std::string(e.what()) + " (see medcrawl --help)", kExitUsage);
  }
  if (vm.count("help")) {
    std::cout << visible << "\n";
    return kExitOk;
  }
  if (vm.count("version")) {
    std::cout << "medcrawl " << MEDSEARCH_VERSION << "\n";
    return kExitOk;
  }
  if (!vm.count("out")) return error("--out DIR is required (see medcrawl --help)", kExitUsage);
  options.out_dir = vm["out"].as<std::string>();
  if (!(options.delay_seconds >= 0)) return error("--delay must be 0 or more", kExitUsage);
  if (options.max_pages < 0) return error("--max-pages must be 0 or more", kExitUsage);
  if (options.max_depth < 0) return error("--max-depth must be 0 or more", kExitUsage);
  if (options.concurrency < 1 || options.concurrency > 256) {
    return error("--concurrency must be between 1 and 256", kExitUsage);
  }
  if (options.user_agent.empty()) options.user_agent = medsearch::kDefaultUserAgent;
  if (!seeds_file.empty() && !read_seeds(seeds_file, urls)) {
    return error("cannot read seeds file '" + seeds_file + "'", kExitUsage);
  }
  for (const std::string& url : urls) {
    if (auto parsed = medsearch::parse_url(url); !parsed) {
      return error("bad seed URL '" + url + "': " + parsed.error(), kExitUsage);
    }
  }
  options.seeds = urls;
  if (!vm.count("quiet")) {
    options.progress = [](std::string_view line) { std::cerr << line << "\n"; };
  }

  install_signal_handlers();
  auto summary = medsearch::run_crawl(options, stop_requested);
  if (!summary) return error(summary.error(), kExitFailure);
  std::cerr << medsearch::format_summary(*summary);
  if (summary->interrupted) {
    return error("interrupted; run again with the same --out to resume", kExitFailure);
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return error(e.what(), kExitFailure);
  }
}
