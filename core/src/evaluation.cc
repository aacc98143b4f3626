#include "medsearch/evaluation.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include "medsearch/json.h"
#include "medsearch/text.h"

namespace medsearch {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

Result<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot open '" + path + "': " + std::strerror(errno));
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail("cannot read '" + path + "'");
  return data;
}

// Prefixes an error with the file it came from.
template <typename T>
Result<T> in_file(const std::string& path, Result<T> result) {
  if (!result) return fail(path + ": " + result.error());
  return result;
}

// Calls `visit(line_number, line)` for each line (CR stripped, BOM skipped);
// stops at and returns the first error `visit` returns.
template <typename Visit>
Status for_each_line(std::string_view data, Visit visit) {
  if (data.starts_with(kBom)) data.remove_prefix(kBom.size());
  size_t line_number = 0;
  while (!data.empty()) {
    size_t end = data.find('\n');
    std::string_view line = data.substr(0, end);
    data.remove_prefix(end == std::string_view::npos ? data.size() : end + 1);
    ++line_number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    Status status = visit(line_number, line);
    if (!status) return fail("line " + std::to_string(line_number) + ": " + status.error());
  }
  return {};
}

// The fields of `line` separated by runs of spaces and tabs.
std::vector<std::string_view> whitespace_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool parse_int(std::string_view text, int& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

bool parse_double(std::string_view text, double& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

// Discount of 1-based `rank` in DCG.
double discount(size_t rank) { return std::log2(static_cast<double>(rank) + 1.0); }

}  // namespace

Result<std::vector<QueryLine>> parse_queries(std::string_view data) {
  std::vector<QueryLine> queries;
  std::set<std::string> seen;
  enum class Form { kUnknown, kTsv, kJsonLines } form = Form::kUnknown;
  Status status = for_each_line(data, [&](size_t, std::string_view line) -> Status {
    if (trim(line).empty()) return {};
    if (form == Form::kUnknown) form = trim(line).starts_with('{') ? Form::kJsonLines : Form::kTsv;
    QueryLine query;
    if (form == Form::kJsonLines) {
      auto parsed = parse_json(line);
      if (!parsed) return fail("not JSON: " + parsed.error());
      if (!parsed->is_object())
        return fail("a query must be a JSON object with \"_id\" and \"text\"");
      query.id = std::string(trim(parsed->text("_id")));
      if (query.id.empty()) query.id = std::string(trim(parsed->text("id")));
      const JsonValue* text = parsed->find("text");
      if (!text || !text->is_string()) return fail("the query has no \"text\" string");
      query.text = std::string(trim(text->as_string()));
      if (query.id.empty()) return fail("the query has no \"_id\"");
    } else {
      size_t tab = line.find('\t');
      if (tab == std::string_view::npos)
        return fail("expected QUERY-ID<TAB>QUERY (or JSON Lines from the first line on)");
      query.id = std::string(trim(line.substr(0, tab)));
      query.text = std::string(trim(line.substr(tab + 1)));
      if (query.id.empty()) return fail("empty query id");
    }
    if (query.text.empty()) return fail("query '" + query.id + "' is empty");
    if (!seen.insert(query.id).second) return fail("query id '" + query.id + "' repeats");
    queries.push_back(std::move(query));
    return {};
  });
  if (!status) return std::move(status).take_error();
  return queries;
}

Result<std::vector<QueryLine>> load_queries(const std::string& path) {
  auto data = read_whole_file(path);
  if (!data) return std::move(data).take_error();
  return in_file(path, parse_queries(*data));
}

Result<Qrels> parse_qrels(std::string_view data) {
  Qrels qrels;
  bool first = true;
  Status status = for_each_line(data, [&](size_t, std::string_view line) -> Status {
    auto fields = whitespace_fields(line);
    if (fields.empty()) return {};
    bool was_first = first;
    first = false;
    if (fields.size() != 3 && fields.size() != 4)
      return fail("expected QUERY-ID 0 DOC-ID RELEVANCE or QUERY-ID DOC-ID RELEVANCE, not " +
                  std::to_string(fields.size()) + " fields");
    int grade = 0;
    if (!parse_int(fields.back(), grade)) {
      if (was_first) return {};  // a header line, e.g. "query-id corpus-id score"
      return fail("relevance '" + std::string(fields.back()) + "' is not an integer");
    }
    std::string doc(fields[fields.size() - 2]);
    auto [it, added] = qrels[std::string(fields[0])].emplace(doc, grade);
    if (!added && it->second != grade)
      return fail("document '" + doc + "' judged twice for query '" + std::string(fields[0]) +
                  "' with different grades");
    return {};
  });
  if (!status) return std::move(status).take_error();
  return qrels;
}

Result<Qrels> load_qrels(const std::string& path) {
  auto data = read_whole_file(path);
  if (!data) return std::move(data).take_error();
  return in_file(path, parse_qrels(*data));
}

Result<Run> parse_run(std::string_view data) {
  struct Entry {
    std::string doc;
    double score;
  };
  std::map<std::string, std::vector<Entry>> entries;
  std::map<std::string, std::set<std::string>> seen;
  Status status = for_each_line(data, [&](size_t, std::string_view line) -> Status {
    auto fields = whitespace_fields(line);
    if (fields.empty()) return {};
    if (fields.size() != 6)
      return fail("expected QUERY-ID Q0 DOC-ID RANK SCORE RUN-NAME, not " +
                  std::to_string(fields.size()) + " fields");
    double score = 0;
    if (!parse_double(fields[4], score))
      return fail("score '" + std::string(fields[4]) + "' is not a number");
    std::string query(fields[0]), doc(fields[2]);
    if (!seen[query].insert(doc).second)
      return fail("document '" + doc + "' listed twice for query '" + query + "'");
    entries[query].push_back({std::move(doc), score});
    return {};
  });
  if (!status) return std::move(status).take_error();
  Run run;
  for (auto& [query, list] : entries) {
    // trec_eval's order: the rank column is not trusted, scores are.
    std::sort(list.begin(), list.end(), [](const Entry& a, const Entry& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.doc > b.doc;
    });
    auto& ranking = run[query];
    for (auto& entry : list) ranking.push_back(std::move(entry.doc));
  }
  return run;
}

Result<Run> load_run(const std::string& path) {
  auto data = read_whole_file(path);
  if (!data) return std::move(data).take_error();
  return in_file(path, parse_run(*data));
}

QueryMetrics evaluate_query(const std::map<std::string, int>& judgments,
                            const std::vector<std::string>& ranking) {
  QueryMetrics m;
  m.retrieved = ranking.size();
  std::vector<int> ideal;
  for (const auto& [doc, grade] : judgments)
    if (grade > 0) ideal.push_back(grade);
  m.relevant = ideal.size();
  if (m.relevant == 0) return m;
  std::sort(ideal.rbegin(), ideal.rend());
  double ideal_dcg = 0;
  for (size_t i = 0; i < ideal.size() && i < kNdcgDepth; ++i)
    ideal_dcg += ideal[i] / discount(i + 1);

  double dcg = 0, precision_sum = 0;
  size_t found = 0, found_in_recall_depth = 0;
  for (size_t i = 0; i < ranking.size(); ++i) {
    auto it = judgments.find(ranking[i]);
    int grade = it == judgments.end() ? 0 : it->second;
    if (grade <= 0) continue;
    if (i < kNdcgDepth) dcg += grade / discount(i + 1);
    ++found;
    if (i < kRecallDepth) ++found_in_recall_depth;
    precision_sum += static_cast<double>(found) / static_cast<double>(i + 1);
  }
  m.ndcg = dcg / ideal_dcg;
  m.recall = static_cast<double>(found_in_recall_depth) / static_cast<double>(m.relevant);
  m.average_precision = precision_sum / static_cast<double>(m.relevant);
  return m;
}

RunMetrics evaluate_run(const Qrels& qrels, const Run& run) {
  RunMetrics out;
  static const std::vector<std::string> kNothing;
  for (const auto& [query, judgments] : qrels) {
    auto found = run.find(query);
    QueryMetrics m = evaluate_query(judgments, found == run.end() ? kNothing : found->second);
    if (m.relevant == 0) continue;  // trec_eval cannot score such a query either
    m.query_id = query;
    m.in_run = found != run.end();
    if (!m.in_run) ++out.missing;
    out.ndcg += m.ndcg;
    out.recall += m.recall;
    out.map += m.average_precision;
    out.queries.push_back(std::move(m));
  }
  if (!out.queries.empty()) {
    double n = static_cast<double>(out.queries.size());
    out.ndcg /= n;
    out.recall /= n;
    out.map /= n;
  }
  std::set<std::string> scored;
  for (const auto& m : out.queries) scored.insert(m.query_id);
  for (const auto& [query, ranking] : run)
    if (!scored.count(query)) ++out.unscored;
  return out;
}

Comparison compare_runs(const RunMetrics& before, const RunMetrics& after) {
  std::map<std::string, double> before_ndcg;
  for (const auto& m : before.queries) before_ndcg[m.query_id] = m.ndcg;
  Comparison out;
  for (const auto& m : after.queries) {
    auto it = before_ndcg.find(m.query_id);
    double was = it == before_ndcg.end() ? 0.0 : it->second;
    // Differences below this are rounding, not a change of ranking.
    constexpr double kEpsilon = 1e-9;
    if (m.ndcg > was + kEpsilon)
      out.wins.push_back({m.query_id, was, m.ndcg});
    else if (m.ndcg < was - kEpsilon)
      out.losses.push_back({m.query_id, was, m.ndcg});
    else
      ++out.ties;
  }
  auto by_size = [](const QueryChange& a, const QueryChange& b) {
    double da = std::fabs(a.after - a.before), db = std::fabs(b.after - b.before);
    if (da != db) return da > db;
    return a.query_id < b.query_id;
  };
  std::sort(out.wins.begin(), out.wins.end(), by_size);
  std::sort(out.losses.begin(), out.losses.end(), by_size);
  return out;
}

}  // namespace medsearch
