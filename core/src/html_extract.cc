#include "medsearch/html_extract.h"

#include <gumbo.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <set>

#include "medsearch/text.h"

namespace medsearch {
namespace {

const char* attribute(const GumboNode* node, const char* name) {
  if (node->type != GUMBO_NODE_ELEMENT) return nullptr;
  const GumboAttribute* attr = gumbo_get_attribute(&node->v.element.attributes, name);
  return attr ? attr->value : nullptr;
}

std::string attribute_lower(const GumboNode* node, const char* name) {
  const char* value = attribute(node, name);
  return value ? ascii_lower(value) : std::string();
}

// Elements whose content is never page text.
bool is_never_text(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_OPTION:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_MATH:
      return true;
    default:
      return false;
  }
}

// Elements nested deeper than this are flattened before parsing (their text
// is kept). Real pages nest a few dozen deep; gumbo 0.10 takes time quadratic
// in the depth (100,000 nested <div>s: two minutes) and the walks below recurse.
constexpr size_t kMaxNesting = 256;

// The tree walks stop here: after limit_nesting, only the elements gumbo adds
// itself (<html>, <tbody>, reopened formatting elements) go deeper than kMaxNesting.
constexpr int kMaxWalkDepth = 1024;

bool is_void_element(std::string_view name) {
  for (std::string_view v : {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                             "meta", "param", "source", "track", "wbr"})
    if (name == v) return true;
  return false;
}

// Elements whose content is text up to their end tag, not markup.
bool is_raw_text_element(std::string_view name) {
  for (std::string_view r : {"script", "style", "textarea", "title", "xmp", "noembed", "iframe",
                             "noframes", "plaintext"})
    if (name == r) return true;
  return false;
}

// Whether the start tag `opening` ends the open element `top` whose end tag
// may be left out (HTML's "optional end tags": <p>, <li>, <td>...).
bool implies_end(std::string_view opening, std::string_view top) {
  if (top == "p") {
    for (std::string_view b :
         {"p",      "div",    "ul",  "ol",         "dl",      "li",       "dt",
          "dd",     "table",  "pre", "blockquote", "section", "article",  "aside",
          "header", "footer", "nav", "main",       "form",    "fieldset", "address",
          "figure", "h1",     "h2",  "h3",         "h4",      "h5",       "h6"})
      if (opening == b) return true;
    return false;
  }
  if (top == "li") return opening == "li";
  if (top == "dt" || top == "dd") return opening == "dt" || opening == "dd";
  if (top == "td" || top == "th") return opening == "td" || opening == "th" || opening == "tr";
  if (top == "tr") return opening == "tr";
  if (top == "option") return opening == "option" || opening == "optgroup";
  return false;
}

// `html` with the start and end tags of elements nested deeper than
// kMaxNesting blanked out, judged by a linear scan that knows end tags,
// void elements, raw text and optional end tags, but not the rest of HTML's
// tree building. Pages that nest less come back unchanged.
std::string limit_nesting(std::string html) {
  std::vector<std::string> open;
  std::map<std::string, size_t, std::less<>> open_count;  // end tags search only when it pays
  size_t dropped = 0;  // start tags blanked whose end tags are still to come
  const size_t n = html.size();
  size_t pos = 0;
  while ((pos = html.find('<', pos)) != std::string::npos) {
    const size_t start = pos++;
    if (html.compare(pos, 3, "!--") == 0) {
      size_t end = html.find("-->", pos + 3);
      pos = end == std::string::npos ? n : end + 3;
      continue;
    }
    const bool closing = pos < n && html[pos] == '/';
    size_t name_end = pos + (closing ? 1 : 0);
    if (name_end >= n || !std::isalpha(static_cast<unsigned char>(html[name_end]))) continue;
    const size_t name_start = name_end;
    while (name_end < n &&
           (std::isalnum(static_cast<unsigned char>(html[name_end])) || html[name_end] == '-'))
      ++name_end;
    const size_t tag_end = html.find('>', name_end);
    if (tag_end == std::string::npos) break;
    std::string name =
        ascii_lower(std::string_view(html).substr(name_start, name_end - name_start));
    auto blank = [&] { std::fill(html.begin() + start, html.begin() + tag_end + 1, ' '); };
    pos = tag_end + 1;
    if (closing) {
      if (dropped > 0) {
        blank();
        --dropped;
      } else if (auto it = open_count.find(name); it != open_count.end() && it->second > 0) {
        while (!open.empty()) {
          std::string top = std::move(open.back());
          open.pop_back();
          --open_count[top];
          if (top == name) break;
        }
      }
      continue;
    }
    if (is_raw_text_element(name)) {
      // Its end tag, in any case; the scan goes on from there.
      size_t end = pos;
      while ((end = html.find("</", end)) != std::string::npos &&
             !equals_nocase(std::string_view(html).substr(end + 2, name.size()), name))
        end += 2;
      pos = end == std::string::npos ? n : end;
      continue;
    }
    if (is_void_element(name) || html[tag_end - 1] == '/') continue;
    while (!open.empty() && implies_end(name, open.back())) {
      --open_count[open.back()];
      open.pop_back();
    }
    if (open.size() >= kMaxNesting) {
      blank();
      ++dropped;
      continue;
    }
    ++open_count[name];
    open.push_back(std::move(name));
  }
  return html;
}

// Page furniture: navigation, site header and footer, sidebars, forms.
bool is_furniture(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_MENU:
      return true;
    default:
      return false;
  }
}

