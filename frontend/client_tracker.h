// A frontend's load: how many distinct clients it serves. A client counts
// while it has called within the window; live subscriptions are added by
// the owner.
#ifndef PODIUM_FRONTEND_CLIENT_TRACKER_H_
#define PODIUM_FRONTEND_CLIENT_TRACKER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace podium {

// Thread-safe.
class ClientTracker {
 public:
  explicit ClientTracker(absl::Duration window = absl::Seconds(5));

  // `client` identifies the caller, e.g. grpc::ServerContext::peer().
  // Called on every read, so it stays off shared state: each thread
  // remembers whom it stamped in the last tenth of the window and stamps
  // them again only after that (a caller's stamp is at most that old).
  void Seen(const std::string& client);
  // A stream of `client` opens or closes: it counts while one is open.
  void Attach(const std::string& client);
  void Detach(const std::string& client);
  // Distinct clients seen within the window or with an open stream.
  int64_t Count() const;

 private:
  const absl::Duration window_;
  const uint64_t id_;  // which tracker a thread's recent stamps belong to
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, absl::Time> last_seen_ ABSL_GUARDED_BY(mu_);
  // Open streams per client.
  absl::flat_hash_map<std::string, int> streaming_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_CLIENT_TRACKER_H_
