#include "medsearch/xml.h"

#include <algorithm>
#include <cstdint>

#include "medsearch/text.h"

namespace medsearch {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_name_start(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u == ':' || u >= 0x80;
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool all_space(std::string_view text) {
  for (char c : text)
    if (!is_space(c)) return false;
  return true;
}

// Appends raw character data with XML line-end normalisation (CR LF and CR -> LF).
void append_raw(std::string& out, std::string_view raw) {
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\r') {
      out.push_back(raw[i]);
    } else {
      out.push_back('\n');
      if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    }
  }
}

// The code point of a character reference body ("#38", "#x26"), or 0 if malformed.
uint32_t character_reference(std::string_view body) {
  if (body.size() < 2 || body[0] != '#') return 0;
  bool hex = body[1] == 'x' || body[1] == 'X';
  std::string_view digits = body.substr(hex ? 2 : 1);
  if (digits.empty()) return 0;
  uint32_t cp = 0;
  for (char c : digits) {
    uint32_t d;
    if (c >= '0' && c <= '9')
      d = static_cast<uint32_t>(c - '0');
    else if (hex && c >= 'a' && c <= 'f')
      d = static_cast<uint32_t>(c - 'a' + 10);
    else if (hex && c >= 'A' && c <= 'F')
      d = static_cast<uint32_t>(c - 'A' + 10);
    else
      return 0;
    cp = cp * (hex ? 16 : 10) + d;
    if (cp > 0x10FFFF) return 0xFFFD;  // stops overflow; decoded as a replacement
  }
  return cp == 0 ? 0xFFFD : cp;
}

struct NamedEntity {
  std::string_view name;
  uint32_t code_point;
};

// The predefined XML entities, then HTML entities seen in PubMed and feeds.
constexpr NamedEntity kNamedEntities[] = {
    {"lt", '<'},       {"gt", '>'},       {"amp", '&'},      {"quot", '"'},      {"apos", '\''},
    {"nbsp", 0xA0},    {"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026}, {"lsquo", 0x2018},
    {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"copy", 0xA9},     {"reg", 0xAE},
    {"trade", 0x2122}, {"deg", 0xB0},     {"plusmn", 0xB1},  {"times", 0xD7},    {"micro", 0xB5},
    {"middot", 0xB7},  {"bull", 0x2022},  {"le", 0x2264},    {"ge", 0x2265},     {"alpha", 0x3B1},
    {"beta", 0x3B2},   {"gamma", 0x3B3},  {"delta", 0x3B4},  {"kappa", 0x3BA},   {"mu", 0x3BC},
    {"euro", 0x20AC},  {"shy", 0xAD},
};

// Decodes the reference at text[at] == '&' into `out`; returns the position after
// it. A '&' that starts no well-formed reference is kept as text, as browsers do:
// real feeds contain bare ampersands. Unknown named entities are kept whole ("&foo;").
size_t append_reference(std::string_view text, size_t at, std::string& out) {
  // References are short; looking no further keeps many bare '&' linear.
  size_t semicolon = text.substr(0, std::min(text.size(), at + 34)).find(';', at + 1);
  if (semicolon == std::string_view::npos) {
    out.push_back('&');
    return at + 1;
  }
  std::string_view body = text.substr(at + 1, semicolon - at - 1);
  if (!body.empty() && body[0] == '#') {
    uint32_t cp = character_reference(body);
    if (cp == 0) {
      out.push_back('&');
      return at + 1;
    }
    append_utf8(out, cp);
    return semicolon + 1;
  }
  for (const auto& entity : kNamedEntities) {
    if (entity.name == body) {
      append_utf8(out, entity.code_point);
      return semicolon + 1;
    }
  }
  bool name = !body.empty() && is_name_start(body[0]);
  for (char c : body) name = name && is_name_char(c);
  size_t end = name ? semicolon + 1 : at + 1;
  out.append(text.substr(at, end - at));
  return end;
}

}  // namespace

