#include "medsearch/fetcher.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "medsearch/crawl_scope.h"
#include "medsearch/warc.h"

namespace medsearch {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

// Status and header fields of a response head ("HTTP/1.1 200 OK\r\n...").
void parse_head(std::string_view head, FetchResult& result) {
  result.headers.clear();
  size_t line_end = head.find('\n');
  std::string_view status_line = head.substr(0, line_end);
  size_t space = status_line.find(' ');
  if (space != std::string_view::npos) {
    result.status = std::atoi(std::string(status_line.substr(space + 1, 3)).c_str());
  }
  head.remove_prefix(line_end == std::string_view::npos ? head.size() : line_end + 1);
  while (!head.empty()) {
    line_end = head.find('\n');
    std::string_view line = head.substr(0, line_end);
    head.remove_prefix(line_end == std::string_view::npos ? head.size() : line_end + 1);
    if (trim(line).empty()) continue;
    if ((line.front() == ' ' || line.front() == '\t') && !result.headers.empty()) {
      result.headers.back().second += " " + std::string(trim(line));
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    result.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                std::string(trim(line.substr(colon + 1))));
  }
}

// An HTTP/2 exchange as libcurl shows it ("GET / HTTP/2" and "HTTP/2 200")
// in HTTP/1.1 syntax: WARC (1.0 and 1.1) defines HTTP/1.x messages only, and
// readers reject other versions. The protocol used is kept in the record's
// WARC-Protocol field instead, as the IIPC proposal for it and other
// crawlers (StormCrawler, Common Crawl's Nutch) do. HTTP/2 has no reason
// phrase, so the status line ends after the code: "HTTP/1.1 200 ".
void http2_to_http11(std::string& request, std::string& response_head) {
  const size_t request_line_end = request.find("\r\n");
  if (request_line_end != std::string::npos) {
    const size_t version = request.rfind(" HTTP/2", request_line_end);
    if (version != std::string::npos)
      request.replace(version, request_line_end - version, " HTTP/1.1");
  }
  if (response_head.rfind("HTTP/2", 0) == 0) {
    size_t space = response_head.find(' ');
    if (space != std::string::npos) response_head.replace(0, space, "HTTP/1.1");
  }
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string FetchResult::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return value;
    }
  }
  return "";
}

// One transfer in flight. Its address is registered with libcurl
// (CURLOPT_PRIVATE and callback data), so it never moves.
struct Transfer {
  CURL* easy = nullptr;
  curl_slist* request_headers = nullptr;
  const FetcherOptions* options = nullptr;
  bool check_content_type = false;  // consult options->want_content_type
  bool allow_private_address = true;
  size_t keep_body_prefix = 0;  // RequestOptions::keep_body_prefix
  FetchResult result;
  std::string head;  // the current response head, status line included
  bool head_complete = false;
  std::string raw_body;  // as received: chunked framing and content-encoding kept
  char error_buffer[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    curl_slist_free_all(request_headers);
    if (easy) curl_easy_cleanup(easy);
  }

