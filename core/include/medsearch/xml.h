// XML: a small pull parser for PubMed records and sitemaps. No DTD processing,
// no external entities, no namespace resolution: names are kept as written.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "medsearch/result.h"

namespace medsearch {

// Reads one XML document event by event. Skips the XML declaration, comments,
// processing instructions and the DOCTYPE (internal subset included). Text has
// the five predefined entities, character references and a few common HTML
// entities (&nbsp; &ndash; ...) decoded, CDATA sections included, invalid UTF-8
// replaced by U+FFFD; other named entities are kept as written ("&foo;"). Never
// reads past the input and always makes progress: after an error every call
// returns the same error, after kEof every call returns kEof. Errors name the
// byte offset. Not thread-safe; the viewed bytes must outlive the reader.
class XmlReader {
 public:
  // Elements nested deeper than this are an error (a guard against hostile input).
  static constexpr size_t kMaxDepth = 256;

  enum class Event { kStart, kEnd, kText, kEof };

  explicit XmlReader(std::string_view xml);

  // The next event. Adjacent text and CDATA come as one kText; whitespace
  // outside the root element is skipped. kEof only after the root element closed.
  Result<Event> next();

  // The element name for kStart and kEnd, e.g. "image:loc".
  const std::string& name() const { return name_; }
  // For kStart: the attribute's decoded value, "" if absent.
  std::string attribute(std::string_view name) const;
  // For kStart: every attribute, in document order.
  const std::vector<std::pair<std::string, std::string>>& attributes() const { return attributes_; }
  // For kText: the decoded text (may be only whitespace).
  const std::string& text() const { return text_; }
  // For kStart: true for <a/>; the next event is then the matching kEnd.
  bool self_closing() const { return self_closing_; }
  // Open elements: 1 for the root's kStart and kEnd, 1 for text directly in the root.
  size_t depth() const { return depth_; }
  // Byte offset where the current event starts (or where the error was found).
  size_t offset() const { return offset_; }
  // The last event returned by next(); kEof before the first call.
  Event event() const { return event_; }

 private:
  Result<Event> read_start_tag();
  Result<Event> read_end_tag();
  bool skip_past(std::string_view terminator);
  bool skip_doctype();
  bool read_name(std::string& out);
  void skip_space();
  Error error(const std::string& what, size_t at);

  std::string_view xml_;
  size_t pos_ = 0;
  std::string name_;
  std::string text_;
  std::vector<std::pair<std::string, std::string>> attributes_;
  std::vector<std::string> open_;  // names of the open elements, root first
  bool self_closing_ = false;
  bool pending_end_ = false;  // a self-closing kStart was returned; its kEnd is next
  bool root_seen_ = false;
  Event event_ = Event::kEof;
  size_t depth_ = 0;
  size_t offset_ = 0;
  std::string error_;  // sticky once set
};

// All text inside the element whose kStart was the last event, markup stripped
// and nothing added between pieces ("Ketamine <i>in vivo</i>" -> "Ketamine in
// vivo"); consumes events up to and including the matching kEnd. Fails when the
// last event was not a kStart, or on malformed XML.
Result<std::string> read_element_text(XmlReader& reader);

}  // namespace medsearch