// Words in class and id attributes that mark clutter: banners, share bars,
// subscribe boxes, comments. Matched as whole words split on -, _ and spaces.
const std::set<std::string>& clutter_words() {
  static const std::set<std::string> words = {
      "cookie",      "cookies",    "consent",   "gdpr",           "share",      "sharing",
      "sharedaddy",  "social",     "subscribe", "subscription",   "newsletter", "signup",
      "optin",       "comment",    "comments",  "respond",        "related",    "breadcrumb",
      "breadcrumbs", "sidebar",    "widget",    "popup",          "modal",      "nav",
      "navbar",      "navigation", "menu",      "footer",         "advert",     "ads",
      "ad",          "promo",      "banner",    "masthead",       "skip",       "toolbar",
      "pagination",  "author-box", "tags",      "disclaimer-bar", "cta"};
  return words;
}

bool has_clutter_marker(const GumboNode* node) {
  for (const char* name : {"class", "id"}) {
    std::string value = attribute_lower(node, name);
    if (value.empty()) continue;
    std::string word;
    for (size_t i = 0; i <= value.size(); ++i) {
      char c = i < value.size() ? value[i] : ' ';
      if (c == ' ' || c == '-' || c == '_' || c == '\t') {
        if (!word.empty() && clutter_words().count(word)) return true;
        word.clear();
      } else {
        word.push_back(c);
      }
    }
  }
  std::string role = attribute_lower(node, "role");
  return role == "navigation" || role == "banner" || role == "contentinfo" ||
         role == "complementary" || role == "dialog" || role == "alertdialog";
}

bool is_block(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_BODY:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_SUMMARY:
      return true;
    default:
      return false;
  }
}

// Text gathered as blocks, with how much of each block is link text.
class BlockCollector {
 public:
  void text(std::string_view s, bool in_link) {
    current_.append(s);
    if (in_link) link_bytes_ += s.size();
  }
  void space() { current_.push_back(' '); }
  void end_block() {
    std::string block = collapse_whitespace(current_);
    if (!block.empty()) {
      // Link density: a block that is mostly links is a menu or a list of
      // other posts, not content; long blocks survive a few links.
      double density = static_cast<double>(link_bytes_) / static_cast<double>(current_.size());
      bool mostly_links = density > 0.5 && block.size() < 400;
      if (!mostly_links) blocks_.push_back(std::move(block));
    }
    current_.clear();
    link_bytes_ = 0;
  }
  std::string join() {
    end_block();
    std::string out;
    for (const auto& b : blocks_) {
      if (!out.empty()) out += "\n\n";
      out += b;
    }
    return out;
  }

 private:
  std::string current_;
  size_t link_bytes_ = 0;
  std::vector<std::string> blocks_;
};

// Appends the text of `node` to `out`, skipping clutter. `drop_header`: site
// <header> elements are clutter when extracting from the whole body, but
// inside an <article> the header holds the title and byline.
void collect_text(const GumboNode* node, BlockCollector& out, bool in_link, bool drop_header,
                  int depth) {
  if (depth > kMaxWalkDepth) return;
  if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA) {
    out.text(node->v.text.text, in_link);
    return;
  }
  if (node->type == GUMBO_NODE_WHITESPACE) {
    out.space();
    return;
  }
  if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE) return;
  GumboTag tag = node->v.element.tag;
  if (is_never_text(tag) || is_furniture(tag) || has_clutter_marker(node)) return;
  if (drop_header && tag == GUMBO_TAG_HEADER) return;
  if (attribute(node, "hidden") || attribute_lower(node, "aria-hidden") == "true") return;
  bool block = is_block(tag);
  if (block) out.end_block();
  bool link = in_link || tag == GUMBO_TAG_A;
  const GumboVector& children = node->v.element.children;
  for (unsigned i = 0; i < children.length; ++i) {
    collect_text(static_cast<const GumboNode*>(children.data[i]), out, link, drop_header,
                 depth + 1);
    if (tag == GUMBO_TAG_TR) out.space();
  }
  if (tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH || tag == GUMBO_TAG_IMG) out.space();
  if (block) out.end_block();
}

