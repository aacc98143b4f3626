#include "fixture_server.h"

#include <httplib.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "medsearch/warc.h"

namespace medsearch::testing {
namespace {

std::string content_type_for(const std::filesystem::path& path) {
  static const std::map<std::string, std::string> types = {{".html", "text/html; charset=utf-8"},
                                                           {".htm", "text/html; charset=utf-8"},
                                                           {".xhtml", "application/xhtml+xml"},
                                                           {".txt", "text/plain; charset=utf-8"},
                                                           {".xml", "application/xml"},
                                                           {".pdf", "application/pdf"},
                                                           {".png", "image/png"},
                                                           {".jpg", "image/jpeg"},
                                                           {".css", "text/css"},
                                                           {".json", "application/json"},
                                                           {".gz", "application/gzip"}};
  auto it = types.find(path.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

bool read_file(const std::filesystem::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buf;
  buf << in.rdbuf();
  out = buf.str();
  return true;
}

// Pages, sitemaps and robots.txt need absolute URLs although the port is
// chosen at start: files of these types write %ORIGIN% and the server fills
// in "http://" and the request's Host.
bool fills_origin(const std::string& type) {
  return type.rfind("text/", 0) == 0 || type.find("xml") != std::string::npos;
}

void fill_origin(std::string& body, const std::string& host) {
  const std::string origin = "http://" + host;
  for (size_t at = body.find("%ORIGIN%"); at != std::string::npos;
       at = body.find("%ORIGIN%", at + origin.size()))
    body.replace(at, 8, origin);
}

// Whether cpp-httplib would compress a response of this type.
bool compressible(const std::string& type) {
  return (type.rfind("text/", 0) == 0 || type.find("xml") != std::string::npos ||
          type.find("json") != std::string::npos);
}

struct Route {
  int status;
  std::string location;
};

std::map<std::string, Route> load_routes(const std::string& file) {
  std::map<std::string, Route> routes;
  if (file.empty()) return routes;
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read routes file " + file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string path, status, location;
    std::getline(fields, path, '\t');
    std::getline(fields, status, '\t');
    std::getline(fields, location, '\t');
    routes[path] = Route{std::stoi(status), location};
  }
  return routes;
}

}  // namespace

FixtureServer::FixtureServer(std::string root, std::string routes_file)
    : root_(std::move(root)),
      routes_file_(std::move(routes_file)),
      server_(std::make_unique<httplib::Server>()) {}

FixtureServer::~FixtureServer() { stop(); }

httplib::Server& FixtureServer::http() { return *server_; }

void FixtureServer::set_keep_alive_max(size_t count) { server_->set_keep_alive_max_count(count); }

void FixtureServer::set_cache_files(bool cache) { cache_files_ = cache; }

void FixtureServer::start(int port, const std::string& address) {
  address_ = address;
  auto routes = load_routes(routes_file_);
  std::filesystem::path root = std::filesystem::canonical(root_);
  struct File {
    std::string body, type;
  };
  // With caching, every file below the root, read now, by request path (a
  // directory's index.html under "/dir/" and "/dir" too); read-only from here.
  // Null without caching.
  std::shared_ptr<std::map<std::string, File>> files;
  if (cache_files_) {
    files = std::make_shared<std::map<std::string, File>>();
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file()) continue;
      File file;
      if (!read_file(entry.path(), file.body)) continue;
      file.type = content_type_for(entry.path());
      std::string path = "/" + entry.path().lexically_relative(root).generic_string();
      if (entry.path().filename() == "index.html") {
        std::string dir = path.substr(0, path.size() - std::string("index.html").size());
        (*files)[dir] = file;
        if (dir.size() > 1) (*files)[dir.substr(0, dir.size() - 1)] = file;
      }
      (*files)[path] = std::move(file);
    }
  }
  // With caching, each text file's compressed answer too, by Host and path
  // (the body depends on the Host header): made below for the server's own
  // address and port, at the first request for any other Host.
  auto compressed = std::make_shared<
      std::pair<std::mutex, std::map<std::string, std::shared_ptr<const std::string>>>>();
  auto compress = [files](const std::string& host, const std::string& path) {
    const File& file = files->at(path);
    std::string text = file.body;
    if (fills_origin(file.type)) fill_origin(text, host);
    // zlib's default level, as cpp-httplib compresses.
    return std::make_shared<const std::string>(gzip_compress(text, Z_DEFAULT_COMPRESSION));
  };
  server_->Get(".*", [root, routes, files, compressed, compress](const httplib::Request& req,
                                                                 httplib::Response& res) {
    if (auto it = routes.find(req.path); it != routes.end()) {
      res.status = it->second.status;
      if (!it->second.location.empty()) res.set_header("Location", it->second.location);
      res.set_content("<html><body>" + std::to_string(res.status) + "</body></html>",
                      "text/html; charset=utf-8");
      return;
    }
    std::string body, type;
    // A site that compresses ahead (nginx's gzip_static, a cache in front)
    // rather than at every request: cpp-httplib's own compression is most of
    // its time per request, which a benchmark's server shares with the client.
    const bool gzip_ok = req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos;
    if (files && gzip_ok) {
      auto it = files->find(req.path);
      if (it != files->end() && compressible(it->second.type)) {
        std::string key = req.get_header_value("Host") + " " + req.path;
        std::shared_ptr<const std::string> gz;
        {
          std::lock_guard lock(compressed->first);
          auto found = compressed->second.find(key);
          if (found != compressed->second.end()) gz = found->second;
        }
        if (!gz) {
          gz = compress(req.get_header_value("Host"), req.path);
          std::lock_guard lock(compressed->first);
          compressed->second.emplace(key, gz);
        }
        res.set_header("Content-Encoding", "gzip");
        // A provider of known length: cpp-httplib sends it as it is.
        res.set_content_provider(gz->size(), it->second.type,
                                 [gz](size_t offset, size_t length, httplib::DataSink& sink) {
                                   sink.write(gz->data() + offset, length);
                                   return true;
                                 });
        return;
      }
    }
    if (files) {
      auto it = files->find(req.path);
      if (it != files->end()) {
        body = it->second.body;
        type = it->second.type;
      }
    } else {
      std::filesystem::path path = root / std::filesystem::path(req.path).relative_path();
      std::error_code ec;
      if (std::filesystem::is_directory(path, ec)) path /= "index.html";
      std::filesystem::path resolved = std::filesystem::weakly_canonical(path, ec);
      bool inside = !ec && resolved.string().rfind(root.string(), 0) == 0;
      if (inside && std::filesystem::is_regular_file(resolved, ec) && read_file(resolved, body))
        type = content_type_for(resolved);
    }
    if (type.empty()) {
      res.status = 404;
      res.set_content("<html><head><title>Not found</title></head><body>Not found</body></html>",
                      "text/html; charset=utf-8");
      return;
    }
    if (fills_origin(type)) fill_origin(body, req.get_header_value("Host"));
    res.set_content(body, type.c_str());
  });
  server_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    RequestLogEntry entry{req.method,
                          req.target,
                          req.get_header_value("Host"),
                          req.get_header_value("User-Agent"),
                          res.status,
                          std::chrono::steady_clock::now(),
                          req.get_header_value("If-None-Match"),
                          req.get_header_value("If-Modified-Since")};
    std::lock_guard lock(mutex_);
    log_.push_back(std::move(entry));
  });
  // Without TCP_NODELAY a response written in two parts waits for the
  // client's delayed ACK: about 40 ms a request, which would hide the client's speed.
  server_->set_tcp_nodelay(true);
  if (port == 0) {
    port_ = server_->bind_to_any_port(address_);
  } else {
    port_ = server_->bind_to_port(address_, port) ? port : -1;
  }
  if (port_ <= 0) throw std::runtime_error("fixture server: cannot bind " + address_);
  if (files) {
    const std::string host = address_ + ":" + std::to_string(port_);
    for (const auto& [path, file] : *files)
      if (compressible(file.type))
        compressed->second.emplace(host + " " + path, compress(host, path));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void FixtureServer::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

std::string FixtureServer::url(const std::string& path) const {
  return "http://" + address_ + ":" + std::to_string(port_) + path;
}

std::vector<RequestLogEntry> FixtureServer::requests() const {
  std::lock_guard lock(mutex_);
  return log_;
}

}  // namespace medsearch::testing
