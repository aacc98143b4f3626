// Runs a real program of the project, as a user would, and captures its output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace medsearch::testing {

// Whether this build runs under AddressSanitizer (the programs under test are
// built with the same flags), where everything is several times slower: a
// test scales a load down there, never its checks.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

struct ProcessResult {
  int exit_code = -1;  // exit status, or 128+signal when killed
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with the given arguments, stdin from /dev/null, and
// waits for it. Extra environment entries ("NAME=value") are added to ours.
// A `max_file_bytes` above 0 runs the program as on a full disk: with
// RLIMIT_FSIZE at that size and SIGXFSZ ignored, a write that would make a
// file larger fails with EFBIG ("File too large").
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::vector<std::string>& extra_env = {},
                          uint64_t max_file_bytes = 0);

// A program started in the background, stdout and stderr going to `output`.
// Killed (SIGKILL) and reaped on destruction if still running.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& output);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  void signal(int number);
  // Waits for the exit; the status as run_process reports it.
  int wait();
  // Whether the program has ended, without waiting; wait() then returns at once.
  bool finished();

 private:
  int pid_ = -1;
  int exit_code_ = -1;  // once reaped
};

// Path of a program built into the project's bin directory, e.g. bin_path("medsearch").
std::string bin_path(const std::string& program);

// The whole content of a file ("" if it cannot be read).
std::string read_file(const std::string& path);

// Path inside the source tree, e.g. source_path("fixtures/site").
std::string source_path(const std::string& relative);

// A fresh directory under $TMPDIR (or under `parent` when given), removed
// with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& parent = "");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace medsearch::testing
