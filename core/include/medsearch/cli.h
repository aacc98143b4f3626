// Shared conventions of the command-line programs: errors are one line
// "PROGRAM: error: ..." on stderr; exit 0 (ok), 1 (failure), 2 (usage error).
// Only the programs include this header (it brings in Boost.Program_options).
#pragma once

#include <unistd.h>

#include <boost/program_options.hpp>
#include <exception>
#include <functional>
#include <iostream>
#include <string>

namespace medsearch::cli {

inline constexpr int kOk = 0;
inline constexpr int kFailure = 1;
inline constexpr int kUsage = 2;

// A usage error found after option parsing (e.g. a missing argument).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline int error(const char* program, const std::string& message, int code = kFailure) {
  std::cerr << program << ": error: " << message << "\n";
  return code;
}

// Runs a program's body, turning option errors into exit 2 and anything
// unexpected into exit 1, each with one line on stderr.
inline int run(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const boost::program_options::error& e) {
    return error(program, std::string(e.what()) + " (see --help)", kUsage);
  } catch (const UsageError& e) {
    return error(program, std::string(e.what()) + " (see --help)", kUsage);
  } catch (const std::exception& e) {
    return error(program, e.what());
  }
}

inline void print_version(const char* program) {
  std::cout << program << " " << MEDSEARCH_VERSION << "\n";
}

inline bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }
inline bool stdout_is_terminal() { return isatty(STDOUT_FILENO) == 1; }

}  // namespace medsearch::cli