XmlReader::XmlReader(std::string_view xml) : xml_(xml) {
  if (xml_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // UTF-8 byte order mark
}

std::string XmlReader::attribute(std::string_view name) const {
  for (const auto& [key, value] : attributes_)
    if (key == name) return value;
  return "";
}

Error XmlReader::error(const std::string& what, size_t at) {
  offset_ = at;
  error_ = "XML: " + what + " at byte " + std::to_string(at);
  return Error{error_};
}

void XmlReader::skip_space() {
  while (pos_ < xml_.size() && is_space(xml_[pos_])) ++pos_;
}

bool XmlReader::read_name(std::string& out) {
  size_t start = pos_;
  if (pos_ >= xml_.size() || !is_name_start(xml_[pos_])) return false;
  while (pos_ < xml_.size() && is_name_char(xml_[pos_])) ++pos_;
  out.assign(xml_.substr(start, pos_ - start));
  return true;
}

bool XmlReader::skip_past(std::string_view terminator) {
  size_t end = xml_.find(terminator, pos_);
  if (end == std::string_view::npos) return false;
  pos_ = end + terminator.size();
  return true;
}

bool XmlReader::skip_doctype() {
  // pos_ is just past "<!DOCTYPE". Quoted strings, comments and processing
  // instructions may contain '>' or ']'; the internal subset ends at ']'.
  char quote = 0;
  bool in_subset = false;
  while (pos_ < xml_.size()) {
    char c = xml_[pos_];
    if (quote) {
      if (c == quote) quote = 0;
      ++pos_;
      continue;
    }
    if (in_subset && xml_.substr(pos_, 4) == "<!--") {
      if (!skip_past("-->")) return false;
      continue;
    }
    if (in_subset && xml_.substr(pos_, 2) == "<?") {
      if (!skip_past("?>")) return false;
      continue;
    }
    ++pos_;
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' && !in_subset) {
      in_subset = true;
    } else if (c == ']' && in_subset) {
      in_subset = false;
    } else if (c == '>' && !in_subset) {
      return true;
    }
  }
  return false;
}

Result<XmlReader::Event> XmlReader::next() {
  if (!error_.empty()) return Error{error_};
  attributes_.clear();
  self_closing_ = false;
  if (pending_end_) {
    pending_end_ = false;
    depth_ = open_.size();
    name_ = std::move(open_.back());
    open_.pop_back();
    event_ = Event::kEnd;
    return event_;
  }
  for (;;) {
    offset_ = pos_;
    if (pos_ >= xml_.size()) {
      if (!open_.empty())
        return error("the document ends inside <" + open_.back() + "> (truncated?)", pos_);
      if (!root_seen_) return error("no root element", pos_);
      depth_ = 0;
      event_ = Event::kEof;
      return event_;
    }
    // Character data up to the next tag; comments and processing instructions
    // inside it are dropped and CDATA sections joined in.
    std::string raw;
    bool any = false;
    while (pos_ < xml_.size()) {
      char c = xml_[pos_];
      if (c == '<') {
        std::string_view rest = xml_.substr(pos_);
        if (rest.starts_with("<![CDATA[")) {
          size_t start = pos_;
          pos_ += 9;
          size_t end = xml_.find("]]>", pos_);
          if (end == std::string_view::npos) return error("unterminated CDATA section", start);
          if (open_.empty()) return error("CDATA section outside the root element", start);
          append_raw(raw, xml_.substr(pos_, end - pos_));
          pos_ = end + 3;
          any = true;
        } else if (rest.starts_with("<!--")) {
          size_t start = pos_;
          pos_ += 4;
          if (!skip_past("-->")) return error("unterminated comment", start);
        } else if (rest.starts_with("<?")) {
          size_t start = pos_;
          pos_ += 2;
          if (!skip_past("?>")) return error("unterminated processing instruction", start);
        } else {
          break;
        }
      } else if (c == '&') {
        pos_ = append_reference(xml_, pos_, raw);
        any = true;
      } else {
        size_t end = xml_.find_first_of("<&", pos_);
        if (end == std::string_view::npos) end = xml_.size();
        append_raw(raw, xml_.substr(pos_, end - pos_));
        pos_ = end;
        any = true;
      }
    }
    if (any) {
      if (open_.empty()) {
        if (!all_space(raw))
          return error(root_seen_ ? "text after the root element" : "text before the root element",
                       offset_);
      } else {
        text_ = valid_utf8(raw);
        depth_ = open_.size();
        event_ = Event::kText;
        return event_;
      }
    }
    if (pos_ >= xml_.size()) continue;  // reports the end of input
    offset_ = pos_;
    std::string_view rest = xml_.substr(pos_);
    if (rest.starts_with("</")) return read_end_tag();
    if (rest.starts_with("<!DOCTYPE")) {
      if (root_seen_) return error("DOCTYPE after the root element", pos_);
      pos_ += 9;
      if (!skip_doctype()) return error("unterminated DOCTYPE", offset_);
      continue;
    }
    if (rest.starts_with("<!")) return error("unknown markup declaration", pos_);
    return read_start_tag();
  }
}

