// WARC 1.1 files: a writer for the crawler (one gzip member per record, so a
// torn write is detectable and can be cut off), a reader for the indexer, the
// HTTP message parsing both need, and the SHA-1/base32 digests WARC uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "medsearch/result.h"

namespace medsearch {

// SHA-1 (FIPS 180-4) of `data`: 20 raw bytes.
std::string sha1(std::string_view data);
// RFC 4648 base32 (uppercase alphabet, '=' padding).
std::string base32_encode(std::string_view data);
// "sha1:" + base32(sha1(data)): the form of WARC-Block-Digest and WARC-Payload-Digest.
std::string warc_sha1_digest(std::string_view data);

// One complete gzip member (RFC 1952) holding `data`; concatenated members
// form a valid .gz file. Used for WARC records and handy for tests. `level`
// is zlib's: 1 (fastest, the default), up to 9, -1 for zlib's default (6).
std::string gzip_compress(std::string_view data, int level = 1);

// Inflates gzip data (one or more members, as a .gz file holds), refusing
// output past `max_bytes`. Fails on corrupt or truncated data.
Result<std::string> gunzip(std::string_view data, size_t max_bytes);

// "2024-05-01T12:00:00Z": a WARC-Date (UTC, second precision).
std::string warc_date(std::time_t time);

// One WARC record as read from a file.
struct WarcRecord {
  std::vector<std::pair<std::string, std::string>> headers;  // named fields, in order
  std::string block;                                         // the content block
  // The first field called `name` (case-insensitive); "" if absent.
  std::string header(std::string_view name) const;
  // WARC-Target-URI without the angle brackets WARC 1.0 writers (wget) put around it.
  std::string target_uri() const;
};

// Reads records in order from a .warc, a .warc.gz of one gzip member per
// record, or a .warc.gz compressed as a whole. Owns its open file; movable,
// not copyable; not thread-safe.
class WarcReader {
 public:
  // Opens `path`; gzip is recognised by its magic bytes, not by the name.
  static Result<WarcReader> open(const std::string& path);
  WarcReader(WarcReader&&) noexcept;
  WarcReader& operator=(WarcReader&&) noexcept;
  ~WarcReader();

  // The next record; std::nullopt at a clean end of file; an Error (with file
  // offset) for a truncated or malformed record, after which reading stops
  // (every later call returns the same error).
  Result<std::optional<WarcRecord>> next();
  // Continues reading at `offset`, the start of a record (as offset() or a
  // WarcLocation gave it) in a plain file or a file of one gzip member per
  // record. Clears an earlier error.
  Status seek(uint64_t offset);
  // Offset in the (compressed) file of the next record: the start of its gzip
  // member, or of the member it lies in when a file was compressed as a whole.
  uint64_t offset() const;

