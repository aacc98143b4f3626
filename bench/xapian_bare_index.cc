// xapian_bare_index: the bare Xapian indexing loop the indexing benchmark
// compares medindex against, "the limit for a Xapian indexer". It reads JSON
// Lines records {"_id", "title", "text"} and indexes each with one
// TermGenerator (English stemmer, STEM_SOME): the title unprefixed and with
// prefix S, the text unprefixed, a Q unique term, the title and text as
// document data, replace_document on the Q term, one commit at the end.
// Single writer, single thread. Depends on Xapian only.
#include <xapian.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kProgram = "xapian_bare_index";

// The fields of one record the benchmark indexes; other fields are skipped.
struct Record {
  std::string id, title, text;
};

// A minimal, strict JSON reader for one line holding one object. It decodes
// string escapes fully (including \u surrogate pairs, to UTF-8) and skips
// values of fields it does not need. Not thread-safe; one per line.
class JsonLine {
 public:
  explicit JsonLine(std::string_view line) : in_(line) {}

  // Fills `record` from the object; returns false and sets `error` on bad JSON.
  bool parse(Record& record, std::string& error) {
    record.id.clear();
    record.title.clear();
    record.text.clear();
    std::string key;
    skip_space();
    if (!take('{')) return fail("expected '{'", error);
    skip_space();
    if (take('}')) return end(error);
    while (true) {
      skip_space();
      if (!string(key)) return fail("expected a field name", error);
      skip_space();
      if (!take(':')) return fail("expected ':'", error);
      skip_space();
      std::string* target = key == "_id"     ? &record.id
                            : key == "title" ? &record.title
                            : key == "text"  ? &record.text
                                             : nullptr;
      bool ok = target && peek() == '"' ? string(*target) : skip_value(0);
      if (!ok) return fail("bad value", error);
      skip_space();
      if (take(',')) continue;
      if (take('}')) return end(error);
      return fail("expected ',' or '}'", error);
    }
  }

 private:
  char peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  bool take(char c) {
    if (peek() != c || pos_ >= in_.size()) return false;
    ++pos_;
    return true;
  }
  void skip_space() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\r' || in_[pos_] == '\n'))
      ++pos_;
  }
  bool end(std::string& error) {
    skip_space();
    return pos_ == in_.size() || fail("text after the object", error);
  }
  bool fail(const char* what, std::string& error) {
    error = std::string(what) + " at byte " + std::to_string(pos_ + 1);
    return false;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool hex4(uint32_t& value) {
    if (in_.size() - pos_ < 4) return false;
    value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = in_[pos_++];
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        value |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }

  // Reads a JSON string at the cursor into `out`, decoding escapes.
  bool string(std::string& out) {
    out.clear();
    if (!take('"')) return false;
    while (pos_ < in_.size()) {
      // Copy the run of plain bytes in one go: most text has no escapes.
      size_t stop = in_.find_first_of("\"\\", pos_);
      if (stop == std::string_view::npos) return false;
      out.append(in_.data() + pos_, stop - pos_);
      pos_ = stop;
      if (in_[pos_++] == '"') return true;
      if (pos_ >= in_.size()) return false;
      char c = in_[pos_++];
      switch (c) {
        case '"':
        case '\\':
        case '/':
          out += c;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low;
            if (in_.substr(pos_, 2) == "\\u" && (pos_ += 2, hex4(low)) && low >= 0xDC00 &&
                low < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              return false;
            }
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return false;
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  // Skips any JSON value (string, number, literal, array, object).
  bool skip_value(int depth) {
    if (depth > 64) return false;
    std::string ignored;
    char c = peek();
    if (c == '"') return string(ignored);
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++pos_;
      skip_space();
      if (take(close)) return true;
      while (true) {
        skip_space();
        if (c == '{') {
          if (!string(ignored)) return false;
          skip_space();
          if (!take(':')) return false;
          skip_space();
        }
        if (!skip_value(depth + 1)) return false;
        skip_space();
        if (take(',')) continue;
        return take(close);
      }
    }
    size_t start = pos_;
    while (pos_ < in_.size() && std::strchr("+-.0123456789eEtruefalsn", in_[pos_])) ++pos_;
    return pos_ > start;
  }

  std::string_view in_;
  size_t pos_ = 0;
};

int usage() {
  std::fprintf(stderr, "Usage: %s --db DIR INPUT.jsonl...\n", kProgram);
  return 2;
}

int run(const std::string& db_path, const std::vector<std::string>& inputs) {
  Xapian::WritableDatabase db(db_path, Xapian::DB_CREATE_OR_OPEN);
  Xapian::TermGenerator generator;
  generator.set_stemmer(Xapian::Stem("english"));
  generator.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);

  Record record;
  std::string line, error, data;
  uint64_t documents = 0;
  for (const auto& input : inputs) {
    std::ifstream in(input, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s: error: cannot open %s\n", kProgram, input.c_str());
      return 1;
    }
    uint64_t line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      if (!JsonLine(line).parse(record, error)) {
        std::fprintf(stderr, "%s: error: %s:%llu: %s\n", kProgram, input.c_str(),
                     static_cast<unsigned long long>(line_number), error.c_str());
        return 1;
      }
      if (record.id.empty()) {
        std::fprintf(stderr, "%s: error: %s:%llu: record without \"_id\"\n", kProgram,
                     input.c_str(), static_cast<unsigned long long>(line_number));
        return 1;
      }
      Xapian::Document doc;
      generator.set_document(doc);
      generator.index_text(record.title, 1, "S");
      generator.index_text(record.title);
      generator.increase_termpos();
      generator.index_text(record.text);
      std::string unique = "Q" + record.id;
      doc.add_boolean_term(unique);
      data.assign("title=").append(record.title).append("\ntext=").append(record.text);
      doc.set_data(data);
      db.replace_document(unique, doc);
      ++documents;
    }
    if (in.bad()) {
      std::fprintf(stderr, "%s: error: reading %s failed\n", kProgram, input.c_str());
      return 1;
    }
  }
  db.commit();
  std::fprintf(stderr, "%s: %llu documents indexed; index has %u documents\n", kProgram,
               static_cast<unsigned long long>(documents), db.get_doccount());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db_path;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("Usage: %s --db DIR INPUT.jsonl...\n", kProgram);
      return 0;
    }
    if (arg == "--db") {
      if (++i == argc) return usage();
      db_path = argv[i];
    } else if (arg.starts_with("--db=")) {
      db_path = std::string(arg.substr(5));
    } else if (arg.starts_with("-")) {
      return usage();
    } else {
      inputs.emplace_back(arg);
    }
  }
  if (db_path.empty() || inputs.empty()) return usage();
  try {
    return run(db_path, inputs);
  } catch (const Xapian::Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", kProgram, e.get_description().c_str());
    return 1;
  }
}
