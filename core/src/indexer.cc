#include "medsearch/indexer.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "medsearch/extract.h"
#include "medsearch/records.h"
#include "medsearch/robots.h"
#include "medsearch/text.h"
#include "medsearch/url.h"
#include "medsearch/warc.h"

namespace medsearch {
namespace fs = std::filesystem;

namespace {

bool is_warc_name(const std::string& name) {
  return name.ends_with(".warc") || name.ends_with(".warc.gz");
}

bool is_records_name(const std::string& lower) {
  return lower.ends_with(".jsonl") || lower.ends_with(".ndjson") || lower.ends_with(".xml");
}

bool is_document_name(const std::string& lower) {
  for (const char* ext : {".html", ".htm", ".xhtml", ".pdf", ".txt"})
    if (lower.ends_with(ext)) return true;
  return false;
}

// A reason without the details that differ per input, for grouping.
std::string reason_key(const std::string& why) {
  size_t cut = why.find(" '");
  cut = std::min(cut, why.find(" at byte"));
  return cut == std::string::npos ? why : why.substr(0, cut);
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// One piece of input, as the reader found it; builders turn it into an Outcome.
struct Unit {
  enum class Kind { kFetched, kWarcResponse, kJsonLine, kRecord, kDelete, kSkip };
  Kind kind;
  std::string where;         // URL, or file:line, for messages
  std::string content_type;  // kFetched
  std::string data;          // body (kFetched), WARC block, JSON line, or skip reason
  Document doc;              // kRecord
};

// What the writer does with a unit.
struct Outcome {
  enum class Kind { kPut, kDelete, kSkip, kNothing };
  Kind kind = Kind::kNothing;
  std::string where;
  std::string why;  // kSkip
  std::string id;   // kDelete
  std::string cut;  // kPut: what was left out of a document too long to index whole
  PreparedDocument prepared;
};

// Cuts a page or text file longer than kMaxDocumentBytes, before a tag or a
// space so that no tag or word is split; PDFs are left whole (a cut one does
// not open). Returns what was left out, or "".
std::string cut_long_document(std::string& data) {
  if (data.size() <= kMaxDocumentBytes || data.starts_with("%PDF-")) return "";
  size_t at = data.find_last_of("< \n", kMaxDocumentBytes);
  if (at == std::string::npos || at < kMaxDocumentBytes / 2) at = kMaxDocumentBytes;
  std::string why = "longer than " + std::to_string(kMaxDocumentBytes >> 20) +
                    " MiB; indexed the first " + std::to_string(at) + " of " +
                    std::to_string(data.size()) + " bytes";
  data.resize(at);
  return why;
}

// A sitemap or sitemap index (what the crawl archives with --sitemaps).
bool is_sitemap(std::string_view body) {
  std::string_view head = body.substr(0, 512);
  return head.find("<urlset") != std::string_view::npos ||
         head.find("<sitemapindex") != std::string_view::npos;
}

Outcome skip_outcome(std::string where, std::string why) {
  Outcome o;
  o.kind = Outcome::Kind::kSkip;
  o.where = std::move(where);
  o.why = std::move(why);
  return o;
}

Outcome put_outcome(DocumentBuilder& builder, Document&& doc) {
  if (doc.type == "research" && doc.evidence.empty())
    doc.evidence = evidence_from_text(doc.title + "\n" + doc.description);
  Outcome o;
  o.kind = Outcome::Kind::kPut;
  o.where = doc.id;
  o.prepared = builder.build(doc);
  return o;
}

// The builder's half of the work: parsing, extraction, tagging, terms.
Outcome process(Unit& unit, DocumentBuilder& builder) {
  switch (unit.kind) {
    case Unit::Kind::kSkip:
      return skip_outcome(unit.where, unit.data);
    case Unit::Kind::kDelete: {
      Outcome o;
      o.kind = Outcome::Kind::kDelete;
      o.id = unit.where;
      return o;
    }
    case Unit::Kind::kRecord:
      return put_outcome(builder, std::move(unit.doc));
    case Unit::Kind::kJsonLine: {
      auto doc = document_from_json_record(unit.data);
      if (!doc) return skip_outcome(unit.where, doc.error());
      return put_outcome(builder, std::move(*doc));
    }
    case Unit::Kind::kWarcResponse: {
      auto response = parse_http_response(unit.data);
      if (!response) return skip_outcome(unit.where, response.error());
      // A page the crawl found gone is deleted; later records win over earlier ones.
      if (response->status == 404 || response->status == 410) {
        Outcome o;
        o.kind = Outcome::Kind::kDelete;
        o.id = unit.where;
        return o;
      }
      if (response->status != 200) return {};  // redirects and errors are not documents
      // The crawl archives robots.txt and sitemaps too; they are crawl
      // rules and link lists, not documents.
      if (auto parsed = parse_url(unit.where); parsed && parsed->path == "/robots.txt") return {};
      if (is_sitemap(response->body)) return {};
      // The server may ask, in a header, that the page stay out of indexes
      // (the crawler records it too; the page's own <meta name=robots> is
      // checked by extraction).
      for (const auto& [name, value] : response->headers)
        if (ascii_lower(name) == "x-robots-tag" && parse_x_robots_tag(value, "medcrawl").noindex)
          return skip_outcome(unit.where, "the server asks not to index it (X-Robots-Tag noindex)");
      unit.content_type = response->header("Content-Type");
      unit.data = std::move(response->body);
      [[fallthrough]];
    }
    case Unit::Kind::kFetched: {
      std::string cut = cut_long_document(unit.data);
      auto doc = extract_document(unit.where, unit.content_type, unit.data);
      if (!doc) return skip_outcome(unit.where, doc.error());
      Outcome o = put_outcome(builder, std::move(*doc));
      o.cut = std::move(cut);
      return o;
    }
  }
  return {};
}

// A FIFO between threads. push() waits while `capacity` items are queued
// (until abort(), after which pushes are dropped and return false); pop()
// waits for an item and returns nothing once the queue is closed and empty.
template <typename T>
class BlockingQueue {
 public:
  explicit BlockingQueue(size_t capacity) : capacity_(capacity) {}

  bool push(T item) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [this] { return items_.size() < capacity_ || aborted_; });
    if (aborted_) return false;
    items_.push_back(std::move(item));
    lock.unlock();
    ready_.notify_one();
    return true;
  }

  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    lock.unlock();
    space_.notify_one();
    return item;
  }

  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

