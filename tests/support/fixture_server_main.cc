// fixture-server: serves the fixture site on 127.0.0.1 until SIGINT/SIGTERM.
// Used by scripts/demo; prints the chosen port on stdout (and to --port-file).
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "fixture_server.h"

int main(int argc, char** argv) {
  std::string root = "fixtures/site", routes, port_file, address = "127.0.0.1";
  int port = 0;
  size_t keep_alive_max = 0;  // 0: cpp-httplib's default
  bool cache = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "fixture-server: error: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--root")
      root = next();
    else if (arg == "--routes")
      routes = next();
    else if (arg == "--port")
      port = std::stoi(next());
    else if (arg == "--address")
      address = next();
    else if (arg == "--port-file")
      port_file = next();
    else if (arg == "--keep-alive-max")
      keep_alive_max = std::stoul(next());
    else if (arg == "--cache")
      cache = true;
    else if (arg == "--help") {
      std::cout
          << "usage: fixture-server [--root DIR] [--routes FILE] [--address 127.0.0.X] [--port N] "
             "[--port-file FILE] [--keep-alive-max N] [--cache]\n";
      return 0;
    } else {
      std::cerr << "fixture-server: error: unknown option " << arg << "\n";
      return 2;
    }
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // the server thread inherits the mask
  try {
    medsearch::testing::FixtureServer server(root, routes);
    if (keep_alive_max > 0) server.set_keep_alive_max(keep_alive_max);
    server.set_cache_files(cache);
    server.start(port, address);
    std::cout << server.port() << std::endl;
    if (!port_file.empty()) std::ofstream(port_file) << server.port() << "\n";
    int sig = 0;
    sigwait(&signals, &sig);
    server.stop();
  } catch (const std::exception& e) {
    std::cerr << "fixture-server: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
