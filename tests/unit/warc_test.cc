#include "medsearch/warc.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "process.h"

namespace medsearch {
namespace {

using testing::read_file;
using testing::TempDir;

void write_file(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// All records of a file; fails the test on an error.
std::vector<WarcRecord> read_all(const std::string& path) {
  auto reader = WarcReader::open(path);
  REQUIRE(reader.ok());
  std::vector<WarcRecord> records;
  while (true) {
    auto record = reader->next();
    INFO(path);
    REQUIRE(record.ok());
    if (!*record) break;
    records.push_back(std::move(**record));
  }
  return records;
}

const std::string kRequest = "GET / HTTP/1.1\r\nHost: example.org\r\nUser-Agent: medcrawl\r\n\r\n";
WarcExchange exchange(std::string uri, std::string response, std::string ip = "",
                      std::time_t date = 0) {
  WarcExchange result;
  result.target_uri = std::move(uri);
  result.request = "GET / HTTP/1.1\r\nHost: example.org\r\nUser-Agent: medcrawl\r\n\r\n";
  result.response = std::move(response);
  result.ip_address = std::move(ip);
  result.date = date;
  return result;
}

const std::string kChunkedResponse =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/html\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";

TEST_CASE("sha1 of known vectors (FIPS 180 examples)", "[warc]") {
  struct Case {
    std::string input;
    const char* hex;
  };
  const Case cases[] = {
      {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
      {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
      {"The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"},
      {std::string(1000000, 'a'), "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
      {std::string(55, 'x'), ""},  // padding edge cases: checked below against base32 only
  };
  for (const Case& c : cases) {
    if (*c.hex == '\0') continue;
    INFO(c.input.substr(0, 60));
    CHECK(hex(sha1(c.input)) == c.hex);
  }
  // Lengths around the 56-byte padding boundary must not crash and must differ.
  CHECK(sha1(std::string(55, 'x')) != sha1(std::string(56, 'x')));
  CHECK(sha1(std::string(63, 'x')) != sha1(std::string(64, 'x')));
}

TEST_CASE("base32 of the RFC 4648 test vectors", "[warc]") {
  struct Case {
    const char* input;
    const char* expected;
  };
  const Case cases[] = {
      {"", ""},
      {"f", "MY======"},
      {"fo", "MZXQ===="},
      {"foo", "MZXW6==="},
      {"foob", "MZXW6YQ="},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI======"},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    CHECK(base32_encode(c.input) == c.expected);
  }
}

TEST_CASE("WARC sha1 digests", "[warc]") {
  struct Case {
    const char* input;
    const char* expected;
  };
  const Case cases[] = {
      {"", "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"},
      {"abc", "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5"},
      {"hello world", "sha1:FKXGYNOJJ7H3IFO35FPUBC445EPOQRXN"},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    CHECK(warc_sha1_digest(c.input) == c.expected);
  }
}

TEST_CASE("warc_date and record ids", "[warc]") {
  CHECK(warc_date(0) == "1970-01-01T00:00:00Z");
  CHECK(warc_date(1700000000) == "2023-11-14T22:13:20Z");
  // "<urn:uuid:xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx>", lowercase hex
  auto is_uuid_v4 = [](const std::string& id) {
    const std::string prefix = "<urn:uuid:";
    if (id.size() != prefix.size() + 36 + 1 || id.compare(0, prefix.size(), prefix) != 0 ||
        id.back() != '>') {
      return false;
    }
    std::string uuid = id.substr(prefix.size(), 36);
    for (size_t i = 0; i < uuid.size(); ++i) {
      bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash != (uuid[i] == '-')) return false;
      if (!dash && std::string("0123456789abcdef").find(uuid[i]) == std::string::npos) return false;
    }
    return uuid[14] == '4' && std::string("89ab").find(uuid[19]) != std::string::npos;
  };
  std::string a = new_warc_record_id();
  std::string b = new_warc_record_id();
  CHECK(is_uuid_v4(a));
  CHECK(is_uuid_v4(b));
  CHECK_FALSE(is_uuid_v4("<urn:uuid:12345678-1234-1234-1234-123456789012>"));
  CHECK(a != b);
}

TEST_CASE("parse_http_response decodes bodies", "[warc]") {
  const std::string gzip_body(
      "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9\x57"
      "\x48\xaf\xca\x2c\x00\x00\x19\x6a\xd2\xdf\x0a\x00\x00\x00",
      30);
  const std::string zlib_body(
      "\x78\x9c\xcb\x48\xcd\xc9\xc9\x57\x48\x49\x4d\xcb\x49\x2c\x49\x05\x00\x23\x0c\x05\x0a", 21);
  const std::string raw_deflate_body(
      "\xcb\x48\xcd\xc9\xc9\x57\x28\x4a\x2c\x57\x48\x49\x4d\xcb\x49\x2c\x49\x05\x00", 19);
  std::string gzip_chunked =
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  gzip_chunked += "a\r\n" + gzip_body.substr(0, 10) + "\r\n";
  gzip_chunked += "14\r\n" + gzip_body.substr(10) + "\r\n0\r\n\r\n";
  struct Case {
    std::string block;
    int status;
    std::string body;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nplain body", 200, "plain body"},
      {"HTTP/1.0 404 Not Found\r\n\r\n", 404, ""},
      {"HTTP/1.1 200 OK\nX-Bare-LF: yes\n\nbody", 200, "body"},
      {kChunkedResponse, 200, "hello world"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX: t\r\n\r\n",
       200, "abc"},
      {"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gzip_body, 200, "hello gzip"},
      {"HTTP/1.1 200 OK\r\ncontent-encoding: x-gzip\r\n\r\n" + gzip_body, 200, "hello gzip"},
      {gzip_chunked, 200, "hello gzip"},
      {"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n" + zlib_body, 200, "hello deflate"},
      {"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n" + raw_deflate_body, 200,
       "hello raw deflate"},
      {"HTTP/1.1 304 Not Modified\r\nContent-Encoding: gzip\r\n\r\n", 304, ""},
      {"HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\n\r\nsame", 200, "same"},
      // Applied twice, listed in one field or in two.
      {"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, gzip\r\n\r\n" +
           gzip_compress(gzip_compress("twice")),
       200, "twice"},
      {"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Encoding: gzip\r\n\r\n" +
           gzip_compress(gzip_compress("twice")),
       200, "twice"},
  };
  for (const Case& c : cases) {
    INFO(c.block.substr(0, 60));
    auto response = parse_http_response(c.block);
    REQUIRE(response.ok());
    CHECK(response->status == c.status);
    CHECK(response->body == c.body);
  }
}

TEST_CASE("parse_http_response headers", "[warc]") {
  auto response = parse_http_response(
      "HTTP/1.1 301 Moved Permanently\r\nLocation: /new\r\nX-Folded: a\r\n  b\r\n"
      "Set-Cookie: 1\r\nSet-Cookie: 2\r\n\r\n");
  REQUIRE(response.ok());
  CHECK(response->status == 301);
  CHECK(response->header("location") == "/new");
  CHECK(response->header("LOCATION") == "/new");
  CHECK(response->header("x-folded") == "a b");
  CHECK(response->header("Set-Cookie") == "1");
  CHECK(response->header("Missing").empty());
  CHECK(response->headers.size() == 4);
}

TEST_CASE("parse_http_response_prefix decodes a response cut short", "[warc]") {
  std::string text;
  for (int i = 0; text.size() < 100000; ++i) text += "line " + std::to_string(i) + "\n";
  const std::string gzipped = gzip_compress(text);
  const std::string chunked_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string gzip_head = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n";
  struct Case {
    const char* name;
    std::string block;
    size_t limit;
    std::string body;  // what the whole decodes to
  };
  const Case cases[] = {
      {"whole", chunked_head + "5\r\nhello\r\n0\r\n\r\n", 100, "hello"},
      {"cut inside a chunk", chunked_head + "5\r\nhello\r\n6\r\n wo", 100, "hello wo"},
      {"cut after a chunk's data", chunked_head + "5\r\nhello\r", 100, "hello"},
      {"cut inside a chunk-size line", chunked_head + "5\r\nhello\r\n1", 100, "hello"},
      {"gzip cut inside the stream", gzip_head + gzipped.substr(0, gzipped.size() / 2), 1000000,
       ""},
      {"decoded past the limit", gzip_head + gzipped, 1000, text.substr(0, 1000)},
      {"plain past the limit", "HTTP/1.1 200 OK\r\n\r\n" + text, 10, text.substr(0, 10)},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto response = parse_http_response_prefix(c.block, c.limit);
    REQUIRE(response.ok());
    if (c.body.empty()) {
      // Some of the text, all of it from the start.
      CHECK(response->body.size() > 1000);
      CHECK(response->body.size() < text.size());
      CHECK(text.compare(0, response->body.size(), response->body) == 0);
    } else {
      CHECK(response->body == c.body);
    }
  }
  // Broken data is still an error; whole messages decode as parse_http_response does.
  CHECK_FALSE(parse_http_response_prefix(gzip_head + "not gzip at all", 1000).ok());
  CHECK_FALSE(parse_http_response_prefix(chunked_head + "zz\r\nhello", 1000).ok());
  CHECK_FALSE(parse_http_response(chunked_head + "5\r\nhello\r\n6\r\n wo", 100).ok());
}

TEST_CASE("parse_http_response rejects broken messages", "[warc]") {
  const std::string errors[] = {
      "",
      "HTTP/1.1 200 OK\r\nno end of headers",
      "SMTP 200 OK\r\n\r\n",
      "HTTP/1.1 2x0 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nbad header line\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\nnot gzip at all",
      "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\n\r\nxx",
  };
  for (const std::string& block : errors) {
    INFO(block);
    CHECK_FALSE(parse_http_response(block).ok());
  }
  // A decoded body past the limit is refused.
  std::string big = gzip_compress(std::string(100000, 'a'));
  CHECK_FALSE(
      parse_http_response("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + big, 1000).ok());
}

TEST_CASE("WarcWriter writes records that WarcReader reads back", "[warc]") {
  TempDir dir;
  WarcLocation first, second;
  {
    auto writer = WarcWriter::open(dir / "warc");
    REQUIRE(writer.ok());
    CHECK(writer->current_file() == "crawl-00000.warc.gz");
    auto written = writer->write_exchange(
        exchange("http://example.org/page.html", kChunkedResponse, "127.0.0.1", 1700000000));
    REQUIRE(written.ok());
    first = *written;
    written = writer->write_exchange(
        exchange("http://example.org/b", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
    REQUIRE(written.ok());
    second = *written;
  }
  CHECK(first.file == "crawl-00000.warc.gz");
  CHECK(second.offset > first.offset);
  std::string path = dir / "warc/crawl-00000.warc.gz";

  auto reader = WarcReader::open(path);
  REQUIRE(reader.ok());
  std::vector<std::pair<uint64_t, WarcRecord>> records;
  while (true) {
    uint64_t offset = reader->offset();
    auto record = reader->next();
    REQUIRE(record.ok());
    if (!*record) break;
    records.emplace_back(offset, std::move(**record));
  }
  REQUIRE(records.size() == 5);
  const WarcRecord& info = records[0].second;
  CHECK(info.header("WARC-Type") == "warcinfo");
  CHECK(info.header("Content-Type") == "application/warc-fields");
  CHECK(info.block.find("software: medcrawl") != std::string::npos);
  CHECK(records[0].first == 0);

  const WarcRecord& request = records[1].second;
  const WarcRecord& response = records[2].second;
  CHECK(request.header("WARC-Type") == "request");
  CHECK(request.header("warc-target-uri") == "http://example.org/page.html");
  CHECK(request.header("Content-Type") == "application/http;msgtype=request");
  CHECK(request.block == kRequest);
  CHECK(request.header("WARC-Block-Digest") == warc_sha1_digest(kRequest));
  CHECK(response.header("WARC-Type") == "response");
  CHECK(response.header("WARC-Target-URI") == "http://example.org/page.html");
  CHECK(response.header("WARC-Date") == "2023-11-14T22:13:20Z");
  CHECK(response.header("WARC-IP-Address") == "127.0.0.1");
  CHECK(response.header("Content-Type") == "application/http;msgtype=response");
  CHECK(response.header("Content-Length") == std::to_string(kChunkedResponse.size()));
  CHECK(response.block == kChunkedResponse);
  CHECK(response.header("WARC-Block-Digest") == warc_sha1_digest(kChunkedResponse));
  // The payload is the de-chunked body "hello world".
  CHECK(response.header("WARC-Payload-Digest") == "sha1:FKXGYNOJJ7H3IFO35FPUBC445EPOQRXN");
  CHECK(response.header("WARC-Concurrent-To") == request.header("WARC-Record-ID"));
  CHECK(request.header("WARC-Concurrent-To") == response.header("WARC-Record-ID"));
  CHECK(response.header("WARC-Warcinfo-ID") == info.header("WARC-Record-ID"));
  CHECK(records[2].first == first.offset);
  CHECK(records[4].first == second.offset);
  CHECK(records[4].second.header("WARC-Payload-Digest") == warc_sha1_digest(""));

  auto http = parse_http_response(response.block);
  REQUIRE(http.ok());
  CHECK(http->body == "hello world");

  // Appending in a second session continues the same file after its records.
  uint64_t size_before = std::filesystem::file_size(path);
  {
    auto writer = WarcWriter::open(dir / "warc");
    REQUIRE(writer.ok());
    CHECK(writer->truncated_bytes() == 0);
    auto written = writer->write_exchange(exchange("http://example.org/c", kChunkedResponse));
    REQUIRE(written.ok());
    CHECK(written->file == "crawl-00000.warc.gz");
    CHECK(written->offset > size_before);
  }
  auto all = read_all(path);
  REQUIRE(all.size() == 7);
  CHECK(all[6].header("WARC-Target-URI") == "http://example.org/c");
  CHECK(all[6].header("WARC-Warcinfo-ID") == info.header("WARC-Record-ID"));
}

TEST_CASE("WarcWriter archives a response parsed once, and gzipped bodies stored", "[warc]") {
  TempDir dir;
  // A gzipped body larger than one stored deflate block (65,535 bytes).
  std::string text;
  for (int i = 0; text.size() < 400000; ++i) text += std::to_string(i * 7919 % 100003) + " ";
  std::string gzipped = gzip_compress(text);
  REQUIRE(gzipped.size() > 70000);
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " +
                               std::to_string(gzipped.size()) + "\r\n\r\n" + gzipped;
  HttpPayloadInfo payload;
  auto parsed = parse_http_response(response, kMaxDecodedBodyBytes, &payload);
  REQUIRE(parsed.ok());
  CHECK(parsed->body == text);
  CHECK(payload.digest == warc_sha1_digest(gzipped));
  CHECK(payload.content_encoded);
  HttpPayloadInfo plain;
  REQUIRE(parse_http_response(kChunkedResponse, kMaxDecodedBodyBytes, &plain).ok());
  CHECK(plain.digest == warc_sha1_digest("hello world"));
  CHECK_FALSE(plain.content_encoded);

  WarcLocation parsed_once, parsed_again;
  {
    auto writer = WarcWriter::open(dir.path());
    REQUIRE(writer.ok());
    auto written = writer->write_exchange(exchange("http://example.org/big", response), payload);
    REQUIRE(written.ok());
    parsed_once = *written;
    written = writer->write_exchange(exchange("http://example.org/again", response));
    REQUIRE(written.ok());
    parsed_again = *written;
  }
  CHECK(parsed_once.payload_digest == payload.digest);
  CHECK(parsed_again.payload_digest == payload.digest);
  std::string path = dir / "crawl-00000.warc.gz";
  auto records = read_all(path);
  REQUIRE(records.size() == 5);
  for (int i : {2, 4}) {
    CHECK(records[i].block == response);
    CHECK(records[i].header("WARC-Payload-Digest") == payload.digest);
    CHECK(records[i].header("WARC-Block-Digest") == warc_sha1_digest(response));
  }
  // Request and response members are stored, not deflated again: each
  // member is at least as long as the record it holds.
  const std::string file = read_file(path);
  CHECK(file.size() - parsed_again.offset > response.size());
  CHECK(parsed_again.offset - parsed_once.offset > response.size());
  auto whole = gunzip(file, 10 * file.size());
  REQUIRE(whole.ok());
}

TEST_CASE("WarcWriter rolls over to a new file past the size limit", "[warc]") {
  TempDir dir;
  WarcWriterOptions options;
  options.max_file_bytes = 600;
  options.sync = false;
  auto writer = WarcWriter::open(dir.path(), options);
  REQUIRE(writer.ok());
  for (int i = 0; i < 4; ++i) {
    auto written = writer->write_exchange(
        exchange("http://example.org/" + std::to_string(i), kChunkedResponse));
    REQUIRE(written.ok());
  }
  CHECK(writer->current_file() != "crawl-00000.warc.gz");
  int files = 0, responses = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    auto records = read_all(entry.path().string());
    REQUIRE_FALSE(records.empty());
    CHECK(records[0].header("WARC-Type") == "warcinfo");
    CHECK(records[0].header("WARC-Filename") == entry.path().filename().string());
    for (const auto& record : records) responses += record.header("WARC-Type") == "response";
  }
  CHECK(files >= 2);
  CHECK(responses == 4);
}

TEST_CASE("a truncated WARC file gives an error, not a crash, and is repaired on open", "[warc]") {
  TempDir dir;
  std::string path = dir / "crawl-00000.warc.gz";
  std::vector<uint64_t> record_ends;
  {
    WarcWriterOptions options;
    options.sync = false;
    auto writer = WarcWriter::open(dir.path(), options);
    REQUIRE(writer.ok());
    record_ends.push_back(std::filesystem::file_size(path));  // after warcinfo
    for (int i = 0; i < 3; ++i) {
      auto written = writer->write_exchange(exchange("http://example.org/" + std::to_string(i),
                                                     kChunkedResponse + std::string(2000, 'x')));
      REQUIRE(written.ok());
      record_ends.push_back(std::filesystem::file_size(path));
    }
  }
  const std::string whole = read_file(path);
  // Where each record (gzip member) starts: the only places a cut file ends cleanly.
  std::vector<uint64_t> record_starts;
  {
    auto reader = WarcReader::open(path);
    REQUIRE(reader.ok());
    while (true) {
      record_starts.push_back(reader->offset());
      auto record = reader->next();
      REQUIRE(record.ok());
      if (!*record) break;
    }
  }
  REQUIRE(record_starts.size() == 1 + 2 * 3 + 1);
  TempDir cuts;
  // Cut the file at many points: reading must stop with an error (or end
  // cleanly exactly at a record boundary), never crash or invent records.
  for (size_t cut = 1; cut < whole.size(); cut += 37) {
    std::string cut_path = cuts / ("cut-" + std::to_string(cut) + ".warc.gz");
    write_file(cut_path, std::string_view(whole).substr(0, cut));
    auto reader = WarcReader::open(cut_path);
    REQUIRE(reader.ok());
    bool clean_end = false;
    int records = 0;
    for (int guard = 0; guard < 20; ++guard) {
      auto record = reader->next();
      if (!record) {
        CHECK(record.error().find("offset") != std::string::npos);
        auto again = reader->next();  // reading has stopped
        CHECK_FALSE(again.ok());
        break;
      }
      if (!*record) {
        clean_end = true;
        break;
      }
      ++records;
    }
    size_t whole_records = std::count_if(record_starts.begin() + 1, record_starts.end(),
                                         [cut](uint64_t end) { return end <= cut; });
    bool at_boundary =
        std::find(record_starts.begin(), record_starts.end(), cut) != record_starts.end();
    INFO("cut at " << cut);
    CHECK(clean_end == at_boundary);
    CHECK(records <= static_cast<int>(whole_records) + 1);  // +1: a record whose trailer is cut
  }
  // Every record boundary itself ends cleanly.
  for (size_t i = 1; i < record_starts.size(); ++i) {
    std::string cut_path = cuts / ("boundary-" + std::to_string(i) + ".warc.gz");
    write_file(cut_path, std::string_view(whole).substr(0, record_starts[i]));
    auto records = read_all(cut_path);
    CHECK(records.size() == i);
  }

  // Tear the last exchange in different places (inside the gzip trailer of the
  // response, inside its data, inside the request before it): open() cuts the
  // whole exchange off and appends after the last whole one.
  const size_t cuts_from_end[] = {1, 4, 8, 100, (record_ends[3] - record_ends[2]) - 20};
  for (size_t cut_from_end : cuts_from_end) {
    INFO("cut " << cut_from_end << " bytes from the end");
    write_file(path, std::string_view(whole).substr(0, whole.size() - cut_from_end));
    {
      WarcWriterOptions options;
      options.sync = false;
      auto writer = WarcWriter::open(dir.path(), options);
      REQUIRE(writer.ok());
      CHECK(writer->truncated_bytes() == whole.size() - cut_from_end - record_ends[2]);
      CHECK(std::filesystem::file_size(path) == record_ends[2]);
      auto written = writer->write_exchange(exchange("http://example.org/new", kChunkedResponse));
      REQUIRE(written.ok());
    }
    auto records = read_all(path);
    REQUIRE(records.size() == 1 + 2 * 2 + 2);
    CHECK(records[5].header("WARC-Type") == "request");
    CHECK(records.back().header("WARC-Target-URI") == "http://example.org/new");
  }
}

// The record layout `wget --warc-file` writes (WARC/1.0, its field order, a
// request and a response record), by hand.
std::string wget_style_warc() {
  const std::string request =
      "GET /index.html HTTP/1.1\r\nUser-Agent: Wget/1.21.3\r\nAccept: */*\r\n"
      "Accept-Encoding: identity\r\nHost: 127.0.0.1:8000\r\nConnection: Keep-Alive\r\n\r\n";
  const std::string response =
      "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n"
      "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-type: text/html\r\n"
      "Content-Length: 27\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n"
      "<html><p>wget page</p></html>";
  std::string warc;
  std::string info_block =
      "software: Wget/1.21.3 (linux-gnu)\r\nformat: WARC File Format 1.0\r\n"
      "conformsTo: http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf\r\n"
      "robots: classic\r\nwget-arguments: \"--warc-file=x\" \"http://127.0.0.1:8000/\"\r\n";
  warc +=
      "WARC/1.0\r\nWARC-Type: warcinfo\r\nContent-Type: application/warc-fields\r\n"
      "WARC-Date: 2024-01-01T00:00:00Z\r\n"
      "WARC-Record-ID: <urn:uuid:11111111-1111-4111-8111-111111111111>\r\n"
      "WARC-Filename: x.warc.gz\r\nWARC-Block-Digest: " +
      warc_sha1_digest(info_block) + "\r\nContent-Length: " + std::to_string(info_block.size()) +
      "\r\n\r\n" + info_block + "\r\n\r\n";
  warc +=
      "WARC/1.0\r\nWARC-Type: request\r\nWARC-Target-URI: http://127.0.0.1:8000/index.html\r\n"
      "Content-Type: application/http;msgtype=request\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
      "WARC-Record-ID: <urn:uuid:22222222-2222-4222-8222-222222222222>\r\n"
      "WARC-IP-Address: 127.0.0.1\r\n"
      "WARC-Warcinfo-ID: <urn:uuid:11111111-1111-4111-8111-111111111111>\r\n"
      "WARC-Block-Digest: " +
      warc_sha1_digest(request) + "\r\nContent-Length: " + std::to_string(request.size()) +
      "\r\n\r\n" + request + "\r\n\r\n";
  warc +=
      "WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: "
      "<urn:uuid:33333333-3333-4333-8333-333333333333>\r\n"
      "WARC-Warcinfo-ID: <urn:uuid:11111111-1111-4111-8111-111111111111>\r\n"
      "WARC-Concurrent-To: <urn:uuid:22222222-2222-4222-8222-222222222222>\r\n"
      "WARC-Target-URI: http://127.0.0.1:8000/index.html\r\n"
      "WARC-Date: 2024-01-01T00:00:00Z\r\nWARC-IP-Address: 127.0.0.1\r\n"
      "WARC-Block-Digest: " +
      warc_sha1_digest(response) +
      "\r\nWARC-Payload-Digest: " + warc_sha1_digest("<html><p>wget page</p></html>") +
      "\r\nContent-Type: application/http;msgtype=response\r\nContent-Length: " +
      std::to_string(response.size()) + "\r\n\r\n" + response + "\r\n\r\n";
  return warc;
}

TEST_CASE("WarcReader reads a wget-style WARC: plain, per-record gzip, whole-file gzip", "[warc]") {
  TempDir dir;
  const std::string warc = wget_style_warc();
  // Split into records to build the per-record gzip variant.
  std::vector<std::string> members;
  for (size_t start = 0; start < warc.size();) {
    size_t next = warc.find("WARC/1.0\r\n", start + 1);
    if (next == std::string::npos) next = warc.size();
    members.push_back(gzip_compress(warc.substr(start, next - start)));
    start = next;
  }
  std::string per_record;
  for (const auto& member : members) per_record += member;
  struct Case {
    const char* name;
    std::string bytes;
  };
  const Case cases[] = {
      {"plain.warc", warc},
      {"per-record.warc.gz", per_record},
      {"whole.warc.gz", gzip_compress(warc)},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    write_file(dir / c.name, c.bytes);
    auto reader = WarcReader::open(dir / c.name);
    REQUIRE(reader.ok());
    std::vector<uint64_t> offsets;
    std::vector<WarcRecord> records;
    while (true) {
      offsets.push_back(reader->offset());
      auto record = reader->next();
      REQUIRE(record.ok());
      if (!*record) break;
      records.push_back(std::move(**record));
    }
    REQUIRE(records.size() == 3);
    CHECK(records[0].header("WARC-Type") == "warcinfo");
    CHECK(records[1].header("WARC-Type") == "request");
    const WarcRecord& response = records[2];
    CHECK(response.header("WARC-Type") == "response");
    CHECK(response.header("WARC-Target-URI") == "http://127.0.0.1:8000/index.html");
    CHECK(response.header("WARC-Block-Digest") == warc_sha1_digest(response.block));
    auto http = parse_http_response(response.block);
    REQUIRE(http.ok());
    CHECK(http->status == 200);
    CHECK(http->header("content-type") == "text/html");
    CHECK(http->body == "<html><p>wget page</p></html>");
    CHECK(response.header("WARC-Payload-Digest") == warc_sha1_digest(http->body));
    if (std::string(c.name) == "per-record.warc.gz") {
      CHECK(offsets[1] == members[0].size());
      CHECK(offsets[2] == members[0].size() + members[1].size());
      CHECK(offsets[3] == c.bytes.size());
    }
    if (std::string(c.name) == "plain.warc") CHECK(offsets[3] == warc.size());
  }
}

TEST_CASE("WarcReader reports malformed files with their offset", "[warc]") {
  TempDir dir;
  struct Case {
    const char* name;
    std::string bytes;
  };
  const Case cases[] = {
      {"not-warc.warc", "<html>this is not a WARC file</html>\r\n\r\n"},
      {"no-length.warc", "WARC/1.1\r\nWARC-Type: resource\r\n\r\nabc\r\n\r\n"},
      {"bad-length.warc", "WARC/1.1\r\nContent-Length: 12x\r\n\r\nabc\r\n\r\n"},
      {"short.warc", "WARC/1.1\r\nContent-Length: 100\r\n\r\nabc\r\n\r\n"},
      {"bad-end.warc", "WARC/1.1\r\nContent-Length: 3\r\n\r\nabcXXXX"},
      {"garbage-after.warc.gz",
       gzip_compress("WARC/1.1\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n") + "trailing junk"},
      {"corrupt.warc.gz",
       [] {
         std::string bytes = gzip_compress(std::string(5000, 'W'));
         bytes[bytes.size() / 2] ^= 0x55;
         return bytes;
       }()},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    write_file(dir / c.name, c.bytes);
    auto reader = WarcReader::open(dir / c.name);
    REQUIRE(reader.ok());
    Result<std::optional<WarcRecord>> record = std::optional<WarcRecord>();
    for (int i = 0; i < 3; ++i) {
      record = reader->next();
      if (!record || !*record) break;
    }
    REQUIRE_FALSE(record.ok());
    CHECK(record.error().find("offset") != std::string::npos);
  }
  CHECK_FALSE(WarcReader::open(dir / "does-not-exist.warc").ok());
}

TEST_CASE("WarcWriter writes revisit records; WarcReader seeks to a record", "[warc]") {
  TempDir dir;
  WarcLocation original, revisit_at;
  {
    auto writer = WarcWriter::open(dir / "warc");
    REQUIRE(writer.ok());
    auto written = writer->write_exchange(
        exchange("http://example.org/a", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"));
    REQUIRE(written.ok());
    original = *written;
    WarcRevisit revisit;
    revisit.refers_to = "<urn:uuid:00000000-0000-4000-8000-000000000000>";
    revisit.refers_to_target_uri = "http://example.org/a";
    revisit.refers_to_date = "2024-01-01T00:00:00Z";
    revisit.payload_digest = warc_sha1_digest("hi");
    written = writer->write_revisit(
        exchange("http://example.org/a", "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n"),
        revisit);
    REQUIRE(written.ok());
    revisit_at = *written;
  }
  auto reader = WarcReader::open(dir / "warc/" + revisit_at.file);
  REQUIRE(reader.ok());
  REQUIRE(reader->seek(revisit_at.offset).ok());
  auto record = reader->next();
  REQUIRE(record.ok());
  REQUIRE(record->has_value());
  const WarcRecord& revisit = **record;
  CHECK(revisit.header("WARC-Type") == "revisit");
  CHECK(revisit.header("WARC-Profile") ==
        "http://netpreserve.org/warc/1.1/revisit/server-not-modified");
  CHECK(revisit.header("WARC-Refers-To") == "<urn:uuid:00000000-0000-4000-8000-000000000000>");
  CHECK(revisit.header("WARC-Refers-To-Target-URI") == "http://example.org/a");
  CHECK(revisit.header("WARC-Refers-To-Date") == "2024-01-01T00:00:00Z");
  CHECK(revisit.header("WARC-Payload-Digest") == warc_sha1_digest("hi"));
  CHECK(revisit.block.rfind("HTTP/1.1 304", 0) == 0);
  // Back to the original response, then on to the revisit's request record.
  REQUIRE(reader->seek(original.offset).ok());
  record = reader->next();
  REQUIRE(record.ok());
  CHECK((**record).header("WARC-Type") == "response");
  CHECK(parse_http_response((**record).block)->body == "hi");
  record = reader->next();
  REQUIRE(record.ok());
  CHECK((**record).header("WARC-Type") == "request");
}

TEST_CASE("gunzip inflates concatenated members and refuses bombs", "[warc]") {
  std::string two = gzip_compress("hello ") + gzip_compress("world");
  auto out = gunzip(two, 100);
  REQUIRE(out.ok());
  CHECK(*out == "hello world");
  CHECK_FALSE(gunzip(gzip_compress(std::string(1000, 'x')), 999).ok());
  CHECK_FALSE(gunzip(two.substr(0, two.size() - 3), 100).ok());
}

// A whole gzip member is inflated by libdeflate, sized by its trailer; every
// case where the trailer misleads or the member is bad must come out as zlib
// would have it.
TEST_CASE("gzip members whose trailer misleads inflate as zlib would", "[warc]") {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "line " + std::to_string(i * 7919 % 1000) + " of text\n";
  const std::string member = gzip_compress(text);
  const std::string http = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n";
  auto set_le32 = [](std::string& bytes, size_t at, uint32_t value) {
    for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>((value >> (8 * i)) & 0xff);
  };

  SECTION("a good member, alone and as a body") {
    CHECK(gunzip(member, text.size()).value() == text);
    CHECK(parse_http_response(http + member).value().body == text);
  }
  SECTION("the first of several members larger or smaller than the last") {
    const std::string small = gzip_compress("tail");
    CHECK(gunzip(member + small, 10 * text.size()).value() == text + "tail");
    CHECK(gunzip(small + member, 10 * text.size()).value() == "tail" + text);
    CHECK(gunzip(small + member + small, 10 * text.size()).value() == "tail" + text + "tail");
  }
  SECTION("a trailer that says less or more than the member holds") {
    // ISIZE is checked: libdeflate refuses, zlib says the length is wrong.
    for (uint32_t size : {uint32_t(0), uint32_t(text.size() - 1), uint32_t(text.size() + 1)}) {
      std::string lying = member;
      set_le32(lying, lying.size() - 4, size);
      INFO(size);
      auto out = gunzip(lying, 10 * text.size());
      REQUIRE_FALSE(out.ok());
      CHECK(out.error().find("corrupt gzip data") != std::string::npos);
      CHECK_FALSE(parse_http_response(http + lying).ok());
    }
  }
  SECTION("a bad checksum") {
    std::string bad = member;
    bad[bad.size() - 8] = static_cast<char>(bad[bad.size() - 8] ^ 1);
    auto out = parse_http_response(http + bad);
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().find("corrupt compressed body") != std::string::npos);
  }
  SECTION("past the limit: refused with zlib's message") {
    auto out = parse_http_response(http + member, text.size() - 1);
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().find("larger than") != std::string::npos);
    CHECK(parse_http_response(http + member, text.size()).value().body == text);
  }
  SECTION("junk after the member is left alone, as before") {
    CHECK(parse_http_response(http + member + "junk").value().body == text);
  }
}

}  // namespace
}  // namespace medsearch
