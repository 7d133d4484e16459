#include "frontend/cache.h"

#include "common/keys.h"

namespace podium {

std::optional<v1::Change> Cache::Get(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.fresh) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  return it->second.value;
}

v1::Change Cache::Fill(const std::string& key, const v1::Change& value,
                       int64_t epoch) {
  absl::MutexLock lock(&mu_);
  const bool current = epoch == epoch_;
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& entry = it->second;
  if (inserted || value.seq() > entry.value.seq()) {
    entry.value = value;
    // Only a fill of the current epoch is covered by the master's pushes.
    entry.fresh = current;
  } else if (current) {
    // The stored value is at least as new as the backend's answer: either
    // the same value or one pushed after the read in this epoch.
    entry.fresh = true;
  }
  return entry.value;
}

bool Cache::Apply(const v1::Change& change, int64_t epoch) {
  absl::MutexLock lock(&mu_);
  if (epoch != epoch_) return false;
  Entry& entry = entries_[ChangeKey(change)];
  if (change.seq() < entry.value.seq()) return false;
  const bool newer = change.seq() > entry.value.seq();
  entry.value = change;
  entry.fresh = true;
  return newer;
}

void Cache::InvalidateAll(int64_t epoch) {
  absl::MutexLock lock(&mu_);
  epoch_ = epoch;
  for (auto& [key, entry] : entries_) entry.fresh = false;
}

int64_t Cache::epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

Cache::Stats Cache::stats() const {
  absl::MutexLock lock(&mu_);
  Stats stats;
  stats.hits = hits_;
  stats.misses = misses_;
  for (const auto& [key, entry] : entries_) stats.fresh_entries += entry.fresh;
  return stats;
}

}  // namespace podium
