#include "frontend/subscribe_streams.h"

#include <grpcpp/alarm.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/status_util.h"
#include "common/subscribe_format.h"
#include "glog/logging.h"

namespace podium {

// What every tag on the queues points at.
class SubscribeStreams::Tag {
 public:
  virtual void Complete(bool ok) = 0;
  void* tag() { return this; }

 protected:
  ~Tag() = default;
};

namespace {

// A tag that calls a member function of its owner.
template <typename T>
class MemberTag final : public SubscribeStreams::Tag {
 public:
  MemberTag(T* owner, void (T::*on_complete)(bool ok)) : owner_(owner), on_complete_(on_complete) {}
  void Complete(bool ok) override { (owner_->*on_complete_)(ok); }

 private:
  T* const owner_;
  void (T::*const on_complete_)(bool ok);
};

}  // namespace

// A completion queue whose waiting thread never polls. With gRPC 1.51 on
// Linux (epoll1) every thread waiting on a polling queue takes turns
// polling all of the process's sockets, and a unary read such a thread
// picks up is then handed to one of gRPC's callback threads: a context
// switch per call: one idle waiting thread cost a callback server a large
// share of its cached reads (docs/benchmarks.md, "Cached reads under h2load").
// Operations on this queue progress while gRPC's callback threads poll,
// which they do as long as the server has callback methods (it has: the
// cached reads).
class NonPollingQueue final : public grpc::CompletionQueue {
 public:
  NonPollingQueue()
      : grpc::CompletionQueue(grpc_completion_queue_attributes{
            GRPC_CQ_CURRENT_VERSION, GRPC_CQ_NEXT, GRPC_CQ_NON_POLLING, nullptr}) {}
};

// Runs tasks on one queue's thread, in the order posted: a grpc::Alarm due
// at once is the doorbell that wakes the thread. Its streams' operations
// complete here too.
class SubscribeStreams::Queue {
 public:
  grpc::CompletionQueue* cq() { return &cq_; }

  // Streams open on this queue.
  std::atomic<int> live{0};
  // Updates written to its streams, and how many replaced an older
  // waiting value of their key: counted per queue, so the queues' threads
  // do not share one counter.
  std::atomic<int64_t> delivered{0};
  std::atomic<int64_t> conflated{0};

  void Post(std::function<void()> task) {
    absl::MutexLock lock(&mu_);
    tasks_.push_back(std::move(task));
    if (rung_) return;
    rung_ = true;
    // Due in the past, not now: gRPC rounds a deadline up to its next
    // millisecond tick, so "now" would wait for that tick first.
    doorbell_.Set(&cq_, gpr_inf_past(GPR_CLOCK_MONOTONIC), doorbell_tag_.tag());
  }

  void Drain() {
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) static_cast<Tag*>(tag)->Complete(ok);
  }

 private:
  void OnDoorbell(bool) {
    std::vector<std::function<void()>> tasks;
    {
      absl::MutexLock lock(&mu_);
      tasks.swap(tasks_);
      rung_ = false;
    }
    for (auto& task : tasks) task();
  }

  NonPollingQueue cq_;
  MemberTag<Queue> doorbell_tag_{this, &Queue::OnDoorbell};
  absl::Mutex mu_;
  std::vector<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool rung_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Alarm doorbell_ ABSL_GUARDED_BY(mu_);
};

// One Subscribe call, from the request until gRPC is done with it. It
// deletes itself once the call is over and none of its operations is
// outstanding.
//
// Thread-safe: the call arrives on the arrivals thread (OnRequested); every
// later completion on its queue's thread; writes start on whichever thread
// publishes a change, one at a time (the Subscription sees to that).
class ServedSubscribeCall {
 public:
  // Asks gRPC for the next Subscribe call, to be served on queue `index`.
  ServedSubscribeCall(SubscribeStreams* owner, int index)
      : owner_(owner), index_(index), queue_(owner->queues_[index]->cq()) {
    // Must precede the request; it fires only if a call is matched.
    context_.AsyncNotifyWhenDone(call_done_.tag());
    owner_->service_->RequestSubscribe(&context_, &request_, &writer_, queue_,
                                       owner_->arrivals_.get(), requested_.tag());
  }