  void abort() {
    {
      std::lock_guard lock(mutex_);
      aborted_ = true;
    }
    space_.notify_all();
  }

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<T> items_;
  bool closed_ = false;
  bool aborted_ = false;
};

}  // namespace

uint64_t IndexStats::failed() const {
  uint64_t n = 0;
  for (const auto& [reason, count] : failures) n += count;
  return n;
}

struct Indexer::Impl {
  IndexWriter& writer;
  IndexerOptions options;
  IndexStats stats;  // written by the writer side only
  Status write_error;
  std::atomic<bool> failed{false};

  // Inline mode (threads == 0).
  std::unique_ptr<DocumentBuilder> inline_builder;

  // Threaded mode: the reader (calling thread) queues jobs; builder threads
  // fulfil them; the writer thread applies them in queue order.
  struct Job {
    Unit unit;
    std::promise<Outcome> promise;
  };
  static constexpr size_t kMaxQueued = 256;
  // Jobs for the builders; bounded by `order`, which every job also enters.
  BlockingQueue<std::shared_ptr<Job>> work{SIZE_MAX};
  BlockingQueue<std::future<Outcome>> order{kMaxQueued};
  std::vector<std::thread> builders;
  std::thread writer_thread;

  // Bulk mode: shard writers, each with its own queue, fed in input order by
  // the writer thread (which then only dispatches).
  struct Shard {
    std::unique_ptr<IndexWriter> owned;  // bulk shards; kept shards belong to the caller
    IndexWriter* writer = nullptr;
    BlockingQueue<Outcome> queue{kMaxQueued};
    uint64_t pending = 0;
    std::thread thread;
  };
  std::vector<std::unique_ptr<Shard>> shards;
  std::vector<std::string> shard_paths;
  std::mutex stats_mutex;  // stats, write_error and the callbacks
  uint64_t pending_main = 0;

  Impl(IndexWriter& w, IndexerOptions o) : writer(w), options(std::move(o)) {
    // Kept shards are fed by the writer thread.
    if (!options.shards.empty()) options.threads = std::max(options.threads, 1u);
    if (options.threads == 0) {
      inline_builder = std::make_unique<DocumentBuilder>(writer.vocabulary());
      return;
    }
    if (!options.shards.empty())
      start_shards(options.shards);
    else if (Indexer::builds_in_bulk(writer, options))
      open_shards();
    for (unsigned i = 0; i < options.threads; ++i) builders.emplace_back([this] { build_loop(); });
    writer_thread = std::thread([this] { write_loop(); });
  }

