// Fan boards: which posts are acceptable, and what a post or an
// operator's removal does to an event's board. Storage-agnostic, like
// BoardState, which keeps each event's board as one value (key
// "fans:EVENT"): a change carries the whole board, so a subscriber that
// misses an intermediate value (conflation, a snapshot) still holds every
// post the board shows.
#ifndef PODIUM_BACKEND_FAN_BOARD_H_
#define PODIUM_BACKEND_FAN_BOARD_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/fan_posts.h"
#include "podium/v1/backend.pb.h"
#include "podium/v1/types.pb.h"

namespace podium {

// The board after the post (its id is `seq`), trimmed to kMaxFanPosts.
v1::FanBoard ApplyPost(const v1::FanBoard& current, const v1::PostToFanBoardRequest& request,
                       int64_t seq, int64_t now_unix_micros);
// The board without post `request.post_id()`; NOT_FOUND when the board
// does not show it (never posted, removed already, or pushed off the end).
absl::StatusOr<v1::FanBoard> ApplyRemoval(const v1::FanBoard& current,
                                          const v1::RemovePostRequest& request, int64_t seq,
                                          int64_t now_unix_micros);

}  // namespace podium

#endif  // PODIUM_BACKEND_FAN_BOARD_H_
