// The page templates of medsearch.cgi: a small Mustache-like language whose
// insertions are escaped for their context by default (docs/cgi.md):
//   {{name}}        the value, HTML-escaped (safe in text and quoted attributes)
//   {{name|url}}    the value percent-encoded for a URL query, then HTML-escaped
//   {{{name}}}      raw, but only for values the program marked as HTML it has
//                   already escaped (e.g. snippets); any other value is escaped
//   {{#name}}...{{/name}}  repeated for each item of a list, or shown once when
//                   the value is not empty; names are looked up in the item first
//   {{^name}}...{{/name}}  shown when the value is empty or an empty list
//   {{! comment }}
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/result.h"

namespace medsearch {

struct TemplateData;

// One value a template can insert: text (escaped when inserted), HTML the
// program built and escaped itself, or a list of items for a section.
struct TemplateValue {
  enum class Kind { kText, kHtml, kList };
  Kind kind = Kind::kText;
  std::string text;
  std::vector<TemplateData> items;

  bool empty() const { return kind == Kind::kList ? items.empty() : text.empty(); }
};

// The names a template can use, each with its value.
struct TemplateData {
  std::map<std::string, TemplateValue> values;

  // Plain text, escaped wherever it is inserted.
  TemplateData& text(const std::string& name, std::string value);
  // HTML that is already safe (escaped by the program); inserted raw by {{{name}}}.
  TemplateData& html(const std::string& name, std::string value);
  // A flag for {{#name}} / {{^name}}: "1" or "".
  TemplateData& flag(const std::string& name, bool on);
  TemplateData& list(const std::string& name, std::vector<TemplateData> items);
};

// A parsed template. Immutable after parsing; safe to render from several threads.
class Template {
 public:
  // Parses `text`; `name` is used in error messages ("results.html:12: ...").
  static Result<Template> parse(std::string_view text, const std::string& name);

  std::string render(const TemplateData& data) const;
  // Every name the template refers to, so a loader can reject unknown ones.
  const std::set<std::string>& names() const { return names_; }

  struct Node;

 private:
  std::shared_ptr<const std::vector<Node>> nodes_;
  std::set<std::string> names_;
};

}  // namespace medsearch
