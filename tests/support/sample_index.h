// Small JSON Lines corpora for tests that index many records, and a check
// that an index holds each document once.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace medsearch::testing {

// Writes `count` small JSON Lines records about pain topics, ids r<first>,
// r<first + 1>, ...
void write_sample_records(const std::string& path, int count, int first = 0);

// The number of documents in the index at `db` and of distinct unique-id
// terms, each of which must be on one document (a Catch2 check): equal when
// nothing is duplicated. An index that was never committed (a run killed
// before its first commit) does not exist yet, which is whole too: {0, 0}.
std::pair<uint64_t, uint64_t> count_documents(const std::string& db);

}  // namespace medsearch::testing
