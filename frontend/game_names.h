// The games' event and team names as a frontend knows them, read from the
// backend's board. A frontend refuses unknown names itself, so that a
// client's typo never reaches the master's interest table; but the backend
// accepts a games file that grew (when it restarts), so the names are read
// again, in the background, whenever a name is not among them (at most
// once per recheck interval: typos stay cheap) and when a board is served
// from names older than the maximum age. The first read starts at once,
// and is retried until the backend answers. Nothing here blocks a caller
// on the backend.
#ifndef PODIUM_FRONTEND_GAME_NAMES_H_
#define PODIUM_FRONTEND_GAME_NAMES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "podium/v1/types.pb.h"

namespace podium {

struct GameNamesOptions {
  absl::Duration recheck = absl::Seconds(1);
  absl::Duration max_age = absl::Seconds(30);
  // Longest pause between attempts at the first read.
  absl::Duration max_retry = absl::Seconds(1);
};

// Thread-safe.
class GameNames {
 public:
  using FetchBoard = std::function<absl::StatusOr<v1::Board>()>;
  // Called, without locks held, with a board whose names differ from those
  // known before (not for the first names).
  using OnChange = std::function<void(const v1::Board&)>;

  explicit GameNames(FetchBoard fetch, GameNamesOptions options = {},
                     OnChange on_change = nullptr);
  // Stops the background reader (waits for a read in progress).
  ~GameNames();

  GameNames(const GameNames&) = delete;
  GameNames& operator=(const GameNames&) = delete;

  // Whether any names are known yet.
  bool empty() const;
  // Waits up to `timeout` for the first names; whether there are any.
  bool WaitForNames(absl::Duration timeout) const;
  // Whether `key` ("event:NAME" / "team:NAME") is a known name; true while
  // none are known (the backend judges then). An unknown key asks for the
  // names to be read again in the background.
  bool Known(const std::string& key);
  std::vector<std::string> events() const;
  std::vector<std::string> teams() const;
  // The games as the last board read declared them (display names, marks,
  // medals), for the boards this frontend answers.
  v1::Games games() const;
  // Changes whenever the names or the games do (the first names
  // included), so that a board built from them can be kept meanwhile.
  uint64_t version() const;
  // Asks for a background read when the names are older than max_age.
  void RefreshIfOld();

  // For boards read elsewhere: take a ticket before the read, then hand
  // the board over. A read that started before the names now held were
  // read is ignored, so a slow old read cannot bring back old names.
  uint64_t Ticket();
  void Remember(const v1::Board& board, uint64_t ticket);

 private:
  void RequestLocked(absl::Duration age) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();

  const FetchBoard fetch_;
  const GameNamesOptions options_;
  const OnChange on_change_;

  mutable absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> teams_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> keys_ ABSL_GUARDED_BY(mu_);
  std::string shape_ ABSL_GUARDED_BY(mu_);
  v1::Games games_ ABSL_GUARDED_BY(mu_);
  // When a read of the names was last asked for or made.
  absl::Time requested_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t applied_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  bool wanted_ ABSL_GUARDED_BY(mu_) = true;  // the first read
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread reader_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_GAME_NAMES_H_
