// The query language, end to end: parsing, concept expansion, fields, dates,
// filters, spelling, snippets and facets, on a small index built once.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "fuzz.h"
#include "medsearch/document.h"
#include "medsearch/index_writer.h"
#include "medsearch/searcher.h"
#include "medsearch/vocabulary.h"

namespace {

std::unique_ptr<medsearch::Searcher> searcher;
std::string index_dir;

void remove_index() { std::filesystem::remove_all(index_dir); }

medsearch::Document doc(const std::string& id, const std::string& title, const std::string& text,
                        const std::string& type, const std::string& date) {
  medsearch::Document d;
  d.id = d.url = "https://clinic.test/" + id;
  d.site = "clinic.test";
  d.title = title;
  d.text = text;
  d.type = type;
  d.date = date;
  d.authors = {"Ada Lovelace"};
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* tmp = std::getenv("TMPDIR");
  index_dir =
      std::string(tmp && *tmp ? tmp : "/tmp") + "/medsearch-query-fuzz-" + std::to_string(getpid());
  std::filesystem::remove_all(index_dir);
  std::atexit(remove_index);
  auto vocabulary = std::make_shared<medsearch::Vocabulary>();
  if (!vocabulary->load_core()) std::abort();
  vocabulary->compile();
  {
    auto writer = medsearch::IndexWriter::open(index_dir);
    if (!writer || !(*writer)->set_vocabulary(vocabulary)) std::abort();
    (void)(*writer)->put(doc("crps", "Ketamine for CRPS",
                             "Complex regional pain syndrome and low-dose ketamine infusions.",
                             "clinic", "2021-03-05"));
    (void)(*writer)->put(doc("nmda", "NMDA receptors",
                             "N-methyl-D-aspartate receptor antagonists and central sensitisation.",
                             "research", "2015"));
    (void)(*writer)->put(doc("rsd", "Reflex sympathetic dystrophy",
                             "An older name; allodynia and oedema after fractures.", "news",
                             "2019-11"));
  }
  auto opened = medsearch::Searcher::open({index_dir});
  if (!opened) std::abort();
  searcher = std::make_unique<medsearch::Searcher>(std::move(*opened));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // the CGI and CLI cap queries well below this
  std::string query(medsearch::fuzz::as_text(data, size));
  medsearch::SearchOptions options;
  options.facets = {"site", "year", "type", "evidence", "concept"};
  options.auto_correct = size % 2 == 0;
  (void)searcher->search(query, options);
  return 0;
}
