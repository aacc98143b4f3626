#include "medsearch/warc.h"

#include <dirent.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>

namespace medsearch {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;
constexpr size_t kMaxWarcHeaderBytes = 1024 * 1024;

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string find_header(const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (equals_ignore_case(key, name)) return value;
  }
  return "";
}

// All fields called `name`, joined with ", " (RFC 9110 5.3: a repeated field
// means the same as one field listing the values).
std::string joined_header(const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string_view name) {
  std::string joined;
  for (const auto& [key, value] : headers) {
    if (!equals_ignore_case(key, name)) continue;
    if (!joined.empty()) joined += ", ";
    joined += value;
  }
  return joined;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string system_error(const std::string& what, const std::string& path) {
  return what + " '" + path + "': " + std::strerror(errno);
}

// Parses "Name: value" lines (with obsolete line folding) up to the end of
// `head`. Returns false on a line without a colon.
bool parse_fields(std::string_view head, std::vector<std::pair<std::string, std::string>>& out) {
  while (!head.empty()) {
    size_t end = head.find('\n');
    std::string_view line = head.substr(0, end);
    head.remove_prefix(end == std::string_view::npos ? head.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if ((line[0] == ' ' || line[0] == '\t') && !out.empty()) {
      out.back().second += ' ';
      out.back().second += trim(line);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    out.emplace_back(std::string(trim(line.substr(0, colon))),
                     std::string(trim(line.substr(colon + 1))));
  }
  return true;
}

// Inflates the gzip member at the front of `data` in one call to libdeflate,
// appending to `out`; false (and `data` and `out` as they were) when it cannot
// say the member is good: not gzip, or no room. libdeflate wants the output's
// size first: the gzip trailer's ISIZE, the last 4 bytes of `data` when the
// member is all of it (an HTTP body, a one-member .gz file). Twice as fast as
// zlib's streaming inflate on the crawl benchmark's pages (docs/crawler.md).
bool inflate_gzip_member_whole(std::string_view& data, size_t limit, std::string& out) {
  constexpr size_t kSmallestMember = 20;  // header 10, empty stored block 2, trailer 8
  if (data.size() < kSmallestMember || static_cast<unsigned char>(data[0]) != 0x1f ||
      static_cast<unsigned char>(data[1]) != 0x8b)
    return false;
  const auto* tail = reinterpret_cast<const unsigned char*>(data.data() + data.size() - 4);
  size_t isize = tail[0] | (tail[1] << 8) | (tail[2] << 16) | (size_t(tail[3]) << 24);
  if (out.size() > limit || isize > limit - out.size()) return false;  // zlib says how large
  using Decompressor = std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)>;
  thread_local Decompressor decompressor(libdeflate_alloc_decompressor(),
                                         libdeflate_free_decompressor);
  if (!decompressor) return false;
  size_t before = out.size(), used = 0, made = 0;
  out.resize(before + isize);
  if (libdeflate_gzip_decompress_ex(decompressor.get(), data.data(), data.size(),
                                    out.data() + before, isize, &used,
                                    &made) != LIBDEFLATE_SUCCESS) {
    out.resize(before);
    return false;
  }
  out.resize(before + made);
  data.remove_prefix(used);
  return true;
}

// Inflates one stream (a gzip member, zlib or raw deflate by `window_bits`)
// from the front of `data`, appending to `out`, which may not grow past
// `limit`; `data` is left at what follows the stream. `what` names the data
// in messages ("compressed body"); `too_large` begins the message for output
// past `limit` (callers match it). With `prefix` (data cut short on purpose),
// a stream that ends early gives what it holds, and output past `limit` is
// cut there.
//
// `whole`: `data` is likely one gzip member and nothing else, worth a try
// with libdeflate (inflate_gzip_member_whole). Anything else (a bad or cut
// member, one too large) goes through zlib, which says what is wrong.
Status inflate_stream(std::string_view& data, int window_bits, size_t limit, std::string& out,
                      const char* what, const char* too_large, bool prefix = false,
                      bool whole = false) {
  if (whole && !prefix && (window_bits == 15 + 16 || window_bits == 15 + 32) &&
      inflate_gzip_member_whole(data, limit, out))
    return {};
  z_stream stream{};
  if (inflateInit2(&stream, window_bits) != Z_OK) return fail("cannot initialise zlib");
  std::array<unsigned char, kChunkBytes> buffer;
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    stream.next_out = buffer.data();
    stream.avail_out = buffer.size();
    rc = inflate(&stream, Z_NO_FLUSH);
    bool ran_out =
        rc == Z_BUF_ERROR || (rc == Z_OK && stream.avail_in == 0 && stream.avail_out != 0);
    if ((rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) || (ran_out && !prefix)) {
      std::string message = stream.msg ? stream.msg : "truncated data";
      inflateEnd(&stream);
      return fail(std::string("corrupt ") + what + ": " + message);
    }
    out.append(reinterpret_cast<char*>(buffer.data()), buffer.size() - stream.avail_out);
    if (out.size() > limit) {
      if (prefix) {
        out.resize(limit);
        break;
      }
      inflateEnd(&stream);
      return fail(too_large + std::to_string(limit) + " bytes");
    }
    if (ran_out) break;  // a prefix: what the stream held is decoded
  }
  data.remove_prefix(data.size() - stream.avail_in);
  inflateEnd(&stream);
  return {};
}

// Inflates `data` (gzip, zlib or raw deflate by `window_bits`), refusing
// output past `limit` (see inflate_stream for `prefix`).
Result<std::string> inflate_all(std::string_view data, int window_bits, size_t limit, bool prefix) {
  std::string out;
  if (Status s = inflate_stream(data, window_bits, limit, out, "compressed body",
                                "decoded body larger than ", prefix, /*whole=*/true);
      !s)
    return std::move(s).take_error();
  return out;
}

}  // namespace

