#include "medsearch/url.h"

#include <idn2.h>

#include <cctype>
#include <optional>

namespace medsearch {
namespace {

// The five components of a URI reference (RFC 3986 appendix B); absent
// components are distinguished from empty ones.
struct UriReference {
  std::optional<std::string> scheme;
  std::optional<std::string> authority;
  std::string path;
  std::optional<std::string> query;
};

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_unreserved(unsigned char c) {
  return is_alpha(static_cast<char>(c)) || is_digit(static_cast<char>(c)) || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Hrefs are written by people: leading and trailing spaces and controls are
// ignored and tabs and newlines inside are removed, as browsers do.
std::string strip_whitespace(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && static_cast<unsigned char>(text[begin]) <= ' ') ++begin;
  while (end > begin && static_cast<unsigned char>(text[end - 1]) <= ' ') --end;
  std::string out;
  out.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    if (text[i] != '\t' && text[i] != '\n' && text[i] != '\r') out += text[i];
  }
  return out;
}

bool valid_scheme(std::string_view scheme) {
  if (scheme.empty() || !is_alpha(scheme[0])) return false;
  for (char c : scheme) {
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

UriReference split_reference(std::string_view text) {
  UriReference ref;
  // The fragment is never needed: drop it first.
  if (size_t hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
  size_t colon = text.find(':');
  size_t first_delim = text.find_first_of("/?");
  if (colon != std::string_view::npos && colon < first_delim &&
      valid_scheme(text.substr(0, colon))) {
    ref.scheme = to_lower(text.substr(0, colon));
    text.remove_prefix(colon + 1);
  }
  if (text.substr(0, 2) == "//") {
    text.remove_prefix(2);
    size_t end = text.find_first_of("/?");
    ref.authority = std::string(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end);
  }
  size_t question = text.find('?');
  ref.path = std::string(text.substr(0, question));
  if (question != std::string_view::npos) ref.query = std::string(text.substr(question + 1));
  return ref;
}

// A registered name as the ASCII host DNS is asked for: percent-encoded
// octets decoded (RFC 3986 allows them in a host), and a name with letters
// beyond ASCII ("bücher.example", however it was written) turned into its
// IDNA form ("xn--bcher-kva.example") by libidn2 with the UTS #46 mapping
// browsers use, so that every spelling of a host is one host for robots.txt,
// politeness and duplicates.
Result<std::string> ascii_host(std::string_view raw) {
  std::string host;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      host += raw[i];
      continue;
    }
    int high = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
    int low = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
    if (high < 0 || low < 0) return fail("malformed host '" + std::string(raw) + "'");
    host += static_cast<char>(high * 16 + low);
    i += 2;
  }
  bool ascii = true;
  for (char c : host) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return to_lower(host);
  char* converted = nullptr;
  int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(host.c_str()),
                          reinterpret_cast<uint8_t**>(&converted),
                          IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK) {
    return fail("malformed international host '" + std::string(raw) + "' (" + idn2_strerror(rc) +
                ")");
  }
  std::string out = to_lower(converted);
  idn2_free(converted);
  return out;
}

// RFC 3986 section 5.2.3.
std::string merge_paths(const std::string& base_path, const std::string& reference_path) {
  size_t slash = base_path.rfind('/');
  if (slash == std::string::npos) return "/" + reference_path;
  return base_path.substr(0, slash + 1) + reference_path;
}

// Builds a Url from resolved components: checks the scheme, parses the
// authority, normalises path and query.
Result<Url> build_url(const std::string& scheme, const std::string& authority,
                      const std::string& path, const std::optional<std::string>& query) {
  if (scheme != "http" && scheme != "https") {
    return fail("unsupported URL scheme '" + scheme + "' (only http and https are crawled)");
  }
  Url url;
  url.scheme = scheme;
  std::string_view host_port = authority;
  if (size_t at = host_port.rfind('@'); at != std::string_view::npos) {
    host_port.remove_prefix(at + 1);  // user info is never kept
  }
  std::string_view port_text;
  if (!host_port.empty() && host_port[0] == '[') {
    size_t close = host_port.find(']');
    if (close == std::string_view::npos) return fail("malformed IPv6 host in '" + authority + "'");
    url.host = to_lower(host_port.substr(0, close + 1));
    std::string_view rest = host_port.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return fail("malformed host in '" + authority + "'");
      port_text = rest.substr(1);
    }
  } else {
    size_t colon = host_port.rfind(':');
    auto host = ascii_host(host_port.substr(0, colon));
    if (!host) return std::move(host).take_error();
    url.host = std::move(*host);
    if (colon != std::string_view::npos) port_text = host_port.substr(colon + 1);
    for (char c : url.host) {
      if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_') {
        return fail("malformed host '" + url.host + "'");
      }
    }
  }
  if (url.host.empty()) return fail("URL has no host");
  if (!port_text.empty()) {
    if (port_text.size() > 5) return fail("bad port '" + std::string(port_text) + "'");
    int port = 0;
    for (char c : port_text) {
      if (!is_digit(c)) return fail("bad port '" + std::string(port_text) + "'");
      port = port * 10 + (c - '0');
    }
    if (port > 65535) return fail("bad port '" + std::string(port_text) + "'");
    url.port = port;
  }
  if ((scheme == "http" && url.port == 80) || (scheme == "https" && url.port == 443)) url.port = 0;
  url.path = remove_dot_segments(normalize_percent_encoding(path));
  if (url.path.empty() || url.path[0] != '/') url.path.insert(0, "/");
  if (query) {
    url.has_query = true;
    url.query = normalize_percent_encoding(*query);
  }
  return url;
}

}  // namespace

