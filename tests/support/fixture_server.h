// A real HTTP server on 127.0.0.1 serving the fixture site, for tests and the
// demo. It records every request it answers, so tests can check what a crawler
// asked for (and when).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace medsearch::testing {

struct RequestLogEntry {
  std::string method;
  std::string path;  // path and query as requested
  std::string host;  // Host header
  std::string user_agent;
  int status = 0;
  std::chrono::steady_clock::time_point time;
  std::string if_none_match;  // conditional GET headers, "" when absent
  std::string if_modified_since;
};

class FixtureServer {
 public:
  // Serves the files below `root` (directories serve their index.html).
  // `routes_file`, if not empty, holds lines "PATH<TAB>STATUS<TAB>LOCATION" for
  // redirects and other special answers; a line starting with '#' is a comment.
  explicit FixtureServer(std::string root, std::string routes_file = "");
  ~FixtureServer();  // stops the server
  FixtureServer(const FixtureServer&) = delete;
  FixtureServer& operator=(const FixtureServer&) = delete;

  // The underlying server, to register extra handlers before start(); handlers
  // registered here take precedence over the files.
  httplib::Server& http();

  // Before start(): answer at most `count` requests on one connection before
  // closing it (cpp-httplib's default is 5; Apache's is 100, nginx's 1,000).
  void set_keep_alive_max(size_t count);
  // Before start(): read every file below the root into memory at start, so
  // that requests cost no file system calls, and answer a client that accepts
  // gzip with each text file compressed once rather than at every request
  // (for benchmarks, where the server shares the machine with the client
  // being measured; files added or changed while serving are then not seen).
  void set_cache_files(bool cache);

  // Binds `address` (a loopback address such as 127.0.0.1 or 127.0.0.2) on
  // `port` (0: a free port) and serves on a background thread.
  void start(int port = 0, const std::string& address = "127.0.0.1");
  void stop();

  int port() const { return port_; }
  // "http://ADDRESS:PORT" + path
  std::string url(const std::string& path = "/") const;
  // A copy of the log of requests answered so far. Thread-safe.
  std::vector<RequestLogEntry> requests() const;

 private:
  std::string root_;
  std::string routes_file_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::string address_ = "127.0.0.1";
  mutable std::mutex mutex_;
  std::vector<RequestLogEntry> log_;
  bool cache_files_ = false;
};

}  // namespace medsearch::testing