  void open_shards() {
    for (unsigned k = 0; k < options.bulk_shards; ++k) {
      std::string path = writer.path() + ".bulk-" + std::to_string(k);
      auto shard_writer = IndexWriter::open(path);
      if (!shard_writer) {
        fail_with(std::move(shard_writer).take_error());
        break;
      }
      auto shard = std::make_unique<Shard>();
      shard->owned = std::move(*shard_writer);
      shard->writer = shard->owned.get();
      shard->writer->defer_spelling(true);
      shard_paths.push_back(path);
      shards.push_back(std::move(shard));
    }
    start_shard_threads();
  }

  // Kept shards (IndexerOptions::shards), one writer thread each.
  void start_shards(const std::vector<IndexWriter*>& writers) {
    for (IndexWriter* target : writers) {
      auto shard = std::make_unique<Shard>();
      shard->writer = target;
      shards.push_back(std::move(shard));
    }
    start_shard_threads();
  }

  void start_shard_threads() {
    for (auto& shard : shards) {
      Shard* raw = shard.get();
      shard->thread = std::thread([this, raw] { shard_loop(*raw); });
    }
  }

  // Stops the kept shards' writers (each commits as it stops) and reconciles
  // copies across them.
  void finish_kept_shards() {
    stop_shard_threads();
    shards.clear();
    if (failed) return;
    auto removed = IndexWriter::reconcile_shards(options.shards);
    if (!removed) return fail_with(std::move(removed).take_error());
    stats.added -= std::min(stats.added, *removed);
    stats.duplicates += *removed;
  }

  void shard_loop(Shard& shard) {
    while (std::optional<Outcome> outcome = shard.queue.pop())
      if (!failed) apply(*outcome, *shard.writer, shard.pending);
    // The last commit (for a bulk shard, with all its spelling data) is made
    // here, so that the shards make theirs side by side. It is made after a
    // failure too: what was written is kept.
    shard.writer->defer_spelling(false);
    if (Status s = shard.writer->commit(); !s) fail_with(std::move(s));
  }

  // Closes every shard's queue, then waits for each writer to finish and commit.
  void stop_shard_threads() {
    for (auto& shard : shards) shard->queue.close();
    for (auto& shard : shards)
      if (shard->thread.joinable()) shard->thread.join();
  }

  // Bulk mode: a document goes to the shard its id hashes to, so that a later
  // version of it replaces the earlier one in the same shard.
  void dispatch(Outcome&& outcome) {
    if (outcome.kind != Outcome::Kind::kPut && outcome.kind != Outcome::Kind::kDelete) {
      apply(outcome, writer, pending_main);
      return;
    }
    const std::string& id =
        outcome.kind == Outcome::Kind::kPut ? outcome.prepared.id() : outcome.id;
    shards[fnv1a64(id) % shards.size()]->queue.push(std::move(outcome));
  }

  // Stops the shard writers (each commits as it stops) and merges them into
  // the index.
  void merge_shards() {
    stop_shard_threads();
    shards.clear();  // closes the bulk shards' databases
    if (!failed && !shard_paths.empty()) {
      auto removed = writer.absorb_shards(shard_paths);
      if (!removed) {
        fail_with(std::move(removed).take_error());
      } else {
        stats.added -= *removed;
        stats.duplicates += *removed;
      }
    }
    std::error_code ec;
    for (const auto& path : shard_paths) fs::remove_all(path, ec);
    shard_paths.clear();
  }

  void build_loop() {
    DocumentBuilder builder(writer.vocabulary());
    while (std::optional<std::shared_ptr<Job>> next = work.pop()) {
      Job* job = next->get();
      try {
        job->promise.set_value(process(job->unit, builder));
      } catch (const std::exception& e) {
        job->promise.set_value(skip_outcome(job->unit.where, e.what()));
      }
    }
  }

  void write_loop() {
    while (std::optional<std::future<Outcome>> next = order.pop()) {
      Outcome outcome = next->get();
      if (failed) continue;
      if (shards.empty())
        apply(outcome, writer, pending_main);
      else
        dispatch(std::move(outcome));
    }
  }