namespace {

void append_le32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

// One gzip member holding `data` in stored deflate blocks (RFC 1951 3.2.4),
// built directly: for data compressed already, deflate could only add work.
std::string stored_gzip_member(std::string_view data) {
  constexpr size_t kMaxStoredBlock = 65535;
  std::string out;
  out.reserve(18 + data.size() + 5 * (data.size() / kMaxStoredBlock + 1));
  // Magic, deflate, no flags, no time, "fastest" (as zlib marks level 0), Unix.
  out.append("\x1f\x8b\x08\x00\x00\x00\x00\x00\x04\x03", 10);
  std::string_view rest = data;
  do {
    size_t size = std::min(rest.size(), kMaxStoredBlock);
    out += static_cast<char>(size == rest.size() ? 1 : 0);  // BFINAL, BTYPE 00
    out += static_cast<char>(size & 0xff);
    out += static_cast<char>(size >> 8);
    out += static_cast<char>(~size & 0xff);
    out += static_cast<char>((~size >> 8) & 0xff);
    out.append(rest.substr(0, size));
    rest.remove_prefix(size);
  } while (!rest.empty());
  append_le32(out, static_cast<uint32_t>(
                       crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size())));
  append_le32(out, static_cast<uint32_t>(data.size()));
  return out;
}

// A deflate stream writing gzip members, kept for reuse: setting one up
// allocates and clears about 256 KiB, more than compressing a small record.
class GzipDeflater {
 public:
  explicit GzipDeflater(int level) {
    ready_ = deflateInit2(&stream_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~GzipDeflater() {
    if (ready_) deflateEnd(&stream_);
  }
  GzipDeflater(const GzipDeflater&) = delete;
  GzipDeflater& operator=(const GzipDeflater&) = delete;

  std::string member(std::string_view data) {
    if (!ready_) return stored_gzip_member(data);  // out of memory: still a valid member
    deflateReset(&stream_);
    std::string out(deflateBound(&stream_, data.size()) + 32, '\0');
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream_.avail_in = static_cast<uInt>(data.size());
    stream_.next_out = reinterpret_cast<Bytef*>(out.data());
    stream_.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&stream_, Z_FINISH);
    assert(rc == Z_STREAM_END);
    (void)rc;
    out.resize(stream_.total_out);
    return out;
  }

 private:
  z_stream stream_{};
  bool ready_ = false;
};

// One gzip member at zlib `level` (0: stored, for data that is compressed already).
std::string gzip_member(std::string_view data, int level) {
  if (level == Z_NO_COMPRESSION) return stored_gzip_member(data);
  if (level == Z_BEST_SPEED) {
    thread_local GzipDeflater fastest(Z_BEST_SPEED);
    return fastest.member(data);
  }
  GzipDeflater deflater(level);
  return deflater.member(data);
}

}  // namespace

std::string gzip_compress(std::string_view data, int level) { return gzip_member(data, level); }

Result<std::string> gunzip(std::string_view data, size_t max_bytes) {
  std::string out;
  // A .gz file may hold several members; each is inflated in turn. Only
  // the first may be all of it (the trailer's size is the last member's).
  for (bool first = true; !data.empty(); first = false)
    if (Status s = inflate_stream(data, 15 + 16, max_bytes, out, "gzip data",
                                  "gzip data inflates to more than ", false, first);
        !s)
      return std::move(s).take_error();
  return out;
}

