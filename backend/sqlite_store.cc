// SqliteStore: opening the database (schema, the state and the retained
// log read back) and the reads. The write path is in sqlite_store_writes.cc.
#include "backend/sqlite_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backend/sqlite_db.h"
#include "glog/logging.h"

namespace podium {
namespace {

constexpr char kSchema[] = R"sql(
  -- The newest value of every key that was ever written, as a Change.
  CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY, change BLOB NOT NULL) WITHOUT ROWID;
  -- The retained change log.
  CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY, change BLOB NOT NULL);
  -- Applied idempotency keys, the change each produced and a fingerprint
  -- of the request (NULL in rows written before fingerprints existed).
  CREATE TABLE IF NOT EXISTS applied (
    key TEXT PRIMARY KEY, seq INTEGER NOT NULL, change BLOB NOT NULL,
    request INTEGER) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS applied_by_seq ON applied (seq);
  -- How many of each medal an event has awarded (backend/event_awards.h);
  -- counted from the first award naming the event made by a store that
  -- has this table.
  CREATE TABLE IF NOT EXISTS event_awards (
    event TEXT PRIMARY KEY, gold INTEGER NOT NULL, silver INTEGER NOT NULL,
    bronze INTEGER NOT NULL) WITHOUT ROWID;
)sql";

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, Games games,
                                                               SqliteStoreOptions options) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(games), options));
  if (absl::Status s = store->Init(path); !s.ok()) return s;
  store->committer_ = std::thread([raw = store.get()] { raw->CommitLoop(); });
  return store;
}

absl::Status SqliteStore::Init(const std::string& path) {
  absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path);
  if (!db.ok()) return db.status();
  db_ = *std::move(db);
  // EXCLUSIVE locking keeps a second backend off the same file; FULL makes
  // each commit fsync the WAL before it returns.
  absl::Status s = db_->Exec(
      "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; "
      "PRAGMA synchronous=FULL;");
  if (s.ok()) s = db_->Exec(kSchema);
  if (s.ok()) s = AddRequestColumn();
  if (!s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot use database '", path, "' (is another podium-backend using it?): ", s.message()));
  }

  auto prepare = [this](const char* sql, std::unique_ptr<SqliteStatement>* out) -> absl::Status {
    absl::StatusOr<std::unique_ptr<SqliteStatement>> stmt = db_->Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    *out = *std::move(stmt);
    return absl::OkStatus();
  };
  std::unique_ptr<SqliteStatement> read_values, read_changes;
  for (absl::Status st : {
           prepare("SELECT change, request FROM applied WHERE key = ?1", &find_applied_),
           prepare("INSERT OR REPLACE INTO kv (key, change) VALUES (?1, ?2)", &put_value_),
           prepare("INSERT INTO changes (seq, change) VALUES (?1, ?2)", &put_change_),
           prepare("INSERT INTO applied (key, seq, change, request) "
                   "VALUES (?1, ?2, ?3, ?4)",
                   &put_applied_),
           prepare("SELECT gold, silver, bronze FROM event_awards WHERE event = ?1", &find_awards_),
           prepare("INSERT OR REPLACE INTO event_awards (event, gold, silver, bronze) "
                   "VALUES (?1, ?2, ?3, ?4)",
                   &put_awards_),
           prepare("SELECT change FROM kv", &read_values),
           prepare("SELECT change FROM changes ORDER BY seq", &read_changes),
       }) {
    if (!st.ok()) return st;
  }

  // Rebuild the committed state and the retained change log from disk.
  absl::MutexLock lock(&state_mu_);
  v1::Change change;
  while (true) {
    absl::StatusOr<bool> row = read_values->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (!change.ParseFromString(std::string(read_values->ColumnBlob(0)))) {
      return absl::DataLossError(absl::StrCat("corrupt value row in '", path, "'"));
    }
    committed_seq_ = std::max(committed_seq_, change.seq());
    if (!state_.Install(change)) {
      LOG(WARNING) << "database '" << path << "' holds " << ChangeKey(change)
                   << ", which the games file no longer names; ignoring it";
    }
  }
  std::vector<v1::Change> retained;
  while (true) {
    absl::StatusOr<bool> row = read_changes->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (!change.ParseFromString(std::string(read_changes->ColumnBlob(0)))) {
      return absl::DataLossError(absl::StrCat("corrupt change row in '", path, "'"));
    }
    retained.push_back(change);
    committed_seq_ = std::max(committed_seq_, change.seq());
  }
  log_.Append(retained);
  LOG(INFO) << "opened '" << path << "': head seq " << committed_seq_ << ", " << retained.size()
            << " changes retained";
  return absl::OkStatus();
}

absl::Status SqliteStore::AddRequestColumn() {
  absl::StatusOr<std::unique_ptr<SqliteStatement>> has =
      db_->Prepare("SELECT 1 FROM pragma_table_info('applied') WHERE name = 'request'");
  if (!has.ok()) return has.status();
  absl::StatusOr<bool> row = (*has)->Step();
  if (!row.ok()) return row.status();
  if (*row) return absl::OkStatus();
  LOG(INFO) << "adding request fingerprints to the idempotency table; keys applied "
               "before now are matched by key alone";
  return db_->Exec("ALTER TABLE applied ADD COLUMN request INTEGER");
}

absl::StatusOr<v1::EventScore> SqliteStore::GetEvent(absl::string_view event) const {
  absl::ReaderMutexLock lock(&state_mu_);
  return state_.GetEvent(event);
}

absl::StatusOr<v1::MedalTally> SqliteStore::GetMedals(absl::string_view team) const {
  absl::ReaderMutexLock lock(&state_mu_);
  return state_.GetMedals(team);
}

absl::StatusOr<v1::FanBoard> SqliteStore::GetFanBoard(absl::string_view event) const {
  absl::ReaderMutexLock lock(&state_mu_);
  return state_.GetFanBoard(event);
}

v1::Board SqliteStore::GetBoard() const {
  absl::ReaderMutexLock lock(&state_mu_);
  return state_.ToBoard(committed_seq_);
}

absl::StatusOr<std::vector<v1::Change>> SqliteStore::ChangesSince(int64_t after_seq,
                                                                  size_t max_changes) const {
  return log_.Since(after_seq, max_changes);
}

absl::StatusOr<v1::History> SqliteStore::GetHistory(const v1::HistoryRequest& request,
                                                    size_t max_changes) const {
  if (request.after_seq() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("after_seq ", request.after_seq(),
                     " is negative: 0 reads from the oldest retained change"));
  }
  absl::StatusOr<std::string> key;
  {
    absl::ReaderMutexLock lock(&state_mu_);
    key = state_.games().KeyOf(request.name());
  }
  if (!key.ok()) return key.status();
  return log_.HistoryOf(*key, request.after_seq(), max_changes);
}

int64_t SqliteStore::head_seq() const {
  absl::ReaderMutexLock lock(&state_mu_);
  return committed_seq_;
}

bool SqliteStore::WaitForChangesAfter(int64_t after_seq, absl::Time deadline) const {
  return log_.WaitForChangesAfter(after_seq, deadline);
}

SqliteStore::Stats SqliteStore::stats() const {
  absl::ReaderMutexLock lock(&state_mu_);
  return stats_;
}

}  // namespace podium
