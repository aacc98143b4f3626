#include "sample_index.h"

#include <xapian.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "medsearch/index_writer.h"
#include "medsearch/indexer.h"
#include "medsearch/schema.h"
#include "medsearch/vocabulary.h"

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

namespace {

constexpr const char* kNearCopies =
    R"({"_id": "syndicated-1", "url": "https://news.example.net/a/ketamine-clinics", "title": "Ketamine clinics multiply", "date": "2025-03-01", "text": "Across the region ketamine clinics are opening in shopping centres and office parks, offering infusions for depression and chronic pain. Doctors interviewed for this report urged patients to ask about monitoring, the evidence behind each protocol, and what happens after the course of infusions ends. Several clinics advertise packages of six sessions over two weeks, priced well above what most insurers will reimburse, and few publish their outcomes. Pain specialists pointed out that the trials behind these treatments were small and short, that relief often fades, and that repeated dosing carries risks for the bladder and liver. Patients who had tried the infusions described experiences ranging from lasting benefit to none at all, and several said they wished they had been told more before starting. Regulators in two states are now reviewing how such clinics screen patients and whether an anaesthetist must be present, and professional bodies have issued interim guidance within weeks."}
{"_id": "syndicated-2", "url": "https://mirror.example.com/health/ketamine-clinics", "title": "Ketamine clinics are multiplying", "date": "2025-03-01", "text": "Across the region ketamine clinics are opening in shopping centres and office parks, offering infusions for depression and chronic pain. Doctors interviewed for this report urged patients to ask about monitoring, the evidence behind each protocol, and what happens after the course of infusions ends. Several clinics advertise packages of six sessions over two weeks, priced well above what most insurers will reimburse, and few publish their outcomes. Pain specialists pointed out that the trials behind these treatments were small and short, that relief often fades, and that repeated dosing carries risks for the bladder and liver. Patients who had tried the infusions described experiences ranging from lasting benefit to none at all, and several said they wished they had been told more before starting. Regulators in two states are now reviewing how such clinics screen patients and whether an anaesthetist must be present, and professional bodies have issued interim guidance within weeks."}
)";

}  // namespace

const FixtureIndex& fixture_index() {
  static FixtureIndex index;
  static const bool built = [] {
    std::ofstream(index.dir / "near-copies.jsonl") << kNearCopies;
    auto writer = IndexWriter::open(index.path);
    REQUIRE(writer);
    auto vocabulary = std::make_shared<Vocabulary>();
    REQUIRE(vocabulary->load_core());
    vocabulary->compile();
    REQUIRE((*writer)->set_vocabulary(vocabulary));
    IndexerOptions options;
    options.threads = 0;
    Indexer indexer(**writer, options);
    REQUIRE(indexer.add_input(source_path("fixtures/site")));
    REQUIRE(indexer.add_input(source_path("fixtures/records/records-sample.jsonl")));
    REQUIRE(indexer.add_input(source_path("fixtures/records/pubmed-sample.xml")));
    REQUIRE(indexer.add_input(index.dir / "near-copies.jsonl"));
    REQUIRE(indexer.finish());
    return true;
  }();
  (void)built;
  return index;
}

const FixtureIndex& feedback_index() {
  static FixtureIndex index;
  static const bool built = [] {
    auto writer = IndexWriter::open(index.path);
    REQUIRE(writer);
    auto doc = [](const std::string& id, const std::string& title, const std::string& text) {
      Document d;
      d.id = d.url = "https://feedback.test/" + id;
      d.title = title;
      d.text = text;
      d.type = "research";
      return d;
    };
    // Filler: 1,200 documents on other subjects, so that feedback is used.
    const char* topics[] = {"asthma inhaler airway", "knee cartilage surgery", "statin cholesterol",
                            "sleep apnoea snoring", "vitamin deficiency diet"};
    for (int i = 0; i < 1200; ++i)
      REQUIRE((*writer)->put(doc("filler" + std::to_string(i), "Report " + std::to_string(i),
                                 std::string(topics[i % 5]) + " outcomes in cohort " +
                                     std::to_string(i) + " with follow up")));
    for (int i = 0; i < 5; ++i)
      REQUIRE((*writer)->put(doc("z" + std::to_string(i), "Zolmitriptan trial " + std::to_string(i),
                                 "zolmitriptan for migraine with aura: triptan response, "
                                 "photophobia and nausea, batch " +
                                     std::to_string(i))));
    // Shares only function words ("and", "for") with the documents above.
    REQUIRE((*writer)->put(
        doc("decoy", "Lunch menu", "apples and pears for lunch, and bread and tea for later")));
    REQUIRE((*writer)->put(doc("target", "Aura and photophobia",
                               "triptan response in migraine with aura, photophobia and "
                               "nausea at two hours")));
    REQUIRE((*writer)->commit());
    return true;
  }();
  (void)built;
  return index;
}

}  // namespace medsearch::testing
