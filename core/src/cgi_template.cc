#include "medsearch/cgi_template.h"

#include "medsearch/cgi.h"
#include "medsearch/output.h"

namespace medsearch {

struct Template::Node {
  enum class Kind { kLiteral, kEscaped, kUrl, kRaw, kSection, kInverted };
  Kind kind = Kind::kLiteral;
  std::string text;  // the literal, or the name
  std::vector<Node> children;
};

TemplateData& TemplateData::text(const std::string& name, std::string value) {
  values[name] = TemplateValue{TemplateValue::Kind::kText, std::move(value), {}};
  return *this;
}

TemplateData& TemplateData::html(const std::string& name, std::string value) {
  values[name] = TemplateValue{TemplateValue::Kind::kHtml, std::move(value), {}};
  return *this;
}

TemplateData& TemplateData::flag(const std::string& name, bool on) {
  return text(name, on ? "1" : "");
}

TemplateData& TemplateData::list(const std::string& name, std::vector<TemplateData> items) {
  values[name] = TemplateValue{TemplateValue::Kind::kList, "", std::move(items)};
  return *this;
}

namespace {

using Node = Template::Node;

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

size_t line_of(std::string_view text, size_t offset) {
  size_t line = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

// The values visible while rendering: the innermost section item first.
using Scope = std::vector<const TemplateData*>;

const TemplateValue* lookup(const Scope& scope, const std::string& name) {
  for (auto it = scope.rbegin(); it != scope.rend(); ++it) {
    auto found = (*it)->values.find(name);
    if (found != (*it)->values.end()) return &found->second;
  }
  return nullptr;
}

void render_nodes(const std::vector<Node>& nodes, Scope& scope, std::string& out) {
  for (const Node& node : nodes) {
    const TemplateValue* value =
        node.kind == Node::Kind::kLiteral ? nullptr : lookup(scope, node.text);
    switch (node.kind) {
      case Node::Kind::kLiteral:
        out += node.text;
        break;
      case Node::Kind::kEscaped:
        if (value && value->kind != TemplateValue::Kind::kList) out += html_escape(value->text);
        break;
      case Node::Kind::kUrl:
        if (value && value->kind != TemplateValue::Kind::kList)
          out += html_escape(url_encode(value->text));
        break;
      case Node::Kind::kRaw:
        // Raw only for HTML the program escaped; anything else is still escaped.
        if (value && value->kind == TemplateValue::Kind::kHtml)
          out += value->text;
        else if (value && value->kind == TemplateValue::Kind::kText)
          out += html_escape(value->text);
        break;
      case Node::Kind::kSection:
        if (!value || value->empty()) break;
        if (value->kind == TemplateValue::Kind::kList) {
          for (const TemplateData& item : value->items) {
            scope.push_back(&item);
            render_nodes(node.children, scope, out);
            scope.pop_back();
          }
        } else {
          render_nodes(node.children, scope, out);
        }
        break;
      case Node::Kind::kInverted:
        if (!value || value->empty()) render_nodes(node.children, scope, out);
        break;
    }
  }
}

}  // namespace

Result<Template> Template::parse(std::string_view text, const std::string& name) {
  Template result;
  std::vector<Node> root;
  // Open sections: the node list being filled, and the section's name and line.
  std::vector<std::vector<Node>*> stack{&root};
  std::vector<std::pair<std::string, size_t>> open;
  size_t pos = 0;
  auto error = [&](size_t at, const std::string& message) {
    return fail(name + ":" + std::to_string(line_of(text, at)) + ": " + message);
  };
  while (pos < text.size()) {
    size_t start = text.find("{{", pos);
    if (start == std::string_view::npos) start = text.size();
    if (start > pos)
      stack.back()->push_back(
          Node{Node::Kind::kLiteral, std::string(text.substr(pos, start - pos)), {}});
    if (start == text.size()) break;
    bool triple = text.substr(start, 3) == "{{{";
    std::string_view close = triple ? "}}}" : "}}";
    size_t body_start = start + (triple ? 3 : 2);
    size_t end = text.find(close, body_start);
    if (end == std::string_view::npos)
      return error(start, "'{{' without a closing '" + std::string(close) + "'");
    std::string_view body = text.substr(body_start, end - body_start);
    pos = end + close.size();
    while (!body.empty() && body.front() == ' ') body.remove_prefix(1);
    while (!body.empty() && body.back() == ' ') body.remove_suffix(1);
    if (!triple && !body.empty() && body[0] == '!') continue;
    Node node;
    if (triple) {
      node.kind = Node::Kind::kRaw;
    } else if (!body.empty() && (body[0] == '#' || body[0] == '^' || body[0] == '/')) {
      char sigil = body[0];
      body.remove_prefix(1);
      while (!body.empty() && body.front() == ' ') body.remove_prefix(1);
      if (!valid_name(body)) return error(start, "bad name '" + std::string(body) + "'");
      std::string section(body);
      if (sigil == '/') {
        if (open.empty()) return error(start, "'{{/" + section + "}}' closes nothing");
        if (open.back().first != section)
          return error(start, "'{{/" + section + "}}' closes '{{#" + open.back().first + "}}'");
        open.pop_back();
        stack.pop_back();
        continue;
      }
      node.kind = sigil == '#' ? Node::Kind::kSection : Node::Kind::kInverted;
      node.text = section;
      result.names_.insert(section);
      stack.back()->push_back(std::move(node));
      stack.push_back(&stack.back()->back().children);
      open.emplace_back(section, start);
      continue;
    } else if (size_t bar = body.find('|'); bar != std::string_view::npos) {
      std::string_view filter = body.substr(bar + 1);
      if (filter != "url")
        return error(start, "unknown filter '|" + std::string(filter) + "' (only |url)");
      node.kind = Node::Kind::kUrl;
      body = body.substr(0, bar);
    } else {
      node.kind = Node::Kind::kEscaped;
    }
    if (!valid_name(body)) return error(start, "bad name '" + std::string(body) + "'");
    node.text = std::string(body);
    result.names_.insert(node.text);
    stack.back()->push_back(std::move(node));
  }
  if (!open.empty())
    return error(open.back().second, "'{{#" + open.back().first + "}}' is never closed");
  result.nodes_ = std::make_shared<const std::vector<Node>>(std::move(root));
  return result;
}

std::string Template::render(const TemplateData& data) const {
  std::string out;
  Scope scope{&data};
  if (nodes_) render_nodes(*nodes_, scope, out);
  return out;
}

}  // namespace medsearch