  // Queues a unit (threaded) or handles it now (inline).
  void submit(Unit&& unit) {
    if (failed) return;
    if (inline_builder) {
      Outcome outcome = process(unit, *inline_builder);
      apply(outcome, writer, pending_main);
      return;
    }
    auto job = std::make_shared<Job>();
    job->unit = std::move(unit);
    // Only this (reading) thread pushes, so the two queues keep one order.
    if (order.push(job->promise.get_future())) work.push(std::move(job));
  }

  // Requires stats_mutex (apply() and skip_unit's path hold it).
  void skip(const std::string& where, const std::string& why) {
    ++stats.failures[reason_key(why)];
    if (options.on_skip) options.on_skip(where, why);
  }

  void fail_with(Status status) {
    {
      std::lock_guard lock(stats_mutex);
      if (write_error) write_error = std::move(status);
    }
    failed = true;
    order.abort();
    for (auto& shard : shards) shard->queue.abort();
  }

  void count_change(IndexWriter& target, uint64_t& pending) {
    // Shard writers share the flush interval, so that together they buffer
    // no more than one writer would (peak memory), and commit at least every
    // kBulkShardFlush documents (speed).
    uint64_t interval = options.flush_every;
    if (!shards.empty())
      interval = std::clamp<uint64_t>(options.flush_every / shards.size(), 1, kBulkShardFlush);
    if (++pending < interval) return;
    pending = 0;
    if (Status s = target.commit(); !s) fail_with(std::move(s));
  }

  // The writer's half: store, delete or count, into `target` (the index, or a
  // bulk shard). `pending` counts that writer's uncommitted changes.
  void apply(Outcome& outcome, IndexWriter& target, uint64_t& pending) {
    switch (outcome.kind) {
      case Outcome::Kind::kNothing:
        return;
      case Outcome::Kind::kSkip: {
        std::lock_guard lock(stats_mutex);
        ++stats.seen;
        skip(outcome.where, outcome.why);
        if (options.on_progress) options.on_progress(stats);
        return;
      }
      case Outcome::Kind::kDelete: {
        auto removed = target.remove(outcome.id);
        if (!removed) return fail_with(std::move(removed).take_error());
        if (!*removed) return;
        {
          std::lock_guard lock(stats_mutex);
          ++stats.deleted;
        }
        count_change(target, pending);
        return;
      }
      case Outcome::Kind::kPut: {
        auto result = target.write(std::move(outcome.prepared));
        if (!result) return fail_with(std::move(result).take_error());
        bool changed = *result == PutOutcome::kAdded || *result == PutOutcome::kReplaced;
        {
          std::lock_guard lock(stats_mutex);
          ++stats.seen;
          switch (*result) {
            case PutOutcome::kAdded:
              ++stats.added;
              break;
            case PutOutcome::kReplaced:
              ++stats.replaced;
              break;
            case PutOutcome::kUnchanged:
              ++stats.unchanged;
              break;
            case PutOutcome::kDuplicate:
              ++stats.duplicates;
              if (options.on_skip)
                options.on_skip(outcome.where, "exact copy of " + target.last_duplicate_of());
              break;
          }
          if (!outcome.cut.empty()) {
            ++stats.cut[outcome.cut.substr(0, outcome.cut.find(';'))];
            if (options.on_cut) options.on_cut(outcome.where, outcome.cut);
          }
          if (options.on_progress) options.on_progress(stats);
        }
        if (changed) count_change(target, pending);
        return;
      }
    }
  }

  void stop_threads() {
    work.close();
    for (auto& t : builders) t.join();
    builders.clear();
    order.close();
    if (writer_thread.joinable()) writer_thread.join();
  }

  void skip_unit(const std::string& where, const std::string& why) {
    Unit unit{Unit::Kind::kSkip, where, "", why, {}};
    submit(std::move(unit));
  }

  Status add_warc(const std::string& path) {
    auto reader = WarcReader::open(path);
    if (!reader) return std::move(reader).take_error();
    for (;;) {
      auto record = reader->next();
      if (!record) {
        // A truncated last record (a crawl killed mid-write) costs that record only.
        skip_unit(path, record.error());
        return {};
      }
      if (!record->has_value() || failed) return {};
      WarcRecord& r = **record;
      if (r.header("WARC-Type") != "response") continue;
      std::string url = r.target_uri();
      // PubMed efetch answers hold many articles: one document each. The
      // body may be compressed, so an XML answer with a Content-Encoding is
      // decoded before looking.
      std::string_view head = std::string_view(r.block).substr(0, 4096);
      size_t head_end = head.find("\r\n\r\n");
      std::string headers(head.substr(0, head_end));
      std::string lower_headers = ascii_lower(headers);
      bool encoded_xml = lower_headers.find("content-encoding:") != std::string::npos &&
                         lower_headers.find("xml") != std::string::npos;
      if (head.find("<PubmedArticle") != std::string_view::npos || encoded_xml) {
        auto response = parse_http_response(r.block);
        if (response && response->status == 200 && looks_like_pubmed_xml(response->body)) {
          add_pubmed(url, response->body);
          continue;
        }
      }
      submit(Unit{Unit::Kind::kWarcResponse, url, "", std::move(r.block), {}});
    }
  }