 private:
  struct Impl;
  explicit WarcReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One HTTP response parsed from a WARC response block.
struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
  std::string body;  // decoded: chunked transfer-encoding and gzip/deflate content-encoding undone
  // The first header called `name` (case-insensitive); "" if absent.
  std::string header(std::string_view name) const;
};

// What a WARC response record says about the HTTP payload it holds.
struct HttpPayloadInfo {
  std::string digest;            // WARC-Payload-Digest: sha1 of the body, transfer-decoded
  bool content_encoded = false;  // the body has a Content-Encoding (other than identity)
  // The response was cut short on purpose (see parse_http_response_prefix):
  // its record says WARC-Truncated: length. Set by the caller that cut it.
  bool truncated = false;
};

// Decoded bodies larger than this are refused (a guard against gzip bombs).
inline constexpr size_t kMaxDecodedBodyBytes = 64 * 1024 * 1024;

// Parses "HTTP/1.x NNN reason" + headers + body (a WARC response block, or
// bytes as received from a server). Fails on a malformed head, a broken chunked
// body, corrupt or unsupported content-encoding, or a body past `max_body_bytes`.
// With `payload`, also fills it in for WarcWriter::write_exchange: a crawler
// that archives what it decodes then parses each response once.
Result<HttpResponse> parse_http_response(std::string_view block,
                                         size_t max_body_bytes = kMaxDecodedBodyBytes,
                                         HttpPayloadInfo* payload = nullptr);
// The same for a response whose body may have been cut short on purpose
// after its first bytes (a robots.txt read only as far as it is parsed): a
// chunked body or compressed stream that ends early decodes to what it
// holds, and a decoded body longer than `max_body_bytes` is cut there rather
// than refused. Broken framing and corrupt data are still errors.
Result<HttpResponse> parse_http_response_prefix(std::string_view block, size_t max_body_bytes,
                                                HttpPayloadInfo* payload = nullptr);

// The HTTP payload of a response block: the body with chunked transfer-encoding
// undone but content-encoding kept, which is what WARC-Payload-Digest covers.
Result<std::string> http_payload(std::string_view block);

// Where a record was written: a file name inside the WARC directory and the
// offset of the record's gzip member.
struct WarcLocation {
  std::string file;
  uint64_t offset = 0;
  std::string payload_digest;  // the response record's WARC-Payload-Digest, "" if none
};

// One HTTP exchange, as the fetcher saw it on the wire.
struct WarcExchange {
  std::string target_uri;
  std::string request;     // request line and headers as sent
  std::string response;    // status line, headers and body as received
  std::string ip_address;  // of the server; may be empty
  std::time_t date = 0;    // when the response began; 0: now
  // The HTTP protocol when it was not HTTP/1.x ("h2"): written as a
  // WARC-Protocol field on both records. The messages themselves are in
  // HTTP/1.1 syntax.
  std::string protocol;
};

// What a revisit record refers to (WARC 1.1 section 6.7).
struct WarcRevisit {
  std::string profile = "http://netpreserve.org/warc/1.1/revisit/server-not-modified";
  std::string refers_to;             // WARC-Record-ID of the original; may be empty
  std::string refers_to_target_uri;  // WARC-Refers-To-Target-URI
  std::string refers_to_date;        // WARC-Refers-To-Date of the original; may be empty
  std::string payload_digest;        // the original's WARC-Payload-Digest; may be empty
};

struct WarcWriterOptions {
  std::string prefix = "crawl";                     // files are PREFIX-NNNNN.warc.gz
  uint64_t max_file_bytes = 1000ull * 1000 * 1000;  // roll over to a new file past this
  std::string software = "medcrawl";                // for the warcinfo record
  // fdatasync after each write, before returning its location. Without it the
  // caller calls flush() before relying on records being on disk.
  bool sync = true;
};

// Appends records to PREFIX-NNNNN.warc.gz files in one directory, one gzip
// member per record, a warcinfo record first in each file. A record is written
// with one write() and synced, so after a crash the file ends with whole
// records or a torn last member, which the next open() cuts off. Owns its file
// descriptor; movable, not copyable; not thread-safe; one writer per directory.
class WarcWriter {
 public:
  // Opens `dir` (created if missing): continues its highest-numbered file,
  // truncated to its last whole record, or starts PREFIX-00000.warc.gz.
  static Result<WarcWriter> open(const std::string& dir, WarcWriterOptions options = {});
  WarcWriter(WarcWriter&&) noexcept;
  WarcWriter& operator=(WarcWriter&&) noexcept;
  ~WarcWriter();

  // Writes a request record and a response record linked by
  // WARC-Concurrent-To; returns where the response record begins.
  Result<WarcLocation> write_exchange(const WarcExchange& exchange);
  // The same for a response the caller parsed already (parse_http_response
  // filled `payload`): the writer does not parse it again.
  Result<WarcLocation> write_exchange(const WarcExchange& exchange, const HttpPayloadInfo& payload);
  // The same with a revisit record instead of the response: an answer that
  // repeats an archived payload (e.g. 304 Not Modified). Returns where the
  // revisit record begins.
  Result<WarcLocation> write_revisit(const WarcExchange& exchange, const WarcRevisit& revisit);
  // Writes one record with `fields` (WARC-Record-ID, WARC-Date and
  // Content-Length are added when missing) and returns where it begins.
  Result<WarcLocation> write_record(std::vector<std::pair<std::string, std::string>> fields,
                                    std::string_view block);

  // fdatasyncs what was written since the last sync (a no-op if nothing was).
  Status flush();

  // Bytes cut off the end of the continued file by open() (a torn record).
  uint64_t truncated_bytes() const { return truncated_bytes_; }
  // Name of the file being written, e.g. "crawl-00000.warc.gz".
  const std::string& current_file() const { return file_name_; }

 private:
  WarcWriter() = default;
  Status start_file(int number);
  Status roll_over_if_full();
  // Writes `bytes` (whole gzip members) at the end of the file and syncs;
  // returns the offset they start at.
  Result<uint64_t> append(std::string_view bytes);
  Result<WarcLocation> write_pair(const WarcExchange& exchange, const WarcRevisit* revisit,
                                  const HttpPayloadInfo* payload);

  std::string dir_;
  WarcWriterOptions options_;
  int fd_ = -1;
  int file_number_ = 0;
  std::string file_name_;
  uint64_t file_size_ = 0;
  std::string warcinfo_id_;
  uint64_t truncated_bytes_ = 0;
  bool unsynced_ = false;
};

// A fresh "<urn:uuid:...>" (random, version 4) for WARC-Record-ID.
std::string new_warc_record_id();

}  // namespace medsearch
