// The bard's journal (podium-bard --journal=FILE): what makes a write
// exactly-once across bard crashes, and what makes "acknowledged awards"
// countable after a kill -9.
//
// Idempotency keys make a retry safe, but only while the bard remembers the
// write: a bard SIGKILLed after sending a write and before its answer does
// not know whether the backend applied it, and a new bard would not send it
// again. The journal remembers it across processes:
//
//   1. before a write is sent, a `write` line holding its key and request is
//      appended and fsynced (RecordWrite), so no write reaches the backend
//      unjournaled;
//   2. after the backend acknowledges it, an `ack` line (key, seq, whether it
//      was a duplicate) is appended (RecordAck); a definitive refusal (the
//      backend said the write itself is wrong) gets a `refused` line;
//   3. a bard started on an existing journal first re-sends every write
//      without an ack or refusal line, with its original key: the backend
//      answers "duplicate" if the lost attempt had been applied, applies it
//      otherwise; either way it is then applied exactly once.
//
// Ack lines are not fsynced: an ack lost in a machine crash only makes its
// write pending again, and re-sending it is answered as a duplicate.
//
// The line format is in bard/journal_format.h.
//
// A crash in the middle of an append leaves a torn last line (no newline, or
// a bad checksum). Open() drops invalid lines at the end of the file with a
// warning and truncates them away, so the next append starts on a clean
// line; an invalid line followed by valid ones is corruption, not a torn
// append, and fails with DATA_LOSS.
#ifndef PODIUM_BARD_JOURNAL_H_
#define PODIUM_BARD_JOURNAL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "bard/journal_format.h"
#include "bard/simulator.h"
#include "podium/v1/backend.pb.h"

namespace podium {

// What a journal says, counted once per idempotency key.
struct JournalSummary {
  int64_t acked = 0;       // acknowledged: applied, now or by an earlier try
  int64_t duplicates = 0;  // of those, answered "already applied"
  int64_t pending = 0;     // journaled, outcome unknown: to be re-sent
  int64_t refused = 0;     // refused by the backend for good
  std::map<std::string, MedalCount> medals;  // acknowledged awards, by team
};

// Thread-safe: the bard's writer threads append concurrently.
class Journal {
 public:
  // Opens the journal at `path`, creating an empty one if there is none,
  // and takes an exclusive lock on it for the life of the object: two bards
  // on one journal would re-send each other's writes. FAILED_PRECONDITION
  // when another process holds it; DATA_LOSS naming the line for a corrupt
  // journal; a torn tail is dropped (see above) and torn_lines() says so.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(const std::string& path);

  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();

  // Journals a write about to be sent; its key must be set. Returns once
  // the line is on disk (fsync). A key journaled before is not appended
  // again (re-sending a known write needs no new line); the same key with a
  // different request is FAILED_PRECONDITION, since the backend would
  // answer with the other write's application.
  absl::Status RecordWrite(const JournalRequest& request);
  // The backend acknowledged the journaled write `key`. NOT_FOUND for a key
  // never journaled. Nothing is appended for a key already acknowledged.
  absl::Status RecordAck(const std::string& key, const v1::WriteReply& reply);
  // The backend refused the write `key` for good (see IsDefinitiveRefusal).
  absl::Status RecordRefusal(const std::string& key,
                             const absl::Status& refusal);

  // Writes neither acknowledged nor refused, oldest first.
  std::vector<JournalRequest> Pending() const;
  JournalSummary Summary() const;

  const std::string& path() const { return path_; }
  // Invalid lines dropped from the end of the file by Open().
  int torn_lines() const { return torn_lines_; }

 private:
  enum class State { kPending, kAcked, kRefused };
  struct Entry {
    JournalRequest request;
    State state = State::kPending;
    bool duplicate = false;
  };
  Journal(std::string path, int fd, int torn_lines);

  // Applies one record to the in-memory state: what RecordX does after
  // appending and Open() does for each line read. `*changed` (may be null)
  // tells whether the record adds anything, i.e. whether to append it.
  absl::Status Apply(const JournalRecord& record, bool* changed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends `record` as one line; fsyncs when `sync`.
  absl::Status Append(const JournalRecord& record, bool sync)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Apply, then Append when the record changed something.
  absl::Status ApplyAndAppend(const JournalRecord& record, bool sync);

  const std::string path_;
  const int fd_;
  const int torn_lines_;

  mutable absl::Mutex mu_;
  std::vector<std::string> order_ ABSL_GUARDED_BY(mu_);  // keys, first seen
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

// True when `status` from a write means the backend looked at the write and
// refused it for good (an unknown name, a bad value): sending it again
// would be refused again, so the journal stops re-sending it. Every other
// failure (unavailable, deadline, cancelled, a wrong token, ...) leaves the
// write's outcome unknown, or fixable, so it stays pending.
bool IsDefinitiveRefusal(const absl::Status& status);

// "journal FILE: N writes acknowledged (D already applied), P pending,
// R refused" and one line per team awarded: "Gauls gold=1 silver=0 bronze=2".
std::string DescribeJournalSummary(const std::string& path,
                                   const JournalSummary& summary);
// {"acked":N,"duplicates":D,"pending":P,"refused":R,
//  "medals":{"TEAM":{"gold":..,"silver":..,"bronze":..},...}}
std::string JournalSummaryToJson(const JournalSummary& summary);

}  // namespace podium

#endif  // PODIUM_BARD_JOURNAL_H_