 private:
  void OnRequested(bool ok) {
    if (!ok) {  // the server is shutting down; no call, so no call_done_
      delete this;
      return;
    }
    owner_->queues_[index_]->live.fetch_add(1, std::memory_order_relaxed);
    // The next caller's; none once Accept has shut the arrivals down (only
    // Accept's thread runs this, so none can follow the shutdown).
    if (!owner_->arrivals_closed_) new ServedSubscribeCall(owner_, owner_->NextQueue());
    // The rest on the queue's thread, where the call's completions arrive:
    // its end (call_done_) may already be on its way there.
    owner_->queues_[index_]->Post([this] { OnArrived(); });
  }

  void OnArrived() {
    if (call_over_) {  // the caller left before its call was served
      Release();
      return;
    }
    v1::SubscribeRequest request;
    grpc::Status parsed =
        grpc::SerializationTraits<v1::SubscribeRequest>::Deserialize(&request_, &request);
    absl::StatusOr<std::shared_ptr<Subscription>> subscription =
        parsed.ok()
            ? owner_->frontend_->NewSubscription(
                  request, context_.peer(),
                  [this](absl::Span<const OutgoingUpdate> updates) { StartWrite(updates); }, index_)
            : absl::InvalidArgumentError(
                  "the SubscribeRequest does not parse as its protobuf message "
                  "(malformed bytes, or a string that is not UTF-8): check the "
                  "client's copy of the protos");
    // pending_ stays 1: finished_ or metadata_sent_ takes requested_'s place.
    if (!subscription.ok()) {
      LOG(INFO) << "Subscribe from " << context_.peer() << " refused: " << subscription.status();
      writer_.Finish(ToGrpcStatus(subscription.status()), finished_.tag());
      return;
    }
    subscription_ = *std::move(subscription);
    // Tells the client at once that the stream is up: one returning home
    // closes its old stream on this signal rather than on the first update.
    // The format lets a client check it reads what this frontend sends.
    context_.AddInitialMetadata(kSubscribeFormatKey, kSubscribeFormatBatches);
    writer_.SendInitialMetadata(metadata_sent_.tag());
    owner_->frontend_->StartSubscription(subscription_, request.after_seq());
  }

  // From the Subscription, on any thread, one write at a time; never after
  // OnCallDone closed the Subscription.
  void StartWrite(absl::Span<const OutgoingUpdate> updates) {
    pending_.fetch_add(1, std::memory_order_relaxed);
    SubscribeStreams::Queue& queue = *owner_->queues_[index_];
    queue.delivered.fetch_add(static_cast<int64_t>(updates.size()), std::memory_order_relaxed);
    int64_t conflated = 0;
    for (const OutgoingUpdate& update : updates) conflated += update.conflated;
    if (conflated > 0) queue.conflated.fetch_add(conflated, std::memory_order_relaxed);
    if (updates.size() == 1) {
      writer_.Write(WireBuffer(updates[0]), written_.tag());  // takes its own reference
      return;
    }
    grpc::ByteBuffer batch;
    Encode(updates, &batch);
    writer_.Write(batch, written_.tag());
  }

  void OnMetadataSent(bool) { Release(); }

  void OnWritten(bool ok) {
    if (ok) {
      subscription_->WriteDone();
    } else {
      subscription_->Close();  // the call is over; call_done_ follows
    }
    Release();
  }

  void OnFinished(bool) { Release(); }

  void OnCallDone(bool) {
    if (subscription_ != nullptr) {
      // After Close() the Subscription calls StartWrite no more.
      subscription_->Close();
      owner_->frontend_->EndSubscription(subscription_.get());
    }
    call_over_ = true;
    Release(/*count=*/0);
  }

  // An operation completed; deletes the stream once nothing is left. Only
  // the queue's thread releases, and it alone ever sees the last one.
  void Release(int count = 1) {
    const int left = pending_.fetch_sub(count, std::memory_order_acq_rel) - count;
    if (left == 0 && call_over_) {
      owner_->queues_[index_]->live.fetch_sub(1, std::memory_order_relaxed);
      delete this;
    }
  }

