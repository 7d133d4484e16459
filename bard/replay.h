// Replay files: a recorded sequence of writes, sung into the backend in order.
// The format is described in docs/replay.md:
//
//   # comment (also after a write); blank lines are ignored
//   score EVENT TEAM=POINTS [TEAM=POINTS...] [status=scheduled|live|final]
//   award TEAM gold|silver|bronze [event=EVENT]
//
// The whole file is parsed before anything is written, so a malformed file
// writes nothing.
//
// Idempotency: the key of each line's write is
//   replay-<16 hex digits of FNV-1a 64 of NAME, '\n', WORDS>-<K>
// where NAME is the replay's name (by default the file's absolute path;
// --replay_name to choose), WORDS the line's words joined by single spaces
// (comment and extra spaces gone) and K counts the identical WORDS up to
// this line (1 for the first). A `score` line's WORDS are prefixed with the
// key of the previous score line of the same event, so its key covers that
// event's history in the file. So:
//  - replaying a file again, after a crash, a stop or a fix, re-sends
//    every unchanged line with its original key and the backend skips
//    those it applied;
//  - an award line is applied once however the rest of the file changes;
//  - after an edit of a score line, it and every later score line of its
//    event are applied again, in order, so the event ends as the file says.
#ifndef PODIUM_BARD_REPLAY_H_
#define PODIUM_BARD_REPLAY_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "bard/score_writer.h"
#include "podium/v1/backend.pb.h"
#include "podium/v1/types.pb.h"

namespace podium {

struct ReplayWrite {
  int line = 0;  // 1-based, in the file
  // With its idempotency key filled in.
  std::variant<v1::RecordScoreRequest, v1::AwardMedalRequest> request;
};

struct Replay {
  std::string source;  // names the file in errors: "FILE:LINE: ..."
  std::string name;    // part of every key (see above)
  std::vector<ReplayWrite> writes;
};

// INVALID_ARGUMENT naming source:line and what was expected there: a
// malformed line, or points above the backend's kMaxPoints. `name` empty
// means `source` as given. A UTF-8 byte-order mark is skipped.
absl::StatusOr<Replay> ParseReplay(absl::string_view content,
                                   absl::string_view source,
                                   absl::string_view name = "");
// As ParseReplay, `name` empty meaning the file's absolute path; NOT_FOUND
// when the file cannot be read.
absl::StatusOr<Replay> LoadReplayFile(const std::string& path,
                                      absl::string_view name = "");

// The idempotency key of the `occurrence`-th line (1-based) with `words`
// in the replay called `name` (see above).
std::string ReplayKey(absl::string_view name, absl::string_view words,
                      int occurrence);

// NOT_FOUND naming source:line for the first event or team that `board`
// (the backend's) does not have. With ParseReplay this is every check the
// backend makes of a single write, so a file that passes both is refused
// nothing for its content, and a bad file writes nothing.
absl::Status CheckReplayNames(const Replay& replay, const v1::Board& board);

struct ReplayProgress {
  int64_t applied = 0;     // writes the backend applied now
  int64_t duplicates = 0;  // writes it had applied before (earlier run)
};

// Writes in file order and stops at the first failure, returned with its
// code and "source:line: " before the message. A notified `stop` (may be
// null) ends the run before the next line with CANCELLED naming that line;
// the write in flight finishes first. `progress` (may be null) counts what
// was acknowledged, also when the run fails.
absl::Status RunReplay(const Replay& replay, ScoreWriter* writer,
                       const absl::Notification* stop = nullptr,
                       ReplayProgress* progress = nullptr);

}  // namespace podium

#endif  // PODIUM_BARD_REPLAY_H_
