#include "frontend/client_tracker.h"

#include <algorithm>
#include <atomic>

namespace podium {

namespace {

std::atomic<uint64_t> next_tracker_id{1};

// What one thread stamped lately, for one tracker at a time: a thread
// serving the callers of another tracker starts afresh (only tests run
// two frontends in one process).
struct RecentStamps {
  uint64_t tracker = 0;
  absl::flat_hash_map<std::string, absl::Time> stamped;
};

// Bounds each thread's memory of callers; past it, the thread forgets and
// stamps again.
constexpr size_t kMaxRecentPerThread = 4096;

}  // namespace

ClientTracker::ClientTracker(absl::Duration window)
    : window_(window), id_(next_tracker_id.fetch_add(1, std::memory_order_relaxed)) {}

void ClientTracker::Seen(const std::string& client) {
  // Every read passes here. A client calling again soon after on the same
  // thread was stamped recently enough: that thread's own memory says so
  // without touching anything shared.
  thread_local RecentStamps recent;
  const absl::Time now = absl::Now();
  if (recent.tracker != id_ || recent.stamped.size() >= kMaxRecentPerThread) {
    recent.stamped.clear();
    recent.tracker = id_;
  }
  auto [it, inserted] = recent.stamped.try_emplace(client, now);
  if (!inserted && now - it->second < window_ / 10) return;
  it->second = now;
  absl::MutexLock lock(&mu_);
  absl::Time& stamp = last_seen_[client];
  stamp = std::max(stamp, now);
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
