// Internal: a prepared SQLite statement, shared by the crawl frontier and the
// collections store. Not part of the public API.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace medsearch::internal {

// A prepared statement; finalized on destruction. A statement that did not
// prepare is not ok(), and stepping it gives SQLITE_ERROR.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr) != SQLITE_OK) statement_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return statement_ != nullptr; }
  std::string error() const { return sqlite3_errmsg(db_); }

  void bind(int index, std::string_view text) {
    sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
  }
  void bind(int index, int64_t value) { sqlite3_bind_int64(statement_, index, value); }
  void bind(int index, int value) { sqlite3_bind_int(statement_, index, value); }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return statement_ ? sqlite3_step(statement_) : SQLITE_ERROR; }
  // Calls row(*this) for each row; true when the rows ran out (SQLITE_DONE),
  // false on an error.
  template <typename Row>
  bool each_row(Row&& row) {
    int rc;
    while ((rc = step()) == SQLITE_ROW) row(static_cast<const Statement&>(*this));
    return rc == SQLITE_DONE;
  }
  // Ready to be bound and stepped again, with no binding left.
  void reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

  int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
  std::string text(int column) const {
    const unsigned char* value = sqlite3_column_text(statement_, column);
    return value ? std::string(reinterpret_cast<const char*>(value),
                               static_cast<size_t>(sqlite3_column_bytes(statement_, column)))
                 : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

}  // namespace medsearch::internal