  // The wire form of a message of `update` alone. A fan-out writes one
  // change to a few hundred streams in a row on one thread, so the last
  // buffer built on each thread is kept and reused; it holds the change, so
  // that no other change can take its address while it is cached.
  static const grpc::ByteBuffer& WireBuffer(const OutgoingUpdate& update) {
    struct Cached {
      EncodedChangePtr change;
      bool snapshot = false;
      bool conflated = false;
      grpc::ByteBuffer buffer;
    };
    thread_local Cached cached;
    if (cached.change != update.change || cached.snapshot != update.snapshot ||
        cached.conflated != update.conflated) {
      Encode(absl::MakeConstSpan(&update, 1), &cached.buffer);
      cached.change = update.change;
      cached.snapshot = update.snapshot;
      cached.conflated = update.conflated;
    }
    return cached.buffer;
  }

  // A SubscribeUpdates message of `updates`. One update's shared bytes go
  // out without a copy: that slice holds a reference to its encoded change
  // until gRPC has sent it. A batch (a burst, a catch-up) is copied into
  // one slice instead: a few kilobytes, where a slice per piece (three an
  // update) cost an allocation each, and grew gRPC's slice arrays past
  // their inline room at every step of the write.
  static void Encode(absl::Span<const OutgoingUpdate> updates, grpc::ByteBuffer* out) {
    if (updates.size() == 1) {
      const OutgoingUpdate& update = updates[0];
      std::vector<grpc::Slice> slices;
      slices.emplace_back(update.Header());
      auto* hold = new EncodedChangePtr(update.change);
      slices.emplace_back(
          const_cast<char*>((*hold)->bytes.data()), (*hold)->bytes.size(),
          [](void* p) { delete static_cast<EncodedChangePtr*>(p); }, hold);
      if (std::string flags = update.Flags(); !flags.empty()) slices.emplace_back(flags);
      grpc::ByteBuffer buffer(slices.data(), slices.size());
      out->Swap(&buffer);
      return;
    }
    size_t size = 0;
    for (const OutgoingUpdate& update : updates) {
      size += update.Header().size() + update.change->bytes.size() + update.Flags().size();
    }
    grpc::Slice slice(size);  // uninitialized, written below
    char* at = reinterpret_cast<char*>(const_cast<uint8_t*>(slice.begin()));
    auto append = [&at](absl::string_view piece) {
      at = std::copy(piece.begin(), piece.end(), at);
    };
    for (const OutgoingUpdate& update : updates) {
      append(update.Header());
      append(update.change->bytes);
      append(update.Flags());
    }
    grpc::ByteBuffer buffer(&slice, 1);
    out->Swap(&buffer);
  }

  SubscribeStreams* const owner_;
  const int index_;
  grpc::CompletionQueue* const queue_;
  grpc::ServerContext context_;
  grpc::ByteBuffer request_;
  grpc::ServerAsyncWriter<grpc::ByteBuffer> writer_{&context_};
  std::shared_ptr<Subscription> subscription_;  // set once, before any write
  MemberTag<ServedSubscribeCall> requested_{this, &ServedSubscribeCall::OnRequested};
  MemberTag<ServedSubscribeCall> metadata_sent_{this, &ServedSubscribeCall::OnMetadataSent};
  MemberTag<ServedSubscribeCall> written_{this, &ServedSubscribeCall::OnWritten};
  MemberTag<ServedSubscribeCall> finished_{this, &ServedSubscribeCall::OnFinished};
  MemberTag<ServedSubscribeCall> call_done_{this, &ServedSubscribeCall::OnCallDone};

  // Operations started and not yet completed (requested_ counts from the
  // constructor; call_done_ is tracked by call_over_ instead). Writes add
  // from other threads, always before Close() returns in OnCallDone.
  std::atomic<int> pending_{1};
  // Set on the queue's thread by OnCallDone; read only there (OnArrived,
  // Release).
  bool call_over_ = false;
};