namespace {

struct HttpMessage {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;  // transfer-decoded
};

// Undoes chunked transfer-encoding. With `prefix` (a body cut short on
// purpose), a body that ends early gives the chunk data it holds.
Result<std::string> dechunk(std::string_view body, bool prefix) {
  std::string out;
  while (true) {
    size_t line_end = body.find('\n');
    if (line_end == std::string_view::npos) {
      if (prefix) return out;
      return fail("truncated chunked body");
    }
    std::string_view size_line = body.substr(0, line_end);
    if (size_t semicolon = size_line.find(';'); semicolon != std::string_view::npos) {
      size_line = size_line.substr(0, semicolon);
    }
    size_line = trim(size_line);
    if (size_line.empty() || size_line.size() > 15) return fail("malformed chunk size");
    size_t size = 0;
    for (char c : size_line) {
      int digit = (c >= '0' && c <= '9')   ? c - '0'
                  : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                           : -1;
      if (digit < 0) return fail("malformed chunk size");
      size = size * 16 + static_cast<size_t>(digit);
    }
    body.remove_prefix(line_end + 1);
    if (size == 0) return out;  // trailers, if any, are ignored
    if (body.size() < size) {
      if (!prefix) return fail("truncated chunked body");
      out.append(body);
      return out;
    }
    out.append(body.substr(0, size));
    body.remove_prefix(size);
    if (prefix && std::string_view("\r\n").substr(0, body.size()) == body) return out;
    if (body.substr(0, 2) == "\r\n") {
      body.remove_prefix(2);
    } else if (body.substr(0, 1) == "\n") {
      body.remove_prefix(1);
    } else {
      return fail("malformed chunked body");
    }
  }
}

Result<HttpMessage> split_http_message(std::string_view block, bool prefix = false) {
  size_t head_end = block.find("\r\n\r\n");
  size_t body_start = head_end + 4;
  if (head_end == std::string_view::npos) {
    head_end = block.find("\n\n");
    body_start = head_end + 2;
  }
  if (head_end == std::string_view::npos) return fail("HTTP response has no end of headers");
  std::string_view head = block.substr(0, head_end);
  size_t line_end = head.find('\n');
  std::string_view status_line = trim(head.substr(0, line_end));
  head.remove_prefix(line_end == std::string_view::npos ? head.size() : line_end + 1);
  // "HTTP/1.1 200 OK"
  if (status_line.substr(0, 5) != "HTTP/") return fail("not an HTTP response");
  size_t space = status_line.find(' ');
  if (space == std::string_view::npos || status_line.size() < space + 4) {
    return fail("malformed HTTP status line");
  }
  HttpMessage message;
  for (size_t i = space + 1; i < space + 4; ++i) {
    char c = status_line[i];
    if (c < '0' || c > '9') return fail("malformed HTTP status line");
    message.status = message.status * 10 + (c - '0');
  }
  if (!parse_fields(head, message.headers)) return fail("malformed HTTP header");
  std::string_view body = block.substr(body_start);
  std::string transfer_encoding = joined_header(message.headers, "Transfer-Encoding");
  for (char& c : transfer_encoding)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (transfer_encoding.find("chunked") != std::string::npos) {
    auto payload = dechunk(body, prefix);
    if (!payload) return std::move(payload).take_error();
    message.payload = std::move(*payload);
  } else {
    message.payload = std::string(body);
  }
  return message;
}

// The payload's digest, and whether `encoding` (its Content-Encoding) compresses it.
HttpPayloadInfo payload_info(const HttpMessage& message, std::string_view encoding) {
  HttpPayloadInfo info;
  info.digest = warc_sha1_digest(message.payload);
  info.content_encoded = !encoding.empty() && !equals_ignore_case(trim(encoding), "identity");
  return info;
}

// Undoes the Content-Encoding list (applied in order, so undone in reverse).
// With `prefix`, a body cut short on purpose: see inflate_stream.
Result<std::string> decode_content(std::string body, std::string encodings, size_t limit,
                                   bool prefix) {
  for (char& c : encodings) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string> list;
  std::string_view rest = encodings;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    if (!item.empty() && item != "identity") list.emplace_back(item);
  }
  if (body.empty()) list.clear();  // e.g. a 304 or an empty error page labelled gzip
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    Result<std::string> decoded = fail("");
    if (*it == "gzip" || *it == "x-gzip") {
      decoded = inflate_all(body, 15 + 32, limit, prefix);
    } else if (*it == "deflate") {
      // "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
      decoded = inflate_all(body, 15, limit, prefix);
      if (!decoded) decoded = inflate_all(body, -15, limit, prefix);
    } else {
      return fail("unsupported content-encoding '" + *it + "'");
    }
    if (!decoded) return std::move(decoded).take_error();
    body = std::move(*decoded);
  }
  if (body.size() > limit) {
    if (!prefix) return fail("body larger than " + std::to_string(limit) + " bytes");
    body.resize(limit);
  }
  return body;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define MEDSEARCH_SHA_NI 1

// Whether the processor has the SHA extensions (and the SSSE3 and SSE4.1 the
// code below also uses).
bool has_sha_extensions() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  bool sse = (ecx & bit_SSSE3) && (ecx & bit_SSE4_1);
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  return sse && (ebx & bit_SHA);
}

// For group g (rounds 4g .. 4g+3) of the SHA-1 extensions' code: extends
// the message schedule (w[g % 4] holds words 4g-16 .. 4g-13 before, 4g ..
// 4g+3 after) and returns the E input of sha1rnds4, from `previous`, the
// state before the last group. `previous` becomes `abcd`.
__attribute__((target("sha,ssse3,sse4.1"))) inline __m128i sha1_group_input(__m128i w[4], int g,
                                                                            __m128i& previous,
                                                                            __m128i abcd) {
  if (g >= 4) {
    w[g % 4] = _mm_sha1msg2_epu32(
        _mm_xor_si128(_mm_sha1msg1_epu32(w[g % 4], w[(g + 1) % 4]), w[(g + 2) % 4]),
        w[(g + 3) % 4]);
  }
  __m128i e = _mm_sha1nexte_epu32(previous, w[g % 4]);
  previous = abcd;
  return e;
}

