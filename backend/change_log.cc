#include "backend/change_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "glog/logging.h"

namespace podium {

ChangeLog::ChangeLog(size_t retention) : retention_(std::max<size_t>(retention, 1)) {}

void ChangeLog::Append(const std::vector<v1::Change>& changes) {
  absl::MutexLock lock(&mu_);
  for (const v1::Change& change : changes) {
    CHECK(changes_.empty() || change.seq() == head_seq_ + 1)
        << "change log gap: appending seq " << change.seq() << " after "
        << head_seq_;
    changes_.push_back(change);
    head_seq_ = change.seq();
  }
  while (changes_.size() > retention_) changes_.pop_front();
}

int64_t ChangeLog::head_seq() const {
  absl::MutexLock lock(&mu_);
  return head_seq_;
}

absl::StatusOr<std::vector<v1::Change>> ChangeLog::Since(
    int64_t after_seq, size_t max_changes) const {
  if (after_seq < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "seq ", after_seq, " is negative: seqs start at 1; ask after seq 0 for "
        "everything retained"));
  }
  absl::MutexLock lock(&mu_);
  std::vector<v1::Change> out;
  if (after_seq >= head_seq_) return out;
  const int64_t oldest = changes_.empty() ? head_seq_ + 1 : changes_.front().seq();
  if (after_seq + 1 < oldest) {
    return absl::OutOfRangeError(absl::StrCat(
        "changes after seq ", after_seq, " were compacted (the oldest kept is ",
        oldest, "); read the board with GetBoard and continue from its seq"));
  }
  const size_t begin = static_cast<size_t>(after_seq + 1 - oldest);
  const size_t end = std::min(changes_.size(), begin + max_changes);
  out.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) out.push_back(changes_[i]);
  return out;
}

v1::History ChangeLog::HistoryOf(absl::string_view key, int64_t after_seq,
                                 size_t max_changes) const {
  v1::History history;
  history.set_key(std::string(key));
  absl::string_view name = key;
  const bool event = absl::ConsumePrefix(&name, "event:");
  if (!event) absl::ConsumePrefix(&name, "team:");
  absl::MutexLock lock(&mu_);
  history.set_head_seq(head_seq_);
  const int64_t oldest = changes_.empty() ? head_seq_ + 1 : changes_.front().seq();
  history.set_compacted_through_seq(oldest - 1);
  const size_t begin = after_seq < oldest
                           ? 0
                           : static_cast<size_t>(std::min<int64_t>(
                                 after_seq + 1 - oldest, changes_.size()));
  for (size_t i = begin; i < changes_.size(); ++i) {
    const v1::Change& change = changes_[i];
    const bool match = event ? change.has_event() && change.event().event() == name
                             : change.has_medals() && change.medals().team() == name;
    if (!match) continue;
    if (static_cast<size_t>(history.changes_size()) == max_changes) {
      history.set_more(true);
      break;
    }
    *history.add_changes() = change;
  }
  return history;
}

bool ChangeLog::WaitForChangesAfter(int64_t after_seq,
                                    absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto newer = [this, after_seq]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return head_seq_ > after_seq;
  };
  return mu_.AwaitWithDeadline(absl::Condition(&newer), deadline);
}

}  // namespace podium
