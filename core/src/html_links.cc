#include "medsearch/html_links.h"

#include <cctype>
#include <cstdint>
#include <utility>

namespace medsearch {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

void append_utf8(std::string& out, uint32_t code) {
  if (code == 0 || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) code = 0xFFFD;
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

// Decodes the character references that occur in URLs: numeric ones and the
// few named ones (&amp; &lt; &gt; &quot; &apos; &nbsp;); others stay as written.
std::string decode_references(std::string_view value) {
  if (value.find('&') == std::string_view::npos) return std::string(value);
  static const std::pair<std::string_view, std::string_view> kNamed[] = {
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", "\xC2\xA0"}};
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '&') {
      out += value[i];
      continue;
    }
    std::string_view rest = value.substr(i + 1);
    if (!rest.empty() && rest[0] == '#') {
      bool hex = rest.size() > 1 && (rest[1] == 'x' || rest[1] == 'X');
      size_t j = hex ? 2 : 1;
      uint32_t code = 0;
      size_t digits = 0;
      for (; j < rest.size() && digits < 8; ++j, ++digits) {
        char c = rest[j];
        int d = std::isdigit(static_cast<unsigned char>(c))           ? c - '0'
                : hex && std::isxdigit(static_cast<unsigned char>(c)) ? std::tolower(c) - 'a' + 10
                                                                      : -1;
        if (d < 0) break;
        code = code * (hex ? 16 : 10) + static_cast<uint32_t>(d);
      }
      if (digits > 0) {
        append_utf8(out, code);
        i += j + (j < rest.size() && rest[j] == ';' ? 1 : 0);
        continue;
      }
    } else {
      bool matched = false;
      for (const auto& [name, text] : kNamed) {
        if (rest.substr(0, name.size()) == name) {
          out += text;
          i += name.size() + (rest.size() > name.size() && rest[name.size()] == ';' ? 1 : 0);
          matched = true;
          break;
        }
      }
      if (matched) continue;
    }
    out += '&';
  }
  return out;
}

// Scans one tag starting just after '<' at `pos`: its lowercased name and
// attributes (names lowercased, first occurrence kept). Returns the position
// just past the closing '>', or npos when the input ends inside the tag (an
// HTML parser then drops the tag).
size_t read_tag(std::string_view html, size_t pos, std::string& name,
                std::vector<std::pair<std::string, std::string>>& attributes) {
  name.clear();
  attributes.clear();
  size_t n = html.size();
  while (pos < n && !is_space(html[pos]) && html[pos] != '>' && html[pos] != '/') {
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[pos++])));
  }
  while (pos < n) {
    while (pos < n && (is_space(html[pos]) || html[pos] == '/')) ++pos;
    if (pos >= n) break;
    if (html[pos] == '>') return pos + 1;
    size_t start = pos;
    while (pos < n && !is_space(html[pos]) && html[pos] != '>' && html[pos] != '=' &&
           !(html[pos] == '/' && pos > start)) {
      ++pos;
    }
    std::string attribute = lower(html.substr(start, pos - start));
    while (pos < n && is_space(html[pos])) ++pos;
    std::string value;
    if (pos < n && html[pos] == '=') {
      ++pos;
      while (pos < n && is_space(html[pos])) ++pos;
      if (pos < n && (html[pos] == '"' || html[pos] == '\'')) {
        char quote = html[pos++];
        size_t end = html.find(quote, pos);
        if (end == std::string_view::npos) end = n;
        value = decode_references(html.substr(pos, end - pos));
        pos = end < n ? end + 1 : n;
      } else {
        size_t begin = pos;
        while (pos < n && !is_space(html[pos]) && html[pos] != '>') ++pos;
        value = decode_references(html.substr(begin, pos - begin));
      }
    }
    bool seen = false;
    for (const auto& existing : attributes) seen |= existing.first == attribute;
    if (!seen && !attribute.empty())
      attributes.emplace_back(std::move(attribute), std::move(value));
  }
  return std::string_view::npos;
}

const std::string* find_attribute(
    const std::vector<std::pair<std::string, std::string>>& attributes, std::string_view name) {
  for (const auto& [key, value] : attributes) {
    if (key == name) return &value;
  }
  return nullptr;
}

// Position just past the end tag of raw-text element `name` (case-insensitive), or the end.
size_t skip_raw_text(std::string_view html, size_t pos, std::string_view name) {
  while (true) {
    size_t lt = html.find("</", pos);
    if (lt == std::string_view::npos) return html.size();
    if (lt + 2 + name.size() <= html.size() && lower(html.substr(lt + 2, name.size())) == name) {
      size_t after = lt + 2 + name.size();
      if (after >= html.size() || is_space(html[after]) || html[after] == '>' ||
          html[after] == '/') {
        size_t close = html.find('>', after);
        return close == std::string_view::npos ? html.size() : close + 1;
      }
    }
    pos = lt + 2;
  }
}

}  // namespace

HtmlLinks scan_html_links(std::string_view html) {
  HtmlLinks found;
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  size_t pos = 0;
  while ((pos = html.find('<', pos)) != std::string_view::npos) {
    ++pos;
    if (pos >= html.size()) break;
    char c = html[pos];
    if (c == '!') {
      if (html.substr(pos, 3) == "!--") {
        size_t end = html.find("-->", pos + 3);
        pos = end == std::string_view::npos ? html.size() : end + 3;
      } else {
        size_t end = html.find('>', pos);
        pos = end == std::string_view::npos ? html.size() : end + 1;
      }
      continue;
    }
    if (!std::isalpha(static_cast<unsigned char>(c)))
      continue;  // "</x>", "< 3", "<?...": no tag we need
    pos = read_tag(html, pos, name, attributes);
    if (pos == std::string_view::npos) break;
    if (name == "a") {
      const std::string* href = find_attribute(attributes, "href");
      const std::string* rel = find_attribute(attributes, "rel");
      if (href && !(rel && lower(*rel).find("nofollow") != std::string::npos)) {
        std::string_view link = trim(*href);
        if (!link.empty() && link[0] != '#') found.links.emplace_back(link);
      }
    } else if (name == "base") {
      const std::string* href = find_attribute(attributes, "href");
      if (href && found.base_href.empty()) found.base_href = std::string(trim(*href));
    } else if (name == "link") {
      const std::string* href = find_attribute(attributes, "href");
      const std::string* rel = find_attribute(attributes, "rel");
      if (href && rel && found.canonical.empty() && lower(trim(*rel)) == "canonical") {
        found.canonical = std::string(trim(*href));
      }
    } else if (name == "meta") {
      const std::string* meta_name = find_attribute(attributes, "name");
      const std::string* content = find_attribute(attributes, "content");
      if (meta_name && content) {
        std::string key = lower(trim(*meta_name));
        if (key == "robots" || key == "medcrawl") {
          std::string value = lower(*content);
          if (value.find("noindex") != std::string::npos || value.find("none") != std::string::npos)
            found.noindex = true;
          if (value.find("nofollow") != std::string::npos ||
              value.find("none") != std::string::npos)
            found.nofollow = true;
        }
      }
    } else if (name == "script" || name == "style" || name == "textarea" || name == "title" ||
               name == "template" || name == "xmp" || name == "noembed") {
      pos = skip_raw_text(html, pos, name);
    }
  }
  return found;
}

}  // namespace medsearch
