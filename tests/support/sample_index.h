// Small JSON Lines corpora for tests that index many records, a check that
// an index holds each document once, and the fixture corpus's index.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "process.h"

namespace medsearch::testing {

// Writes `count` small JSON Lines records about pain topics, ids r<first>,
// r<first + 1>, ...
void write_sample_records(const std::string& path, int count, int first = 0);

// The number of documents in the index at `db` and of distinct unique-id
// terms, each of which must be on one document (a Catch2 check): equal when
// nothing is duplicated. An index that was never committed (a run killed
// before its first commit) does not exist yet, which is whole too: {0, 0}.
std::pair<uint64_t, uint64_t> count_documents(const std::string& db);

// The fixture site, the sample records, the PubMed sample and two
// near-copies (a syndicated story, retitled: results show "N similar"),
// indexed with the core vocabulary by one single-writer Indexer. Built once
// per test process, on first use, in a temporary directory.
struct FixtureIndex {
  TempDir dir;
  std::string path = dir / "index";
};
const FixtureIndex& fixture_index();

// An index large enough for pseudo-relevance feedback (1,207 documents):
// 1,200 on other subjects, five "Zolmitriptan trial N" about zolmitriptan
// for migraine with aura, https://feedback.test/target, about the same
// without the word (found only through the feedback), and .../decoy, which
// shares only function words with them. Built once per test process, on
// first use.
const FixtureIndex& feedback_index();

}  // namespace medsearch::testing
