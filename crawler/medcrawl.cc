// medcrawl: crawls medical sites into a crawl directory (frontier.sqlite and
// WARC files) for medindex. Glue between the command line and run_crawl().
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

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

// "I/N" -> shard I of N.
bool parse_shard(const std::string& text, int& index, int& count) {
  size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) return false;
  std::string left = text.substr(0, slash), right = text.substr(slash + 1);
  if (left.find_first_not_of("0123456789") != std::string::npos ||
      right.find_first_not_of("0123456789") != std::string::npos || left.size() > 6 ||
      right.size() > 6) {
    return false;
  }
  index = std::stoi(left);
  count = std::stoi(right);
  return count >= 1 && index < count;
}

// "12.3 MB" for a byte count.
std::string human_bytes(uint64_t bytes) {
  char text[32];
  if (bytes >= 1000 * 1000) {
    std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.1f kB", static_cast<double>(bytes) / 1e3);
  }
  return text;
}

std::string status_text(const medsearch::CrawlProgress& p) {
  char text[256];
  double rate = p.seconds > 0 ? static_cast<double>(p.requests) / p.seconds : 0;
  std::snprintf(text, sizeof text,
                "%lld fetched, %lld queued, %lld errors, %.1f pages/s, %s, %.0f s",
                static_cast<long long>(p.fetched), static_cast<long long>(p.queued),
                static_cast<long long>(p.errors), rate, human_bytes(p.bytes).c_str(), p.seconds);
  return text;
}

