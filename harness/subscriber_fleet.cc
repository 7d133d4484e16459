#include "harness/subscriber_fleet.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/keys.h"

namespace podium::harness {

class SubscriberFleet::Stream {
 public:
  // A completion-queue tag: which operation of which stream completed.
  struct Op {
    Stream* stream;
  };

  Stream(v1::Scoreboard::Stub* stub, grpc::CompletionQueue* cq, v1::SubscribeRequest request)
      : request_(std::move(request)) {
    request_.set_format(v1::SUBSCRIBE_FORMAT_BATCHES);
    // A connection that fails once under the load of opening thousands of
    // streams is retried rather than failing the stream.
    context_.set_wait_for_ready(true);
    reader_ = stub->PrepareAsyncSubscribe(&context_, request_, cq);
    reader_->StartCall(&started_);
  }

  // On the queue's thread.
  void Proceed(const Op* op, bool ok) {
    if (op == &finished_) {
      absl::MutexLock lock(&mu_);
      done_ = true;
      return;
    }
    if (!ok) {  // the stream ended
      reader_->Finish(&status_, &finished_);
      return;
    }
    if (op == &read_) {
      const absl::Time now = absl::Now();
      absl::MutexLock lock(&mu_);
      for (const v1::SubscribeUpdate& update : message_.updates()) {
        receipts_.push_back(Receipt{ChangeKey(update.change()), update.change().seq(),
                                    update.snapshot(), update.conflated(), now});
      }
    }
    reader_->Read(&message_, &read_);
  }

  void Cancel() { context_.TryCancel(); }
  int keys() const { return request_.events_size() + request_.teams_size(); }
  bool Wants(const std::string& key) const {
    for (const std::string& event : request_.events()) {
      if (EventKey(event) == key) return true;
    }
    for (const std::string& team : request_.teams()) {
      if (TeamKey(team) == key) return true;
    }
    return false;
  }
  bool done() const {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  grpc::Status status() const {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  std::vector<Receipt> receipts() const {
    absl::MutexLock lock(&mu_);
    return receipts_;
  }
  int snapshots() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(std::count_if(receipts_.begin(), receipts_.end(),
                                          [](const Receipt& r) { return r.snapshot; }));
  }
  absl::Time FirstAbove(int64_t seq) const {
    absl::MutexLock lock(&mu_);
    for (const Receipt& r : receipts_) {
      if (r.seq > seq) return r.at;
    }
    return absl::InfiniteFuture();
  }
  // The highest seq received of `key`.
  int64_t high(const std::string& key) const {
    absl::MutexLock lock(&mu_);
    int64_t high = -1;
    for (const Receipt& r : receipts_) {
      if (r.key == key) high = std::max(high, r.seq);
    }
    return high;
  }

 private:
  Op started_{this}, read_{this}, finished_{this};
  grpc::ClientContext context_;
  v1::SubscribeRequest request_;
  std::unique_ptr<grpc::ClientAsyncReader<v1::SubscribeUpdates>> reader_;
  v1::SubscribeUpdates message_;  // only the queue's thread touches it
  mutable absl::Mutex mu_;
  std::vector<Receipt> receipts_ ABSL_GUARDED_BY(mu_);
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

SubscriberFleet::SubscriberFleet(const std::string& frontend, Options options)
    : threads_(options.queues, [](void* tag, bool ok) {
        const auto* op = static_cast<const Stream::Op*>(tag);
        op->stream->Proceed(op, ok);
      }) {
  for (int i = 0; i < std::max(options.channels, 1); ++i) {
    grpc::ChannelArguments args;
    // Channels with equal arguments would share one connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("podium.fleet_channel", i);
    channels_.push_back(
        grpc::CreateCustomChannel(frontend, grpc::InsecureChannelCredentials(), args));
    stubs_.push_back(v1::Scoreboard::NewStub(channels_.back()));
  }
}

SubscriberFleet::~SubscriberFleet() {
  {
    absl::MutexLock lock(&mu_);
    for (auto& stream : streams_) stream->Cancel();
  }
  // Every stream finishes once cancelled; bounded all the same.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    {
      absl::MutexLock lock(&mu_);
      if (std::all_of(streams_.begin(), streams_.end(), [](const auto& s) { return s->done(); })) {
        break;
      }
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  threads_.Stop();
}

void SubscriberFleet::Add(const v1::SubscribeRequest& request) {
  absl::MutexLock lock(&mu_);
  const size_t i = streams_.size();
  streams_.push_back(
      std::make_unique<Stream>(stubs_[i % stubs_.size()].get(), threads_.queue(i), request));
}

int SubscriberFleet::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(streams_.size());
}

std::vector<Receipt> SubscriberFleet::receipts(int i) const {
  absl::MutexLock lock(&mu_);
  return streams_[static_cast<size_t>(i)]->receipts();
}

absl::Time SubscriberFleet::FirstAbove(int i, int64_t seq) const {
  absl::MutexLock lock(&mu_);
  return streams_[static_cast<size_t>(i)]->FirstAbove(seq);
}

std::vector<grpc::Status> SubscriberFleet::ended() const {
  std::vector<grpc::Status> ended;
  absl::MutexLock lock(&mu_);
  for (const auto& stream : streams_) {
    if (stream->done()) ended.push_back(stream->status());
  }
  return ended;
}

absl::Status SubscriberFleet::WaitForSnapshots(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int missing = 0;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& stream : streams_) {
        if (stream->done()) {
          return absl::FailedPreconditionError(absl::StrCat("a stream ended before its snapshot: ",
                                                            stream->status().error_message()));
        }
        if (stream->snapshots() < stream->keys()) ++missing;
      }
    }
    if (missing == 0) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(missing, " streams without a snapshot of every key they asked for"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

absl::Status SubscriberFleet::WaitForSeqs(
    const std::vector<std::pair<std::string, int64_t>>& final_seqs, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    std::string behind;
    {
      absl::MutexLock lock(&mu_);
      for (size_t i = 0; i < streams_.size() && behind.empty(); ++i) {
        for (const auto& [key, seq] : final_seqs) {
          if (!streams_[i]->Wants(key)) continue;
          const int64_t high = streams_[i]->high(key);
          if (high < seq) {
            behind = absl::StrCat("stream ", i, " has ", key, " at ", high, ", not ", seq);
            break;
          }
        }
      }
    }
    if (behind.empty()) return absl::OkStatus();
    if (absl::Now() > deadline) return absl::DeadlineExceededError(behind);
    absl::SleepFor(absl::Milliseconds(20));
  }
}

}  // namespace podium::harness