std::string node_text(const GumboNode* node, bool drop_header) {
  BlockCollector out;
  collect_text(node, out, false, drop_header, 0);
  return out.join();
}

// Plain descendant text with no filtering (for <title>, headings).
void raw_text(const GumboNode* node, std::string& out) {
  if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_WHITESPACE ||
      node->type == GUMBO_NODE_CDATA) {
    out += node->v.text.text;
    return;
  }
  if (node->type != GUMBO_NODE_ELEMENT) return;
  if (is_never_text(node->v.element.tag) && node->v.element.tag != GUMBO_TAG_HEAD) return;
  const GumboVector& children = node->v.element.children;
  for (unsigned i = 0; i < children.length; ++i)
    raw_text(static_cast<const GumboNode*>(children.data[i]), out);
}

// Candidates for the main content, found in one walk.
struct Candidates {
  const GumboNode* body = nullptr;
  const GumboNode* article_body = nullptr;  // [itemprop=articleBody]
  std::vector<const GumboNode*> articles;
  const GumboNode* main = nullptr;
  const GumboNode* role_main = nullptr;
  std::string title_element;
  std::string first_h1;
  int linked_headings = 0;
};

bool has_class_word(const GumboNode* node, std::string_view wanted) {
  std::string value = attribute_lower(node, "class");
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find_first_of(" \t", start);
    if (end == std::string::npos) end = value.size();
    if (std::string_view(value).substr(start, end - start) == wanted) return true;
    start = end + 1;
  }
  return false;
}

bool contains_link(const GumboNode* node) {
  if (node->type != GUMBO_NODE_ELEMENT) return false;
  if (node->v.element.tag == GUMBO_TAG_A) return true;
  const GumboVector& children = node->v.element.children;
  for (unsigned i = 0; i < children.length; ++i)
    if (contains_link(static_cast<const GumboNode*>(children.data[i]))) return true;
  return false;
}

void walk(const GumboNode* node, HtmlPage& page, Candidates& found, int depth) {
  if (node->type != GUMBO_NODE_ELEMENT || depth > kMaxWalkDepth) return;
  const GumboElement& el = node->v.element;
  switch (el.tag) {
    case GUMBO_TAG_HTML:
      if (const char* lang = attribute(node, "lang")) page.lang = ascii_lower(trim(lang));
      break;
    case GUMBO_TAG_TITLE:
      if (found.title_element.empty()) raw_text(node, found.title_element);
      break;
    case GUMBO_TAG_META: {
      const char* name = attribute(node, "name");
      if (!name) name = attribute(node, "property");
      if (!name) name = attribute(node, "itemprop");
      const char* content = attribute(node, "content");
      if (name && content) {
        std::string key = ascii_lower(trim(name));
        std::string value = collapse_whitespace(content);
        if (key == "robots" || key == "medcrawl") {
          std::string lower = ascii_lower(value);
          if (lower.find("noindex") != std::string::npos || lower.find("none") != std::string::npos)
            page.noindex = true;
          if (lower.find("nofollow") != std::string::npos ||
              lower.find("none") != std::string::npos)
            page.nofollow = true;
        }
        page.meta.emplace(key, value);
      }
      break;
    }
    case GUMBO_TAG_LINK: {
      std::string rel = attribute_lower(node, "rel");
      const char* href = attribute(node, "href");
      if (href && page.canonical.empty() && rel == "canonical")
        page.canonical = std::string(trim(href));
      break;
    }
    case GUMBO_TAG_BASE:
      if (const char* href = attribute(node, "href"); href && page.base_href.empty())
        page.base_href = std::string(trim(href));
      break;
    case GUMBO_TAG_A: {
      const char* href = attribute(node, "href");
      std::string rel = attribute_lower(node, "rel");
      if (href && rel.find("nofollow") == std::string::npos) {
        std::string_view h = trim(href);
        if (!h.empty() && h[0] != '#') page.links.emplace_back(h);
      }
      break;
    }
    case GUMBO_TAG_BODY:
      found.body = node;
      break;
    case GUMBO_TAG_ARTICLE:
      found.articles.push_back(node);
      break;
    case GUMBO_TAG_MAIN:
      if (!found.main) found.main = node;
      break;
    case GUMBO_TAG_SCRIPT:
      if (attribute_lower(node, "type") == "application/ld+json") {
        std::string json;
        for (unsigned i = 0; i < el.children.length; ++i) {
          auto* child = static_cast<const GumboNode*>(el.children.data[i]);
          if (child->type == GUMBO_NODE_TEXT || child->type == GUMBO_NODE_CDATA ||
              child->type == GUMBO_NODE_WHITESPACE)
            json += child->v.text.text;
        }
        if (page.json_ld.size() < 8) page.json_ld.push_back(std::move(json));
      }
      return;  // a script's text is never content, and it has no elements
    case GUMBO_TAG_TIME:
      if (const char* datetime = attribute(node, "datetime");
          datetime && page.time_datetime.empty())
        page.time_datetime = std::string(trim(datetime));
      break;
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
      if (contains_link(node)) ++found.linked_headings;
      break;
    case GUMBO_TAG_H1:
      if (contains_link(node)) ++found.linked_headings;
      if (found.first_h1.empty()) {
        raw_text(node, found.first_h1);
        found.first_h1 = collapse_whitespace(found.first_h1);
      }
      break;
    default:
      break;
  }
  if (!found.article_body && attribute_lower(node, "itemprop") == "articlebody")
    found.article_body = node;
  if (!found.role_main && attribute_lower(node, "role") == "main") found.role_main = node;
  if (page.byline.empty() && el.tag != GUMBO_TAG_META && el.tag != GUMBO_TAG_LINK &&
      (has_class_word(node, "byline") || has_class_word(node, "author") ||
       attribute_lower(node, "rel") == "author" || attribute_lower(node, "itemprop") == "author")) {
    raw_text(node, page.byline);
    page.byline = collapse_whitespace(page.byline);
  }
  for (unsigned i = 0; i < el.children.length; ++i)
    walk(static_cast<const GumboNode*>(el.children.data[i]), page, found, depth + 1);
}

