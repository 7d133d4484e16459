// A caching frontend: serves reads from its cache, fills misses from the
// backend, and keeps the cache fresh by push (master election plus
// invalidations carrying new values) or by pull (polling the change log).
// Knows nothing of gRPC servers: the services in scoreboard_service.h and
// peer_service.h hand their calls to it.
#ifndef PODIUM_FRONTEND_FRONTEND_H_
#define PODIUM_FRONTEND_FRONTEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "frontend/cache.h"
#include "frontend/client_tracker.h"
#include "frontend/game_names.h"
#include "frontend/membership.h"
#include "frontend/post_limiter.h"
#include "frontend/puller.h"
#include "frontend/pusher.h"
#include "frontend/recent_changes.h"
#include "frontend/subscription.h"
#include "frontend/subscription_hub.h"
#include "podium/v1/backend.grpc.pb.h"
#include "podium/v1/peer.pb.h"
#include "podium/v1/scoreboard.pb.h"

namespace podium {

struct FrontendOptions {
  std::string address;  // its peer-plane address, as listed in `peers`
  // Where clients reach it, as ListFrontends tells them; empty: `address`
  // (a frontend whose peer and public planes share a port, in tests).
  std::string public_address;
  int64_t pid = 0;
  std::string backend;
  std::vector<std::string> peers;  // every frontend, this one included
  v1::CacheMode mode = v1::PUSH;
  absl::Duration poll_interval = absl::Milliseconds(100);
  MembershipOptions membership;  // its cluster_token guards the peer plane
  GameNamesOptions names;
  absl::Duration backend_timeout = absl::Seconds(2);
  size_t recent_changes = RecentChanges::kDefaultCapacity;  // SubscriptionHub
  PostLimiterOptions posts;
};

// Thread-safe.
class Frontend {
 public:
  explicit Frontend(FrontendOptions options);
  ~Frontend();

  void Start();
  void Stop();

  // Reads for `client` (its identity counts toward this frontend's load;
  // empty for reads the frontend makes itself).
  // A hit never touches the backend; a miss with the backend down is
  // UNAVAILABLE naming the backend.
  absl::StatusOr<v1::EventScore> GetScore(const std::string& event, const std::string& client);
  absl::StatusOr<v1::MedalTally> GetMedals(const std::string& team, const std::string& client);
  absl::StatusOr<v1::Board> GetBoard(const std::string& client);

  // What GetScore, GetMedals and GetBoard answer, serialized, when the
  // answer is at hand without waiting on anything (a cache hit); nullptr
  // when the caller must make that read instead, on a thread that may
  // wait for the backend. The bytes were serialized once, when the entry
  // was stored (a board: when it was first served after a change), so a
  // hit costs no serialization.
  using Reply = std::shared_ptr<const std::string>;
  Reply ScoreHit(const std::string& event, const std::string& client);
  Reply MedalsHit(const std::string& team, const std::string& client);
  Reply BoardHit(const std::string& client);
  // An event's fan board (the FanBoard's bytes), as ScoreHit.
  Reply FansHit(const std::string& event, const std::string& client);
  absl::StatusOr<v1::FanBoard> GetFanBoard(const std::string& event, const std::string& client);
  // A fan's post: rate-limited per address (`client` without its port)
  // and per author (PostLimiter: RESOURCE_EXHAUSTED with a retry-after
  // payload), then written through the backend with the cluster token. The
  // reply carries the post as stored, its id the write's seq.
  absl::StatusOr<v1::FanPostReply> PostToFanBoard(const v1::FanPostRequest& request,
                                                  const std::string& client);
  // An operator's removal of a post, with the operator's write token
  // (passed on to the backend, which checks it).
  absl::StatusOr<int64_t> RemovePost(const std::string& event, int64_t post_id,
                                     const std::string& write_token, const std::string& client);
  // The board's medals ranked (common/standings.h), as of the board's seq.
  absl::StatusOr<v1::Standings> GetStandings(const std::string& client);
  // One key's retained changes, read from the backend's change log (never
  // cached: it is an operator's read, not a fan's).
  absl::StatusOr<v1::History> GetHistory(const v1::HistoryRequest& request,
                                         const std::string& client);
  v1::ListFrontendsReply ListFrontends();

  // Subscriptions. NewSubscription checks the request (known names, at
  // least one key) and builds the subscription without starting it, so the
  // caller can wire it up before its first write; StartSubscription then
  // catches it up from `after_seq` and feeds it live changes until
  // EndSubscription.
  absl::StatusOr<std::shared_ptr<Subscription>> NewSubscription(
      const v1::SubscribeRequest& request, const std::string& client,
      Subscription::StartWrite start_write, int shard = 0);
  void StartSubscription(std::shared_ptr<Subscription> subscription, int64_t after_seq);
  void EndSubscription(const Subscription* subscription);
  // Subscriptions started and not yet ended.
  size_t subscriptions() const { return hub_->size(); }
  // Where live changes fan out to subscriptions (see SubscriptionHub);
  // before Start().
  void SetFanOutRunner(SubscriptionHub::ShardRunner runner) {
    hub_->SetShardRunner(std::move(runner));
  }

