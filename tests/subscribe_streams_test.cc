// SubscribeStreams in-process, over a real backend: how streams spread over
// the completion queues, and that a change reaches every stream.
#include "frontend/subscribe_streams.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/server.h"
#include "common/subscribe_format.h"
#include "frontend/frontend.h"
#include "frontend/scoreboard_service.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/subprocess.h"
#include "harness/temp_dir.h"
#include "harness/update_reader.h"
#include "tests/client_testing.h"

namespace podium {
namespace {

constexpr char kEvent[] = "menhir-put";
constexpr int kQueues = 4;

// One open Subscribe stream of kEvent.
struct Stream {
  grpc::ClientContext context;
  std::unique_ptr<harness::UpdateReader> reader;
};

class SubscribeStreamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(backend_.Start().ok()) << backend_.log();
    FrontendOptions options;
    options.address = absl::StrCat("127.0.0.1:", harness::PickFreePort());
    options.pid = getpid();
    options.backend = backend_.address();
    options.peers = {options.address};
    options.mode = v1::PULL;
    options.poll_interval = absl::Milliseconds(10);
    frontend_ = std::make_unique<Frontend>(options);
    scoreboard_ = std::make_unique<ScoreboardService>(frontend_.get());
    streams_ = std::make_unique<SubscribeStreams>(frontend_.get(), scoreboard_.get(), kQueues);
    absl::StatusOr<std::unique_ptr<grpc::Server>> server =
        StartServer(options.address, {scoreboard_.get()}, nullptr,
                    [this](grpc::ServerBuilder* builder) { streams_->AddTo(builder); });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    streams_->Start();
    frontend_->SetFanOutRunner(
        [this](int queue, std::function<void()> task) { streams_->Run(queue, std::move(task)); });
    frontend_->Start();
    stub_ = v1::Scoreboard::NewStub(
        grpc::CreateChannel(options.address, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    for (auto& stream : open_) stream->context.TryCancel();
    for (auto& stream : open_) stream->reader->Finish().IgnoreError();
    open_.clear();
    if (frontend_ != nullptr) frontend_->Stop();
    if (server_ != nullptr) ShutdownServer(server_.get(), absl::Seconds(1));
    if (streams_ != nullptr) streams_->Stop();
  }

  // Opens a stream and waits until the frontend has taken it.
  void Open() {
    auto stream = std::make_unique<Stream>();
    stream->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::SubscribeRequest request;
    request.add_events(kEvent);
    stream->reader =
        std::make_unique<harness::UpdateReader>(stub_.get(), &stream->context, request);
    stream->reader->WaitForInitialMetadata();
    open_.push_back(std::move(stream));
  }

  int64_t Write(int64_t points) {
    const int64_t seq = writer_.RecordScore(kEvent, "Gauls", points).seq();
    EXPECT_GT(seq, 0) << "the write failed";
    return seq;
  }

  harness::ScopedTempDir dir_;
  harness::BackendProcess backend_{dir_.path()};
  test::BackendWriter writer_{backend_.NewStub()};
  std::unique_ptr<Frontend> frontend_;
  std::unique_ptr<ScoreboardService> scoreboard_;
  std::unique_ptr<SubscribeStreams> streams_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Scoreboard::Stub> stub_;
  std::vector<std::unique_ptr<Stream>> open_;
};

// Streams opened one after another once all landed on one queue, and its
// one thread did the whole fan-out. Requests now name the queues in
// rotation: a queue gets at most one call more than its share, and at most
// kQueues fewer (the requests still waiting when the last stream opened).
TEST_F(SubscribeStreamsTest, StreamsSpreadEvenlyOverTheQueues) {
  constexpr int kPerQueue = 10;
  for (int i = 0; i < kQueues * kPerQueue; ++i) Open();
  ASSERT_EQ(streams_->live(), kQueues * kPerQueue);
  for (int queue = 0; queue < kQueues; ++queue) {
    EXPECT_LE(streams_->live(queue), kPerQueue + 1) << "queue " << queue;
    EXPECT_GE(streams_->live(queue), kPerQueue + 1 - kQueues) << "queue " << queue;
  }
}

// Calls arrive on one thread and are served on their queue's, where their
// end may land first: a caller that leaves at once must take its stream
// and its subscription with it, and the frontend go on serving.
TEST_F(SubscribeStreamsTest, CallersThatLeaveAtOnceLeaveNothingBehind) {
  constexpr int kCallers = 200;
  for (int i = 0; i < kCallers; ++i) {
    grpc::ClientContext context;
    v1::SubscribeRequest request;
    request.add_events(kEvent);
    std::unique_ptr<grpc::ClientReader<v1::SubscribeUpdates>> reader =
        stub_->Subscribe(&context, request);
    if (i % 2 == 1) reader->WaitForInitialMetadata();  // half leave once served
    context.TryCancel();
    EXPECT_FALSE(reader->Finish().ok());
  }
  // Until the counts read `streams`, or 10 s have passed.
  auto settle = [this](size_t streams) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (
        (streams_->live() != static_cast<int>(streams) || frontend_->subscriptions() != streams) &&
        absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  };
  settle(0);
  EXPECT_EQ(streams_->live(), 0);
  EXPECT_EQ(frontend_->subscriptions(), 0u);
  Open();
  settle(1);  // the subscription starts just after the stream's metadata
  EXPECT_EQ(streams_->live(), 1);
  EXPECT_EQ(frontend_->subscriptions(), 1u);
}

// Stop() while callers keep subscribing: calls gRPC matched just before
// the server shut down may still wait to be taken up, and taking them up
// must not touch a queue already shut down (gRPC aborts if it does). The
// test does not force that window (it is short; 5 runs against the old
// order of Stop() passed); it checks that stopping under arrivals neither
// aborts nor leaves a stream.
TEST_F(SubscribeStreamsTest, StoppingWhileCallsArriveEndsCleanly) {
  std::atomic<bool> done{false};
  std::atomic<int> served{0};
  std::thread caller([&] {
    for (int i = 0; i < 100000 && !done.load(); ++i) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
      v1::SubscribeRequest request;
      request.add_events(kEvent);
      std::unique_ptr<grpc::ClientReader<v1::SubscribeUpdates>> reader =
          stub_->Subscribe(&context, request);
      if (i % 2 == 0) {
        reader->WaitForInitialMetadata();
        served.fetch_add(1);
      }
      context.TryCancel();
      reader->Finish().IgnoreError();
    }
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (served.load() < 20 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_GE(served.load(), 20) << "Subscribe calls did not flow";
  ShutdownServer(server_.get(), absl::ZeroDuration());
  streams_->Stop();
  done.store(true);
  caller.join();
  EXPECT_EQ(streams_->live(), 0);
  server_.reset();
}

TEST_F(SubscribeStreamsTest, EveryStreamGetsTheSnapshotThenEachChange) {
  constexpr int kStreams = 12;
  for (int i = 0; i < kStreams; ++i) Open();
  // The opening snapshot: the event before any write, at version 0.
  for (auto& stream : open_) {
    v1::SubscribeUpdate update;
    ASSERT_TRUE(stream->reader->Read(&update));
    EXPECT_TRUE(update.snapshot());
    EXPECT_EQ(update.change().event().event(), kEvent);
  }
  std::vector<int64_t> seqs;
  for (int points = 1; points <= 3; ++points) seqs.push_back(Write(points));
  for (auto& stream : open_) {
    // Pull mode may fold changes that land in one poll: what arrives must
    // be in order and end at the last write, with its value.
    v1::SubscribeUpdate update;
    int64_t last = 0;
    while (last < seqs.back()) {
      ASSERT_TRUE(stream->reader->Read(&update)) << "stream ended at seq " << last;
      EXPECT_GT(update.change().seq(), last);
      last = update.change().seq();
    }
    EXPECT_EQ(last, seqs.back());
    int64_t gauls = -1;
    for (const v1::TeamPoints& p : update.change().event().points()) {
      if (p.team() == "Gauls") gauls = p.points();
    }
    EXPECT_EQ(gauls, 3);  // a score records the team's points, the last one stands
  }
}

// A stream resumed after missed changes gets them together, several updates
// in one message (encoded as one buffer), each whole and in order.
TEST_F(SubscribeStreamsTest, AResumedStreamGetsWhatItMissedInOneMessageInOrder) {
  std::vector<int64_t> seqs;
  for (int points = 1; points <= 5; ++points) seqs.push_back(Write(points));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::SubscribeRequest request;
  request.add_events(kEvent);
  request.set_after_seq(seqs.front());
  request.set_format(v1::SUBSCRIBE_FORMAT_BATCHES);
  auto reader = stub_->Subscribe(&context, request);
  v1::SubscribeUpdates message;
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_GT(message.updates_size(), 1) << "the missed changes left one message each";
  std::vector<int64_t> got;
  int points = 1;
  while (true) {
    for (const v1::SubscribeUpdate& update : message.updates()) {
      EXPECT_FALSE(update.snapshot());
      EXPECT_FALSE(update.conflated());
      got.push_back(update.change().seq());
      ASSERT_EQ(update.change().event().event(), kEvent);
      int64_t gauls = -1;
      for (const v1::TeamPoints& p : update.change().event().points()) {
        if (p.team() == "Gauls") gauls = p.points();
      }
      EXPECT_EQ(gauls, ++points) << "seq " << got.back();
    }
    if (got.size() >= seqs.size() - 1) break;
    ASSERT_TRUE(reader->Read(&message)) << "the stream ended after " << got.size() << " updates";
  }
  EXPECT_EQ(got, std::vector<int64_t>(seqs.begin() + 1, seqs.end()));
  context.TryCancel();
}

// A new stream of several events gets their current values together, in
// one message, each update flagged as a snapshot.
TEST_F(SubscribeStreamsTest, ANewStreamOfSeveralEventsGetsTheirSnapshotsInOneMessageFlagged) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::SubscribeRequest request;
  request.add_events(kEvent);
  request.add_events("boar-hunt");
  request.add_events("javelin");
  request.set_format(v1::SUBSCRIBE_FORMAT_BATCHES);
  auto reader = stub_->Subscribe(&context, request);
  v1::SubscribeUpdates message;
  ASSERT_TRUE(reader->Read(&message));
  ASSERT_EQ(message.updates_size(), 3);
  std::set<std::string> events;
  for (const v1::SubscribeUpdate& update : message.updates()) {
    EXPECT_TRUE(update.snapshot()) << update.change().event().event();
    EXPECT_FALSE(update.conflated());
    events.insert(update.change().event().event());
  }
  EXPECT_EQ(events, (std::set<std::string>{kEvent, "boar-hunt", "javelin"}));
  context.TryCancel();
}

// A client of another Podium, asking for a format this frontend does not
// send, is refused, saying why, rather than sent messages it would
// misread; one that leaves the format unset (written from the proto alone)
// gets the current one; either is told the format it gets.
TEST_F(SubscribeStreamsTest, TheMessageFormatIsCheckedBothWays) {
  grpc::ClientContext other_client;
  other_client.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::SubscribeRequest request;
  request.add_events(kEvent);
  request.set_format(static_cast<v1::SubscribeFormat>(7));  // a later Podium's
  auto reader = stub_->Subscribe(&other_client, request);
  v1::SubscribeUpdates message;
  EXPECT_FALSE(reader->Read(&message));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("does not know"), std::string::npos)
      << status.error_message();

  grpc::ClientContext plain_client;
  plain_client.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::SubscribeRequest plain;
  plain.add_events(kEvent);  // format unset: the current one
  auto plain_reader = stub_->Subscribe(&plain_client, plain);
  ASSERT_TRUE(plain_reader->Read(&message)) << "the snapshot";
  ASSERT_EQ(message.updates_size(), 1);
  EXPECT_TRUE(message.updates(0).snapshot());
  plain_client.TryCancel();

  Open();
  const auto& metadata = open_.back()->context.GetServerInitialMetadata();
  auto format = metadata.find(kSubscribeFormatKey);
  ASSERT_NE(format, metadata.end());
  EXPECT_EQ(std::string(format->second.data(), format->second.size()), kSubscribeFormatBatches);
}

}  // namespace
}  // namespace podium
