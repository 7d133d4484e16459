// Where the bard's writes go. Replay and the simulator write through this
// interface rather than a gRPC stub so that their logic (order, pacing,
// stopping, medal bookkeeping) can be tested without a backend.
#ifndef PODIUM_BARD_SCORE_WRITER_H_
#define PODIUM_BARD_SCORE_WRITER_H_

#include "absl/status/statusor.h"
#include "podium/v1/backend.pb.h"

namespace podium {

// Implementations must be safe to call from several threads at once.
class ScoreWriter {
 public:
  virtual ~ScoreWriter() = default;

  // Applies the write once, or fails. An empty idempotency_key is filled in
  // by the implementation; a given key is what makes a retry (also a retry by
  // a later process) a no-op, so callers that can re-run a write must pass
  // the same key each time. On success the reply says whether the key had
  // already been applied (duplicate).
  virtual absl::StatusOr<v1::WriteReply> RecordScore(
      v1::RecordScoreRequest request) = 0;
  virtual absl::StatusOr<v1::WriteReply> AwardMedal(
      v1::AwardMedalRequest request) = 0;
};

}  // namespace podium

#endif  // PODIUM_BARD_SCORE_WRITER_H_
