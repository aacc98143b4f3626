// The WARC reader (plain, per-record gzip, whole-file gzip) and the HTTP
// response parser, on a file as medindex reads one.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz.h"
#include "medsearch/warc.h"

namespace {

std::string temp_path() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/medsearch-warc-fuzz-" +
         std::to_string(getpid()) + ".warc";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = temp_path();
  std::string_view bytes = medsearch::fuzz::as_text(data, size);
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  if (auto reader = medsearch::WarcReader::open(path)) {
    for (int i = 0; i < 1000; ++i) {
      auto record = reader->next();
      if (!record || !*record) break;
      (void)(*record)->target_uri();
      (void)medsearch::parse_http_response((*record)->block);
    }
  }
  (void)medsearch::gunzip(bytes, 1 << 20);
  (void)medsearch::http_payload(bytes);
  return 0;
}
