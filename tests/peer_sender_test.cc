// PeerSender against an in-process member: order, loss and reset, the
// queue's bound, and giving up on a member that follows another master.
#include "frontend/peer_sender.h"

#include <atomic>
#include <memory>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/synchronization/mutex.h"
#include "common/server.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

// A member that records every Invalidate it accepts. It can refuse with a
// given status, or hold calls until released (a member that stalls).
class FakeMember final : public v1::FrontendPeer::Service {
 public:
  grpc::Status Invalidate(grpc::ServerContext*, const v1::InvalidateRequest* request,
                          v1::InvalidateReply*) override {
    absl::MutexLock lock(&mu_);
    ++entered_;
    mu_.Await(absl::Condition(
        +[](bool* held) { return !*held; }, &held_));
    if (!answer_.ok()) return answer_;
    received_.push_back(*request);
    return grpc::Status::OK;
  }

  void Answer(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    answer_ = std::move(status);
  }
  void Hold(bool held) {
    absl::MutexLock lock(&mu_);
    held_ = held;
  }

  // Waits until `n` requests were accepted (or calls entered); false on
  // timeout.
  bool WaitForReceived(size_t n) {
    absl::MutexLock lock(&mu_);
    auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return received_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&done), kWait);
  }
  bool WaitForEntered(int n) {
    absl::MutexLock lock(&mu_);
    auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return entered_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&done), kWait);
  }

  std::vector<v1::InvalidateRequest> received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }

 private:
  absl::Mutex mu_;
  grpc::Status answer_ ABSL_GUARDED_BY(mu_);
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  int entered_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<v1::InvalidateRequest> received_ ABSL_GUARDED_BY(mu_);
};

v1::Change ChangeAt(int64_t seq) {
  v1::Change change;
  change.set_seq(seq);
  change.mutable_event()->set_event("menhir-put");
  change.mutable_event()->set_version(seq);
  return change;
}

// The seqs of the changes in `requests`, in order, with 0 for a reset.
std::vector<int64_t> Seqs(const std::vector<v1::InvalidateRequest>& requests) {
  std::vector<int64_t> seqs;
  for (const auto& request : requests) {
    if (request.reset()) {
      EXPECT_EQ(request.changes_size(), 0) << "a reset comes alone";
      seqs.push_back(0);
    }
    for (const v1::Change& change : request.changes()) seqs.push_back(change.seq());
  }
  return seqs;
}

class PeerSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int port = 0;
    absl::StatusOr<std::unique_ptr<grpc::Server>> server =
        StartServer("127.0.0.1:0", {&member_}, &port);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::FrontendPeer::NewStub(channel_);
  }

  void TearDown() override {
    sender_.reset();  // before the member lets go: its thread must not call on
    member_.Hold(false);
    if (server_ != nullptr) ShutdownServer(server_.get(), absl::Seconds(1));
  }

  void StartSender(PeerSenderOptions options = {}) {
    sender_ = std::make_unique<PeerSender>("master:1", 7, "member:2", stub_.get(),
                                           [this] { return alive_.load(); }, options);
  }

  FakeMember member_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::FrontendPeer::Stub> stub_;
  std::atomic<bool> alive_{true};
  std::unique_ptr<PeerSender> sender_;
};

TEST_F(PeerSenderTest, DeliversEveryChangeInOrder) {
  StartSender();
  constexpr int kChanges = 2000;
  for (int seq = 1; seq <= kChanges; ++seq) sender_->Enqueue(ChangeAt(seq), seq);
  std::vector<int64_t> seqs;
  while (true) {
    const size_t requests = member_.received().size();
    seqs = Seqs(member_.received());
    if (seqs.size() >= kChanges) break;
    ASSERT_TRUE(member_.WaitForReceived(requests + 1)) << "stuck after " << seqs.size();
  }
  ASSERT_EQ(seqs.size(), kChanges);
  for (int i = 0; i < kChanges; ++i) ASSERT_EQ(seqs[i], i + 1);
  const auto requests = member_.received();
  EXPECT_EQ(requests.back().watched_seq(), kChanges);
  EXPECT_EQ(requests[0].master(), "master:1");
  EXPECT_EQ(requests[0].epoch(), 7);
  EXPECT_EQ(sender_->resets(), 0);
}