// The SHA-1 compression of `blocks` 64-byte blocks with the SHA extensions:
// four rounds an instruction, several times the speed of the portable code.
__attribute__((target("sha,ssse3,sse4.1"))) void sha1_blocks_sha_ni(uint32_t state[5],
                                                                    const uint8_t* data,
                                                                    size_t blocks) {
  const __m128i byte_swap = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
  __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state)), 0x1B);
  __m128i e0 = _mm_set_epi32(static_cast<int>(state[4]), 0, 0, 0);
  for (; blocks > 0; --blocks, data += 64) {
    const __m128i abcd_start = abcd, e_start = e0;
    __m128i w[4];
    for (int i = 0; i < 4; ++i) {
      w[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * i)),
                              byte_swap);
    }
    __m128i previous = abcd;
    abcd = _mm_sha1rnds4_epu32(abcd, _mm_add_epi32(e0, w[0]), 0);
    // The round function is an immediate operand: a loop for each of the four.
    for (int g = 1; g < 5; ++g)
      abcd = _mm_sha1rnds4_epu32(abcd, sha1_group_input(w, g, previous, abcd), 0);
    for (int g = 5; g < 10; ++g)
      abcd = _mm_sha1rnds4_epu32(abcd, sha1_group_input(w, g, previous, abcd), 1);
    for (int g = 10; g < 15; ++g)
      abcd = _mm_sha1rnds4_epu32(abcd, sha1_group_input(w, g, previous, abcd), 2);
    for (int g = 15; g < 20; ++g)
      abcd = _mm_sha1rnds4_epu32(abcd, sha1_group_input(w, g, previous, abcd), 3);
    e0 = _mm_sha1nexte_epu32(previous, e_start);
    abcd = _mm_add_epi32(abcd, abcd_start);
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_shuffle_epi32(abcd, 0x1B));
  state[4] = static_cast<uint32_t>(_mm_extract_epi32(e0, 3));
}
#endif

// SHA-1 compression state (FIPS 180-4 section 6.1).
class Sha1 {
 public:
  void update(std::string_view data) {
    length_ += data.size();
    const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
    size_t size = data.size();
    if (block_size_ > 0) {
      size_t take = std::min(size, size_t{64} - block_size_);
      std::memcpy(block_ + block_size_, bytes, take);
      block_size_ += take;
      bytes += take;
      size -= take;
      if (block_size_ < 64) return;
      process(block_, 1);
      block_size_ = 0;
    }
    // Whole blocks straight from the input: no byte-by-byte copy.
    process(bytes, size / 64);
    bytes += size / 64 * 64;
    size %= 64;
    std::memcpy(block_, bytes, size);
    block_size_ = size;
  }

  std::string finish() {
    uint64_t bit_length = length_ * 8;
    block_[block_size_++] = 0x80;
    if (block_size_ > 56) {
      while (block_size_ < 64) block_[block_size_++] = 0;
      process(block_, 1);
      block_size_ = 0;
    }
    while (block_size_ < 56) block_[block_size_++] = 0;
    for (int i = 7; i >= 0; --i)
      block_[block_size_++] = static_cast<uint8_t>(bit_length >> (i * 8));
    process(block_, 1);
    std::string digest(20, '\0');
    for (int i = 0; i < 5; ++i) {
      for (int j = 0; j < 4; ++j) digest[i * 4 + j] = static_cast<char>(h_[i] >> (24 - j * 8));
    }
    return digest;
  }

 private:
  static uint32_t rotate_left(uint32_t value, int bits) {
    return (value << bits) | (value >> (32 - bits));
  }

  void process(const uint8_t* data, size_t blocks) {
#ifdef MEDSEARCH_SHA_NI
    static const bool sha_ni = has_sha_extensions();
    if (sha_ni) {
      sha1_blocks_sha_ni(h_, data, blocks);
      return;
    }
#endif
    for (; blocks > 0; --blocks, data += 64) process_portably(data);
  }

  void process_portably(const uint8_t* block) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      w[i] = (uint32_t{block[i * 4]} << 24) | (uint32_t{block[i * 4 + 1]} << 16) |
             (uint32_t{block[i * 4 + 2]} << 8) | uint32_t{block[i * 4 + 3]};
    }
    for (int i = 16; i < 80; ++i)
      w[i] = rotate_left(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      uint32_t temp = rotate_left(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rotate_left(b, 30);
      b = a;
      a = temp;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
  }

  uint32_t h_[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  uint8_t block_[64] = {};
  size_t block_size_ = 0;
  uint64_t length_ = 0;
};

std::string serialize_record(const std::vector<std::pair<std::string, std::string>>& fields,
                             std::string_view block) {
  std::string record = "WARC/1.1\r\n";
  for (const auto& [name, value] : fields) record += name + ": " + value + "\r\n";
  record += "\r\n";
  record.append(block);
  record += "\r\n\r\n";
  return record;
}

}  // namespace

// ---------------------------------------------------------------------------
// Digests, dates, ids

std::string sha1(std::string_view data) {
  Sha1 state;
  state.update(data);
  return state.finish();
}

std::string base32_encode(std::string_view data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : data) {
    buffer = (buffer << 8) | static_cast<uint8_t>(c);
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  while (out.size() % 8 != 0) out += '=';
  return out;
}

std::string warc_sha1_digest(std::string_view data) { return "sha1:" + base32_encode(sha1(data)); }

std::string warc_date(std::time_t time) {
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string new_warc_record_id() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  uint8_t bytes[16];
  for (int i = 0; i < 16; i += 8) {
    uint64_t value = generator();
    std::memcpy(bytes + i, &value, 8);
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "<urn:uuid:";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[bytes[i] >> 4];
    id += kHex[bytes[i] & 15];
  }
  return id + ">";
}

// ---------------------------------------------------------------------------
// HTTP messages

std::string WarcRecord::header(std::string_view name) const { return find_header(headers, name); }

std::string WarcRecord::target_uri() const {
  std::string uri(trim(header("WARC-Target-URI")));
  // WARC 1.0 files (wget's among them) write the URI in angle brackets.
  if (uri.size() >= 2 && uri.front() == '<' && uri.back() == '>')
    uri = uri.substr(1, uri.size() - 2);
  return uri;
}

