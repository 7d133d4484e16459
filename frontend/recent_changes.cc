#include "frontend/recent_changes.h"

#include <algorithm>
#include <limits>

namespace podium {

RecentChanges::RecentChanges(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void RecentChanges::AddLive(const EncodedChangePtr& change) {
  absl::MutexLock lock(&mu_);
  feed_through_ = std::max(feed_through_, change->change.seq());
  AddLocked(change);
}

void RecentChanges::AddHistory(const EncodedChangePtr& change) {
  absl::MutexLock lock(&mu_);
  AddLocked(change);
}

void RecentChanges::AddLocked(const EncodedChangePtr& change) {
  const int64_t seq = change->change.seq();
  if (seq <= floor_) return;  // older than what was already let go
  changes_.try_emplace({seq, change->key}, change);
  while (changes_.size() > capacity_) {
    auto oldest = changes_.begin();
    floor_ = std::max(floor_, oldest->first.first);
    changes_.erase(oldest);
  }
}

void RecentChanges::Forget() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  coverage_.clear();
  // The feed starts over: what it delivered before the gap proves nothing
  // about what follows.
  feed_through_ = 0;
}

int64_t RecentChanges::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

void RecentChanges::Cover(const std::vector<std::string>& keys, int64_t after_seq,
                          int64_t through_seq, int64_t generation) {
  absl::MutexLock lock(&mu_);
  if (generation != generation_) return;  // a gap came after the read
  through_seq = std::max(through_seq, after_seq);
  for (const std::string& key : keys) {
    auto [it, inserted] = coverage_.try_emplace(key, Coverage{after_seq, through_seq});
    if (inserted) continue;
    Coverage& held = it->second;
    const int64_t held_through = std::max(held.through, feed_through_);
    if (after_seq <= held_through && through_seq >= held.after) {
      // Overlapping or adjacent: one range.
      held.after = std::min(held.after, after_seq);
      held.through = std::max(held.through, through_seq);
    } else if (after_seq > held_through) {
      held = Coverage{after_seq, through_seq};  // newer, with a hole below it
    }
  }
}

std::optional<std::vector<EncodedChangePtr>> RecentChanges::Since(
    const absl::flat_hash_set<std::string>& keys, int64_t after_seq) const {
  absl::MutexLock lock(&mu_);
  if (after_seq < floor_) return std::nullopt;
  absl::flat_hash_map<std::string, int64_t> through;
  for (const std::string& key : keys) {
    auto held = coverage_.find(key);
    if (held == coverage_.end() || held->second.after > after_seq) return std::nullopt;
    through[key] = std::max(held->second.through, feed_through_);
  }
  std::vector<EncodedChangePtr> since;
  if (after_seq == std::numeric_limits<int64_t>::max()) return since;
  for (auto it = changes_.lower_bound({after_seq + 1, std::string()}); it != changes_.end(); ++it) {
    auto limit = through.find(it->first.second);
    if (limit != through.end() && it->first.first <= limit->second) since.push_back(it->second);
  }
  return since;
}

size_t RecentChanges::size() const {
  absl::MutexLock lock(&mu_);
  return changes_.size();
}

}  // namespace podium
