// The peer plane is the cluster's own: forged FrontendPeer calls, with and
// without the cluster token, change nothing anyone reads, and every
// frontend keeps following the real master (guarantee 9).
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"
#include "harness/update_reader.h"
#include "podium/v1/peer.grpc.pb.h"

namespace podium::test {
namespace {

using ::testing::HasSubstr;

class PeerPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(backend_.Start().ok()) << backend_.log();
    frontends_ =
        std::make_unique<harness::FrontendCluster>(dir_.path(), backend_.address(), 3, "push");
    ASSERT_EQ(frontends_->StartAll(), absl::OkStatus());
    master_ = frontends_->HighestPid();
    member_ = (master_ + 1) % 3;
    ASSERT_TRUE(frontends_->WaitForMaster(frontends_->address(master_), absl::Seconds(15)).ok());
    Write(1);
    // Every frontend caches javelin, and a subscriber on a member watches it.
    for (int i = 0; i < 3; ++i) boards_before_.push_back(Board(i));
    auto stub = frontends_->NewStub(member_);
    subscribe_.add_events("javelin");
    updates_ = std::make_unique<harness::UpdateReader>(stub.get(), &watch_, subscribe_);
    v1::SubscribeUpdate snapshot;
    ASSERT_TRUE(updates_->Read(&snapshot));
  }

  int64_t Write(int64_t points) {
    auto stub = backend_.NewStub();
    grpc::ClientContext context;
    AddBearerToken(&context, "test-token");
    v1::RecordScoreRequest request;
    request.set_idempotency_key(absl::StrCat("peer-plane-", points));
    request.set_event("javelin");
    v1::TeamPoints* p = request.add_points();
    p->set_team("Gauls");
    p->set_points(points);
    v1::WriteReply reply;
    EXPECT_TRUE(stub->RecordScore(&context, request, &reply).ok());
    return reply.change().seq();
  }

  std::string Board(int i) {
    grpc::ClientContext context;
    v1::Board board;
    EXPECT_TRUE(
        frontends_->NewStub(i)->GetBoard(&context, v1::GetScoreboardRequest(), &board).ok());
    return board.SerializeAsString();
  }

  // A FrontendPeer stub to frontend i's peer port, and a context that
  // carries `token` ("" for none).
  std::unique_ptr<v1::FrontendPeer::Stub> Peer(int i) {
    return v1::FrontendPeer::NewStub(
        grpc::CreateChannel(frontends_->peer_address(i), grpc::InsecureChannelCredentials()));
  }
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    if (!token.empty()) AddBearerToken(context.get(), token);
    return context;
  }

  // What a forger learns from a Ping: the master and its epoch.
  v1::PingReply PingMember(const std::string& token) {
    v1::PingRequest ping;
    ping.mutable_from()->set_address("127.0.0.1:1");
    v1::PingReply reply;
    EXPECT_TRUE(Peer(member_)->Ping(Context(token).get(), ping, &reply).ok());
    return reply;
  }

  // Nothing anyone reads changed, the subscriber hears the next real write
  // and not a forged one, and every frontend follows the real master.
  void ExpectUntouched() {
    for (int i = 0; i < 3; ++i) EXPECT_EQ(Board(i), boards_before_[i]) << "frontend " << i;
    const int64_t seq = Write(2);
    v1::SubscribeUpdate update;
    ASSERT_TRUE(updates_->Read(&update));
    EXPECT_EQ(update.change().seq(), seq);
    EXPECT_EQ(update.change().event().points(0).points(), 2);
    // Bounded generously: under TSan an election after a forged message
    // settles in seconds, not milliseconds.
    EXPECT_TRUE(frontends_->WaitForMaster(frontends_->address(master_), absl::Seconds(15)).ok());
  }

  harness::ScopedTempDir dir_;
  harness::BackendProcess backend_{dir_.path()};
  std::unique_ptr<harness::FrontendCluster> frontends_;
  int master_ = 0;
  int member_ = 0;
  std::vector<std::string> boards_before_;
  grpc::ClientContext watch_;
  v1::SubscribeRequest subscribe_;
  std::unique_ptr<harness::UpdateReader> updates_;
};

