// The current value of every key (event scores, medal tallies and fan
// boards, see fan_board.h) and the
// rules by which a write changes them. Storage-agnostic: a Store keeps one
// of these as the committed state and persists what it installs.
#ifndef PODIUM_BACKEND_BOARD_STATE_H_
#define PODIUM_BACKEND_BOARD_STATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "backend/games.h"
#include "common/keys.h"
#include "common/names.h"
#include "podium/v1/backend.pb.h"
#include "podium/v1/types.pb.h"

namespace podium {

// Not thread-safe: the owning store serializes access.
class BoardState {
 public:
  // Every event starts scheduled with 0 points for each team; every tally
  // at zero; all at version 0.
  explicit BoardState(Games games);

  const Games& games() const { return games_; }

  // OK, or INVALID_ARGUMENT (malformed: a bad name's spelling, values,
  // missing fields) / NOT_FOUND (a well-formed name outside the games)
  // naming the offending field. A write that passes cannot fail to apply.
  absl::Status Validate(const v1::RecordScoreRequest& request) const;
  absl::Status Validate(const v1::AwardMedalRequest& request) const;
  absl::Status Validate(const v1::PostToFanBoardRequest& request) const;
  absl::Status Validate(const v1::RemovePostRequest& request) const;

  // The value a validated write produces on top of `current`.
  static v1::EventScore ApplyScore(const v1::EventScore& current,
                                   const v1::RecordScoreRequest& request, int64_t seq,
                                   int64_t now_unix_micros);
  // FAILED_PRECONDITION for a revocation of a medal the team does not
  // have: the one check that needs the current value.
  static absl::StatusOr<v1::MedalTally> ApplyMedal(const v1::MedalTally& current,
                                                   const v1::AwardMedalRequest& request,
                                                   int64_t seq, int64_t now_unix_micros);

  // INVALID_ARGUMENT for a malformed name, NOT_FOUND for one outside the
  // games.
  absl::StatusOr<v1::EventScore> GetEvent(absl::string_view event) const;
  absl::StatusOr<v1::MedalTally> GetMedals(absl::string_view team) const;
  absl::StatusOr<v1::FanBoard> GetFanBoard(absl::string_view event) const;
  // The value of a key ("event:NAME" / "team:NAME", see common/keys.h) as
  // a change whose seq is the value's version. NOT_FOUND for a key outside
  // the games.
  absl::StatusOr<v1::Change> ValueOf(absl::string_view key) const;

  // Installs the value a change carries. Returns false (and changes
  // nothing) when the key is not part of the games, e.g. a stored value of
  // an event that a newer games file dropped.
  bool Install(const v1::Change& change);

  v1::Board ToBoard(int64_t seq) const;

 private:
  Games games_;
  absl::flat_hash_map<std::string, v1::EventScore> events_;
  absl::flat_hash_map<std::string, v1::MedalTally> medals_;
  absl::flat_hash_map<std::string, v1::FanBoard> fans_;  // by event

  absl::Status ValidateFanBoard(absl::string_view key, absl::string_view event) const;
};

}  // namespace podium

#endif  // PODIUM_BACKEND_BOARD_STATE_H_
