// Serves Scoreboard.Subscribe: one server stream per subscriber, on gRPC's
// async API, spread over several completion queues with a thread each.
//
// Why not the callback API: without background polling (gRPC 1.51 on
// Linux) every callback call of a process shares one completion queue, and
// Debian's libgrpc is built with assertions, which check each completion
// against a linear list of the queue's outstanding operations, under the
// queue's lock. With 10,000 subscribers every delivery walked a list of
// 10,000 and queued on one lock: fan-out went quadratic. Here each queue
// holds a share of the streams, so the walk and the lock are as many times
// shorter as there are queues.
//
// Nothing here waits in gRPC's poller: the streams' operations complete on
// queues whose threads sleep until woken, and new calls are looked for
// every few milliseconds rather than waited for (Accept). A waiting thread that
// polled would take turns with gRPC's callback threads at picking up the
// cached reads, and hand each one it picked up over to them.
//
// The streams only move bytes: each hands the decision of what to send, and
// when, to its Subscription (frontend/subscription.h).
//
// Lifecycle: AddTo(builder) before BuildAndStart, Start() after it, and
// Stop() after grpc::Server::Shutdown (it waits for the cancelled streams to
// wind down, then drains the queues and joins their threads).
#ifndef PODIUM_FRONTEND_SUBSCRIBE_STREAMS_H_
#define PODIUM_FRONTEND_SUBSCRIBE_STREAMS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "frontend/frontend.h"
#include "podium/v1/scoreboard.grpc.pb.h"

namespace podium {

// The Scoreboard service with Subscribe left to SubscribeStreams, and the
// cached reads on gRPC's callback API, answered with bytes (see
// ScoreboardService).
using ScoreboardAsyncBase = v1::Scoreboard::WithRawMethod_Subscribe<
    v1::Scoreboard::WithRawCallbackMethod_GetScore<v1::Scoreboard::WithRawCallbackMethod_GetMedals<
        v1::Scoreboard::WithRawCallbackMethod_GetBoard<v1::Scoreboard::WithCallbackMethod_GetStandings<
            v1::Scoreboard::WithCallbackMethod_GetHistory<
                v1::Scoreboard::WithCallbackMethod_ListFrontends<
                    v1::Scoreboard::WithCallbackMethod_GetFanBoard<
                        v1::Scoreboard::WithCallbackMethod_PostToFanBoard<
                            v1::Scoreboard::Service>>>>>>>>>;

// Thread-safe after Start().
class SubscribeStreams {
 public:
  // One queue (and thread) per core: a fan-out writes on all of them at
  // once (docs/benchmarks.md compares counts).
  static int DefaultQueues();

  // How long a new Subscribe call may wait to be taken up, at most, while
  // calls keep arriving, and after none has for a while: the cost of not
  // waiting on the server's queue (see above).
  static constexpr absl::Duration kArrivalsInterval = absl::Milliseconds(1);
  static constexpr absl::Duration kIdleArrivalsInterval = absl::Milliseconds(16);

  SubscribeStreams(Frontend* frontend, ScoreboardAsyncBase* service,
                   int queues = DefaultQueues());
  ~SubscribeStreams();

  SubscribeStreams(const SubscribeStreams&) = delete;
  SubscribeStreams& operator=(const SubscribeStreams&) = delete;

  // Adds this class's completion queues to the server being built.
  void AddTo(grpc::ServerBuilder* builder);
  // Accepts Subscribe calls; the server must be started.
  void Start();
  // Call after the server's Shutdown(): waits (bounded) until every stream
  // has ended, then shuts the queues down and joins their threads.
  void Stop();

  // Runs `task` on queue `queue`'s thread after the tasks posted there
  // before it. A stream's subscription belongs to its queue (its shard), so
  // a change fans out on every queue's thread at once, each writing to its
  // own streams: their write completions then land on the thread already
  // awake to take them, instead of waking one thread per delivery. Before
  // Start() or after Stop(), `task` runs on the calling thread. Must not
  // race with Stop(): stop whatever publishes changes first (main.cc stops
  // the Frontend and the server before the streams).
  void Run(int queue, std::function<void()> task);

  // Streams currently open, for logs and tests: in all, and on queue
  // `queue` (0 <= queue < queues(), after AddTo).
  int live() const;
  int live(int queue) const;
  // Updates written to streams so far, and how many of them were conflated.
  int64_t delivered() const;
  int64_t conflated() const;
  int queues() const { return queue_count_; }

  class Tag;  // what the queues' tags point at

 private:
  friend class ServedSubscribeCall;
  class Queue;

  // The queue the next call request serves its call on: in rotation, so
  // that each queue's thread writes to an equal share of the streams. (When
  // each queue requested its own calls, gRPC handed a new call to the first
  // queue with a request waiting, and at 10,000 subscribers the first of 32
  // threads did a fifth of the frontend's work, the last almost none.)
  int NextQueue();
  // Takes up new calls until the server has shut down; on its own thread.
  void Accept();

  Frontend* const frontend_;
  ScoreboardAsyncBase* const service_;
  const int queue_count_;
  // Where gRPC says a Subscribe call has arrived.
  std::unique_ptr<grpc::ServerCompletionQueue> arrivals_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::vector<std::thread> threads_;  // one per queue
  std::thread accept_thread_;
  std::atomic<bool> running_{false};
  // Set by Stop(); Accept then shuts the arrivals down, and says so in
  // arrivals_closed_ (read and written on Accept's thread only).
  std::atomic<bool> stopping_{false};
  bool arrivals_closed_ = false;
  std::atomic<unsigned> next_queue_{0};
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_SUBSCRIBE_STREAMS_H_