TEST_F(PeerPlaneTest, WithoutTheClusterTokenEveryPeerCallIsUnauthenticated) {
  for (const std::string& token : {std::string(""), std::string("not-the-token")}) {
    auto peer = Peer(member_);
    v1::PingRequest ping;
    v1::PingReply pong;
    grpc::Status s = peer->Ping(Context(token).get(), ping, &pong);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_THAT(s.error_message(), HasSubstr("cluster token"));
    EXPECT_EQ(pong.master(), "") << "a refused Ping revealed the master";

    v1::CoordinatorRequest coordinator;
    coordinator.mutable_master()->set_address(frontends_->peer_address(member_));
    coordinator.mutable_master()->set_pid(1 << 30);
    coordinator.set_epoch(1'000'000);
    v1::CoordinatorReply accepted;
    EXPECT_EQ(peer->Coordinator(Context(token).get(), coordinator, &accepted).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);

    v1::InterestRequest interest;
    interest.mutable_from()->set_address(frontends_->peer_address(member_));
    for (int i = 0; i < 1000; ++i) interest.add_keys(absl::StrCat("event:junk-", i));
    v1::InterestReply watched;
    EXPECT_EQ(Peer(master_)->Interest(Context(token).get(), interest, &watched).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);

    const v1::PingReply view = PingMember(harness::FrontendCluster::cluster_token());
    v1::InvalidateRequest invalidate;
    invalidate.set_master(view.master());
    invalidate.set_epoch(view.epoch());
    invalidate.set_watched_seq(1'000'000'000);
    v1::Change* forged = invalidate.add_changes();
    forged->set_seq(999'999'999);
    forged->mutable_event()->set_event("javelin");
    forged->mutable_event()->set_version(999'999'999);
    v1::InvalidateReply ignored;
    EXPECT_EQ(peer->Invalidate(Context(token).get(), invalidate, &ignored).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  ExpectUntouched();
}

TEST_F(PeerPlaneTest, EvenWithTheTokenNoMasterCanBeMadeUp) {
  const std::string token = harness::FrontendCluster::cluster_token();
  // A stranger's address, then a real member's address with a pid its
  // heartbeats do not show: both refused, neither epoch remembered.
  for (const std::string& address :
       {std::string("127.0.0.1:1"), frontends_->peer_address(member_)}) {
    v1::CoordinatorRequest coordinator;
    coordinator.mutable_master()->set_address(address);
    coordinator.mutable_master()->set_pid(1 << 30);
    coordinator.set_epoch(1'000'000);
    v1::CoordinatorReply reply;
    ASSERT_TRUE(
        Peer(master_ == 0 ? 1 : 0)->Coordinator(Context(token).get(), coordinator, &reply).ok());
    EXPECT_FALSE(reply.accepted()) << address;
    EXPECT_THAT(reply.reason(), ::testing::AnyOf(HasSubstr("not a configured peer"),
                                                 HasSubstr("not alive by its heartbeats")));
  }
  ExpectUntouched();
}

TEST_F(PeerPlaneTest, EvenWithTheTokenInterestIsBoundedByTheGames) {
  const std::string token = harness::FrontendCluster::cluster_token();
  v1::PingReply view = PingMember(token);
  v1::InterestRequest stranger;
  stranger.mutable_from()->set_address("127.0.0.1:1");
  stranger.set_epoch(view.epoch());
  stranger.add_keys("event:javelin");
  v1::InterestReply reply;
  EXPECT_EQ(Peer(master_)->Interest(Context(token).get(), stranger, &reply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::InterestRequest junk;
  junk.mutable_from()->set_address(frontends_->peer_address(member_));
  junk.set_epoch(view.epoch());
  for (int i = 0; i < 1000; ++i) junk.add_keys(absl::StrCat("event:junk-", i));
  grpc::Status s = Peer(master_)->Interest(Context(token).get(), junk, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("no key of the games"));
  ExpectUntouched();
}

TEST_F(PeerPlaneTest, EvenWithTheTokenAnInvalidationNoMasterSendsAppliesNothing) {
  const std::string token = harness::FrontendCluster::cluster_token();
  const v1::PingReply view = PingMember(token);
  // A change past the seq the master says it has read: the batch is refused.
  v1::InvalidateRequest ahead;
  ahead.set_master(view.master());
  ahead.set_epoch(view.epoch());
  ahead.set_watched_seq(1);
  v1::Change* forged = ahead.add_changes();
  forged->set_seq(999);
  forged->mutable_event()->set_event("javelin");
  v1::InvalidateReply ignored;
  grpc::Status s = Peer(member_)->Invalidate(Context(token).get(), ahead, &ignored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("no master sends"));
  // A key outside the games is nobody's: skipped, nothing cached for it.
  v1::InvalidateRequest junk = ahead;
  junk.set_watched_seq(1'000);
  junk.mutable_changes(0)->set_seq(5);
  junk.mutable_changes(0)->mutable_event()->set_event("no-such-event");
  EXPECT_TRUE(Peer(member_)->Invalidate(Context(token).get(), junk, &ignored).ok());
  ExpectUntouched();
}

TEST_F(PeerPlaneTest, EvenWithTheTokenADeadMasterCannotBeKeptAlive) {
  // The master's address and pid are public (ListFrontends); pings in its
  // name must not keep the members from replacing it.
  const std::string token = harness::FrontendCluster::cluster_token();
  const std::string dead = frontends_->peer_address(master_);
  const pid_t dead_pid = frontends_->pid(master_);
  frontends_->Kill(master_, SIGKILL);
  std::atomic<bool> done{false};
  std::thread forger([&] {
    const absl::Time end = absl::Now() + absl::Seconds(8);
    while (!done.load() && absl::Now() < end) {
      for (int i = 0; i < 3; ++i) {
        if (i == master_) continue;
        v1::PingRequest ping;
        ping.mutable_from()->set_address(dead);
        ping.mutable_from()->set_pid(dead_pid);
        ping.set_master(dead);
        ping.set_epoch(1'000'000);
        v1::PingReply reply;
        Peer(i)->Ping(Context(token).get(), ping, &reply).IgnoreError();
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  });
  const int next = frontends_->HighestPid();
  const absl::Status elected =
      frontends_->WaitForMaster(frontends_->address(next), absl::Seconds(5));
  done = true;
  forger.join();
  EXPECT_TRUE(elected.ok()) << elected;
}

TEST_F(PeerPlaneTest, ThePublicPortServesNoPeerCalls) {
  auto stub = v1::FrontendPeer::NewStub(
      grpc::CreateChannel(frontends_->address(member_), grpc::InsecureChannelCredentials()));
  v1::PingRequest ping;
  v1::PingReply pong;
  EXPECT_EQ(stub->Ping(Context(harness::FrontendCluster::cluster_token()).get(), ping, &pong)
                .error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace podium::test
