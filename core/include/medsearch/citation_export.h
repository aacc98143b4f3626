// Citation formats for reference managers: a collection's items written as
// RIS, CSL-JSON, BibTeX, CSV or JSON Lines, and RIS read back. The RIS and
// CSL-JSON follow the conventions Zotero reads; docs/collections.md lists
// every field. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medsearch/collections.h"
#include "medsearch/result.h"

namespace medsearch {

// An author's name in parts. An organisation ("Riverside Pain Clinic") is
// kept whole in `family` with `literal` set.
struct PersonName {
  std::string family;
  std::string given;   // "Alicia M.", or initials "J. A." from PubMed's "Smith JA"
  std::string suffix;  // "Jr.", "III"
  bool literal = false;
};

// Splits an author as written: "Last, First", "First Last", "First van Last",
// PubMed's "Last FM" (initials become "F. M."), with credentials ("MD",
// "PharmD") dropped and suffixes ("Jr.") kept apart.
PersonName split_author_name(std::string_view name);

enum class ExportFormat { kRis, kCslJson, kBibtex, kCsv, kJsonl };

// "ris", "csljson" (or "csl-json"), "bibtex", "csv", "jsonl".
std::optional<ExportFormat> parse_export_format(std::string_view text);

// The reference type of a document in each format: research articles are
// journal articles, clinic pages blog posts, anything else a web page.
std::string ris_type(const Document& doc);  // JOUR, BLOG, ELEC
std::string csl_type(const Document& doc);  // article-journal, post-weblog, webpage

// BibTeX keys (also the CSL-JSON ids) by item id: first author's family name,
// year and first title word in lowercase ASCII ("torres2023ketamine"); an
// item whose key an earlier item (by id) already has gets "b", "c", ....
// Computed over the whole collection, so a key does not change with the
// items chosen for one export, nor when items are added.
using CitationKeys = std::map<int64_t, std::string>;
CitationKeys citation_keys(const std::vector<CollectionItem>& all_items);

// `items` in `format`. `keys` must hold every item's id (citation_keys).
std::string export_items(ExportFormat format, const std::vector<CollectionItem>& items,
                         const CitationKeys& keys);
std::string export_ris(const std::vector<CollectionItem>& items);
std::string export_csl_json(const std::vector<CollectionItem>& items, const CitationKeys& keys);
std::string export_bibtex(const std::vector<CollectionItem>& items, const CitationKeys& keys);
std::string export_csv(const std::vector<CollectionItem>& items);
std::string export_jsonl(const std::vector<CollectionItem>& items);

// `text` with BibTeX's special characters escaped (\ { } & % $ # _ ~ ^).
std::string bibtex_escape(std::string_view text);

// Reads RIS (as Zotero, EndNote or PubMed write it; LF or CRLF, a BOM
// allowed) into snapshots. Each gets a key: its URL, else "doi:" + DOI, else
// "pmid:" + PMID, else "ris:" + a hash of title, date and authors. Fails with
// the line number on a malformed file.
Result<std::vector<ItemSnapshot>> import_ris(std::string_view text);

}  // namespace medsearch
