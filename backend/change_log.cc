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
    if (complete_after_ < 0) complete_after_ = change.seq() - 1;
    CHECK(change.seq() > head_seq_)
        << "change log out of order: appending seq " << change.seq() << " after " << head_seq_;
    changes_.push_back(change);
    head_seq_ = change.seq();
  }
  while (changes_.size() > retention_) {
    complete_after_ = changes_.front().seq();
    changes_.pop_front();
  }
}

void ChangeLog::RestartAfter(int64_t seq) {
  absl::MutexLock lock(&mu_);
  changes_.clear();
  head_seq_ = seq;
  complete_after_ = seq;
}

int64_t ChangeLog::head_seq() const {
  absl::MutexLock lock(&mu_);
  return head_seq_;
}

absl::StatusOr<std::vector<v1::Change>> ChangeLog::Since(int64_t after_seq,
                                                         size_t max_changes) const {
  if (after_seq < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("seq ", after_seq,
                     " is negative: seqs start at 1; ask after seq 0 for "
                     "everything retained"));
  }
  absl::MutexLock lock(&mu_);
  std::vector<v1::Change> out;
  if (after_seq >= head_seq_) return out;
  if (after_seq < complete_after_) {
    return absl::OutOfRangeError(absl::StrCat(
        "changes after seq ", after_seq, " were compacted (the log is complete after seq ",
        complete_after_, "); read the board with GetBoard and continue from its seq"));
  }
  for (auto it = FirstAfter(after_seq); it != changes_.end() && out.size() < max_changes; ++it) {
    out.push_back(*it);
  }
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
  history.set_compacted_through_seq(std::max<int64_t>(complete_after_, 0));
  for (auto it = FirstAfter(after_seq); it != changes_.end(); ++it) {
    const v1::Change& change = *it;
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

std::deque<v1::Change>::const_iterator ChangeLog::FirstAfter(int64_t seq) const {
  return std::upper_bound(changes_.begin(), changes_.end(), seq,
                          [](int64_t s, const v1::Change& change) { return s < change.seq(); });
}

bool ChangeLog::WaitForChangesAfter(int64_t after_seq, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto newer = [this, after_seq]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return head_seq_ > after_seq; };
  return mu_.AwaitWithDeadline(absl::Condition(&newer), deadline);
}

}  // namespace podium