int SubscribeStreams::DefaultQueues() {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

SubscribeStreams::SubscribeStreams(Frontend* frontend, ScoreboardAsyncBase* service, int queues)
    : frontend_(frontend), service_(service), queue_count_(std::max(queues, 1)) {}

SubscribeStreams::~SubscribeStreams() { Stop(); }

void SubscribeStreams::AddTo(grpc::ServerBuilder* builder) {
  // Not "frequently polled": gRPC's callback threads poll for the server,
  // and nobody waits on this queue (Accept only looks).
  arrivals_ = builder->AddCompletionQueue(/*is_frequently_polled=*/false);
  for (int i = 0; i < queue_count_; ++i) queues_.push_back(std::make_unique<Queue>());
}

void SubscribeStreams::Start() {
  for (int i = 0; i < static_cast<int>(queues_.size()); ++i) {
    // A waiting request per queue; each matched call posts the next.
    new ServedSubscribeCall(this, i);
    threads_.emplace_back([queue = queues_[i].get()] { queue->Drain(); });
  }
  accept_thread_ = std::thread([this] { Accept(); });
  running_.store(true, std::memory_order_release);
}

void SubscribeStreams::Accept() {
  // A thread waiting on a server queue would poll (every server queue
  // gRPC's C++ API makes does), and cost the cached reads a hand-off per
  // call (NonPollingQueue). So the arrivals are looked at, not waited for:
  // each look takes what has arrived and never blocks in gRPC (it polls
  // once, without waiting, when no other thread is polling just then). A
  // look is not free, so an idle frontend looks less often.
  absl::Duration pause = kArrivalsInterval;
  for (;;) {
    if (!arrivals_closed_ && stopping_.load(std::memory_order_acquire)) {
      // Shut down here, on the only thread that requests calls after
      // Start(), so no request can follow; the waiting ones fail below.
      arrivals_closed_ = true;
      arrivals_->Shutdown();
    }
    void* tag = nullptr;
    bool ok = false;
    switch (arrivals_->AsyncNext(&tag, &ok, gpr_inf_past(GPR_CLOCK_MONOTONIC))) {
      case grpc::CompletionQueue::GOT_EVENT:
        static_cast<Tag*>(tag)->Complete(ok);
        pause = kArrivalsInterval;
        continue;
      case grpc::CompletionQueue::SHUTDOWN:
        return;
      case grpc::CompletionQueue::TIMEOUT:
        absl::SleepFor(pause);
        pause = std::min(pause * 2, kIdleArrivalsInterval);
        break;
    }
  }
}

int64_t SubscribeStreams::delivered() const {
  int64_t sum = 0;
  for (const auto& queue : queues_) sum += queue->delivered.load(std::memory_order_relaxed);
  return sum;
}

int64_t SubscribeStreams::conflated() const {
  int64_t sum = 0;
  for (const auto& queue : queues_) sum += queue->conflated.load(std::memory_order_relaxed);
  return sum;
}

int SubscribeStreams::live() const {
  int total = 0;
  for (const auto& queue : queues_) total += queue->live.load(std::memory_order_relaxed);
  return total;
}

int SubscribeStreams::live(int queue) const {
  return queues_[queue]->live.load(std::memory_order_relaxed);
}

int SubscribeStreams::NextQueue() {
  return static_cast<int>(next_queue_.fetch_add(1, std::memory_order_relaxed) %
                          static_cast<unsigned>(queues_.size()));
}

void SubscribeStreams::Run(int queue, std::function<void()> task) {
  if (!running_.load(std::memory_order_acquire) || queue < 0 ||
      queue >= static_cast<int>(queues_.size())) {
    task();  // no streams to write to, or none of ours
    return;
  }
  queues_[queue]->Post(std::move(task));
}

void SubscribeStreams::Stop() {
  if (!running_.exchange(false)) return;
  // First every call gRPC matched is taken up: one may still wait on the
  // arrivals queue, and taking it up posts to its stream's queue, which
  // must not be shut down yet.
  stopping_.store(true, std::memory_order_release);
  accept_thread_.join();
  // The server's Shutdown cancelled every call; their streams close their
  // Subscriptions and go. Only then may the queues shut down: a write
  // started on a shut-down queue is a fatal error in gRPC.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (live() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  if (live() > 0) LOG(WARNING) << live() << " Subscribe streams still open at shutdown";
  for (auto& queue : queues_) queue->cq()->Shutdown();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

}  // namespace podium