std::string HttpResponse::header(std::string_view name) const { return find_header(headers, name); }

namespace {

Result<HttpResponse> parse_response(std::string_view block, size_t max_body_bytes,
                                    HttpPayloadInfo* payload, bool prefix) {
  auto message = split_http_message(block, prefix);
  if (!message) return std::move(message).take_error();
  HttpResponse response;
  response.status = message->status;
  std::string encoding = joined_header(message->headers, "Content-Encoding");
  if (payload) *payload = payload_info(*message, encoding);
  auto body =
      decode_content(std::move(message->payload), std::move(encoding), max_body_bytes, prefix);
  if (!body) return std::move(body).take_error();
  response.body = std::move(*body);
  response.headers = std::move(message->headers);
  return response;
}

}  // namespace

Result<HttpResponse> parse_http_response(std::string_view block, size_t max_body_bytes,
                                         HttpPayloadInfo* payload) {
  return parse_response(block, max_body_bytes, payload, /*prefix=*/false);
}

Result<HttpResponse> parse_http_response_prefix(std::string_view block, size_t max_body_bytes,
                                                HttpPayloadInfo* payload) {
  return parse_response(block, max_body_bytes, payload, /*prefix=*/true);
}

Result<std::string> http_payload(std::string_view block) {
  auto message = split_http_message(block);
  if (!message) return std::move(message).take_error();
  return std::move(message->payload);
}

// ---------------------------------------------------------------------------
// Reader

struct WarcReader::Impl {
  std::FILE* file = nullptr;
  std::string path;
  bool gzip = false;
  z_stream stream{};
  bool stream_ready = false;
  bool in_member = false;
  std::array<unsigned char, kChunkBytes> input{};
  uint64_t file_position = 0;  // bytes read from the file so far

  std::string buffer;  // decompressed bytes not yet consumed start at buffer_start
  size_t buffer_start = 0;
  uint64_t consumed = 0;      // decompressed bytes consumed (absolute)
  uint64_t decompressed = 0;  // decompressed bytes produced (absolute)
  // (decompressed start, compressed start) of the gzip members seen, latest last.
  std::vector<std::pair<uint64_t, uint64_t>> members;

  std::optional<std::string> error;  // once set, reading has stopped

  ~Impl() {
    if (stream_ready) inflateEnd(&stream);
    if (file) std::fclose(file);
  }

  uint64_t compressed_position() const { return file_position - stream.avail_in; }

  uint64_t offset_of(uint64_t position) const {
    if (!gzip) return position;
    if (position == decompressed && !in_member) return compressed_position();
    for (auto it = members.rbegin(); it != members.rend(); ++it) {
      if (it->first <= position) return it->second;
    }
    return 0;
  }

  size_t available() const { return buffer.size() - buffer_start; }

  void consume(size_t count) {
    buffer_start += count;
    consumed += count;
    if (buffer_start > kChunkBytes && buffer_start * 2 > buffer.size()) {
      buffer.erase(0, buffer_start);
      buffer_start = 0;
    }
  }

