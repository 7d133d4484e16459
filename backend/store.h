// The Store: where the backend's truth lives. Implementations must make
// every acknowledged write durable before returning, give it the next
// global seq, append it to the change log, and apply each idempotency key
// at most once. SqliteStore is the embedded one; a server database can
// implement the same contract.
#ifndef PODIUM_BACKEND_STORE_H_
#define PODIUM_BACKEND_STORE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "podium/v1/backend.pb.h"
#include "podium/v1/types.pb.h"

namespace podium {

struct WriteResult {
  v1::Change change;
  // The idempotency key had been applied before; `change` is that
  // application's change and nothing was written now.
  bool duplicate = false;
};

// Implementations are thread-safe.
class Store {
 public:
  virtual ~Store() = default;

  using WriteDone = std::function<void(absl::StatusOr<WriteResult>)>;

  // Writes. `done` runs exactly once, when the write is durable or has
  // failed: on the calling thread before the call returns when the write
  // is refused at once (invalid, or the store is shutting down), otherwise
  // on a thread of the store's. Either way it must not block. The request must stay valid
  // until then. Invalid writes (unknown names, bad values, no key) fail
  // with INVALID_ARGUMENT or NOT_FOUND and change nothing. A key already
  // applied answers with that application (duplicate), or ALREADY_EXISTS
  // when the request differs from the one that applied it.
  virtual void RecordScoreAsync(const v1::RecordScoreRequest& request, WriteDone done) = 0;
  virtual void AwardMedalAsync(const v1::AwardMedalRequest& request, WriteDone done) = 0;
  // Fan boards (backend/fan_board.h): a post gets the write's seq as its
  // id; a removal of a post the board does not show is NOT_FOUND and uses
  // no seq.
  virtual void PostToFanBoardAsync(const v1::PostToFanBoardRequest& request, WriteDone done) = 0;
  virtual void RemovePostAsync(const v1::RemovePostRequest& request, WriteDone done) = 0;

  // The same, blocking until durable.
  absl::StatusOr<WriteResult> RecordScore(const v1::RecordScoreRequest& request);
  absl::StatusOr<WriteResult> AwardMedal(const v1::AwardMedalRequest& request);
  absl::StatusOr<WriteResult> PostToFanBoard(const v1::PostToFanBoardRequest& request);
  absl::StatusOr<WriteResult> RemovePost(const v1::RemovePostRequest& request);

  virtual absl::StatusOr<v1::EventScore> GetEvent(absl::string_view event) const = 0;
  virtual absl::StatusOr<v1::MedalTally> GetMedals(absl::string_view team) const = 0;
  virtual absl::StatusOr<v1::FanBoard> GetFanBoard(absl::string_view event) const = 0;
  virtual v1::Board GetBoard() const = 0;

  // Changes with seq > after_seq, at most `max_changes`; OUT_OF_RANGE when
  // some were compacted.
  virtual absl::StatusOr<std::vector<v1::Change>> ChangesSince(int64_t after_seq,
                                                               size_t max_changes) const = 0;
  // The retained changes of the key `request.name` stands for (see
  // Games::KeyOf), at most `max_changes` a page; see v1::History.
  // NOT_FOUND for a name outside the games, INVALID_ARGUMENT for an
  // ambiguous name or a negative after_seq.
  virtual absl::StatusOr<v1::History> GetHistory(const v1::HistoryRequest& request,
                                                 size_t max_changes) const = 0;
  virtual int64_t head_seq() const = 0;
  // Before a read that must reflect every write acknowledged up to now by
  // any backend over the same store (a frontend's miss, its replay after
  // a failover): waits until this store's reads do. UNAVAILABLE when that
  // cannot be known within a short while (no quorum reachable): the read
  // would be stale, and the caller should try another backend. A store
  // that is the only writer of its state is always current.
  virtual absl::Status AwaitCommitted() const { return absl::OkStatus(); }
  // Blocks until a change newer than after_seq is committed or `deadline`.
  virtual bool WaitForChangesAfter(int64_t after_seq, absl::Time deadline) const = 0;
};

}  // namespace podium

#endif  // PODIUM_BACKEND_STORE_H_