int Url::effective_port() const {
  if (port != 0) return port;
  return scheme == "https" ? 443 : 80;
}

std::string Url::host_key() const { return port == 0 ? host : host + ":" + std::to_string(port); }

std::string Url::origin() const { return scheme + "://" + host_key(); }

std::string Url::path_and_query() const { return has_query ? path + "?" + query : path; }

std::string Url::to_string() const { return origin() + path_and_query(); }

std::string normalize_percent_encoding(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  static constexpr std::string_view kNotAllowed = " \"<>\\^`{|}";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '%') {
      int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (high >= 0 && low >= 0) {
        unsigned char decoded = static_cast<unsigned char>(high * 16 + low);
        if (is_unreserved(decoded)) {
          out += static_cast<char>(decoded);
        } else {
          out += '%';
          out += kHex[high];
          out += kHex[low];
        }
        i += 2;
      } else {
        out += "%25";
      }
    } else if (c < 0x21 || c >= 0x7f ||
               kNotAllowed.find(static_cast<char>(c)) != kNotAllowed.npos) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string remove_dot_segments(std::string_view path) {
  std::string input(path);
  std::string output;
  std::string_view in = input;
  while (!in.empty()) {
    if (in.substr(0, 3) == "../") {
      in.remove_prefix(3);
    } else if (in.substr(0, 2) == "./") {
      in.remove_prefix(2);
    } else if (in.substr(0, 3) == "/./") {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.substr(0, 4) == "/../" || in == "/..") {
      bool last = in == "/..";
      in.remove_prefix(3);
      size_t slash = output.rfind('/');
      output.erase(slash == std::string::npos ? 0 : slash);
      if (last) {
        output += '/';
        break;
      }
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      size_t next = in.find('/', in[0] == '/' ? 1 : 0);
      output.append(in.substr(0, next));
      in.remove_prefix(next == std::string_view::npos ? in.size() : next);
    }
  }
  return output;
}

Result<Url> parse_url(std::string_view text) {
  UriReference ref = split_reference(strip_whitespace(text));
  if (!ref.scheme) return fail("not an absolute URL: '" + std::string(text) + "'");
  if (!ref.authority) {
    if (*ref.scheme == "http" || *ref.scheme == "https") {
      return fail("URL has no host: '" + std::string(text) + "'");
    }
    return fail("unsupported URL scheme '" + *ref.scheme + "' (only http and https are crawled)");
  }
  return build_url(*ref.scheme, *ref.authority, ref.path, ref.query);
}

Result<std::string> normalize_url(std::string_view text) {
  auto url = parse_url(text);
  if (!url) return std::move(url).take_error();
  return url->to_string();
}

Result<Url> resolve_url(const Url& base, std::string_view reference) {
  UriReference ref = split_reference(strip_whitespace(reference));
  // RFC 3986 5.2.2, with the backwards-compatible reading of "http:g" (same
  // scheme as the base, no authority) as a relative reference.
  if (ref.scheme && *ref.scheme == base.scheme && !ref.authority) ref.scheme.reset();
  if (ref.scheme) {
    if (!ref.authority) {
      return fail("unsupported URL scheme '" + *ref.scheme + "' (only http and https are crawled)");
    }
    return build_url(*ref.scheme, *ref.authority, ref.path, ref.query);
  }
  if (ref.authority) return build_url(base.scheme, *ref.authority, ref.path, ref.query);
  std::string authority = base.host_key();
  if (ref.path.empty()) {
    std::optional<std::string> query = ref.query;
    if (!query && base.has_query) query = base.query;
    return build_url(base.scheme, authority, base.path, query);
  }
  std::string path = ref.path[0] == '/' ? ref.path : merge_paths(base.path, ref.path);
  return build_url(base.scheme, authority, path, ref.query);
}

}  // namespace medsearch
