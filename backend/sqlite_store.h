// The embedded Store: one SQLite file in WAL mode with synchronous=FULL, so
// a commit returns only after its WAL frames are fsync'd.
//
// Group commit: writers queue their requests; one committer thread takes
// everything queued, applies it in a single transaction and commits once,
// then answers every writer of the batch. Concurrent writers thus share one
// fsync, and the single committer hands out seqs without gaps or races.
// Reads are served from the committed in-memory state and never touch disk.
#ifndef PODIUM_BACKEND_SQLITE_STORE_H_
#define PODIUM_BACKEND_SQLITE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "backend/board_state.h"
#include "backend/change_log.h"
#include "backend/event_awards.h"
#include "backend/games.h"
#include "backend/store.h"

namespace podium {

class SqliteDb;
class SqliteStatement;

struct SqliteStoreOptions {
  // Changes kept for ChangesSince/Watch; older ones are compacted.
  size_t change_retention = 100'000;
  // Idempotency keys remembered; a retry older than this many later writes
  // would be applied again.
  size_t idempotency_retention = 1'000'000;
  // Most writes committed in one transaction.
  size_t max_batch = 4096;
};

// Thread-safe.
class SqliteStore : public Store {
 public:
  // Opens (creating if needed) the database at `path`, loads the committed
  // state and starts the committer. Fails if another process holds the file.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const std::string& path, Games games, SqliteStoreOptions options = {});
  // Commits what is queued, then stops.
  ~SqliteStore() override;

  void RecordScoreAsync(const v1::RecordScoreRequest& request,
                        WriteDone done) override;
  void AwardMedalAsync(const v1::AwardMedalRequest& request,
                       WriteDone done) override;
  void PostToFanBoardAsync(const v1::PostToFanBoardRequest& request, WriteDone done) override;
  void RemovePostAsync(const v1::RemovePostRequest& request, WriteDone done) override;
  absl::StatusOr<v1::EventScore> GetEvent(
      absl::string_view event) const override;
  absl::StatusOr<v1::MedalTally> GetMedals(
      absl::string_view team) const override;
  absl::StatusOr<v1::FanBoard> GetFanBoard(absl::string_view event) const override;
  v1::Board GetBoard() const override;
  absl::StatusOr<std::vector<v1::Change>> ChangesSince(
      int64_t after_seq, size_t max_changes) const override;
  absl::StatusOr<v1::History> GetHistory(const v1::HistoryRequest& request,
                                         size_t max_changes) const override;
  int64_t head_seq() const override;
  bool WaitForChangesAfter(int64_t after_seq,
                           absl::Time deadline) const override;

  struct Stats {
    int64_t transactions = 0;  // committed batches
    int64_t writes = 0;        // writes answered through those batches
  };
  Stats stats() const;

 private:
  struct PendingWrite;

  SqliteStore(Games games, SqliteStoreOptions options);
  absl::Status Init(const std::string& path);
  template <typename Request>
  void ValidateAndSubmit(const Request& request, WriteDone done);
  void Submit(std::unique_ptr<PendingWrite> write);
  void CommitLoop();
  void CommitBatch(const std::vector<std::unique_ptr<PendingWrite>>& batch);
  // Runs the batch's statements inside an open transaction and fills in the
  // results; on error the caller rolls back.
  absl::Status ApplyBatch(const std::vector<std::unique_ptr<PendingWrite>>& batch,
                          std::vector<v1::Change>* new_changes);
  absl::Status Compact(int64_t head);
  // The answer to a write whose key was applied before: the original
  // change, unless the recorded fingerprint shows a different request.
  static absl::StatusOr<WriteResult> Duplicate(const PendingWrite& write,
                                               v1::Change original, int64_t fingerprint);
  // An event's medal counts: from `overlay` (changed earlier in the batch),
  // else from the database.
  absl::StatusOr<EventAwards> EventAwardsOf(
      const std::string& event, const absl::flat_hash_map<std::string, EventAwards>& overlay);
  // Databases from before request fingerprints lack the column.
  absl::Status AddRequestColumn();

  const SqliteStoreOptions options_;

  mutable absl::Mutex state_mu_;
  BoardState state_ ABSL_GUARDED_BY(state_mu_);
  int64_t committed_seq_ ABSL_GUARDED_BY(state_mu_) = 0;
  Stats stats_ ABSL_GUARDED_BY(state_mu_);
  ChangeLog log_;

  absl::Mutex queue_mu_;
  std::vector<std::unique_ptr<PendingWrite>> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;

  // Used only by Init() and then by the committer thread.
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<SqliteStatement> find_applied_;
  std::unique_ptr<SqliteStatement> put_value_;
  std::unique_ptr<SqliteStatement> put_change_;
  std::unique_ptr<SqliteStatement> put_applied_;
  std::unique_ptr<SqliteStatement> find_awards_;
  std::unique_ptr<SqliteStatement> put_awards_;
  std::thread committer_;
};

}  // namespace podium

#endif  // PODIUM_BACKEND_SQLITE_STORE_H_
