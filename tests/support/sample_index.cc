#include "sample_index.h"

#include <xapian.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "medsearch/schema.h"

namespace medsearch::testing {

void write_sample_records(const std::string& path, int count, int first) {
  static const char* kTopics[] = {"ketamine infusion", "neuropathic pain",      "fibromyalgia",
                                  "opioid tapering",   "central sensitization", "migraine"};
  std::ofstream out(path);
  for (int i = first; i < first + count; ++i) {
    const char* topic = kTopics[i % 6];
    out << "{\"_id\":\"r" << i << "\",\"title\":\"Study " << i << " of " << topic
        << "\",\"text\":\"We followed " << (i % 97) + 3 << " patients receiving care for " << topic
        << " over " << (i % 11) + 1
        << " months and recorded pain scores, sleep and function at each visit.\"}\n";
  }
}

std::pair<uint64_t, uint64_t> count_documents(const std::string& db) {
  if (!std::filesystem::exists(std::filesystem::path(db) / "iamglass")) return {0, 0};
  Xapian::Database database(db);
  const std::string prefix(schema::kUniqueId);
  uint64_t unique = 0;
  for (auto it = database.allterms_begin(prefix); it != database.allterms_end(prefix); ++it) {
    CHECK(it.get_termfreq() == 1);
    ++unique;
  }
  return {database.get_doccount(), unique};
}

}  // namespace medsearch::testing