  // Appends more decompressed bytes to `buffer`. Returns false at a clean end
  // of file; an error for a read error or a corrupt or truncated gzip member.
  Result<bool> fill() {
    if (!gzip) {
      size_t count = std::fread(input.data(), 1, input.size(), file);
      if (count == 0) {
        if (std::ferror(file)) return fail(system_error("cannot read", path));
        return false;
      }
      file_position += count;
      decompressed += count;
      buffer.append(reinterpret_cast<char*>(input.data()), count);
      return true;
    }
    std::array<unsigned char, kChunkBytes> output;
    while (true) {
      if (stream.avail_in == 0) {
        size_t count = std::fread(input.data(), 1, input.size(), file);
        if (count == 0) {
          if (std::ferror(file)) return fail(system_error("cannot read", path));
          if (in_member) {
            return fail("truncated gzip member at offset " + std::to_string(members.back().second));
          }
          return false;
        }
        file_position += count;
        stream.next_in = input.data();
        stream.avail_in = static_cast<uInt>(count);
      }
      if (!in_member) {
        if (stream.next_in[0] != 0x1f) {
          return fail("not gzip data at offset " + std::to_string(compressed_position()));
        }
        inflateReset(&stream);
        in_member = true;
        members.emplace_back(decompressed, compressed_position());
        if (members.size() > 64) members.erase(members.begin(), members.begin() + 32);
      }
      stream.next_out = output.data();
      stream.avail_out = output.size();
      int rc = inflate(&stream, Z_NO_FLUSH);
      size_t produced = output.size() - stream.avail_out;
      buffer.append(reinterpret_cast<char*>(output.data()), produced);
      decompressed += produced;
      if (rc == Z_STREAM_END) {
        in_member = false;
      } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && stream.avail_in == 0)) {
        return fail("corrupt gzip member at offset " + std::to_string(members.back().second) +
                    ": " + (stream.msg ? stream.msg : "bad data"));
      }
      if (produced > 0 || rc == Z_STREAM_END) return true;
    }
  }

  // Makes sure `count` unconsumed bytes are buffered; false if the file ends first.
  Result<bool> ensure(size_t count) {
    while (available() < count) {
      auto more = fill();
      if (!more) return more;
      if (!*more) return false;
    }
    return true;
  }

  // After a record, finishes the gzip member it ended in, so that offset()
  // points at the next member rather than the one just read.
  void settle() {
    while (gzip && in_member && available() == 0) {
      auto more = fill();
      if (!more) {
        error = more.error();
        return;
      }
      if (!*more) return;
    }
  }

  Result<std::optional<WarcRecord>> next() {
    // Tolerate blank lines between records.
    while (true) {
      while (available() > 0 && (buffer[buffer_start] == '\r' || buffer[buffer_start] == '\n')) {
        consume(1);
      }
      if (available() > 0) break;
      auto more = fill();
      if (!more) return std::move(more).take_error();
      if (!*more) return std::optional<WarcRecord>();
    }
    uint64_t record_offset = offset_of(consumed);
    std::string where = " at offset " + std::to_string(record_offset) + " of '" + path + "'";
    size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n", buffer_start)) == std::string::npos) {
      if (available() > kMaxWarcHeaderBytes) return fail("WARC header too long" + where);
      auto more = fill();
      if (!more) return std::move(more).take_error();
      if (!*more) return fail("truncated WARC record header" + where);
    }
    std::string_view head(buffer.data() + buffer_start, head_end - buffer_start);
    size_t line_end = head.find("\r\n");
    std::string_view version = head.substr(0, line_end);
    if (version.substr(0, 5) != "WARC/") return fail("not a WARC record" + where);
    WarcRecord record;
    if (!parse_fields(head.substr(line_end + 2), record.headers)) {
      return fail("malformed WARC header" + where);
    }
    std::string length_text = record.header("Content-Length");
    if (length_text.empty() || length_text.size() > 15 ||
        length_text.find_first_not_of("0123456789") != std::string::npos) {
      return fail("WARC record without a valid Content-Length" + where);
    }
    size_t length = std::stoull(length_text);
    consume(head_end + 4 - buffer_start);
    auto complete = ensure(length + 4);
    if (!complete) return std::move(complete).take_error();
    if (!*complete) {
      return fail("truncated WARC record" + where + " (Content-Length " + length_text + ")");
    }
    record.block.assign(buffer, buffer_start, length);
    if (buffer.compare(buffer_start + length, 4, "\r\n\r\n") != 0) {
      return fail("WARC record does not end with CRLF CRLF" + where);
    }
    consume(length + 4);
    settle();
    return std::optional<WarcRecord>(std::move(record));
  }
};

WarcReader::WarcReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WarcReader::WarcReader(WarcReader&&) noexcept = default;
WarcReader& WarcReader::operator=(WarcReader&&) noexcept = default;
WarcReader::~WarcReader() = default;

Result<WarcReader> WarcReader::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->file = std::fopen(path.c_str(), "rb");
  if (!impl->file) return fail(system_error("cannot open", path));
  int first = std::fgetc(impl->file);
  int second = std::fgetc(impl->file);
  std::rewind(impl->file);
  impl->gzip = first == 0x1f && second == 0x8b;
  if (impl->gzip) {
    if (inflateInit2(&impl->stream, 15 + 16) != Z_OK) return fail("cannot initialise zlib");
    impl->stream_ready = true;
  }
  return WarcReader(std::move(impl));
}

Result<std::optional<WarcRecord>> WarcReader::next() {
  if (impl_->error) return fail(*impl_->error);
  auto record = impl_->next();
  if (!record) impl_->error = record.error();
  return record;
}

uint64_t WarcReader::offset() const { return impl_->offset_of(impl_->consumed); }

Status WarcReader::seek(uint64_t offset) {
  Impl& impl = *impl_;
  if (std::fseek(impl.file, static_cast<long>(offset), SEEK_SET) != 0) {
    return fail(system_error("cannot seek in", impl.path));
  }
  impl.file_position = offset;
  impl.stream.avail_in = 0;
  impl.in_member = false;
  impl.buffer.clear();
  impl.buffer_start = 0;
  impl.consumed = 0;
  impl.decompressed = 0;
  impl.members.clear();
  impl.error.reset();
  return {};
}

// ---------------------------------------------------------------------------
// Writer

namespace {

std::string warc_file_name(const std::string& prefix, int number) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%05d", number);
  return prefix + "-" + digits + ".warc.gz";
}

// The highest NNNNN of PREFIX-NNNNN.warc.gz in `dir`, or -1.
int last_file_number(const std::string& dir, const std::string& prefix) {
  int last = -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    std::string head = prefix + "-";
    if (name.size() != head.size() + 5 + 8 || name.compare(0, head.size(), head) != 0 ||
        name.compare(head.size() + 5, std::string::npos, ".warc.gz") != 0) {
      continue;
    }
    std::string digits = name.substr(head.size(), 5);
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    last = std::max(last, std::stoi(digits));
  }
  return last;
}

// Reads `path` to its end and returns the offset just past its last whole
// record (the whole file when nothing is torn). A request record whose
// response was torn off goes too, so exchanges stay whole.
Result<uint64_t> last_whole_record_end(const std::string& path) {
  auto reader = WarcReader::open(path);
  if (!reader) return std::move(reader).take_error();
  std::vector<std::pair<uint64_t, std::string>> records;  // start offset, WARC-Type
  while (true) {
    uint64_t start = reader->offset();
    auto record = reader->next();
    if (!record) {
      // A record can read whole and still end in a torn gzip member; the error
      // then comes with the next read and points back at that record.
      uint64_t cut = start;
      while (!records.empty() && records.back().first >= cut) records.pop_back();
      if (!records.empty() && records.back().second == "request") cut = records.back().first;
      return cut;
    }
    if (!*record) return reader->offset();
    records.emplace_back(start, (*record)->header("WARC-Type"));
    if (records.size() > 16) records.erase(records.begin(), records.begin() + 8);
  }
}