  Status add_json_lines(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("cannot read '" + path + "'");
    std::string line;
    size_t number = 0, records = 0;
    while (std::getline(in, line) && !failed) {
      ++number;
      if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (trim(line).empty()) continue;
      ++records;
      submit(Unit{
          Unit::Kind::kJsonLine, path + ":" + std::to_string(number), "", std::move(line), {}});
    }
    if (records == 0) skip_unit(path, "no records in the file");
    return {};
  }

  // Queues every article of a PubMed XML document; bad ones are reported.
  void add_pubmed(const std::string& path, std::string_view data) {
    auto status = read_pubmed_xml(
        data,
        [&](Document&& doc) {
          std::string where = doc.id;
          submit(Unit{Unit::Kind::kRecord, where, "", "", std::move(doc)});
        },
        [&](const RecordError& e) { skip_unit(path + ":" + std::to_string(e.line), e.message); });
    if (!status) skip_unit(path, status.error());
  }

  Status add_file(const std::string& path) {
    std::string lower = ascii_lower(path);
    if (lower.ends_with(".jsonl") || lower.ends_with(".ndjson")) return add_json_lines(path);
    auto data = read_file(path);
    if (!data) return std::move(data).take_error();
    if (lower.ends_with(".xml") || looks_like_pubmed_xml(*data)) {
      if (looks_like_pubmed_xml(*data)) {
        add_pubmed(path, *data);
        return {};
      }
      skip_unit(path, "XML that is not PubMed XML");
      return {};
    }
    std::error_code ec;
    fs::path absolute = fs::absolute(path, ec);
    submit(Unit{Unit::Kind::kFetched,
                "file://" + absolute.lexically_normal().string(),
                "",
                std::move(*data),
                {}});
    return {};
  }

  Status add_input(const std::string& path) {
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return fail("no such file or directory '" + path + "'");
    if (!fs::is_directory(status)) return is_warc_name(path) ? add_warc(path) : add_file(path);
    // A crawl directory holds its WARC files under warc/; any other directory
    // is walked for documents, records and WARC files, in a stable order.
    fs::path root = fs::exists(fs::path(path) / "warc") ? fs::path(path) / "warc" : fs::path(path);
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string name = ascii_lower(it->path().filename().string());
      if (is_warc_name(name) || is_records_name(name) || is_document_name(name))
        files.push_back(it->path());
    }
    if (ec) return fail("cannot list '" + path + "': " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      if (failed) break;
      Status s = is_warc_name(file.filename().string()) ? add_warc(file.string())
                                                        : add_file(file.string());
      if (!s) skip_unit(file.string(), s.error());
    }
    return {};
  }
};

Indexer::Indexer(IndexWriter& writer, IndexerOptions options)
    : impl_(std::make_unique<Impl>(writer, std::move(options))) {}

Indexer::~Indexer() {
  impl_->stop_threads();
  // Without finish(): shard writers stop, keeping what they wrote.
  impl_->stop_shard_threads();
}

bool Indexer::builds_in_bulk(const IndexWriter& writer, const IndexerOptions& options) {
  return options.threads > 0 && options.shards.empty() && options.bulk_shards > 1 &&
         writer.document_count() == 0;
}

Status Indexer::add_input(const std::string& path) { return impl_->add_input(path); }

void Indexer::remove(const std::string& id) {
  impl_->submit(Unit{Unit::Kind::kDelete, id, "", "", {}});
}

Status Indexer::finish() {
  impl_->stop_threads();
  if (!impl_->shard_paths.empty())
    impl_->merge_shards();
  else if (!impl_->options.shards.empty())
    impl_->finish_kept_shards();
  if (!impl_->write_error) return std::move(impl_->write_error);
  impl_->pending_main = 0;
  return impl_->writer.commit();
}

const IndexStats& Indexer::stats() const { return impl_->stats; }

}  // namespace medsearch
