// What `podium-client top` shows: the newest value of every event and
// tally it has been sent, laid out to fit a terminal of a given size.
#ifndef PODIUM_CLIENT_LIVE_BOARD_H_
#define PODIUM_CLIENT_LIVE_BOARD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "podium/v1/scoreboard.pb.h"
#include "podium/v1/types.pb.h"

namespace podium {

// Thread-safe: a subscription applies updates while the screen renders.
class LiveBoard {
 public:
  // Fixes the order of events and teams (the games' order) and their
  // first values.
  void Reset(const v1::Board& board);
  // Keeps the update's value when it is newer than the one held. An event
  // or team the board did not list is added at the end.
  void Apply(const v1::SubscribeUpdate& update, absl::Time now);
  // Whether anything changed since the last Render.
  bool changed() const;

  // `height` lines (fewer when everything fits), none wider than `width`:
  // a header naming `frontend`, the seq and age of the last update; every
  // event with its status and points; the ranked medal table; a footer.
  // Rows that do not fit are summed up in one "+N more" line.
  std::vector<std::string> Render(int width, int height,
                                  const std::string& frontend, absl::Time now);

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> teams_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, v1::EventScore> scores_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, v1::MedalTally> tallies_ ABSL_GUARDED_BY(mu_);
  int64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_update_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool changed_ ABSL_GUARDED_BY(mu_) = true;
};

}  // namespace podium

#endif  // PODIUM_CLIENT_LIVE_BOARD_H_