Result<XmlReader::Event> XmlReader::read_start_tag() {
  size_t start = pos_;
  ++pos_;  // '<'
  if (!read_name(name_)) return error("expected an element name after '<'", start);
  if (open_.empty() && root_seen_) return error("a second root element <" + name_ + ">", start);
  if (open_.size() >= kMaxDepth)
    return error("elements nested deeper than " + std::to_string(kMaxDepth), start);
  for (;;) {
    size_t before_space = pos_;
    skip_space();
    if (pos_ >= xml_.size()) return error("unterminated start tag <" + name_ + ">", start);
    char c = xml_[pos_];
    if (c == '>') {
      ++pos_;
      break;
    }
    if (c == '/') {
      if (pos_ + 1 >= xml_.size() || xml_[pos_ + 1] != '>')
        return error("expected '>' after '/' in <" + name_ + ">", pos_);
      pos_ += 2;
      self_closing_ = true;
      break;
    }
    if (pos_ == before_space)
      return error("expected whitespace before an attribute in <" + name_ + ">", pos_);
    std::string key;
    if (!read_name(key)) return error("expected an attribute name in <" + name_ + ">", pos_);
    skip_space();
    if (pos_ >= xml_.size()) return error("unterminated start tag <" + name_ + ">", start);
    if (xml_[pos_] != '=') return error("attribute '" + key + "' has no value", pos_);
    ++pos_;
    skip_space();
    if (pos_ >= xml_.size()) return error("unterminated start tag <" + name_ + ">", start);
    if (xml_[pos_] != '"' && xml_[pos_] != '\'')
      return error("the value of attribute '" + key + "' is not quoted", pos_);
    char quote = xml_[pos_];
    size_t value_start = pos_;
    size_t end = xml_.find(quote, pos_ + 1);
    if (end == std::string_view::npos)
      return error("unterminated value of attribute '" + key + "'", value_start);
    ++pos_;
    std::string value;
    while (pos_ < end) {
      char v = xml_[pos_];
      if (v == '&') {
        // The reference must not run past the closing quote.
        pos_ = append_reference(xml_.substr(0, end), pos_, value);
      } else {
        value.push_back(is_space(v) ? ' ' : v);  // attribute value normalisation
        ++pos_;
      }
    }
    pos_ = end + 1;
    for (const auto& existing : attributes_)
      if (existing.first == key) return error("duplicate attribute '" + key + "'", value_start);
    attributes_.emplace_back(std::move(key), valid_utf8(value));
  }
  open_.push_back(name_);
  root_seen_ = true;
  depth_ = open_.size();
  pending_end_ = self_closing_;
  event_ = Event::kStart;
  return event_;
}

Result<XmlReader::Event> XmlReader::read_end_tag() {
  size_t start = pos_;
  pos_ += 2;  // "</"
  if (!read_name(name_)) return error("expected an element name after '</'", start);
  skip_space();
  if (pos_ >= xml_.size() || xml_[pos_] != '>')
    return error("unterminated end tag </" + name_ + ">", start);
  ++pos_;
  if (open_.empty()) return error("end tag </" + name_ + "> without a start tag", start);
  if (open_.back() != name_)
    return error("end tag </" + name_ + "> does not match <" + open_.back() + ">", start);
  depth_ = open_.size();
  open_.pop_back();
  event_ = Event::kEnd;
  return event_;
}

Result<std::string> read_element_text(XmlReader& reader) {
  if (reader.event() != XmlReader::Event::kStart)
    return fail("XML: read_element_text called when not at a start tag, at byte " +
                std::to_string(reader.offset()));
  std::string text;
  size_t level = 1;
  for (;;) {
    auto event = reader.next();
    if (!event) return std::move(event).take_error();
    switch (*event) {
      case XmlReader::Event::kStart:
        ++level;
        break;
      case XmlReader::Event::kEnd:
        if (--level == 0) return text;
        break;
      case XmlReader::Event::kText:
        text += reader.text();
        break;
      case XmlReader::Event::kEof:
        return fail("XML: unexpected end of document at byte " + std::to_string(reader.offset()));
    }
  }
}

}  // namespace medsearch
