#include "frontend/client_tracker.h"

#include "absl/container/flat_hash_set.h"

namespace podium {

void ClientTracker::Seen(const std::string& client) {
  const absl::Time now = absl::Now();
  {
    // Every read passes here: most find their client recently stamped and
    // leave under a shared lock.
    absl::ReaderMutexLock lock(&mu_);
    auto it = last_seen_.find(client);
    if (it != last_seen_.end() && now - it->second < window_ / 10) return;
  }
  absl::MutexLock lock(&mu_);
  last_seen_[client] = now;
}

int64_t ClientTracker::Count(const std::vector<std::string>& streaming) const {
  const absl::Time cutoff = absl::Now() - window_;
  absl::MutexLock lock(&mu_);
  // Counting is rare (heartbeats, listings); forgetting old callers here
  // keeps the map as small as the recent client set.
  absl::erase_if(last_seen_, [cutoff](const auto& entry) { return entry.second < cutoff; });
  int64_t count = static_cast<int64_t>(last_seen_.size());
  absl::flat_hash_set<absl::string_view> extra;
  for (const std::string& client : streaming) {
    if (!last_seen_.contains(client)) extra.insert(client);
  }
  return count + static_cast<int64_t>(extra.size());
}

}  // namespace podium
