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
// Idempotency: the key of the write on line N is
//   replay-<16 hex digits of the FNV-1a 64 hash of the whole file>-<N>
// so it depends only on the file's bytes and the line. Replaying the same
// file again, e.g. after the bard crashed or was stopped midway, re-sends
// the lines already applied with their original keys and the backend skips
// them: no line is ever applied twice. Editing the file changes every key,
// so an edited file is a new replay (within the backend's retention of keys).
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
  std::vector<ReplayWrite> writes;
};

// INVALID_ARGUMENT naming source:line and what was expected there.
absl::StatusOr<Replay> ParseReplay(absl::string_view content,
                                   absl::string_view source);
// As ParseReplay; NOT_FOUND when the file cannot be read.
absl::StatusOr<Replay> LoadReplayFile(const std::string& path);

// The idempotency key of line `line` of a file with `content` (see above).
std::string ReplayKey(absl::string_view content, int line);

// NOT_FOUND naming source:line for the first event or team that `board`
// (the backend's) does not have. Checking before writing extends "a
// malformed file writes nothing" to names the games do not know.
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