int run(int argc, char** argv) {
  medsearch::CrawlOptions options;
  std::string seeds_file, shard;
  std::vector<std::string> urls;
  double progress_interval = 10;
  po::options_description visible(
      "Usage: medcrawl --out DIR [options] URL...\n"
      "       medcrawl --out DIR --pubmed QUERY [options]\n"
      "Crawls the sites of the seed URLs (same host unless told otherwise) politely\n"
      "into DIR: DIR/frontier.sqlite and DIR/warc/crawl-NNNNN.warc.gz. Running again\n"
      "with the same --out resumes the crawl. Progress and the summary go to stderr.\n\n"
      "Options");
  // clang-format off
  visible.add_options()
      ("help,h", "show this help and exit")
      ("version", "show the version and exit")
      ("out,o", po::value<std::string>(), "crawl directory (required)")
      ("seeds", po::value<std::string>(&seeds_file), "file of seed URLs, one per line")
      ("sitemaps", po::bool_switch(&options.sitemaps),
       "read sitemaps (robots.txt Sitemap: lines, else /sitemap.xml; indexes and .gz too)")
      ("delay", po::value<double>(&options.delay_seconds)->default_value(1.0, "1"),
       "seconds between requests to one host (robots.txt Crawl-delay may raise it)")
      ("max-crawl-delay", po::value<double>(&options.max_crawl_delay_seconds)->default_value(30, "30"),
       "skip hosts whose robots.txt Crawl-delay is longer (seconds)")
      ("max-pages", po::value<int64_t>(&options.max_pages)->default_value(options.max_pages),
       "page requests over the whole crawl, 0 for no limit")
      ("max-pages-per-host",
       po::value<int64_t>(&options.max_pages_per_host)->default_value(0),
       "page requests per host, 0 for no limit")
      ("max-depth", po::value<int>(&options.max_depth)->default_value(options.max_depth),
       "links followed from a seed")
      ("max-url-length",
       po::value<size_t>(&options.scope.max_url_length)->default_value(options.scope.max_url_length),
       "longer URLs are not crawled, 0 for no limit")
      ("allow-domain", po::value<std::vector<std::string>>(&options.scope.allow_domains),
       "also crawl hosts in this domain (repeatable)")
      ("include", po::value<std::vector<std::string>>(&options.scope.include_patterns),
       "only crawl URLs matching this regular expression (repeatable)")
      ("exclude", po::value<std::vector<std::string>>(&options.scope.exclude_patterns),
       "never crawl URLs matching this regular expression (repeatable)")
      ("allow-private", po::bool_switch(&options.scope.allow_private),
       "follow links to loopback and private addresses (seed hosts are always allowed)")
      ("shard", po::value<std::string>(&shard),
       "I/N: crawl only the hosts in shard I (0 <= I < N) by a stable hash of the host")
      ("recrawl", po::bool_switch(&options.recrawl),
       "revisit fetched URLs with conditional GETs (304 -> WARC revisit record)")
      ("pubmed", po::value<std::string>(&options.pubmed_query),
       "fetch PubMed records matching QUERY through NCBI E-utilities")
      ("pubmed-base", po::value<std::string>(&options.pubmed_base)->default_value(options.pubmed_base),
       "E-utilities base URL")
      ("pubmed-max", po::value<int64_t>(&options.pubmed_max_records)->default_value(options.pubmed_max_records),
       "PubMed records fetched at most")
      ("pubmed-batch", po::value<int>(&options.pubmed_batch)->default_value(options.pubmed_batch),
       "PubMed records per efetch request")
      ("api-key", po::value<std::string>(&options.api_key),
       "NCBI API key: 10 E-utilities requests per second instead of 3")
      ("user-agent", po::value<std::string>(&options.user_agent),
       "User-Agent header (its first word is matched against robots.txt)")
      ("concurrency", po::value<int>(&options.concurrency)->default_value(options.concurrency),
       "hosts fetched from at once (one request at a time per host)")
      ("timeout", po::value<double>(&options.total_timeout_seconds)->default_value(120, "120"),
       "seconds a whole transfer may take")
      ("connect-timeout", po::value<double>(&options.connect_timeout_seconds)->default_value(15, "15"),
       "seconds to connect")
      ("max-body-bytes", po::value<size_t>(&options.max_body_bytes)->default_value(options.max_body_bytes),
       "longer bodies are aborted and skipped")
      ("cacert", po::value<std::string>(&options.ca_file),
       "PEM file of the certificate authorities trusted for https, instead of the system's")
      ("robots-retry", po::value<double>(&options.robots_retry_seconds)->default_value(60, "60"),
       "seconds before asking again for a robots.txt that was unreachable or 5xx")
      ("progress-interval", po::value<double>(&progress_interval)->default_value(10, "10"),
       "seconds between progress lines when stderr is not a terminal")
      ("verbose,v", po::bool_switch(&options.log_urls), "one line per URL")
      ("quiet,q", "no progress lines");
  // clang-format on
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
  if (!(options.max_crawl_delay_seconds >= 0)) {
    return error("--max-crawl-delay must be 0 or more", kExitUsage);
  }
  if (options.max_pages < 0) return error("--max-pages must be 0 or more", kExitUsage);
  if (options.max_pages_per_host < 0) {
    return error("--max-pages-per-host must be 0 or more", kExitUsage);
  }
  if (options.max_depth < 0) return error("--max-depth must be 0 or more", kExitUsage);
  if (options.concurrency < 1 || options.concurrency > 256) {
    return error("--concurrency must be between 1 and 256", kExitUsage);
  }
  if (!(options.total_timeout_seconds > 0) || !(options.connect_timeout_seconds > 0)) {
    return error("--timeout and --connect-timeout must be more than 0", kExitUsage);
  }
  if (options.max_body_bytes == 0) return error("--max-body-bytes must be more than 0", kExitUsage);
  if (!(options.robots_retry_seconds >= 0) || !(progress_interval > 0)) {
    return error("--robots-retry must be 0 or more and --progress-interval more than 0",
                 kExitUsage);
  }
  if (vm.count("pubmed") && options.pubmed_query.empty()) {
    return error("--pubmed needs a query", kExitUsage);
  }
  if (options.pubmed_max_records < 1 || options.pubmed_batch < 1 || options.pubmed_batch > 10000) {
    return error("--pubmed-max must be 1 or more and --pubmed-batch between 1 and 10000",
                 kExitUsage);
  }
  if (!shard.empty() && !parse_shard(shard, options.scope.shard_index, options.scope.shard_count)) {
    return error("--shard must be I/N with 0 <= I < N, e.g. 0/4", kExitUsage);
  }
  if (options.user_agent.empty()) options.user_agent = medsearch::kDefaultUserAgent;
  if (!options.ca_file.empty() && access(options.ca_file.c_str(), R_OK) != 0) {
    return error("cannot read --cacert file '" + options.ca_file + "'", kExitUsage);
  }
  if (!seeds_file.empty() && !read_seeds(seeds_file, urls)) {
    return error("cannot read seeds file '" + seeds_file + "'", kExitUsage);
  }
  for (const std::string& url : urls) {
    if (auto parsed = medsearch::parse_url(url); !parsed) {
      return error("bad seed URL '" + url + "': " + parsed.error(), kExitUsage);
    }
  }
  options.seeds = urls;
  // Bad patterns and domains are usage errors, found before anything is opened.
  if (auto scope = medsearch::CrawlScope::create(options.scope); !scope) {
    return error(scope.error(), kExitUsage);
  }
  bool terminal = isatty(STDERR_FILENO) == 1;
  if (!vm.count("quiet")) {
    options.progress = [terminal](std::string_view line) {
      // A line of its own, clearing a status line being redrawn.
      std::cerr << (terminal ? "\r\033[K" : "") << line << "\n";
    };
    options.status_interval_seconds = terminal ? 0.25 : progress_interval;
    options.status = [terminal](const medsearch::CrawlProgress& progress) {
      if (terminal) {
        std::cerr << "\r\033[K" << status_text(progress) << (progress.final ? "\n" : "")
                  << std::flush;
      } else if (!progress.final) {
        std::cerr << "progress: " << status_text(progress) << "\n";
      }
    };
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
  // Every page allocates and frees the same large buffers (zlib states, the
  // HTML tree); keeping them in the heap instead of mapping and unmapping
  // each time saves a fifth of the crawl's CPU.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return error(e.what(), kExitFailure);
  }
}