  static size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Transfer*>(user);
    std::string_view line(data, size * count);
    if (line.substr(0, 5) == "HTTP/") {
      // A new response head: an interim 1xx answer or a proxy's CONNECT reply came before.
      self->head.clear();
      self->head_complete = false;
    }
    self->head.append(line);
    if (line == "\r\n" || line == "\n") {
      FetchResult& result = self->result;
      parse_head(self->head, result);
      if (result.status >= 100 && result.status < 200) return line.size();
      self->head_complete = true;
      if (result.status >= 200 && result.status < 300 && self->check_content_type &&
          !self->options->want_content_type(result.header("Content-Type"))) {
        result.aborted = "content-type";
        return 0;  // aborts the transfer
      }
    }
    return line.size();
  }

  static size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Transfer*>(user);
    size_t bytes = size * count;
    if (self->keep_body_prefix > 0) {
      if (self->raw_body.size() + bytes <= self->keep_body_prefix) {
        self->raw_body.append(data, bytes);
        return bytes;
      }
      self->raw_body.append(data, self->keep_body_prefix - self->raw_body.size());
      self->result.truncated = true;
      return 0;  // ends the transfer; finish() takes the prefix as the answer
    }
    if (self->raw_body.size() + bytes > self->options->max_body_bytes) {
      self->result.aborted = "too-large";
      return 0;  // aborts the transfer
    }
    self->raw_body.append(data, bytes);
    return bytes;
  }

  // Called for each address libcurl is about to connect to: the check against
  // private addresses happens here, after DNS, so a public name that resolves
  // to 127.0.0.1 is caught too.
  static curl_socket_t on_open_socket(void* user, curlsocktype, curl_sockaddr* address) {
    auto* self = static_cast<Transfer*>(user);
    if (!self->allow_private_address) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* raw = nullptr;
      if (address->family == AF_INET) {
        raw = &reinterpret_cast<const sockaddr_in*>(&address->addr)->sin_addr;
      } else if (address->family == AF_INET6) {
        raw = &reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr;
      }
      if (raw == nullptr || inet_ntop(address->family, raw, text, sizeof text) == nullptr ||
          is_private_address(text)) {
        self->result.aborted = "private-address";
        self->result.ip_address = text;
        return CURL_SOCKET_BAD;
      }
    }
    return ::socket(address->family, address->socktype, address->protocol);
  }

  static int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
    if (type != CURLINFO_HEADER_OUT) return 0;
    auto* self = static_cast<Transfer*>(user);
    std::string_view text(data, size);
    // A retried request (stale reused connection) replaces the first attempt.
    if (text.substr(0, 4) == "GET " || text.substr(0, 8) == "CONNECT ")
      self->result.raw_request.clear();
    self->result.raw_request.append(text);
    return 0;
  }
};

struct Fetcher::Impl {
  FetcherOptions options;
  CURLM* multi = nullptr;
  std::map<CURL*, std::unique_ptr<Transfer>> transfers;

  ~Impl() {
    for (auto& [easy, transfer] : transfers) curl_multi_remove_handle(multi, easy);
    transfers.clear();
    curl_multi_cleanup(multi);
  }

  void collect(std::vector<FetchResult>& done) {
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* easy = message->easy_handle;
      auto it = transfers.find(easy);
      if (it == transfers.end()) continue;
      std::unique_ptr<Transfer> transfer = std::move(it->second);
      transfers.erase(it);
      curl_multi_remove_handle(multi, easy);
      finish(*transfer, message->data.result);
      done.push_back(std::move(transfer->result));
    }
  }

  void finish(Transfer& transfer, CURLcode code) {
    FetchResult& result = transfer.result;
    char* ip = nullptr;
    if (curl_easy_getinfo(transfer.easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip) {
      result.ip_address = ip;
    }
    curl_easy_getinfo(transfer.easy, CURLINFO_TOTAL_TIME, &result.seconds);
    long version = 0;
    if (curl_easy_getinfo(transfer.easy, CURLINFO_HTTP_VERSION, &version) == CURLE_OK &&
        version == CURL_HTTP_VERSION_2_0) {
      result.protocol = "h2";
      http2_to_http11(result.raw_request, transfer.head);
    }
    if (result.aborted == "too-large" ||
        (code == CURLE_FILESIZE_EXCEEDED && result.aborted.empty())) {
      result.aborted = "too-large";
      result.error = "body larger than " + std::to_string(options.max_body_bytes) + " bytes";
      return;
    }
    if (result.aborted == "private-address") {
      result.error = "refused to connect to private address " + result.ip_address;
      return;
    }
    if (result.aborted == "content-type") {
      result.error = "unwanted content type '" + result.header("Content-Type") + "'";
      return;
    }
    if (code != CURLE_OK && !(result.truncated && code == CURLE_WRITE_ERROR)) {
      result.error = transfer.error_buffer[0] ? transfer.error_buffer : curl_easy_strerror(code);
      return;
    }
    result.raw_response.reserve(transfer.head.size() + transfer.raw_body.size());
    result.raw_response = transfer.head;
    result.raw_response += transfer.raw_body;
    // The cap applies to the decoded body too: a small gzip body can inflate a lot.
    HttpPayloadInfo payload;
    auto decoded =
        transfer.keep_body_prefix > 0
            ? parse_http_response_prefix(result.raw_response, options.max_body_bytes, &payload)
            : parse_http_response(result.raw_response, options.max_body_bytes, &payload);
    payload.truncated = result.truncated;
    if (!decoded) {
      if (decoded.error().find("larger than") != std::string::npos) {
        result.aborted = "too-large";
        result.error =
            "decoded body larger than " + std::to_string(options.max_body_bytes) + " bytes";
      } else {
        result.error = "cannot decode response: " + decoded.error();
      }
      return;
    }
    result.body = std::move(decoded->body);
    result.payload = std::move(payload);
  }
};

