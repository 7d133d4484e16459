#include "frontend/client_tracker.h"

namespace podium {

void ClientTracker::Seen(const std::string& client) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  last_seen_[client] = now;
}

int64_t ClientTracker::Count() const {
  const absl::Time cutoff = absl::Now() - window_;
  absl::MutexLock lock(&mu_);
  // Counting is rare (heartbeats, listings); forgetting old callers here
  // keeps the map as small as the recent client set.
  absl::erase_if(last_seen_, [cutoff](const auto& entry) { return entry.second < cutoff; });
  return static_cast<int64_t>(last_seen_.size());
}

}  // namespace podium
