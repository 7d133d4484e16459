#include "frontend/client_tracker.h"


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

void ClientTracker::Attach(const std::string& client) {
  absl::MutexLock lock(&mu_);
  ++streaming_[client];
}

void ClientTracker::Detach(const std::string& client) {
  absl::MutexLock lock(&mu_);
  auto it = streaming_.find(client);
  if (it != streaming_.end() && --it->second <= 0) streaming_.erase(it);
}

int64_t ClientTracker::Count() const {
  const absl::Time cutoff = absl::Now() - window_;
  absl::MutexLock lock(&mu_);
  // Counting is rare (heartbeats, listings); forgetting old callers here
  // keeps the map as small as the recent client set.
  absl::erase_if(last_seen_, [cutoff](const auto& entry) { return entry.second < cutoff; });
  int64_t count = static_cast<int64_t>(last_seen_.size());
  for (const auto& [client, streams] : streaming_) {
    if (!last_seen_.contains(client)) ++count;
  }
  return count;
}

}  // namespace podium