Fetcher::Fetcher(FetcherOptions options) : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->options = std::move(options);
  impl_->multi = curl_multi_init();
  // Keep idle connections for reuse: by default libcurl keeps only about four
  // per transfer in flight, so a crawl of many hosts would reconnect for most requests.
  curl_multi_setopt(impl_->multi, CURLMOPT_MAXCONNECTS, 256L);
}

Fetcher::~Fetcher() = default;

const FetcherOptions& Fetcher::options() const { return impl_->options; }

size_t Fetcher::active() const { return impl_->transfers.size(); }

void Fetcher::start(uint64_t token, const std::string& url, const RequestOptions& request) {
  auto transfer = std::make_unique<Transfer>();
  Transfer* t = transfer.get();
  const FetcherOptions& options = impl_->options;
  t->options = &impl_->options;
  t->check_content_type = !request.any_content_type && options.want_content_type != nullptr;
  t->allow_private_address = request.allow_private_address;
  t->keep_body_prefix = request.keep_body_prefix;
  t->result.token = token;
  t->result.url = url;
  t->result.started = std::time(nullptr);
  t->easy = curl_easy_init();
  CURL* easy = t->easy;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error_buffer);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options.user_agent.c_str());
  // The crawler follows redirects itself, checking robots.txt and scope per hop.
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  // HTTP/2 where an https server offers it (ALPN), HTTP/1.1 otherwise; the
  // WARC records are written in HTTP/1.1 syntax either way (http2_to_http11).
  // Bodies are kept as received (chunked, compressed) and decoded by
  // parse_http_response.
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  if (!options.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options.ca_file.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTP_CONTENT_DECODING, 0L);
  curl_easy_setopt(easy, CURLOPT_HTTP_TRANSFER_DECODING, 0L);
  t->request_headers =
      curl_slist_append(t->request_headers, request.compressed ? "Accept-Encoding: gzip, deflate"
                                                               : "Accept-Encoding: identity");
  t->request_headers = curl_slist_append(
      t->request_headers,
      "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,application/pdf,"
      "text/plain;q=0.8,*/*;q=0.5");
  if (!request.if_none_match.empty()) {
    t->request_headers =
        curl_slist_append(t->request_headers, ("If-None-Match: " + request.if_none_match).c_str());
  }
  if (!request.if_modified_since.empty()) {
    t->request_headers = curl_slist_append(
        t->request_headers, ("If-Modified-Since: " + request.if_modified_since).c_str());
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->request_headers);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout_seconds * 1000));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(options.total_timeout_seconds * 1000));
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_bytes);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, options.low_speed_seconds);
  // A body to be cut after its first bytes may announce any length.
  if (request.keep_body_prefix == 0) {
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(options.max_body_bytes));
  }
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &Transfer::on_open_socket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, t);
  curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, &Transfer::on_debug);
  curl_easy_setopt(easy, CURLOPT_DEBUGDATA, t);
  curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);  // needed for the request bytes, via on_debug
  impl_->transfers.emplace(easy, std::move(transfer));
  curl_multi_add_handle(impl_->multi, easy);
}

std::vector<FetchResult> Fetcher::poll(int timeout_ms) {
  std::vector<FetchResult> done;
  int running = 0;
  curl_multi_perform(impl_->multi, &running);
  impl_->collect(done);
  if (done.empty() && !impl_->transfers.empty()) {
    curl_multi_poll(impl_->multi, nullptr, 0, timeout_ms, nullptr);
    curl_multi_perform(impl_->multi, &running);
    impl_->collect(done);
  }
  return done;
}

FetchResult fetch_url(const std::string& url, const FetcherOptions& options) {
  Fetcher fetcher(options);
  fetcher.start(0, url);
  while (true) {
    std::vector<FetchResult> done = fetcher.poll(1000);
    if (!done.empty()) return std::move(done.front());
  }
}

}  // namespace medsearch
