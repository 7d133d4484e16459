// A thin RAII layer over the SQLite C API that turns its error codes into
// absl::Status carrying SQLite's own message.
#ifndef PODIUM_BACKEND_SQLITE_DB_H_
#define PODIUM_BACKEND_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace podium {

class SqliteStatement;

// Not thread-safe: one owner at a time.
class SqliteDb {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows.
  absl::Status Exec(const std::string& sql);
  absl::StatusOr<std::unique_ptr<SqliteStatement>> Prepare(const std::string& sql);
  // An error status of `code` built from the connection's last error.
  absl::Status Error(int code, absl::string_view what) const;

 private:
  explicit SqliteDb(sqlite3* db, std::string path)
      : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// A prepared statement, reset after each use so it can be run again.
class SqliteStatement {
 public:
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Binds by 1-based index. Blobs and text are copied by SQLite.
  void BindInt(int index, int64_t value);
  void BindText(int index, absl::string_view value);
  void BindBlob(int index, absl::string_view value);

  // Steps once: true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Runs to completion a statement that returns no rows, then resets it.
  absl::Status Run();
  void Reset();

  int64_t ColumnInt(int index) const;
  // Valid until the next Step() or Reset().
  absl::string_view ColumnBlob(int index) const;

 private:
  friend class SqliteDb;
  SqliteStatement(sqlite3_stmt* stmt, const SqliteDb* db) : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_;
  const SqliteDb* db_;
};

}  // namespace podium

#endif  // PODIUM_BACKEND_SQLITE_DB_H_
