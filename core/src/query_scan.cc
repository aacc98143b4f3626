#include "query_scan.h"

#include <array>

namespace medsearch::internal {

namespace {

// ECMAScript's \s and \w in the "C" locale, byte by byte.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_word(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_at(std::string_view s, size_t i, std::string_view word) {
  return s.size() - i >= word.size() && s.compare(i, word.size(), word) == 0;
}
bool starts_with_at_icase(std::string_view s, size_t i, std::string_view word) {
  if (s.size() - i < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k)
    if (lower(s[i + k]) != word[k]) return false;
  return true;
}

size_t skip_spaces(std::string_view s, size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

// [^\s()"]* at i, a field's unquoted value: the index after it (i if none).
size_t bare_value_end(std::string_view s, size_t i) {
  while (i < s.size() && !is_space(s[i]) && s[i] != '(' && s[i] != ')' && s[i] != '"') ++i;
  return i;
}

// Four digits at i: the index after them, or npos.
size_t four_digits(std::string_view s, size_t i) {
  if (s.size() - i < 4) return std::string_view::npos;
  for (size_t k = 0; k < 4; ++k)
    if (!is_digit(s[i + k])) return std::string_view::npos;
  return i + 4;
}

// \s*\[(?:dp|pdat)\] at i: the index after it, or npos.
size_t date_tag(std::string_view s, size_t i) {
  i = skip_spaces(s, i);
  if (i >= s.size() || s[i] != '[') return std::string_view::npos;
  ++i;
  if (starts_with_at_icase(s, i, "dp"))
    i += 2;
  else if (starts_with_at_icase(s, i, "pdat"))
    i += 4;
  else
    return std::string_view::npos;
  if (i >= s.size() || s[i] != ']') return std::string_view::npos;
  return i + 1;
}

// Replaces, left to right, each match that `match_at` finds (it returns the
// end of a match starting at i, or npos, and writes the replacement).
template <typename MatchAt>
std::string replace_each(std::string_view s, MatchAt match_at) {
  std::string out;
  out.reserve(s.size() + 16);
  std::string replacement;
  for (size_t i = 0; i < s.size();) {
    replacement.clear();
    size_t end = match_at(s, i, replacement);
    if (end == std::string_view::npos) {
      out += s[i++];
    } else {
      out += replacement;
      i = end;
    }
  }
  return out;
}

// After a match of (^|[\s(+-]) at i for a field: where the field name starts,
// trying ^ first and then one separator character, as ECMAScript's ordered
// alternation does; `field_at` decides whether the rest matches there.
template <typename FieldAt>
bool lead_then(std::string_view s, size_t i, size_t& name_at, FieldAt field_at) {
  if (i == 0 && field_at(size_t{0})) {
    name_at = 0;
    return true;
  }
  if (i < s.size() && (is_space(s[i]) || s[i] == '(' || s[i] == '+' || s[i] == '-') &&
      field_at(i + 1)) {
    name_at = i + 1;
    return true;
  }
  return false;
}

}  // namespace

std::string rewrite_pubmed_dates(const std::string& query) {
  if (query.find('[') == std::string::npos) return query;
  std::string ranges = replace_each(query, [](std::string_view s, size_t i, std::string& to) {
    size_t a = four_digits(s, i);
    if (a == std::string_view::npos) return a;
    size_t colon = skip_spaces(s, a);
    if (colon >= s.size() || s[colon] != ':') return std::string_view::npos;
    size_t b = skip_spaces(s, colon + 1);
    size_t b_end = four_digits(s, b);
    if (b_end == std::string_view::npos) return b_end;
    size_t end = date_tag(s, b_end);
    if (end == std::string_view::npos) return end;
    to.append("year:").append(s.substr(i, 4)).append("..").append(s.substr(b, 4));
    return end;
  });
  return replace_each(ranges, [](std::string_view s, size_t i, std::string& to) {
    size_t a = four_digits(s, i);
    if (a == std::string_view::npos) return a;
    size_t end = date_tag(s, a);
    if (end == std::string_view::npos) return end;
    to.append("year:").append(s.substr(i, 4));
    return end;
  });
}

std::vector<std::string> text_fields(std::string_view query) {
  std::vector<std::string> out;
  // ("[^"]*"?|[^\s()"]+) at i: the end of the value, or npos.
  auto value_end = [&query](size_t i) {
    if (i < query.size() && query[i] == '"') {
      size_t close = query.find('"', i + 1);
      return close == std::string_view::npos ? query.size() : close + 1;
    }
    size_t j = bare_value_end(query, i);
    return j > i ? j : std::string_view::npos;
  };
  auto field_at = [&](size_t at, std::string_view& name, size_t& end) {
    for (std::string_view candidate : {std::string_view("title"), std::string_view("author")}) {
      if (!starts_with_at(query, at, candidate)) continue;
      size_t colon = at + candidate.size();
      if (colon >= query.size() || query[colon] != ':') return false;
      end = value_end(colon + 1);
      if (end == std::string_view::npos) return false;
      name = candidate;
      return true;
    }
    return false;
  };
  for (size_t i = 0; i < query.size();) {
    std::string_view name;
    size_t end = 0;
    size_t name_at = 0;
    if (lead_then(query, i, name_at, [&](size_t at) { return field_at(at, name, end); })) {
      size_t value_at = name_at + name.size() + 1;
      out.push_back(std::string(name) + ": " + std::string(query.substr(value_at, end - value_at)));
      i = end;
    } else {
      ++i;
    }
  }
  return out;
}

bool is_free_text(std::string_view query) {
  static constexpr std::array<std::string_view, 6> kOperators = {"AND", "OR",   "NOT",
                                                                 "XOR", "NEAR", "ADJ"};
  for (size_t i = 0; i < query.size(); ++i) {
    char c = query[i];
    if (c == '"' || c == '(' || c == ')' || c == ':' || c == '*' || c == '+') return false;
    if (c == '-' && (i == 0 || is_space(query[i - 1]))) return false;
    if (c < 'A' || c > 'X' || (i > 0 && is_word(query[i - 1]))) continue;
    for (std::string_view op : kOperators) {
      size_t end = i + op.size();
      if (starts_with_at(query, i, op) && (end == query.size() || !is_word(query[end])))
        return false;
    }
  }
  return true;
}

std::string unfield_placeholders(std::string_view query) {
  if (query.find(':') == std::string_view::npos) return std::string(query);
  return replace_each(query, [](std::string_view s, size_t i, std::string& to) {
    auto keyword_end = [&s](size_t at) {
      for (std::string_view word : {std::string_view("xconcept:"), std::string_view("xcid:")})
        if (starts_with_at(s, at, word)) return at + word.size();
      return std::string_view::npos;
    };
    size_t name_at = i;
    size_t end = i == 0 ? keyword_end(0) : std::string_view::npos;
    if (end == std::string_view::npos) {
      if (is_word(s[i])) return std::string_view::npos;
      name_at = i + 1;
      end = keyword_end(name_at);
      if (end == std::string_view::npos) return end;
    }
    to.append(s.substr(i, end - 1 - i)).append(" ");
    return end;
  });
}

std::vector<ConceptField> concept_fields(std::string_view query) {
  std::vector<ConceptField> out;
  if (query.find("concept:") == std::string_view::npos) return out;
  // concept:(?:"([^"]*)"|([^\s()"]+)) at `at`: fills `field`'s value and end.
  auto field_at = [&query](size_t at, ConceptField& field) {
    if (!starts_with_at(query, at, "concept:")) return false;
    size_t v = at + 8;
    if (v < query.size() && query[v] == '"') {
      size_t close = query.find('"', v + 1);
      if (close == std::string_view::npos) return false;
      field.value = query.substr(v + 1, close - v - 1);
      field.end = close + 1;
      return true;
    }
    size_t j = bare_value_end(query, v);
    if (j == v) return false;
    field.value = query.substr(v, j - v);
    field.end = j;
    return true;
  };
  for (size_t i = 0; i < query.size();) {
    ConceptField field;
    size_t name_at = 0;
    if (lead_then(query, i, name_at, [&](size_t at) { return field_at(at, field); })) {
      field.begin = i;
      field.lead = query.substr(i, name_at - i);
      out.push_back(field);
      i = field.end;
    } else {
      ++i;
    }
  }
  return out;
}

std::string blank_field_names(std::string_view query) {
  std::string out;
  out.reserve(query.size());
  for (size_t i = 0; i < query.size();) {
    if (!is_alpha(query[i]) && query[i] != '_') {
      out += query[i++];
      continue;
    }
    size_t j = i;
    while (j < query.size() && (is_alpha(query[j]) || query[j] == '_')) ++j;
    if (j < query.size() && query[j] == ':') {
      out += ' ';
      i = j + 1;
    } else {
      out.append(query.substr(i, j - i));
      i = j;
    }
  }
  return out;
}

}  // namespace medsearch::internal
