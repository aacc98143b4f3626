#include "medsearch/indexer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "medsearch/extract.h"
#include "medsearch/text.h"
#include "medsearch/url.h"
#include "medsearch/warc.h"

namespace medsearch {
namespace fs = std::filesystem;

namespace {

bool is_warc_name(const std::string& name) {
  return name.ends_with(".warc") || name.ends_with(".warc.gz");
}

bool is_document_name(const std::string& name) {
  std::string lower = ascii_lower(name);
  for (const char* ext : {".html", ".htm", ".xhtml", ".pdf", ".txt"})
    if (lower.ends_with(ext)) return true;
  return false;
}

// A reason without the details that differ per input, for grouping.
std::string reason_key(const std::string& why) {
  size_t cut = why.find(" '");
  return cut == std::string::npos ? why : why.substr(0, cut);
}

}  // namespace

uint64_t IndexStats::failed() const {
  uint64_t n = 0;
  for (const auto& [reason, count] : failures) n += count;
  return n;
}

Indexer::Indexer(IndexWriter& writer, IndexerOptions options)
    : writer_(writer), options_(std::move(options)) {}

void Indexer::skip(const std::string& where, const std::string& why) {
  ++stats_.failures[reason_key(why)];
  if (options_.on_skip) options_.on_skip(where, why);
}

void Indexer::count_change() {
  if (++pending_ >= options_.flush_every) {
    pending_ = 0;
    if (Status s = writer_.commit(); !s && write_error_) write_error_ = std::move(s);
  }
}

void Indexer::add_fetched(const std::string& url, const std::string& content_type,
                          const std::string& body) {
  ++stats_.seen;
  auto doc = extract_document(url, content_type, body);
  if (!doc) {
    skip(url, doc.error());
    return;
  }
  auto outcome = writer_.put(*doc);
  if (!outcome) {
    skip(url, outcome.error());
    if (write_error_) write_error_ = std::move(outcome).take_error();
    return;
  }
  switch (*outcome) {
    case PutOutcome::kAdded:
      ++stats_.added;
      count_change();
      break;
    case PutOutcome::kReplaced:
      ++stats_.replaced;
      count_change();
      break;
    case PutOutcome::kUnchanged:
      ++stats_.unchanged;
      break;
  }
  if (options_.on_progress) options_.on_progress(stats_);
}

Status Indexer::add_warc(const std::string& path) {
  auto reader = WarcReader::open(path);
  if (!reader) return std::move(reader).take_error();
  for (;;) {
    auto record = reader->next();
    if (!record) {
      // A truncated last record (a crawl killed mid-write) costs that record only.
      skip(path, record.error());
      return {};
    }
    if (!record->has_value()) return {};
    const WarcRecord& r = **record;
    if (r.header("WARC-Type") != "response") continue;
    std::string url = r.header("WARC-Target-URI");
    auto response = parse_http_response(r.block);
    if (!response) {
      ++stats_.seen;
      skip(url, response.error());
      continue;
    }
    if (response->status != 200) continue;  // redirects and errors are not documents
    // The crawl archives robots.txt too; it is a crawl rule, not a document.
    if (auto parsed = parse_url(url); parsed && parsed->path == "/robots.txt") continue;
    add_fetched(url, response->header("Content-Type"), response->body);
  }
}

Status Indexer::add_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  add_fetched("file://" + absolute.lexically_normal().string(), "", buf.str());
  return {};
}

Status Indexer::add_input(const std::string& path) {
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return fail("no such file or directory '" + path + "'");
  Status result;
  if (fs::is_directory(status)) {
    // A crawl directory holds its WARC files under warc/; any other directory
    // is walked for documents and WARC files, in a stable order.
    fs::path root = fs::exists(fs::path(path) / "warc") ? fs::path(path) / "warc" : fs::path(path);
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string name = it->path().filename().string();
      if (is_warc_name(name) || is_document_name(name)) files.push_back(it->path());
    }
    if (ec) return fail("cannot list '" + path + "': " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      std::string name = file.filename().string();
      Status s = is_warc_name(name) ? add_warc(file.string()) : add_file(file.string());
      if (!s) skip(file.string(), s.error());
    }
  } else if (is_warc_name(path)) {
    result = add_warc(path);
  } else {
    result = add_file(path);
  }
  if (!result) return result;
  if (!write_error_) return std::move(write_error_);
  return {};
}

Status Indexer::remove(const std::string& id) {
  auto removed = writer_.remove(id);
  if (!removed) return std::move(removed).take_error();
  if (*removed) {
    ++stats_.deleted;
    count_change();
  }
  return {};
}

Status Indexer::finish() {
  pending_ = 0;
  return writer_.commit();
}

}  // namespace medsearch
