// Live updates of chosen keys through the frontends, delivered to a
// callback (guarantee 6 from the client's side). Underneath is the
// Scoreboard.Subscribe server stream; the client needs no server.
//
// Delivery: the callback runs on one of the client's delivery threads
// (client/delivery_pool.h; ScoreboardClientOptions::delivery_threads), one
// update at a time, in the order received, never concurrently with itself.
// The client's subscriptions share those threads, so a callback that blocks
// delays the others waiting for its thread. Every update passes
// client/update_filter.h first: per key, versions strictly increase as the
// callback sees them, and nothing is delivered twice.
//
// Failover: when the stream breaks (its frontend was killed: UNAVAILABLE;
// or keep-alive pings went unanswered) the subscription has the client's
// FrontendPicker move to the least-loaded live frontend other than the
// dead one and subscribes there with after_seq = the filter's resume seq,
// so the new frontend replays what was missed (or sends a snapshot). The
// first attempt is immediate; further ones back off from 50 ms to 500 ms.
//
// Moving (return home, or any other change of the client's current
// frontend): make before break. A stream is opened at the new frontend
// while the old one keeps delivering; once the new one is established
// (its initial metadata or first update arrived, or it has stayed open for
// a second) the old one is cancelled. Updates of both pass the same
// filter, and since each stream sends changes in seq order, the merged
// order is still the seq order: whatever one stream sends that the other
// already delivered is dropped as not newer.
//
// Ending: Cancel() or the destructor. A frontend that refuses the keys for
// good (NOT_FOUND, INVALID_ARGUMENT, UNIMPLEMENTED, PERMISSION_DENIED,
// UNAUTHENTICATED) ends the subscription by itself; status() says why.
#ifndef PODIUM_CLIENT_SUBSCRIBER_H_
#define PODIUM_CLIENT_SUBSCRIBER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/delivery_pool.h"
#include "client/frontend_picker.h"
#include "client/subscribe_stream.h"
#include "client/update_filter.h"
#include "common/backoff.h"
#include "podium/v1/scoreboard.pb.h"

namespace podium {

// What to subscribe to. Names are checked by the frontend against the
// games; locally only their spelling is.
struct SubscriptionKeys {
  std::vector<std::string> events;
  std::vector<std::string> teams;  // medal tallies of these teams
  bool all_events = false;
  bool all_teams = false;

  static SubscriptionKeys Everything() {
    SubscriptionKeys keys;
    keys.all_events = true;
    keys.all_teams = true;
    return keys;
  }
};

using UpdateCallback = std::function<void(const v1::SubscribeUpdate&)>;

// Thread-safe.
class Subscriber : private SubscribeStream::Sink, private DeliveryPool::Worker {
 public:
  // Starts subscribing at the picker's current frontend and returns at
  // once; the first updates (a snapshot of every key) follow on `pool`.
  // INVALID_ARGUMENT for no keys or a malformed name. Prefer
  // ScoreboardClient::Subscribe.
  static absl::StatusOr<std::unique_ptr<Subscriber>> Start(
      std::shared_ptr<FrontendPicker> picker, std::shared_ptr<DeliveryPool> pool,
      const SubscriptionKeys& keys, UpdateCallback callback);

  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;
  // Cancel(). Must not run in the subscription's own callback; Cancel()
  // may.
  ~Subscriber() override;

  // Stops the subscription: closes its streams and, unless called from its
  // own callback, waits until the callback has returned for the last time
  // (and for a failover in progress, which may ask a few frontends for the
  // membership, each within the client's read timeout). From another
  // subscription's callback it runs this one's last steps itself, so it
  // cannot wait for the thread it holds.
  // Called from the callback, the callback is not called again after it
  // returns.
  void Cancel();

  // Waits up to `timeout` for the subscription to end (cancelled, or
  // refused by a frontend); true when it has.
  bool WaitForEnd(absl::Duration timeout) const;
  // Why it ended: OK while running and after Cancel(), the frontend's
  // refusal otherwise.
  absl::Status status() const;

  // The four below already reflect an update when its callback starts.
  // The after_seq a stream opened now would carry.
  int64_t resume_seq() const;
  // The frontend of the stream that delivers now ("" while there is none).
  std::string frontend() const;
  // Updates delivered to the callback, and dropped as not newer.
  int64_t delivered() const;
  int64_t dropped() const;

 private:
  struct Event;

  Subscriber(std::shared_ptr<FrontendPicker> picker,
             std::shared_ptr<DeliveryPool> pool, v1::SubscribeRequest request,
             UpdateCallback callback);

  // SubscribeStream::Sink, and the picker's listener: from other threads.
  void OnStreamUpdate(SubscribeStream* stream,
                      v1::SubscribeUpdate update) override;
  void OnStreamEstablished(SubscribeStream* stream) override;
  void OnStreamDone(SubscribeStream* stream,
                    const grpc::Status& status) override;
  void Post(Event event);

  // DeliveryPool::Worker: the events posted so far, at most a batch, then
  // the timers. The rest runs inside it.
  absl::Time Step() override;
  void Handle(Event& event);
  void HandleUpdate(SubscribeStream* stream, const v1::SubscribeUpdate& update);
  void HandleDone(SubscribeStream* stream, const grpc::Status& status);
  // Timers, and following the picker's current frontend.
  void Tick();
  absl::Time NextDeadline() const;
  SubscribeStream* Open(const std::string& address);
  void OpenActive();
  void Promote(SubscribeStream* stream);
  void Stop(const absl::Status& status);
  void Publish();

  const int id_;
  const std::shared_ptr<FrontendPicker> picker_;
  const std::shared_ptr<DeliveryPool> pool_;
  const v1::SubscribeRequest request_;
  const UpdateCallback callback_;
  int listener_ = -1;

  // State of Step(), which never runs on two threads at once: no lock.
  bool opened_ = false;
  UpdateFilter filter_;
  absl::flat_hash_map<SubscribeStream*, std::unique_ptr<SubscribeStream>> streams_;
  SubscribeStream* active_ = nullptr;     // delivers, and is the one to fail over
  SubscribeStream* candidate_ = nullptr;  // being opened at the current frontend
  absl::Time candidate_deadline_ = absl::InfiniteFuture();
  absl::Time retry_at_ = absl::InfinitePast();
  Backoff backoff_;
  int failures_ = 0;  // consecutive streams that ended without delivering
  bool outage_reported_ = false;  // no frontend to fail over to, said once
  std::string last_frontend_;
  std::string last_error_;  // why the last active stream ended
  bool stopping_ = false;

  mutable absl::Mutex mu_;
  std::deque<Event> events_ ABSL_GUARDED_BY(mu_);
  bool cancel_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  // Copies of Step()'s state for the accessors.
  int64_t resume_seq_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  std::string frontend_ ABSL_GUARDED_BY(mu_);
  // The thread in Step() now, if any: Cancel() from the callback must not
  // wait for itself.
  std::thread::id stepping_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podium

#endif  // PODIUM_CLIENT_SUBSCRIBER_H_
