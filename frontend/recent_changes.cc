#include "frontend/recent_changes.h"

#include <algorithm>

namespace podium {

RecentChanges::RecentChanges(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void RecentChanges::Add(const EncodedChangePtr& change) {
  absl::MutexLock lock(&mu_);
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
  covered_after_.clear();
}

int64_t RecentChanges::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

void RecentChanges::Cover(const std::vector<std::string>& keys, int64_t after_seq,
                          int64_t generation) {
  absl::MutexLock lock(&mu_);
  if (generation != generation_) return;  // a gap came after the read
  for (const std::string& key : keys) {
    auto [it, inserted] = covered_after_.try_emplace(key, after_seq);
    if (!inserted) it->second = std::min(it->second, after_seq);
  }
}

std::optional<std::vector<EncodedChangePtr>> RecentChanges::Since(
    const absl::flat_hash_set<std::string>& keys, int64_t after_seq) const {
  absl::MutexLock lock(&mu_);
  if (after_seq < floor_) return std::nullopt;
  for (const std::string& key : keys) {
    auto covered = covered_after_.find(key);
    if (covered == covered_after_.end() || covered->second > after_seq) return std::nullopt;
  }
  std::vector<EncodedChangePtr> since;
  for (auto it = changes_.lower_bound({after_seq + 1, std::string()}); it != changes_.end();
       ++it) {
    if (keys.contains(it->first.second)) since.push_back(it->second);
  }
  return since;
}

size_t RecentChanges::size() const {
  absl::MutexLock lock(&mu_);
  return changes_.size();
}

}  // namespace podium
