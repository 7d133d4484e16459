// A ScoreWriter that journals (bard/journal.h) every write it passes to the
// writer underneath, and re-sends the writes an earlier bard left pending.
// This is what podium-bard --journal=FILE puts between its commands and
// the backend.
#ifndef PODIUM_BARD_JOURNALED_WRITER_H_
#define PODIUM_BARD_JOURNALED_WRITER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bard/journal.h"
#include "bard/score_writer.h"

namespace podium {

// Thread-safe when the inner writer is (the journal is).
class JournaledWriter : public ScoreWriter {
 public:
  // `journal` and `writer` must outlive this. `next_key` names a write that
  // comes without an idempotency key (BardWriter::NextKey): the key must be
  // chosen here, before the write is journaled, so that a re-send after a
  // crash carries the same key as the lost attempt.
  JournaledWriter(Journal* journal, ScoreWriter* writer,
                  std::function<std::string()> next_key);

  // Journal the write (on disk before it is sent), send it through the
  // inner writer, journal the outcome. A failure to journal the write fails
  // the call without sending anything. A write whose outcome stays unknown
  // (the inner writer gave up or was stopped) stays pending in the journal.
  absl::StatusOr<v1::WriteReply> RecordScore(
      v1::RecordScoreRequest request) override;
  absl::StatusOr<v1::WriteReply> AwardMedal(
      v1::AwardMedalRequest request) override;

  // Re-sends every pending write of the journal, oldest first, each with its
  // own key, and journals the answers: the backend applies a write whose
  // earlier attempt was lost and answers "duplicate" for one it had applied.
  // A write refused for good is journaled as refused and skipped. Stops at
  // the first write whose outcome stays unknown and returns its error, so
  // that nothing new is written while an older write is unresolved.
  // `resent` (may be null) counts the writes answered.
  absl::Status ResendPending(int64_t* resent = nullptr);

 private:
  // Sends an already journaled write and journals its outcome.
  absl::StatusOr<v1::WriteReply> Deliver(const JournalRequest& request);
  // Keys, journals and delivers a new write.
  absl::StatusOr<v1::WriteReply> Write(JournalRequest request);

  Journal* const journal_;
  ScoreWriter* const writer_;
  const std::function<std::string()> next_key_;
};

}  // namespace podium

#endif  // PODIUM_BARD_JOURNALED_WRITER_H_
