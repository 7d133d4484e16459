// Which frontend a client talks to, and moving it (guarantee 8 from the
// client's side).
//
//   * Placement: on creation the picker asks the seeds, in order, for the
//     tier's membership (Scoreboard.ListFrontends) and picks the live
//     frontend with the fewest clients (client/placement.h). That one is
//     the client's home, and its current frontend.
//   * Failover: when a call to the current frontend finds it gone, its user
//     calls FailOver(). The picker asks another frontend for the membership
//     and moves to the least-loaded live one, avoiding the failed frontend
//     and any other that failed within the last two seconds.
//   * Return home: while away, a thread probes home's standard health
//     service every `home_probe_interval`; when it answers SERVING the
//     client moves back.
//   * Learning: while at home, the same thread asks for the membership
//     every `membership_refresh_interval`, so that frontends started after
//     the placement are among those a failover asks and chooses from.
//
// Every move is logged at INFO and announced to listeners (subscriptions,
// which then move their streams; reads simply go to current()).
//
// The picker keeps one channel per frontend, shared by reads and streams,
// so a frontend sees the client as one caller when counting its load. All
// channels send keep-alive pings, so a stream to a frontend that vanished
// without closing its connections (a hung host, a cut cable) breaks within
// keepalive_time + keepalive_timeout instead of waiting forever. A channel
// found in TRANSIENT_FAILURE when the client moves to its frontend is
// replaced by a fresh one, so the move need not wait out a reconnection
// backoff the channel took while that frontend was down.
#ifndef PODIUM_CLIENT_FRONTEND_PICKER_H_
#define PODIUM_CLIENT_FRONTEND_PICKER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "client/client_options.h"
#include "client/connection_watcher.h"
#include "podium/v1/scoreboard.grpc.pb.h"

namespace podium {

// Thread-safe.
class FrontendPicker {
 public:
  // Places the client (see above). INVALID_ARGUMENT for no seeds or an
  // empty one; UNAVAILABLE, naming every seed's failure, when no seed
  // answers or none reports a live frontend.
  static absl::StatusOr<std::shared_ptr<FrontendPicker>> Create(
      std::vector<std::string> seeds, ScoreboardClientOptions options);

  FrontendPicker(const FrontendPicker&) = delete;
  FrontendPicker& operator=(const FrontendPicker&) = delete;
  // Stops probing home and learning (waits for the one call in progress,
  // at most the client's timeout).
  ~FrontendPicker();

  std::string home() const;
  std::string current() const;

  // The stub for the frontend at `address`, on the client's one channel to
  // it. Stays usable after the picker replaces that channel.
  std::shared_ptr<v1::Scoreboard::Stub> Stub(const std::string& address);

  // Every frontend heard of, in the order ListFrontends asks them after
  // current and home: the seeds, then those learned from listings.
  std::vector<std::string> known() const;

  // The membership as reported by the first frontend that answers, asked
  // in this order: current, home, the seeds, the others learned from
  // earlier listings; `skip` (a frontend known to be down) is not asked.
  absl::StatusOr<v1::ListFrontendsReply> ListFrontends(
      const std::string& skip = "");

  // `failed` stopped answering (`why`). When it is still the current
  // frontend, moves to another live one; returns the current frontend
  // afterwards (also when someone else moved first). UNAVAILABLE when no
  // frontend answers or none is live: the caller retries later.
  absl::StatusOr<std::string> FailOver(const std::string& failed,
                                       const absl::Status& why);

  // `listener` is called (on whichever thread moved the client, so it must
  // not block) after each change of current(). Returns an id for
  // RemoveListener, which waits for a call in progress.
  int AddListener(std::function<void()> listener);
  void RemoveListener(int id);

 private:
  struct Connection {
    std::shared_ptr<grpc::Channel> channel;
    std::shared_ptr<v1::Scoreboard::Stub> stub;
  };

  FrontendPicker(std::vector<std::string> seeds, ScoreboardClientOptions options);

  // The connection to `address`, created on first use.
  Connection& ConnectionTo(const std::string& address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Replaces the channel to `address` when it is in TRANSIENT_FAILURE.
  void RefreshIfFailed(const std::string& address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets current_, logs "frontend <what> to <to>: <why>", and tells the
  // listeners.
  void MoveTo(const std::string& to, const std::string& what,
              absl::string_view why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(failover_mu_);
  // The thread behind return home and learning.
  void ProbeHomeAndLearn();

  const std::vector<std::string> seeds_;
  const ScoreboardClientOptions options_;
  ConnectionWatcher watcher_;

  // Serializes moves, so that clients failing over together from one dead
  // frontend ask for the membership once and agree on where to go.
  absl::Mutex failover_mu_ ABSL_ACQUIRED_BEFORE(mu_);

  mutable absl::Mutex mu_;
  std::string home_ ABSL_GUARDED_BY(mu_);
  std::string current_ ABSL_GUARDED_BY(mu_);
  // Every frontend heard of: seeds first, then learned from listings.
  std::vector<std::string> known_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Connection> connections_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::Time> failed_at_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);

  absl::Mutex listeners_mu_ ABSL_ACQUIRED_AFTER(failover_mu_);
  std::map<int, std::function<void()>> listeners_ ABSL_GUARDED_BY(listeners_mu_);
  int next_listener_ ABSL_GUARDED_BY(listeners_mu_) = 0;

  absl::Notification stopping_;
  std::thread prober_;
};

}  // namespace podium

#endif  // PODIUM_CLIENT_FRONTEND_PICKER_H_
