#include "frontend/cache.h"

#include "common/keys.h"

namespace podium {
namespace {

std::string SerializedValue(const v1::Change& change) {
  if (change.has_fans()) return change.fans().SerializeAsString();
  return change.has_event() ? change.event().SerializeAsString()
                            : change.medals().SerializeAsString();
}

}  // namespace

CachedChange::CachedChange(v1::Change change)
    : change_(std::move(change)), reply_(SerializedValue(change_)) {}

CachedValue Cache::Get(const std::string& key, bool count_miss) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.fresh) {
    if (count_miss) misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second.value;
}

CachedValue Cache::GetAny(const std::string& key) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second.value;
}

CachedValue Cache::Fill(const std::string& key, const v1::Change& value, int64_t epoch) {
  absl::MutexLock lock(&mu_);
  const bool current = epoch == epoch_;
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& entry = it->second;
  if (inserted || value.seq() > entry.seq()) {
    entry.value = std::make_shared<const CachedChange>(value);
    // Only a fill of the current epoch is covered by the master's pushes.
    entry.fresh = current;
    version_.fetch_add(1, std::memory_order_acq_rel);
  } else if (current && !entry.fresh) {
    // The stored value is at least as new as the backend's answer: either
    // the same value or one pushed after the read in this epoch.
    entry.fresh = true;
    version_.fetch_add(1, std::memory_order_acq_rel);
  }
  return entry.value;
}

bool Cache::Apply(const v1::Change& change, int64_t epoch) {
  absl::MutexLock lock(&mu_);
  if (epoch != epoch_) return false;
  Entry& entry = entries_[ChangeKey(change)];
  if (entry.value != nullptr && change.seq() < entry.seq()) return false;
  if (entry.value != nullptr && change.seq() == entry.seq()) {
    // The same version again (a change log replayed after a restart, a
    // board re-sent) keeps the stored value: Refresh may have reshaped it
    // after the games gained a team, while a logged change keeps the shape
    // it had when it was written.
    if (!entry.fresh) version_.fetch_add(1, std::memory_order_acq_rel);
    entry.fresh = true;
    return false;
  }
  entry.value = std::make_shared<const CachedChange>(change);
  entry.fresh = true;
  version_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

bool Cache::Refresh(const std::string& key, const v1::Change& value) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || value.seq() < it->second.seq()) return false;
  it->second.value = std::make_shared<const CachedChange>(value);
  version_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

void Cache::InvalidateAll(int64_t epoch) {
  absl::MutexLock lock(&mu_);
  epoch_ = epoch;
  for (auto& [key, entry] : entries_) entry.fresh = false;
  version_.fetch_add(1, std::memory_order_acq_rel);
}

int64_t Cache::epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

Cache::Stats Cache::stats() const {
  absl::ReaderMutexLock lock(&mu_);
  Stats stats;
  stats.hits = hits_.load();
  stats.misses = misses_.load();
  for (const auto& [key, entry] : entries_) stats.fresh_entries += entry.fresh;
  return stats;
}

}  // namespace podium