  // FrontendPeer calls, from callers that proved they hold the cluster
  // token. Even so, Interest takes only configured peers and names of the
  // games (so its table stays bounded by them), and Invalidate only
  // changes of the games' keys from the master this frontend follows;
  // the cache never takes a version back.
  v1::PingReply Ping(const v1::PingRequest& request);
  v1::CoordinatorReply Coordinator(const v1::CoordinatorRequest& request);
  absl::StatusOr<v1::InterestReply> Interest(const v1::InterestRequest& request);
  absl::Status Invalidate(const v1::InvalidateRequest& request);

  const Cache& cache() const { return cache_; }
  // What /metrics reports of the frontend itself.
  struct Vitals {
    Cache::Stats cache;
    MasterView master;
    int64_t applied_seq = 0;  // the newest change applied here
    int64_t cluster_seq = 0;  // the newest any live frontend has applied
    int64_t clients = 0;
  };
  Vitals GetVitals() const;
  // The master this frontend follows, once it has acted on the election
  // (cache invalidated, subscriptions catching up): what Invalidate checks.
  MasterView master() const {
    absl::MutexLock lock(&view_mu_);
    return view_;
  }

 private:
  using Fetch = std::function<absl::StatusOr<v1::Change>()>;

  // The cache-aside read of one key.
  absl::StatusOr<CachedValue> Read(const std::string& key, const Fetch& fetch);
  // Asks the master to push changes of `keys` to us (push mode). An error
  // means the read may be served but must not be cached.
  absl::Status RegisterInterest(const std::vector<std::string>& keys, const MasterView& view);
  // A failed backend call as the caller sees it: the backend's own
  // NOT_FOUND and INVALID_ARGUMENT as they are, anything else after
  // `why_backend` and the backend's address.
  absl::Status BackendError(
      const grpc::Status& status,
      absl::string_view why_backend = "not cached here, and the backend ") const;
  // Reads one key ("event:NAME" / "team:NAME") through the cache.
  absl::StatusOr<CachedValue> ReadKey(const std::string& key);
  absl::StatusOr<v1::Change> FetchEvent(const std::string& event);
  absl::StatusOr<v1::Change> FetchMedals(const std::string& team);
  absl::StatusOr<v1::Change> FetchFans(const std::string& event);
  // Makes sure the games' names are known (one board read the first time).
  void LearnNames();
  absl::StatusOr<v1::Board> FetchBoard();
  // The board from the cache alone; nothing when any of it is not cached
  // fresh (or no names are known yet).
  // The board from cached entries: fresh ones only, or (`unverified`)
  // stale ones too, each then flagged, for when no backend answers.
  std::optional<v1::Board> AssembleBoard(bool unverified = false);
  // What `key` may be answered with while no backend answers (`read_error`
  // says why): its cached value, however stale, flagged unverified; or the
  // error itself when there is none or the backend answered otherwise.
  absl::StatusOr<CachedValue> KeptValue(const std::string& key, absl::Status read_error);
  static absl::Status UnknownName(const std::string& key);
  void OnMasterChanged(const MasterView& view);
  // The games' names changed: every cached value takes the shape of
  // `board`, the backend's (e.g. a team added to every event).
  void OnGamesChanged(const v1::Board& board);
  void ApplyPulled(const v1::Change& change, ChangeSource source);
  LocalStatus Status() const;

  const FrontendOptions options_;
  std::unique_ptr<v1::Backend::Stub> backend_;
  // Before names_, whose reader refreshes it until names_ is destroyed.
  Cache cache_;
  GameNames names_;  // reads through backend_, so it must come after it
  ClientTracker clients_;
  PostLimiter post_limiter_;
  Membership membership_;
  std::unique_ptr<Pusher> pusher_;  // push mode only
  std::unique_ptr<Puller> puller_;  // pull mode only
  std::unique_ptr<SubscriptionHub> hub_;

  // The last board BoardHit served, and the versions it was built at.
  struct AssembledBoard {
    uint64_t cache_version = 0;
    uint64_t names_version = 0;
    Reply bytes;
  };
  absl::Mutex board_mu_;
  AssembledBoard board_ ABSL_GUARDED_BY(board_mu_);

  mutable absl::Mutex view_mu_;
  // The master whose pushes we accept, and the cache generation that
  // belongs to it: bumped on every change of master.
  MasterView view_ ABSL_GUARDED_BY(view_mu_);
  int64_t generation_ ABSL_GUARDED_BY(view_mu_) = 0;
  // Push mode: the master's watched seq as last told us.
  int64_t master_seq_ ABSL_GUARDED_BY(view_mu_) = 0;
  // Push mode: resets the current master has sent us (InvalidateRequest).
  int64_t resets_seen_ ABSL_GUARDED_BY(view_mu_) = 0;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_FRONTEND_H_
