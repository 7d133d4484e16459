// A board as the changes that would produce it: one per key, its seq the
// value's version. Lets a reader that lost the change log's thread catch up
// from a snapshot through the same path as ordinary changes.
#ifndef PODIUM_COMMON_BOARD_CHANGES_H_
#define PODIUM_COMMON_BOARD_CHANGES_H_

#include <vector>

#include "podium/v1/types.pb.h"

namespace podium {

// Where a change a frontend applies comes from: the change log (every
// change, in order) or a whole board (current values, with the history
// between them and what came before missing).
enum class ChangeSource { kLog, kBoard };

// A value as the change that produced it.
inline v1::Change AsChange(const v1::EventScore& score) {
  v1::Change change;
  change.set_seq(score.version());
  *change.mutable_event() = score;
  return change;
}

inline v1::Change AsChange(const v1::MedalTally& tally) {
  v1::Change change;
  change.set_seq(tally.version());
  *change.mutable_medals() = tally;
  return change;
}

inline v1::Change AsChange(const v1::FanBoard& board) {
  v1::Change change;
  change.set_seq(board.version());
  *change.mutable_fans() = board;
  return change;
}

inline std::vector<v1::Change> BoardAsChanges(const v1::Board& board) {
  std::vector<v1::Change> changes;
  changes.reserve(board.events_size() + board.medals_size());
  for (const v1::EventScore& event : board.events()) changes.push_back(AsChange(event));
  for (const v1::MedalTally& tally : board.medals()) changes.push_back(AsChange(tally));
  return changes;
}

}  // namespace podium

#endif  // PODIUM_COMMON_BOARD_CHANGES_H_
