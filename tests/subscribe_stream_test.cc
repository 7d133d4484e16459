// client/subscribe_stream against an in-process Scoreboard whose Subscribe
// sends several updates per message, as a frontend does for a subscriber
// that fell behind: every update reaches the sink in order, across the
// point where a window's worth waits for the owner and reading resumes only
// once the owner has consumed them.
#include "client/subscribe_stream.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/subscribe_format.h"
#include "gtest/gtest.h"
#include "harness/subprocess.h"

namespace podium {
namespace {

constexpr int kPerMessage = 64;
constexpr int kMessages = 5;  // 320 updates: more than SubscribeStream::kWindow

// Sends kMessages messages of kPerMessage updates with seqs 1, 2, ..., then
// keeps the stream open until released. Names its message format in the
// initial metadata as a frontend does, unless told to name `format`.
class BatchingScoreboard final : public v1::Scoreboard::Service {
 public:
  explicit BatchingScoreboard(std::string format = kSubscribeFormatBatches)
      : format_(std::move(format)) {}

  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::SubscribeUpdates>* writer) override {
    if (request->format() != v1::SUBSCRIBE_FORMAT_BATCHES) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "format");
    }
    context->AddInitialMetadata(kSubscribeFormatKey, format_);
    int64_t seq = 0;
    for (int m = 0; m < kMessages; ++m) {
      v1::SubscribeUpdates message;
      for (int i = 0; i < kPerMessage; ++i) {
        v1::Change* change = message.add_updates()->mutable_change();
        change->set_seq(++seq);
        change->mutable_event()->set_event("javelin");
        change->mutable_event()->set_version(seq);
      }
      if (!writer->Write(message)) return grpc::Status(grpc::StatusCode::CANCELLED, "gone");
    }
    release_.WaitForNotificationWithTimeout(absl::Seconds(30));
    return grpc::Status::OK;
  }
  void Release() { release_.Notify(); }

 private:
  const std::string format_;
  absl::Notification release_;
};

// Records what the stream hands over; the test consumes.
class RecordingSink final : public SubscribeStream::Sink {
 public:
  void OnStreamUpdate(SubscribeStream*, v1::SubscribeUpdate update) override {
    absl::MutexLock lock(&mu_);
    seqs_.push_back(update.change().seq());
  }
  void OnStreamEstablished(SubscribeStream*) override {
    absl::MutexLock lock(&mu_);
    established_ = true;
  }
  void OnStreamDone(SubscribeStream*, const grpc::Status& status) override {
    {
      absl::MutexLock lock(&mu_);
      status_ = status;
    }
    done_.Notify();
  }
  bool established() {
    absl::MutexLock lock(&mu_);
    return established_;
  }
  grpc::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  size_t received() {
    absl::MutexLock lock(&mu_);
    return seqs_.size();
  }

  // Waits (bounded) until at least `n` updates arrived; returns them.
  std::vector<int64_t> WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto arrived = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return seqs_.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&arrived), absl::Seconds(10));
    return seqs_;
  }
  bool WaitDone() { return done_.WaitForNotificationWithTimeout(absl::Seconds(10)); }

 private:
  absl::Mutex mu_;
  std::vector<int64_t> seqs_ ABSL_GUARDED_BY(mu_);
  bool established_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  absl::Notification done_;
};

// `service` on a free loopback port.
std::unique_ptr<grpc::Server> Serve(grpc::Service* service, std::string* address) {
  *address = absl::StrCat("127.0.0.1:", harness::PickFreePort());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(*address, grpc::InsecureServerCredentials());
  builder.RegisterService(service);
  return builder.BuildAndStart();
}

std::shared_ptr<v1::Scoreboard::Stub> StubFor(const std::string& address) {
  return v1::Scoreboard::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

TEST(SubscribeStreamTest, BatchedUpdatesArriveInOrderAndReadingWaitsForTheOwner) {
  BatchingScoreboard service;
  std::string address;
  std::unique_ptr<grpc::Server> server = Serve(&service, &address);
  ASSERT_NE(server, nullptr);

  RecordingSink sink;
  auto stream = std::make_unique<SubscribeStream>(&sink, address, /*after_seq=*/0);
  v1::SubscribeRequest request;
  request.add_events("javelin");
  stream->Start(StubFor(address), request);
  // Also when an assertion fails: the call ends before the stream goes.
  absl::Cleanup end_call = [&] {
    service.Release();
    stream->Cancel();
    EXPECT_TRUE(sink.WaitDone());
    stream.reset();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  };

  // Unconsumed: at least a window's worth arrives, whole messages in order.
  std::vector<int64_t> seqs = sink.WaitFor(SubscribeStream::kWindow);
  ASSERT_GE(seqs.size(), static_cast<size_t>(SubscribeStream::kWindow));
  for (size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], static_cast<int64_t>(i + 1));

  // Consumed, it reads on to the end.
  for (size_t i = 0; i < seqs.size(); ++i) stream->Consumed();
  seqs = sink.WaitFor(kMessages * kPerMessage);
  ASSERT_EQ(seqs.size(), static_cast<size_t>(kMessages * kPerMessage));
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], static_cast<int64_t>(i + 1));
  EXPECT_TRUE(sink.established());
}

// A frontend of another Podium version (it names another format, or none)
// is not read: the stream fails with FAILED_PRECONDITION, nothing handed on.
TEST(SubscribeStreamTest, AFrontendSendingAnotherFormatFailsTheStream) {
  BatchingScoreboard service("single");
  std::string address;
  std::unique_ptr<grpc::Server> server = Serve(&service, &address);
  ASSERT_NE(server, nullptr);
  absl::Cleanup stop_server = [&] {
    service.Release();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  };

  RecordingSink sink;
  SubscribeStream stream(&sink, address, /*after_seq=*/0);
  v1::SubscribeRequest request;
  request.add_events("javelin");
  stream.Start(StubFor(address), request);
  ASSERT_TRUE(sink.WaitDone());
  EXPECT_EQ(sink.status().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(sink.status().error_message().find(address), std::string::npos)
      << sink.status().error_message();
  EXPECT_EQ(sink.received(), 0u);
  EXPECT_FALSE(sink.established());
}

}  // namespace
}  // namespace podium
