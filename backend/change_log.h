// The retained tail of the change log, in memory, for ChangesSince and
// Watch. The durable copy is the store's; this one is rebuilt from it at
// start-up. Seqs only increase; they may skip (etcd's revisions also count
// writes outside Podium's keys), so the log records the seq after which it
// holds every change ("complete after"). Retention is bounded: older
// changes are dropped, and asking for them is OUT_OF_RANGE, telling the
// reader to take a snapshot instead.
#ifndef PODIUM_BACKEND_CHANGE_LOG_H_
#define PODIUM_BACKEND_CHANGE_LOG_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "podium/v1/types.pb.h"

namespace podium {

// Thread-safe: one writer appends, any number of readers read and wait.
class ChangeLog {
 public:
  // Keeps the newest `retention` changes (at least 1).
  explicit ChangeLog(size_t retention);

  // Appends committed changes, each with a seq above head_seq(). The first
  // append after construction may start anywhere, which is how a restart
  // resumes: the log is then complete after the seq before its first.
  void Append(const std::vector<v1::Change>& changes);

  // Drops every change and starts over: complete after `seq`, which is
  // also the new head. For a feed that lost its place (history compacted
  // before it was read).
  void RestartAfter(int64_t seq);

  int64_t head_seq() const;

  // Changes with seq > after_seq, oldest first, at most `max_changes`.
  // OUT_OF_RANGE when the change after `after_seq` is no longer retained.
  absl::StatusOr<std::vector<v1::Change>> Since(int64_t after_seq, size_t max_changes) const;

  // The retained changes of `key` ("event:NAME" / "team:NAME", see
  // common/keys.h) with seq > after_seq, oldest first, at most
  // `max_changes` (`more` set when more follow), and how far the log was
  // compacted.
  v1::History HistoryOf(absl::string_view key, int64_t after_seq, size_t max_changes) const;

  // Blocks until head_seq() > after_seq or `deadline`; true when there is
  // something newer.
  bool WaitForChangesAfter(int64_t after_seq, absl::Time deadline) const;

 private:
  // The first retained change with a seq above `seq`.
  std::deque<v1::Change>::const_iterator FirstAfter(int64_t seq) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t retention_;
  mutable absl::Mutex mu_;
  std::deque<v1::Change> changes_ ABSL_GUARDED_BY(mu_);
  // The seq of the newest change ever appended, even once compacted away.
  int64_t head_seq_ ABSL_GUARDED_BY(mu_) = 0;
  // Every change with a seq above this one is in changes_; -1 until the
  // first append or restart says where the log begins.
  int64_t complete_after_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace podium

#endif  // PODIUM_BACKEND_CHANGE_LOG_H_
