// The frontend tier's membership and master election.
//
// Every frontend pings every configured peer at a fixed interval; a peer
// that has not answered (nor pinged us) for `failure_timeout` is dead. The
// master is chosen by the bully rule: the live frontend with the highest
// pid (address breaks ties). A frontend that finds itself the highest live
// one and is not yet master takes a new epoch, one above every epoch it has
// seen, and announces itself with Coordinator; peers that know nobody
// higher accept, and a higher peer refuses and announces itself in turn.
// A revived frontend with a higher pid therefore takes over again.
//
// Every change of the master (including "no master" while the dead one is
// being replaced) is reported to the owner, in order, so it can invalidate
// its cache and start or stop pushing.
//
// Members are known by their peer-plane address. A claim of mastership is
// believed only from a configured peer whose own heartbeats show it alive
// with the pid it claims, so even a caller holding the cluster token
// cannot install a master that does not exist.
#ifndef PODIUM_FRONTEND_MEMBERSHIP_H_
#define PODIUM_FRONTEND_MEMBERSHIP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "podium/v1/peer.grpc.pb.h"
#include "podium/v1/scoreboard.pb.h"

namespace podium {

struct MembershipOptions {
  absl::Duration heartbeat_interval = absl::Milliseconds(100);
  // With the default interval, a dead master is replaced within about 0.6 s.
  absl::Duration failure_timeout = absl::Milliseconds(500);
  // Sent with every peer call (Authorize); empty sends none.
  std::string cluster_token;
};

struct MasterView {
  std::string master;  // empty while there is none
  int64_t epoch = 0;
  bool self_is_master = false;
};

// What the owner reports about itself in heartbeats and listings.
struct LocalStatus {
  int64_t clients = 0;
  int64_t applied_seq = 0;
};

// Thread-safe.
class Membership {
 public:
  using MasterChanged = std::function<void(const MasterView&)>;
  using StatusFn = std::function<LocalStatus()>;

  // `peers` lists every frontend's peer address; our own among them is
  // skipped. `self.public_address` is what ListFrontends shows clients.
  Membership(v1::Member self, const std::vector<std::string>& peers,
             v1::CacheMode mode, MembershipOptions options,
             MasterChanged on_master_changed, StatusFn local_status);
  ~Membership();

  void Start();
  void Stop();

  // Server side of the FrontendPeer election calls.
  v1::PingReply HandlePing(const v1::PingRequest& request);
  v1::CoordinatorReply HandleCoordinator(const v1::CoordinatorRequest& request);

  // Called when the master's change history was lost (the backend compacted
  // it): announce a new epoch so that every cache is invalidated.
  void StartNewEpoch();

  MasterView master() const;
  bool IsAlive(const std::string& address) const;
  // Whether `address` is one of the configured peers (self excluded).
  bool IsPeer(const std::string& address) const;
  // Adds the cluster token to a call to a peer.
  void Authorize(grpc::ClientContext* context) const;
  // Every frontend, self first, then peers in configuration order, each
  // with its public address; a peer never heard from is left out (its
  // public address is unknown).
  std::vector<v1::FrontendInfo> Frontends() const;
  // The newest seq each live frontend (self included) has applied.
  std::vector<int64_t> LiveAppliedSeqs() const;
  // A stub for a peer (nullptr for an unknown address).
  v1::FrontendPeer::Stub* Stub(const std::string& address) const;

 private:
  struct Peer {
    std::string address;
    std::unique_ptr<v1::FrontendPeer::Stub> stub;
    absl::Time last_heard = absl::InfinitePast();
    int64_t pid = 0;
    std::string public_address;  // as it last told us
    v1::PingReply last_reply;
    bool ping_in_flight = false;
  };

  void HeartbeatLoop();
  void SendPings();
  // Re-decides who is master; queues a notification on change.
  void Evaluate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void BecomeMaster() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetMaster(const std::string& master, int64_t epoch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AliveLocked(const Peer& peer) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // True when (pid, address) a outranks b.
  static bool Outranks(int64_t pid_a, const std::string& a, int64_t pid_b,
                       const std::string& b);
  // Delivers queued master changes in order, outside mu_.
  void Notify();

  const v1::Member self_;
  const v1::CacheMode mode_;
  const MembershipOptions options_;
  const MasterChanged on_master_changed_;
  const StatusFn local_status_;
  const absl::Time started_ = absl::Now();

  mutable absl::Mutex mu_;
  std::map<std::string, Peer> peers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> peer_order_;  // immutable after construction
  std::string master_ ABSL_GUARDED_BY(mu_);
  int64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t max_epoch_seen_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<MasterView> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;

  absl::Mutex notify_mu_;  // serializes on_master_changed_ calls
  std::thread heartbeat_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_MEMBERSHIP_H_
