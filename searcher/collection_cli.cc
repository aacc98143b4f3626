#include "collection_cli.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "medsearch/citation_export.h"
#include "medsearch/cli.h"
#include "medsearch/collections.h"
#include "medsearch/searcher.h"
#include "medsearch/text.h"

namespace po = boost::program_options;

namespace medsearch::cli {
namespace {

constexpr const char* kProgram = "medsearch";
// Results taken from a query when --top is not given.
constexpr uint32_t kDefaultTop = 100;

constexpr const char* kUsageText =
    "Usage: medsearch collection [--db DIR]... [--collections PATH] COMMAND ...\n\n"
    "Research collections: gather documents from searches, screen them, keep them up to\n"
    "date and export them to reference managers (docs/collections.md).\n\n"
    "Commands:\n"
    "  create NAME [--description TEXT] [--query Q]... [--top N]\n"
    "  list\n"
    "  show NAME [--status include|exclude|maybe|unscreened]\n"
    "  delete NAME\n"
    "  rename NAME NEW-NAME\n"
    "  add NAME --query Q [--top N]      add NAME URL|DOCID...\n"
    "  remove NAME URL...\n"
    "  mark NAME URL include|exclude|maybe|unscreened [--reason TEXT]\n"
    "  note NAME URL TEXT\n"
    "  tag NAME URL TAG...\n"
    "  refresh NAME [--dry-run]\n"
    "  export NAME --format ris|csljson|bibtex|csv|jsonl [--status S] [-o FILE]\n"
    "  import NAME FILE.ris\n\n"
    "An item (URL above) is named by its URL, id, DOI, PMID or #number.\n\nOptions";

// Parsed command line.
struct Command {
  std::string name;               // create, list, ...
  std::vector<std::string> args;  // after the command
  std::vector<std::string> dbs;
  std::string collections_path;
  std::string description, reason, status, format, output;
  std::vector<std::string> queries;
  uint32_t top = 0;  // 0: not given
  bool dry_run = false;
  po::variables_map given;
};

// The store's own failures (I/O, a damaged or busy file) say "collections
// file"; anything else is about what the user asked for.
int exit_code_for(const std::string& message) {
  return message.find("collections file") != std::string::npos ? kFailure : kUsage;
}

int report(const std::string& message) { return error(kProgram, message, exit_code_for(message)); }

void require_args(const Command& command, size_t at_least, size_t at_most, const char* usage) {
  if (command.args.size() < at_least || command.args.size() > at_most)
    throw UsageError(std::string("usage: medsearch collection ") + usage);
}

// Options that make sense only with some commands are refused elsewhere, so
// that a mistyped command line does not silently do something else.
void allow_only(const Command& command, const std::set<std::string>& allowed) {
  for (const char* option :
       {"description", "query", "top", "reason", "status", "format", "output", "dry-run"}) {
    if (command.given.count(option) && !allowed.count(option))
      throw UsageError("--" + std::string(option) + " does not go with '" + command.name + "'");
  }
}

std::optional<ScreeningStatus> status_option(const Command& command) {
  if (command.status.empty()) return std::nullopt;
  auto status = parse_screening_status(command.status);
  if (!status)
    throw UsageError("--status must be include, exclude, maybe or unscreened, not '" +
                     command.status + "'");
  return status;
}

std::string describe(const Document& doc) {
  std::string title = doc.title.empty() ? "(untitled)" : doc.title;
  std::string where = doc.url.empty() ? doc.id : doc.url;
  return title + " <" + where + ">";
}

// Runs the index's search for `query` and turns its results into candidates.
Result<std::vector<Candidate>> run_query(Searcher& searcher, IndexSnapshots& index,
                                         const SavedQuery& query) {
  SearchOptions options;
  options.limit = query.top == 0 ? kDefaultTop : query.top;
  // A saved query means its own words each time it runs: no feedback terms,
  // no spelling changes.
  options.feedback = false;
  options.suggest = false;
  auto results = searcher.search(query.text, options);
  if (!results) return std::move(results).take_error();
  std::vector<Candidate> candidates;
  for (const SearchHit& hit : results->hits) {
    Candidate candidate;
    candidate.snapshot = index.snapshot_of(hit.doc);
    candidate.folded_copies = hit.similar;
    candidates.push_back(std::move(candidate));
  }
  return candidates;
}

// The index, opened for searching and for snapshots.
struct OpenIndex {
  Searcher searcher;
  IndexSnapshots snapshots;
};

Result<OpenIndex> open_index(const Command& command) {
  auto searcher = Searcher::open(command.dbs);
  if (!searcher) return std::move(searcher).take_error();
  auto snapshots = IndexSnapshots::open(command.dbs);
  if (!snapshots) return std::move(snapshots).take_error();
  return OpenIndex{std::move(*searcher), std::move(*snapshots)};
}

struct AddSummary {
  size_t added = 0, known = 0, duplicates = 0;
};

AddSummary summarise(const std::vector<AddResult>& results) {
  AddSummary summary;
  for (const AddResult& r : results) {
    if (r.outcome == AddOutcome::kAdded) ++summary.added;
    if (r.outcome == AddOutcome::kKnown) ++summary.known;
    if (r.outcome == AddOutcome::kDuplicate) ++summary.duplicates;
  }
  return summary;
}

std::string summary_text(const AddSummary& s) {
  return std::to_string(s.added) + " added, " + std::to_string(s.duplicates) + " duplicates, " +
         std::to_string(s.known) + " already seen";
}

// Runs the queries and adds their results; prints one line per query.
int add_from_queries(CollectionStore& store, OpenIndex& index, const std::string& name,
                     const std::vector<SavedQuery>& queries) {
  for (const SavedQuery& query : queries) {
    auto candidates = run_query(index.searcher, index.snapshots, query);
    if (!candidates) return error(kProgram, "query '" + query.text + "': " + candidates.error());
    auto added = store.add(name, *candidates, "query: " + query.text, AddMode::kNewOnly);
    if (!added) return report(added.error());
    std::cout << "query '" << query.text << "': " << candidates->size() << " results, "
              << summary_text(summarise(*added)) << "\n";
  }
  return kOk;
}

void print_counts(const ScreeningCounts& c) {
  auto row = [](const std::string& label, uint64_t n) {
    std::cout << "  " << std::left << std::setw(32) << label << std::right << std::setw(7) << n
              << "\n";
  };
  std::cout << "Flow (PRISMA):\n";
  row("records identified", c.identified);
  row("duplicates removed", c.duplicates);
  row("removed by hand", c.removed);
  row("records in the collection", c.items);
  row("records screened", c.screened);
  row("  included", c.included);
  row("  excluded", c.excluded);
  for (const auto& [reason, n] : c.exclusion_reasons)
    row("    " + (reason.empty() ? std::string("(no reason given)") : reason), n);
  row("  maybe", c.maybe);
  row("not yet screened", c.unscreened);
}

void print_item(const CollectionItem& item) {
  const Document& doc = item.snapshot.doc;
  std::cout << "#" << item.id << " [" << to_string(item.status) << "] " << describe(doc) << "\n";
  std::vector<std::string> details;
  if (!doc.date.empty()) details.push_back(doc.date);
  if (!doc.type.empty()) details.push_back(doc.type);
  if (!doc.evidence.empty()) details.push_back(doc.evidence);
  if (!doc.doi.empty()) details.push_back("doi:" + doc.doi);
  if (!item.reason.empty()) details.push_back("reason: " + item.reason);
  if (!item.tags.empty()) {
    std::string tags;
    for (const std::string& tag : item.tags) tags += (tags.empty() ? "" : ", ") + tag;
    details.push_back("tags: " + tags);
  }
  if (!details.empty()) {
    std::string line;
    for (const std::string& d : details) line += (line.empty() ? "" : " · ") + d;
    std::cout << "    " << line << "\n";
  }
  if (!item.note.empty()) std::cout << "    note: " << item.note << "\n";
}

// Writes `text` to `path` through a temporary file, so a failed export
// leaves an earlier file whole.
Status write_file(const std::string& path, const std::string& text) {
  std::string temporary = path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return fail("cannot write '" + path + "'");
    out << text;
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      return fail("writing '" + path + "' failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::remove(temporary.c_str());
    return fail("cannot write '" + path + "': " + ec.message());
  }
  return {};
}

int cmd_create(CollectionStore& store, const Command& c) {
  allow_only(c, {"description", "query", "top"});
  require_args(c, 1, 1, "create NAME [--description TEXT] [--query Q]... [--top N]");
  std::vector<SavedQuery> queries;
  for (const std::string& q : c.queries) {
    if (trim(q).empty()) throw UsageError("--query cannot be empty");
    queries.push_back({q, c.top});
  }
  std::optional<OpenIndex> index;
  // The index is opened first, so a bad --db does not leave an empty collection.
  if (!queries.empty()) {
    auto opened = open_index(c);
    if (!opened) return error(kProgram, opened.error());
    index.emplace(std::move(*opened));
  }
  if (Status ok = store.create(c.args[0], c.description, queries); !ok) return report(ok.error());
  std::cout << "created collection '" << c.args[0] << "'\n";
  if (!index) return kOk;
  return add_from_queries(store, *index, c.args[0], queries);
}

int cmd_list(CollectionStore& store, const Command& c) {
  allow_only(c, {});
  require_args(c, 0, 0, "list");
  auto all = store.list();
  if (!all) return report(all.error());
  for (const CollectionInfo& info : *all) {
    std::cout << info.name << "\t" << info.items << " items\t" << info.queries.size()
              << " queries\t"
              << (info.last_refresh.empty() ? "never refreshed" : "refreshed " + info.last_refresh)
              << (info.description.empty() ? "" : "\t" + info.description) << "\n";
  }
  return kOk;
}

int cmd_show(CollectionStore& store, const Command& c) {
  allow_only(c, {"status"});
  require_args(c, 1, 1, "show NAME [--status include|exclude|maybe|unscreened]");
  auto status = status_option(c);
  const std::string& name = c.args[0];
  auto info = store.info(name);
  if (!info) return report(info.error());
  auto counts = store.counts(name);
  if (!counts) return report(counts.error());
  auto items = store.items(name, status);
  if (!items) return report(items.error());
  std::cout << "Collection '" << info->name << "'"
            << (info->description.empty() ? "" : ": " + info->description) << "\n";
  std::cout << "Created " << info->created << "; "
            << (info->last_refresh.empty() ? "never refreshed"
                                           : "last refreshed " + info->last_refresh)
            << "\n";
  for (const SavedQuery& q : info->queries)
    std::cout << "Query: " << q.text << " (top " << (q.top ? q.top : kDefaultTop) << ")\n";
  print_counts(*counts);
  std::cout << "\n"
            << items->size() << (status ? " " + std::string(to_string(*status)) : "")
            << " items:\n";
  for (const CollectionItem& item : *items) print_item(item);
  return kOk;
}

int cmd_delete(CollectionStore& store, const Command& c) {
  allow_only(c, {});
  require_args(c, 1, 1, "delete NAME");
  if (Status ok = store.remove_collection(c.args[0]); !ok) return report(ok.error());
  std::cout << "deleted collection '" << c.args[0] << "'\n";
  return kOk;
}

int cmd_rename(CollectionStore& store, const Command& c) {
  allow_only(c, {});
  require_args(c, 2, 2, "rename NAME NEW-NAME");
  if (Status ok = store.rename(c.args[0], c.args[1]); !ok) return report(ok.error());
  std::cout << "renamed '" << c.args[0] << "' to '" << c.args[1] << "'\n";
  return kOk;
}

int cmd_add(CollectionStore& store, const Command& c) {
  allow_only(c, {"query", "top"});
  const char* usage = "add NAME --query Q [--top N]  or  add NAME URL|DOCID...";
  if (c.args.empty()) throw UsageError(std::string("usage: medsearch collection ") + usage);
  const std::string& name = c.args[0];
  if (!c.queries.empty() && c.args.size() > 1)
    throw UsageError("give --query or documents, not both");
  if (c.queries.empty() && c.args.size() < 2)
    throw UsageError(std::string("usage: medsearch collection ") + usage);
  if (auto info = store.info(name); !info) return report(info.error());
  if (!c.queries.empty()) {
    std::vector<SavedQuery> queries;
    for (const std::string& q : c.queries) {
      if (trim(q).empty()) throw UsageError("--query cannot be empty");
      queries.push_back({q, c.top});
    }
    auto index = open_index(c);
    if (!index) return error(kProgram, index.error());
    // Saved, so that refresh runs them again.
    for (const SavedQuery& q : queries)
      if (Status ok = store.save_query(name, q); !ok) return report(ok.error());
    return add_from_queries(store, *index, name, queries);
  }
  auto index = open_index(c);
  if (!index) return error(kProgram, index.error());
  std::vector<Candidate> candidates;
  // Every document is found before any is added: one unknown adds none.
  for (size_t i = 1; i < c.args.size(); ++i) {
    auto snapshot = index->snapshots.find(c.args[i]);
    if (!snapshot) return error(kProgram, snapshot.error(), kUsage);
    candidates.push_back({std::move(*snapshot), 0});
  }
  auto added = store.add(name, candidates, "added", AddMode::kExplicit);
  if (!added) return report(added.error());
  for (size_t i = 0; i < added->size(); ++i) {
    const AddResult& r = (*added)[i];
    const char* what = r.outcome == AddOutcome::kAdded       ? "added"
                       : r.outcome == AddOutcome::kDuplicate ? "duplicate of an item, not added"
                                                             : "already in the collection";
    std::cout << what << ": #" << r.item_id << " " << describe(candidates[i].snapshot.doc) << "\n";
  }
  return kOk;
}

int cmd_remove(CollectionStore& store, const Command& c) {
  allow_only(c, {});
  require_args(c, 2, SIZE_MAX, "remove NAME URL...");
  const std::string& name = c.args[0];
  // Checked first, so that one unknown item removes none.
  for (size_t i = 1; i < c.args.size(); ++i) {
    if (auto item = store.find_item(name, c.args[i]); !item) return report(item.error());
  }
  for (size_t i = 1; i < c.args.size(); ++i) {
    if (Status ok = store.remove_item(name, c.args[i]); !ok) return report(ok.error());
    std::cout << "removed " << c.args[i] << "\n";
  }
  return kOk;
}

int cmd_mark(CollectionStore& store, const Command& c) {
  allow_only(c, {"reason"});
  require_args(c, 3, 3, "mark NAME URL include|exclude|maybe|unscreened [--reason TEXT]");
  auto status = parse_screening_status(c.args[2]);
  if (!status)
    throw UsageError("mark wants include, exclude, maybe or unscreened, not '" + c.args[2] + "'");
  if (Status ok = store.mark(c.args[0], c.args[1], *status, c.reason); !ok)
    return report(ok.error());
  std::cout << "marked " << c.args[1] << " " << to_string(*status)
            << (c.reason.empty() ? "" : " (" + c.reason + ")") << "\n";
  return kOk;
}

int cmd_note(CollectionStore& store, const Command& c) {
  allow_only(c, {});
  require_args(c, 3, SIZE_MAX, "note NAME URL TEXT");
  std::string text;
  for (size_t i = 2; i < c.args.size(); ++i) text += (i > 2 ? " " : "") + c.args[i];
  if (Status ok = store.set_note(c.args[0], c.args[1], text); !ok) return report(ok.error());
  std::cout << "noted " << c.args[1] << "\n";
  return kOk;
}

int cmd_tag(CollectionStore& store, const Command& c) {
  allow_only(c, {});
  require_args(c, 3, SIZE_MAX, "tag NAME URL TAG...");
  for (size_t i = 2; i < c.args.size(); ++i) {
    if (trim(c.args[i]).empty()) throw UsageError("a tag cannot be empty");
  }
  if (auto item = store.find_item(c.args[0], c.args[1]); !item) return report(item.error());
  for (size_t i = 2; i < c.args.size(); ++i) {
    if (Status ok = store.add_tag(c.args[0], c.args[1], c.args[i]); !ok) return report(ok.error());
  }
  std::cout << "tagged " << c.args[1] << "\n";
  return kOk;
}

// Re-runs the saved queries; prints exactly the records not seen before.
int cmd_refresh(CollectionStore& store, const Command& c) {
  allow_only(c, {"dry-run"});
  require_args(c, 1, 1, "refresh NAME [--dry-run]");
  const std::string& name = c.args[0];
  auto info = store.info(name);
  if (!info) return report(info.error());
  if (info->queries.empty())
    return error(kProgram, "collection '" + name + "' has no saved queries to refresh", kUsage);
  auto index = open_index(c);
  if (!index) return error(kProgram, index.error());
  // All queries' results, each record once (the first query that found it).
  std::vector<Candidate> candidates;
  std::vector<std::string> sources;
  std::set<std::string> keys;
  for (const SavedQuery& query : info->queries) {
    auto found = run_query(index->searcher, index->snapshots, query);
    if (!found) return error(kProgram, "query '" + query.text + "': " + found.error());
    for (Candidate& candidate : *found) {
      if (!keys.insert(candidate.snapshot.key).second) continue;
      candidates.push_back(std::move(candidate));
      sources.push_back("refresh: " + query.text);
    }
  }
  std::vector<std::string> all_keys(keys.begin(), keys.end());
  auto known = store.known_keys(name, all_keys);
  if (!known) return report(known.error());
  std::set<std::string> seen(known->begin(), known->end());
  std::vector<size_t> fresh;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (!seen.count(candidates[i].snapshot.key)) fresh.push_back(i);

  std::string since = info->last_refresh.empty() ? info->created : info->last_refresh;
  if (c.dry_run) {
    for (size_t i : fresh) std::cout << "new: " << describe(candidates[i].snapshot.doc) << "\n";
    std::cout << fresh.size() << " new since " << since << " (dry run: nothing added)\n";
    return kOk;
  }
  size_t added_count = 0, duplicate_count = 0;
  for (size_t i : fresh) {
    auto added = store.add(name, {candidates[i]}, sources[i], AddMode::kNewOnly);
    if (!added) return report(added.error());
    const AddResult& r = added->front();
    if (r.outcome == AddOutcome::kAdded) {
      ++added_count;
      std::cout << "new: #" << r.item_id << " " << describe(candidates[i].snapshot.doc) << "\n";
    } else if (r.outcome == AddOutcome::kDuplicate) {
      ++duplicate_count;
      std::cout << "duplicate of #" << r.item_id << ": " << describe(candidates[i].snapshot.doc)
                << "\n";
    }
  }
  if (Status ok = store.mark_refreshed(name); !ok) return report(ok.error());
  std::cout << added_count << " new since " << since;
  if (duplicate_count) std::cout << ", " << duplicate_count << " duplicates not added";
  std::cout << "\n";
  return kOk;
}

int cmd_export(CollectionStore& store, const Command& c) {
  allow_only(c, {"format", "status", "output"});
  require_args(c, 1, 1, "export NAME --format ris|csljson|bibtex|csv|jsonl [--status S] [-o FILE]");
  if (c.format.empty()) throw UsageError("export needs --format ris|csljson|bibtex|csv|jsonl");
  auto format = parse_export_format(c.format);
  if (!format)
    throw UsageError("--format must be ris, csljson, bibtex, csv or jsonl, not '" + c.format + "'");
  auto status = status_option(c);
  auto all = store.items(c.args[0]);
  if (!all) return report(all.error());
  // Keys come from the whole collection, so they do not depend on --status.
  CitationKeys keys = citation_keys(*all);
  std::vector<CollectionItem> chosen;
  for (const CollectionItem& item : *all)
    if (!status || item.status == *status) chosen.push_back(item);
  std::string text = export_items(*format, chosen, keys);
  if (c.output.empty() || c.output == "-") {
    std::cout << text;
    std::cout.flush();
    return std::cout ? kOk : error(kProgram, "writing the export failed");
  }
  if (Status ok = write_file(c.output, text); !ok) return error(kProgram, ok.error());
  std::cerr << kProgram << ": exported " << chosen.size() << " items to " << c.output << "\n";
  return kOk;
}

int cmd_import(CollectionStore& store, const Command& c) {
  allow_only(c, {"description"});
  require_args(c, 2, 2, "import NAME FILE.ris");
  const std::string& name = c.args[0];
  const std::string& path = c.args[1];
  std::ifstream in(path, std::ios::binary);
  if (!in) return error(kProgram, "cannot read '" + path + "'", kUsage);
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto records = import_ris(buffer.str());
  if (!records) return error(kProgram, "'" + path + "': " + records.error(), kUsage);
  std::vector<Candidate> candidates;
  for (ItemSnapshot& snapshot : *records) {
    if (snapshot.accessed.empty()) snapshot.accessed = utc_date_today();
    candidates.push_back({std::move(snapshot), 0});
  }
  // Importing seeds a collection: it is created when missing.
  if (!store.info(name)) {
    if (Status ok = store.create(name, c.description, {}); !ok) return report(ok.error());
    std::cout << "created collection '" << name << "'\n";
  }
  std::string file = std::filesystem::path(path).filename().string();
  auto added = store.add(name, candidates, "import: " + file, AddMode::kNewOnly);
  if (!added) return report(added.error());
  std::cout << "imported " << candidates.size() << " records from " << file << ": "
            << summary_text(summarise(*added)) << "\n";
  return kOk;
}

}  // namespace

int run_collection_command(int argc, char** argv) {
  Command c;
  po::options_description visible(kUsageText);
  visible.add_options()("help,h", "show this help")(
      "db,d", po::value(&c.dbs)->composing(),
      "index directory (repeatable); else $MEDSEARCH_DB, else var/index")(
      "collections", po::value(&c.collections_path),
      "the collections file (default: collections.sqlite beside the first index)")(
      "description", po::value(&c.description), "create, import: what the collection is for")(
      "query,q", po::value(&c.queries)->composing(), "create, add: a query to save and run")(
      "top", po::value(&c.top), "create, add: results taken from each query (default 100)")(
      "reason", po::value(&c.reason), "mark: why (e.g. 'not an RCT')")(
      "status", po::value(&c.status), "show, export: only items marked so")(
      "format,f", po::value(&c.format), "export: ris, csljson, bibtex, csv or jsonl")(
      "output,o", po::value(&c.output), "export: write to FILE instead of stdout")(
      "dry-run", "refresh: show what is new without adding it");
  po::options_description hidden;
  std::vector<std::string> positional_args;
  hidden.add_options()("args", po::value(&positional_args)->composing());
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("args", -1);
  po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), c.given);
  po::notify(c.given);
  // program_options sees argv[0] ("collection") as the program name.
  if (c.given.count("help") || positional_args.empty()) {
    std::cout << visible << "\nExamples:\n"
              << "  medsearch collection create crps --query 'ketamine CRPS' --top 50\n"
              << "  medsearch collection mark crps https://clinic.example/a.html exclude "
                 "--reason 'not an RCT'\n"
              << "  medsearch collection refresh crps\n"
              << "  medsearch collection export crps --format ris --status include -o crps.ris\n";
    return positional_args.empty() && !c.given.count("help") ? kUsage : kOk;
  }
  c.name = positional_args[0];
  c.args.assign(positional_args.begin() + 1, positional_args.end());
  c.dry_run = c.given.count("dry-run") > 0;
  if (c.given.count("top") && (c.top < 1 || c.top > 1000))
    throw UsageError("--top must be between 1 and 1000");
  if (c.dbs.empty()) {
    const char* env = std::getenv("MEDSEARCH_DB");
    c.dbs.push_back(env && *env ? env : "var/index");
  }
  if (c.collections_path.empty()) c.collections_path = default_collections_path(c.dbs[0]);

  using Handler = int (*)(CollectionStore&, const Command&);
  static const std::pair<const char*, Handler> kCommands[] = {
      {"create", cmd_create}, {"list", cmd_list}, {"show", cmd_show},       {"delete", cmd_delete},
      {"rename", cmd_rename}, {"add", cmd_add},   {"remove", cmd_remove},   {"mark", cmd_mark},
      {"note", cmd_note},     {"tag", cmd_tag},   {"refresh", cmd_refresh}, {"export", cmd_export},
      {"import", cmd_import}};
  Handler handler = nullptr;
  for (const auto& [command_name, function] : kCommands)
    if (c.name == command_name) handler = function;
  if (!handler) throw UsageError("unknown collection command '" + c.name + "'");

  // Reading commands do not create a store that is not there.
  bool writes = c.name != "list" && c.name != "show" && c.name != "export";
  bool exists = std::filesystem::exists(c.collections_path);
  if (!writes && !exists) {
    if (c.name == "list") return kOk;  // no collections yet
    return error(kProgram,
                 "no collections file '" + c.collections_path + "' (create a collection first)",
                 kUsage);
  }
  auto store = CollectionStore::open(c.collections_path, writes);
  if (!store) return error(kProgram, store.error());
  return handler(*store, c);
}

}  // namespace medsearch::cli