// A member that catches up from a reset replays from the last watched seq
// it was told; a batch must not vouch for changes still queued behind it.
TEST_F(PeerSenderTest, EachBatchReportsTheWatchedSeqOfItsLastChange) {
  member_.Hold(true);
  StartSender();
  sender_->Enqueue(ChangeAt(1), 1);
  ASSERT_TRUE(member_.WaitForEntered(1));
  for (int seq = 2; seq <= 600; ++seq) sender_->Enqueue(ChangeAt(seq), seq);
  member_.Hold(false);
  ASSERT_TRUE(member_.WaitForReceived(3));
  const auto requests = member_.received();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].changes_size(), 512);
  EXPECT_EQ(requests[1].watched_seq(), 513);
  EXPECT_EQ(requests[2].watched_seq(), 600);
}

// The case that once left a member serving stale values: the master gave
// up on it while it was only unreachable, and never told it.
TEST_F(PeerSenderTest, AMemberDeclaredDeadGetsAResetWhenItAnswersAgain) {
  alive_ = false;
  member_.Answer(grpc::Status(grpc::StatusCode::UNAVAILABLE, "member down"));
  StartSender();
  sender_->Enqueue(ChangeAt(1), 1);
  ASSERT_TRUE(member_.WaitForEntered(1));
  // The failed send finds the member dead: change 1 is dropped, a reset owed.
  const absl::Time deadline = absl::Now() + kWait;
  while (!sender_->owes_reset() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_TRUE(sender_->owes_reset());
  sender_->Enqueue(ChangeAt(2), 2);  // dropped: the reset covers it
  EXPECT_TRUE(sender_->healthy());

  member_.Answer(grpc::Status::OK);
  alive_ = true;
  ASSERT_TRUE(member_.WaitForReceived(1));
  sender_->Enqueue(ChangeAt(3), 3);
  ASSERT_TRUE(member_.WaitForReceived(2));
  EXPECT_EQ(Seqs(member_.received()), (std::vector<int64_t>{0, 3}));
  // Both carry the reset's number, so the member can tell a batch that the
  // reset overtook (it would carry 0) from one that follows it.
  EXPECT_EQ(member_.received()[0].resets(), 1);
  EXPECT_EQ(member_.received()[1].resets(), 1);
  EXPECT_EQ(sender_->resets(), 1);
  EXPECT_FALSE(sender_->owes_reset());
}

TEST_F(PeerSenderTest, AStalledMemberIsResetInsteadOfQueuedWithoutBound) {
  PeerSenderOptions options;
  options.max_queued = 100;
  options.send_timeout = absl::Seconds(30);  // the stall is not a timeout
  member_.Hold(true);
  StartSender(options);
  sender_->Enqueue(ChangeAt(1), 1);
  ASSERT_TRUE(member_.WaitForEntered(1));  // change 1 is in flight, held
  // 100 fill the queue; the 101st finds it full and drops them all.
  for (int seq = 2; seq <= 150; ++seq) sender_->Enqueue(ChangeAt(seq), seq);
  EXPECT_TRUE(sender_->owes_reset());
  member_.Hold(false);
  ASSERT_TRUE(member_.WaitForReceived(2));
  sender_->Enqueue(ChangeAt(151), 151);
  ASSERT_TRUE(member_.WaitForReceived(3));
  EXPECT_EQ(Seqs(member_.received()), (std::vector<int64_t>{1, 0, 151}));
  EXPECT_TRUE(sender_->healthy());
}

TEST_F(PeerSenderTest, AMemberThatFollowsAnotherMasterIsGivenUp) {
  member_.Answer(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "other master"));
  StartSender();
  sender_->Enqueue(ChangeAt(1), 1);
  ASSERT_TRUE(member_.WaitForEntered(1));
  const absl::Time deadline = absl::Now() + kWait;
  while (sender_->healthy() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_FALSE(sender_->healthy());
  // It registers with its own master; nothing more goes to it from here.
  member_.Answer(grpc::Status::OK);
  sender_->Enqueue(ChangeAt(2), 2);
  EXPECT_FALSE(sender_->owes_reset());
  EXPECT_EQ(sender_->resets(), 0);
  sender_.reset();  // joins the sender's thread: nothing can be in flight
  EXPECT_TRUE(member_.received().empty());
}

}  // namespace
}  // namespace podium