void sync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

WarcWriter::WarcWriter(WarcWriter&& other) noexcept { *this = std::move(other); }

WarcWriter& WarcWriter::operator=(WarcWriter&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    dir_ = std::move(other.dir_);
    options_ = std::move(other.options_);
    fd_ = std::exchange(other.fd_, -1);
    file_number_ = other.file_number_;
    file_name_ = std::move(other.file_name_);
    file_size_ = other.file_size_;
    warcinfo_id_ = std::move(other.warcinfo_id_);
    truncated_bytes_ = other.truncated_bytes_;
    unsynced_ = other.unsynced_;
  }
  return *this;
}

WarcWriter::~WarcWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Result<WarcWriter> WarcWriter::open(const std::string& dir, WarcWriterOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail("cannot create directory '" + dir + "': " + ec.message());
  WarcWriter writer;
  writer.dir_ = dir;
  writer.options_ = std::move(options);
  int last = last_file_number(dir, writer.options_.prefix);
  if (last < 0) {
    if (auto started = writer.start_file(0); !started) return std::move(started).take_error();
    return writer;
  }
  std::string path = dir + "/" + warc_file_name(writer.options_.prefix, last);
  auto good_end = last_whole_record_end(path);
  if (!good_end) return std::move(good_end).take_error();
  uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return fail("cannot stat '" + path + "': " + ec.message());
  if (*good_end < size) {
    if (::truncate(path.c_str(), static_cast<off_t>(*good_end)) != 0) {
      return fail(system_error("cannot truncate torn record off", path));
    }
    writer.truncated_bytes_ = size - *good_end;
  }
  if (*good_end == 0 || *good_end >= writer.options_.max_file_bytes) {
    int number = *good_end == 0 ? last : last + 1;
    if (auto started = writer.start_file(number); !started) return std::move(started).take_error();
    return writer;
  }
  writer.fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (writer.fd_ < 0) return fail(system_error("cannot open", path));
  writer.file_number_ = last;
  writer.file_name_ = warc_file_name(writer.options_.prefix, last);
  writer.file_size_ = *good_end;
  // Records appended to a continued file refer to its first warcinfo record.
  if (auto reader = WarcReader::open(path)) {
    if (auto first = reader->next();
        first && *first && (*first)->header("WARC-Type") == "warcinfo") {
      writer.warcinfo_id_ = (*first)->header("WARC-Record-ID");
    }
  }
  return writer;
}

Status WarcWriter::start_file(int number) {
  if (auto ok = flush(); !ok) return ok;
  if (fd_ >= 0) ::close(fd_);
  file_number_ = number;
  file_name_ = warc_file_name(options_.prefix, number);
  std::string path = dir_ + "/" + file_name_;
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return fail(system_error("cannot create", path));
  file_size_ = 0;
  sync_directory(dir_);
  warcinfo_id_ = new_warc_record_id();
  std::string block = "software: " + options_.software +
                      "\r\n"
                      "format: WARC File Format 1.1\r\n"
                      "conformsTo: "
                      "http://iipc.github.io/warc-specifications/specifications/warc-format/"
                      "warc-1.1/\r\n"
                      "robots: obey\r\n";
  auto written = write_record({{"WARC-Type", "warcinfo"},
                               {"WARC-Record-ID", warcinfo_id_},
                               {"WARC-Filename", file_name_},
                               {"Content-Type", "application/warc-fields"}},
                              block);
  if (!written) return std::move(written).take_error();
  return {};
}

Status WarcWriter::roll_over_if_full() {
  if (file_size_ < options_.max_file_bytes) return {};
  return start_file(file_number_ + 1);
}

Result<uint64_t> WarcWriter::append(std::string_view bytes) {
  std::string path = dir_ + "/" + file_name_;
  uint64_t offset = file_size_;
  while (!bytes.empty()) {
    ssize_t count = ::write(fd_, bytes.data(), bytes.size());
    if (count < 0) {
      if (errno == EINTR) continue;
      return fail(system_error("cannot write", path));
    }
    bytes.remove_prefix(static_cast<size_t>(count));
    file_size_ += static_cast<uint64_t>(count);
  }
  unsynced_ = true;
  if (options_.sync) {
    if (auto ok = flush(); !ok) return std::move(ok).take_error();
  }
  return offset;
}

Status WarcWriter::flush() {
  if (!unsynced_ || fd_ < 0) return {};
  if (::fdatasync(fd_) != 0) return fail(system_error("cannot sync", dir_ + "/" + file_name_));
  unsynced_ = false;
  return {};
}

Result<WarcLocation> WarcWriter::write_record(
    std::vector<std::pair<std::string, std::string>> fields, std::string_view block) {
  if (fd_ < 0) return fail("WARC writer is not open");
  if (find_header(fields, "WARC-Type") != "warcinfo") {
    if (auto rolled = roll_over_if_full(); !rolled) return std::move(rolled).take_error();
  }
  if (find_header(fields, "WARC-Record-ID").empty()) {
    fields.insert(fields.begin() + 1, {"WARC-Record-ID", new_warc_record_id()});
  }
  if (find_header(fields, "WARC-Date").empty())
    fields.emplace_back("WARC-Date", warc_date(std::time(nullptr)));
  if (find_header(fields, "Content-Length").empty()) {
    fields.emplace_back("Content-Length", std::to_string(block.size()));
  }
  auto offset = append(gzip_compress(serialize_record(fields, block)));
  if (!offset) return std::move(offset).take_error();
  return WarcLocation{file_name_, *offset, ""};
}