// "Post title | Clinic name" -> "Post title": the longest part between
// separators, unless one part is the page's own heading.
std::string trim_title_suffix(const std::string& title, const std::string& h1,
                              const std::string& site_name) {
  static const char* kSeparators[] = {" | ", " – ", " — ", " - ", " :: ", " · ", " » "};
  std::vector<std::string> parts{title};
  for (const char* sep : kSeparators) {
    std::vector<std::string> next;
    for (const auto& part : parts) {
      size_t start = 0, at;
      while ((at = part.find(sep, start)) != std::string::npos) {
        next.push_back(part.substr(start, at - start));
        start = at + std::strlen(sep);
      }
      next.push_back(part.substr(start));
    }
    parts.swap(next);
  }
  if (parts.size() == 1) return title;
  for (const auto& part : parts)
    if (!h1.empty() && equals_nocase(collapse_whitespace(part), h1)) return h1;
  std::string best;
  for (const auto& part : parts) {
    std::string p = collapse_whitespace(part);
    if (!site_name.empty() && equals_nocase(p, site_name)) continue;
    if (p.size() > best.size()) best = p;
  }
  return best.empty() ? title : best;
}

}  // namespace

std::string HtmlPage::meta_value(const std::string& name) const {
  auto it = meta.find(name);
  return it == meta.end() ? std::string() : it->second;
}

HtmlPage parse_html(std::string_view html) {
  std::string clean = limit_nesting(valid_utf8(html));
  GumboOutput* output = gumbo_parse_with_options(&kGumboDefaultOptions, clean.data(), clean.size());
  HtmlPage page;
  Candidates found;
  walk(output->root, page, found, 0);

  const GumboNode* root = found.article_body;
  if (!root && !found.articles.empty()) {
    // Several <article> elements (a blog index, related posts): the one with
    // the most text is the content.
    size_t best_size = 0;
    for (const GumboNode* a : found.articles) {
      size_t size = node_text(a, false).size();
      if (size > best_size) {
        best_size = size;
        root = a;
      }
    }
  }
  if (!root) root = found.main;
  if (!root) root = found.role_main;
  if (!root) root = found.body ? found.body : output->root;

  page.listing = found.linked_headings >= 3;
  bool whole_page = root == found.body || root == output->root;
  page.text = node_text(root, whole_page);

  std::string title = page.meta_value("citation_title");
  if (title.empty()) title = page.meta_value("og:title");
  if (title.empty() && !found.title_element.empty())
    title = trim_title_suffix(collapse_whitespace(found.title_element), found.first_h1,
                              page.meta_value("og:site_name"));
  if (title.empty()) title = found.first_h1;
  page.title = collapse_whitespace(title);

  gumbo_destroy_output(&kGumboDefaultOptions, output);
  return page;
}

}  // namespace medsearch
