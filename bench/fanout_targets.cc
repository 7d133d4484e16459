#include "bench/fanout_targets.h"

#include <errno.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/measurements.h"
#include "common/auth.h"
#include "common/channel.h"
#include "harness/cluster.h"

namespace podium::bench {
v1::RecordScoreRequest FanoutWrite(const std::string& event, const std::string& team, int number) {
  v1::RecordScoreRequest request;
  request.set_idempotency_key(absl::StrCat("fanout-", number));
  request.set_event(event);
  v1::TeamPoints* points = request.add_points();
  points->set_team(team);
  points->set_points(number);
  return request;
}

absl::StatusOr<std::vector<int64_t>> PublishThroughBackend(v1::Backend::Stub* backend,
                                                           const std::string& event,
                                                           const std::string& team, int count,
                                                           int* writes) {
  struct Call {
    grpc::ClientContext context;
    v1::RecordScoreRequest request;
    v1::WriteReply reply;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < count; ++i) {
    auto call = std::make_unique<Call>();
    AddBearerToken(&call->context, harness::BackendProcess::write_token());
    // Bounds the wait below: gRPC reports every call by its deadline.
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    call->request = FanoutWrite(event, team, ++*writes);
    calls.push_back(std::move(call));
  }
  absl::Mutex mu;
  int left = count;
  for (auto& call : calls) {
    backend->async()->RecordScore(&call->context, &call->request, &call->reply,
                                  [&mu, &left, c = call.get()](grpc::Status status) {
                                    absl::MutexLock lock(&mu);
                                    c->status = std::move(status);
                                    --left;
                                  });
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &left));
  }
  std::vector<int64_t> seqs;
  for (const auto& call : calls) {
    if (!call->status.ok()) {
      return absl::UnavailableError(absl::StrCat("write: ", call->status.error_message()));
    }
    seqs.push_back(call->reply.change().seq());
  }
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

// ------------------------------------------------------------------- gRPC

GrpcFanout::GrpcFanout(std::string subscribe_address, v1::Backend::Stub* backend, pid_t server,
                       std::string event, std::string team, int channels, int queues, int expected,
                       int* writes)
    : subscribe_address_(std::move(subscribe_address)),
      backend_(backend),
      server_(server),
      event_(std::move(event)),
      team_(std::move(team)),
      channels_(std::max(1, channels)),
      queues_(std::max(1, queues)),
      expected_(expected),
      writes_(writes) {}

GrpcFanout::~GrpcFanout() {
  // Streams left open (an Open() that failed) end before their readers go.
  if (!closed_ && !abandoned_) Close().IgnoreError();
  if (!abandoned_) return;
  // gRPC may still call the readers and counters: leave them be.
  for (auto& reader : readers_) reader.release();
  threads_.release();
  opened_.release();
  done_.release();
  received_.release();
}

absl::Status GrpcFanout::Open(int subscribers) {
  const int64_t rss_before = measure_idle_memory_ ? SampleProcess(server_).rss_kib : 0;
  for (int c = 0; c < channels_; ++c) {
    stubs_.push_back(v1::Scoreboard::NewStub(CreateFastReconnectChannel(subscribe_address_)));
  }
  opened_ = std::make_unique<StreamCounter>();
  done_ = std::make_unique<StreamCounter>();
  received_ = std::make_unique<StreamCounter>();
  threads_ = std::make_unique<harness::CompletionThreads>(queues_, [](void* tag, bool ok) {
    const auto* op = static_cast<const TimedReader::Op*>(tag);
    op->reader->Proceed(op, ok);
  });
  for (int s = 0; s < subscribers; ++s) {
    readers_.push_back(std::make_unique<TimedReader>(stubs_[s % stubs_.size()].get(),
                                                     threads_->queue(s), event_, expected_,
                                                     opened_.get(), done_.get(), received_.get()));
  }
  // Opening many streams takes a while; say how far it got.
  for (int waited = 0; waited < 120; waited += 5) {
    if (opened_->WaitFor(subscribers, absl::Seconds(5))) {
      if (measure_idle_memory_) {
        idle_bytes_per_subscriber_ = IdleBytesPerSubscriber(server_, rss_before, subscribers);
      }
      return absl::OkStatus();
    }
    if (done_->count() > 0) break;  // refused: no use waiting
    std::fprintf(stderr, "%s: %lld of %d subscribers open\n", program_invocation_short_name,
                 static_cast<long long>(opened_->count()), subscribers);
  }
  for (const auto& reader : readers_) {
    if (done_->count() > 0 && !reader->status().ok()) {
      return absl::UnavailableError(
          absl::StrCat("a subscriber was refused: ", reader->status().error_message()));
    }
  }
  return absl::DeadlineExceededError("subscribers did not open within 120 s");
}

absl::StatusOr<std::vector<int64_t>> GrpcFanout::Publish(int count) {
  return PublishThroughBackend(backend_, event_, team_, count, writes_);
}

bool GrpcFanout::AllHave(int64_t seq) const {
  return std::all_of(readers_.begin(), readers_.end(),
                     [seq](const auto& reader) { return reader->max_seq() >= seq; });
}

absl::Status GrpcFanout::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  if (readers_.empty()) return absl::OkStatus();
  for (auto& reader : readers_) reader->Cancel();
  if (!done_->WaitFor(static_cast<int64_t>(readers_.size()), absl::Seconds(60))) {
    abandoned_ = true;
    return absl::DeadlineExceededError("streams did not finish");
  }
  for (const auto& reader : readers_) {
    if (!reader->status().ok() && reader->status().error_code() != grpc::StatusCode::CANCELLED) {
      return absl::UnavailableError(
          absl::StrCat("a subscriber's stream failed: ", reader->status().error_message()));
    }
  }
  return absl::OkStatus();
}

std::vector<const std::vector<Receipt>*> GrpcFanout::receipts() const {
  std::vector<const std::vector<Receipt>*> all;
  for (const auto& reader : readers_) all.push_back(&reader->receipts());
  return all;
}

}  // namespace podium::bench