Result<WarcLocation> WarcWriter::write_exchange(const WarcExchange& exchange) {
  return write_pair(exchange, nullptr, nullptr);
}

Result<WarcLocation> WarcWriter::write_exchange(const WarcExchange& exchange,
                                                const HttpPayloadInfo& payload) {
  return write_pair(exchange, nullptr, &payload);
}

Result<WarcLocation> WarcWriter::write_revisit(const WarcExchange& exchange,
                                               const WarcRevisit& revisit) {
  return write_pair(exchange, &revisit, nullptr);
}

Result<WarcLocation> WarcWriter::write_pair(const WarcExchange& exchange,
                                            const WarcRevisit* revisit,
                                            const HttpPayloadInfo* parsed) {
  if (fd_ < 0) return fail("WARC writer is not open");
  if (auto rolled = roll_over_if_full(); !rolled) return std::move(rolled).take_error();
  std::string date = warc_date(exchange.date != 0 ? exchange.date : std::time(nullptr));
  std::string request_id = new_warc_record_id();
  std::string response_id = new_warc_record_id();

  std::vector<std::pair<std::string, std::string>> request_fields = {
      {"WARC-Type", "request"},
      {"WARC-Record-ID", request_id},
      {"WARC-Date", date},
      {"WARC-Target-URI", exchange.target_uri},
      {"WARC-Concurrent-To", response_id}};
  if (!warcinfo_id_.empty()) request_fields.emplace_back("WARC-Warcinfo-ID", warcinfo_id_);
  // WARC-Protocol as the IIPC's proposal for it defines (warc-specifications #42).
  if (!exchange.protocol.empty()) request_fields.emplace_back("WARC-Protocol", exchange.protocol);
  request_fields.emplace_back("Content-Type", "application/http;msgtype=request");
  request_fields.emplace_back("WARC-Block-Digest", warc_sha1_digest(exchange.request));
  request_fields.emplace_back("Content-Length", std::to_string(exchange.request.size()));

  std::vector<std::pair<std::string, std::string>> response_fields = {
      {"WARC-Type", revisit ? "revisit" : "response"},
      {"WARC-Record-ID", response_id},
      {"WARC-Date", date},
      {"WARC-Target-URI", exchange.target_uri},
      {"WARC-Concurrent-To", request_id}};
  if (!exchange.ip_address.empty())
    response_fields.emplace_back("WARC-IP-Address", exchange.ip_address);
  if (!warcinfo_id_.empty()) response_fields.emplace_back("WARC-Warcinfo-ID", warcinfo_id_);
  if (!exchange.protocol.empty()) response_fields.emplace_back("WARC-Protocol", exchange.protocol);
  response_fields.emplace_back("Content-Type", "application/http;msgtype=response");
  response_fields.emplace_back("WARC-Block-Digest", warc_sha1_digest(exchange.response));
  if (revisit) {
    // A revisit names the payload it repeats rather than digesting its own.
    response_fields.emplace_back("WARC-Profile", revisit->profile);
    if (!revisit->refers_to.empty())
      response_fields.emplace_back("WARC-Refers-To", revisit->refers_to);
    response_fields.emplace_back("WARC-Refers-To-Target-URI", revisit->refers_to_target_uri);
    if (!revisit->refers_to_date.empty()) {
      response_fields.emplace_back("WARC-Refers-To-Date", revisit->refers_to_date);
    }
    if (!revisit->payload_digest.empty()) {
      response_fields.emplace_back("WARC-Payload-Digest", revisit->payload_digest);
    }
  }
  // A body the server compressed does not compress again: its record is
  // stored in its gzip member rather than deflated a second time.
  int level = Z_BEST_SPEED;
  std::optional<HttpPayloadInfo> payload;
  if (parsed && !revisit) {
    payload = *parsed;
  } else if (!revisit) {
    if (auto message = split_http_message(exchange.response)) {
      payload = payload_info(*message, joined_header(message->headers, "Content-Encoding"));
    }
  }
  if (payload) {
    response_fields.emplace_back("WARC-Payload-Digest", payload->digest);
    if (payload->truncated) response_fields.emplace_back("WARC-Truncated", "length");
    if (payload->content_encoded) level = Z_NO_COMPRESSION;
  }
  response_fields.emplace_back("Content-Length", std::to_string(exchange.response.size()));

  // Request records are stored too: deflating a few hundred bytes costs about
  // as much CPU as the rest of archiving a page, and saves little space.
  std::string request_member =
      gzip_member(serialize_record(request_fields, exchange.request), Z_NO_COMPRESSION);
  std::string response_member =
      gzip_member(serialize_record(response_fields, exchange.response), level);
  // One write for both records: a crash leaves the pair whole or torn at the end.
  auto offset = append(request_member + response_member);
  if (!offset) return std::move(offset).take_error();
  return WarcLocation{file_name_, *offset + request_member.size(),
                      payload ? std::move(payload->digest) : std::string()};
}

}  // namespace medsearch
