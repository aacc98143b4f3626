#include "medsearch/xml.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

using namespace medsearch;

namespace {

// The events of a whole document as one line: "<a k=v>" (with "/>" when
// self-closing), "</a>", "[text]", "EOF"; or "ERROR: message" after the events
// before it. Gives up (and says so) after more events than the input could hold.
std::string trace(std::string_view xml) {
  XmlReader reader(xml);
  std::string out;
  for (size_t n = 0; n <= 2 * xml.size() + 2; ++n) {
    auto event = reader.next();
    if (!event) return out + "ERROR: " + event.error();
    switch (*event) {
      case XmlReader::Event::kStart:
        out += "<" + reader.name();
        for (const auto& [key, value] : reader.attributes()) out += " " + key + "=" + value;
        out += reader.self_closing() ? "/>" : ">";
        break;
      case XmlReader::Event::kEnd:
        out += "</" + reader.name() + ">";
        break;
      case XmlReader::Event::kText:
        out += "[" + reader.text() + "]";
        break;
      case XmlReader::Event::kEof:
        return out + "EOF";
    }
  }
  return out + "LOOPING";
}

}  // namespace

TEST_CASE("XmlReader reports the events of well-formed documents", "[xml]") {
  struct Case {
    const char* xml;
    const char* events;
  };
  const Case cases[] = {
      {"<a>x</a>", "<a>[x]</a>EOF"},
      {"<a></a >", "<a></a>EOF"},
      {"<a/>", "<a/></a>EOF"},
      {"\n  <a />\n\n", "<a/></a>EOF"},
      {"\xEF\xBB\xBF<a/>", "<a/></a>EOF"},
      {"<a><b>x</b> <c/></a>", "<a><b>[x]</b>[ ]<c/></c></a>EOF"},
      // The five predefined entities, character references, common HTML entities.
      {"<a>&lt;&gt;&amp;&quot;&apos;</a>", "<a>[<>&\"']</a>EOF"},
      {"<a>&#65;&#x42;&#xe9;&#128512;</a>", "<a>[AB\xC3\xA9\xF0\x9F\x98\x80]</a>EOF"},
      {"<a>1&nbsp;mg &ndash; 2</a>", "<a>[1\xC2\xA0mg \xE2\x80\x93 2]</a>EOF"},
      // Unknown entities and bare ampersands are kept as written.
      {"<a>&foo; R&D &amp</a>", "<a>[&foo; R&D &amp]</a>EOF"},
      {"<a>&#0;&#xD800;&#x110000;&#xZZ;&#;</a>",
       "<a>[\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD&#xZZ;&#;]</a>EOF"},
      // CDATA is text, joined with the text around it; comments vanish.
      {"<a>x<![CDATA[<b>&amp;]]>y</a>", "<a>[x<b>&amp;y]</a>EOF"},
      {"<a>x<!-- <b> & -->y</a>", "<a>[xy]</a>EOF"},
      {"<a><!----></a>", "<a></a>EOF"},
      // Declaration, processing instructions, DOCTYPE with and without internal subset.
      {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?style x?><a/><!-- end -->", "<a/></a>EOF"},
      {"<!DOCTYPE PubmedArticleSet PUBLIC \"-//NLM//DTD x//EN\" \"https://x/p.dtd\">\n<a/>",
       "<a/></a>EOF"},
      {"<!DOCTYPE a [\n <!ENTITY e \"]>\">\n <!-- ]> -->\n <?p ]>?>\n <!ELEMENT a (#PCDATA)>\n]>"
       "<a>&e;</a>",
       "<a>[&e;]</a>EOF"},
      // Attributes: both quote styles, references, whitespace normalised, '>' inside.
      {"<a x=\"1\" y='two \"q\"' z = \"&amp;&lt;&#x41;\" w=\"a>b\"/>",
       "<a x=1 y=two \"q\" z=&<A w=a>b/></a>EOF"},
      {"<a x=\"a\nb\tc\"/>", "<a x=a b c/></a>EOF"},
      {"<a x='&bogus'/>", "<a x=&bogus/></a>EOF"},
      // Namespaced names are kept as written.
      {"<urlset xmlns:image=\"http://x/i\"><image:loc>u</image:loc></urlset>",
       "<urlset xmlns:image=http://x/i><image:loc>[u]</image:loc></urlset>EOF"},
      {"<a>x\r\ny\rz</a>", "<a>[x\ny\nz]</a>EOF"},
      // Invalid UTF-8 in text and attribute values is replaced.
      {"<a t=\"\xC3\">x\xFFy</a>", "<a t=\xEF\xBF\xBD>[x\xEF\xBF\xBDy]</a>EOF"},
      {"<a>]]></a>", "<a>[]]>]</a>EOF"},
  };
  for (const auto& c : cases) {
    INFO(c.xml);
    CHECK(trace(c.xml) == c.events);
  }
}

TEST_CASE("XmlReader rejects malformed documents with an offset instead of crashing", "[xml]") {
  struct Case {
    const char* xml;
    const char* message;  // part of the error
  };
  const Case errors[] = {
      {"", "no root element at byte 0"},
      {"  \n", "no root element"},
      {"<!-- only a comment -->", "no root element"},
      {"text", "text before the root element at byte 0"},
      {"<a/>text", "text after the root element at byte 4"},
      {"<a/><b/>", "a second root element <b> at byte 4"},
      {"<a>", "the document ends inside <a>"},
      {"<a><b>x</b>", "the document ends inside <a>"},
      {"<a></b>", "end tag </b> does not match <a> at byte 3"},
      {"</a>", "end tag </a> without a start tag"},
      {"<a", "unterminated start tag <a>"},
      {"<a x", "unterminated start tag <a>"},
      {"<a></a", "unterminated end tag </a>"},
      {"< a/>", "expected an element name after '<' at byte 0"},
      {"<1a/>", "expected an element name"},
      {"<a></ a>", "expected an element name after '</'"},
      {"<a x=1/>", "the value of attribute 'x' is not quoted"},
      {"<a x/>", "attribute 'x' has no value"},
      {"<a x=\"1/>", "unterminated value of attribute 'x'"},
      {"<a x='1'y='2'/>", "expected whitespace before an attribute"},
      {"<a x=\"1\" x=\"2\"/>", "duplicate attribute 'x'"},
      {"<a $=\"1\"/>", "expected an attribute name"},
      {"<a/ >", "expected '>' after '/'"},
      {"<a><!-- x</a>", "unterminated comment at byte 3"},
      {"<a><![CDATA[x</a>", "unterminated CDATA section at byte 3"},
      {"<![CDATA[x]]><a/>", "CDATA section outside the root element"},
      {"<?xml version=\"1.0\"", "unterminated processing instruction"},
      {"<!DOCTYPE a [ <!ENTITY e \"x\">", "unterminated DOCTYPE at byte 0"},
      {"<!DOCTYPE a \"unclosed>", "unterminated DOCTYPE"},
      {"<a/><!DOCTYPE a>", "DOCTYPE after the root element"},
      {"<a><!ELEMENT b ANY></a>", "unknown markup declaration at byte 3"},
  };
  for (const auto& c : errors) {
    INFO(c.xml);
    std::string events = trace(c.xml);
    CHECK(events.find("ERROR: XML: ") != std::string::npos);
    CHECK(events.find(c.message) != std::string::npos);
  }
}

TEST_CASE("XmlReader keeps returning the same error or kEof", "[xml]") {
  XmlReader bad("<a></b>");
  REQUIRE(bad.next());
  auto first = bad.next();
  REQUIRE_FALSE(first);
  auto again = bad.next();
  REQUIRE_FALSE(again);
  CHECK(again.error() == first.error());
  CHECK(bad.offset() == 3);

  XmlReader good("<a/>");
  for (int i = 0; i < 2; ++i) REQUIRE(good.next());
  for (int i = 0; i < 3; ++i) {
    auto event = good.next();
    REQUIRE(event);
    CHECK(*event == XmlReader::Event::kEof);
  }
}

TEST_CASE("XmlReader reports depth and offset per event", "[xml]") {
  XmlReader reader("<a><b>x</b></a>");
  struct Expected {
    XmlReader::Event event;
    size_t depth;
    size_t offset;
  };
  const Expected expected[] = {
      {XmlReader::Event::kStart, 1, 0}, {XmlReader::Event::kStart, 2, 3},
      {XmlReader::Event::kText, 2, 6},  {XmlReader::Event::kEnd, 2, 7},
      {XmlReader::Event::kEnd, 1, 11},  {XmlReader::Event::kEof, 0, 15},
  };
  for (const auto& e : expected) {
    auto event = reader.next();
    REQUIRE(event);
    CHECK(*event == e.event);
    CHECK(reader.event() == e.event);
    CHECK(reader.depth() == e.depth);
    CHECK(reader.offset() == e.offset);
  }
}

TEST_CASE("XmlReader caps the nesting depth", "[xml]") {
  auto nested = [](size_t levels) {
    std::string xml;
    for (size_t i = 0; i < levels; ++i) xml += "<d>";
    for (size_t i = 0; i < levels; ++i) xml += "</d>";
    return xml;
  };
  CHECK(trace(nested(XmlReader::kMaxDepth)).ends_with("EOF"));
  std::string deep = trace(nested(XmlReader::kMaxDepth + 1));
  CHECK(deep.find("ERROR: XML: elements nested deeper than 256") != std::string::npos);
  // A hostile document of a million open tags fails fast, without recursion.
  std::string hostile;
  for (int i = 0; i < 1000000; ++i) hostile += "<d>";
  XmlReader reader(hostile);
  size_t events = 0;
  while (reader.next()) ++events;
  CHECK(events == XmlReader::kMaxDepth);
}

TEST_CASE("XmlReader keeps many bare ampersands as text", "[xml]") {
  std::string xml = "<a>" + std::string(200000, '&') + "</a>";
  XmlReader reader(xml);
  REQUIRE(reader.next());
  auto text = reader.next();
  REQUIRE(text);
  CHECK(reader.text().size() == 200000);
}

TEST_CASE("XmlReader fails on every truncation of a document", "[xml]") {
  const std::string xml =
      "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x \"y\">]><r a=\"1\"><!-- c --><t>A &amp; "
      "B<![CDATA[ <c> ]]></t><e/></r>";
  REQUIRE(trace(xml).ends_with("EOF"));
  for (size_t n = 0; n < xml.size(); ++n) {
    INFO(n);
    CHECK(trace(std::string_view(xml).substr(0, n)).find("ERROR: XML: ") != std::string::npos);
  }
}

TEST_CASE("XmlReader terminates on corrupted input", "[xml]") {
  const std::string xml =
      "<!DOCTYPE r [<!ENTITY x \"y\">]><r a=\"1\" b='2'><!-- c --><t>A &amp; &#x41; "
      "B<![CDATA[ <c> ]]></t><e/><?p?></r>";
  const char alphabet[] = "<>/!?&;#x'\"=[]- a-";
  uint32_t seed = 12345;
  for (int round = 0; round < 3000; ++round) {
    std::string mutated = xml;
    for (int k = 0; k < 3; ++k) {
      seed = seed * 1103515245u + 12345u;
      size_t at = (seed >> 8) % mutated.size();
      seed = seed * 1103515245u + 12345u;
      mutated[at] = alphabet[(seed >> 8) % (sizeof alphabet - 1)];
    }
    INFO(mutated);
    CHECK(trace(mutated).find("LOOPING") == std::string::npos);
  }
}

TEST_CASE("read_element_text strips markup inside the current element", "[xml]") {
  struct Case {
    const char* xml;
    const char* text;
  };
  const Case cases[] = {
      {"<ArticleTitle>Ketamine <i>in vivo</i> &amp; CO<sub>2</sub>.</ArticleTitle>",
       "Ketamine in vivo & CO2."},
      {"<t/>", ""},
      {"<t></t>", ""},
      {"<t>a<!-- no --><b><c>deep</c></b><![CDATA[<x>]]></t>", "adeep<x>"},
  };
  for (const auto& c : cases) {
    INFO(c.xml);
    XmlReader reader(c.xml);
    REQUIRE(reader.next());
    auto text = read_element_text(reader);
    REQUIRE(text);
    CHECK(*text == c.text);
    auto end = reader.next();
    REQUIRE(end);
    CHECK(*end == XmlReader::Event::kEof);
  }

  XmlReader sibling("<r><t>a<b>c</b></t><u>z</u></r>");
  REQUIRE(sibling.next());
  REQUIRE(sibling.next());
  CHECK(*read_element_text(sibling) == "ac");
  auto next = sibling.next();
  REQUIRE(next);
  CHECK(*next == XmlReader::Event::kStart);
  CHECK(sibling.name() == "u");
}

TEST_CASE("read_element_text fails away from a start tag and on truncated input", "[xml]") {
  XmlReader fresh("<a/>");
  CHECK_FALSE(read_element_text(fresh));
  XmlReader truncated("<a><b>text");
  REQUIRE(truncated.next());
  auto text = read_element_text(truncated);
  REQUIRE_FALSE(text);
  CHECK(text.error().find("ends inside <b>") != std::string::npos);
}
