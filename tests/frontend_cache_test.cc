// Guarantees 3, 4 and 5 with real processes: push freshness, pull
// freshness, cache hits with the backend down, and monotonic versions
// while fills race with invalidations and master changes.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"
#include "harness/update_reader.h"

namespace podium::test {
namespace {

using ::testing::HasSubstr;

class FrontendCacheTest : public ::testing::Test {
 protected:
  void StartCluster(const std::string& mode, std::vector<std::string> flags = {}) {
    ASSERT_TRUE(backend_.Start().ok()) << backend_.log();
    backend_stub_ = backend_.NewStub();
    frontends_ = std::make_unique<harness::FrontendCluster>(dir_.path(), backend_.address(), 3,
                                                            mode, std::move(flags));
    ASSERT_EQ(frontends_->StartAll(), absl::OkStatus());
    if (mode == "push") {
      ASSERT_TRUE(
          frontends_
              ->WaitForMaster(frontends_->address(frontends_->HighestPid()), absl::Seconds(15))
              .ok());
    }
  }

  // Records points for Gauls in `event`; returns the new version.
  int64_t Write(const std::string& event, int64_t points) {
    grpc::ClientContext context;
    AddBearerToken(&context, "test-token");
    v1::RecordScoreRequest request;
    request.set_idempotency_key(absl::StrCat("w-", ++writes_));
    request.set_event(event);
    v1::TeamPoints* p = request.add_points();
    p->set_team("Gauls");
    p->set_points(points);
    v1::WriteReply reply;
    grpc::Status status = backend_stub_->RecordScore(&context, request, &reply);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return reply.change().seq();
  }

  static grpc::Status Read(v1::Scoreboard::Stub* stub, const std::string& event,
                           v1::EventScore* score) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::GetScoreRequest request;
    request.set_event(event);
    return stub->GetScore(&context, request, score);
  }

  // Polls frontend i until it answers `event` at `version` or later.
  bool WaitForVersion(int i, const std::string& event, int64_t version) {
    auto stub = frontends_->NewStub(i);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      v1::EventScore score;
      if (Read(stub.get(), event, &score).ok() && score.version() >= version) return true;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return false;
  }

  // A backend restarted with a games file that gained a team, under one
  // frontend in `mode`.
  void ExpectATeamAddedToReachEveryCachedValue(const std::string& mode);

  harness::ScopedTempDir dir_;
  harness::BackendProcess backend_{dir_.path()};
  std::unique_ptr<v1::Backend::Stub> backend_stub_;
  std::unique_ptr<harness::FrontendCluster> frontends_;
  int writes_ = 0;
};

TEST_F(FrontendCacheTest, PushReachesEveryFrontendThatCachesTheKey) {
  // A master change, as a missed heartbeat on a loaded machine can bring,
  // rightly makes cached values stale; nobody dies here, so none may come.
  StartCluster("push", {"--failure_timeout=5s"});
  Write("javelin", 1);
  for (int i = 0; i < 3; ++i) {
    v1::EventScore score;
    const grpc::Status status = Read(frontends_->NewStub(i).get(), "javelin", &score);
    ASSERT_TRUE(status.ok()) << "frontend " << i << ": " << status.error_message();
  }
  for (int round = 2; round <= 6; ++round) {
    const int64_t version = Write("javelin", round);
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(WaitForVersion(i, "javelin", version)) << "frontend " << i;
    }
  }
  // The pushes were what kept the caches fresh: stop the backend, and every
  // frontend still answers the newest value from memory.
  backend_.Kill(SIGKILL);
  for (int i = 0; i < 3; ++i) {
    v1::EventScore score;
    const grpc::Status status = Read(frontends_->NewStub(i).get(), "javelin", &score);
    ASSERT_TRUE(status.ok()) << "frontend " << i << ": " << status.error_message() << "\n"
                             << frontends_->log(i);
    EXPECT_EQ(score.points(0).points(), 6);
  }
}

// The master once gave up on a member that was merely unreachable for a
// while and never told it, so the member went on serving what it had
// cached as if it were fresh. Now the member gets a reset when it answers
// again.
TEST_F(FrontendCacheTest, AMemberTheMasterDroppedChangesForIsResetWhenItReturns) {
  ASSERT_TRUE(backend_.Start().ok()) << backend_.log();
  backend_stub_ = backend_.NewStub();
  frontends_ =
      std::make_unique<harness::FrontendCluster>(dir_.path(), backend_.address(), 3, "push");
  // Frontends 0 and 1 are slow to suspect anyone, so that when one of them
  // is frozen and thawed it still follows the master it had: only the
  // master (2, started last, so the highest pid) sees it die.
  frontends_->AddFlags(0, {"--failure_timeout=60s"});
  frontends_->AddFlags(1, {"--failure_timeout=60s"});
  ASSERT_EQ(frontends_->StartAll(), absl::OkStatus());
  ASSERT_EQ(frontends_->StartAsHighestPid(2), absl::OkStatus());
  const int master = 2;
  const int member = 0;
  ASSERT_EQ(frontends_->HighestPid(), master);
  ASSERT_TRUE(frontends_->WaitForMaster(frontends_->address(master), absl::Seconds(15)).ok());
  Write("javelin", 1);
  auto member_stub = frontends_->NewStub(member);
  v1::EventScore score;
  ASSERT_TRUE(Read(member_stub.get(), "javelin", &score).ok());
  // A subscriber on the member, too: it must not stay behind either.
  grpc::ClientContext watch;
  watch.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::SubscribeRequest subscribe;
  subscribe.add_events("javelin");
  auto updates = std::make_unique<harness::UpdateReader>(member_stub.get(), &watch, subscribe);
  v1::SubscribeUpdate update;
  ASSERT_TRUE(updates->Read(&update));  // the opening snapshot
  // Frozen, the member misses its heartbeats and the master's invalidation
  // of the next write times out: the master drops it.
  const pid_t frozen = frontends_->pid(member);
  ASSERT_EQ(::kill(frozen, SIGSTOP), 0);
  struct Thaw {
    pid_t pid;
    ~Thaw() { ::kill(pid, SIGCONT); }
  } thaw{frozen};
  const int64_t version = Write("javelin", 2);
  const std::string dropped = "invalidations for member " + frontends_->peer_address(member);
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (frontends_->log(master).find(dropped) == std::string::npos && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_NE(frontends_->log(master).find(dropped), std::string::npos) << frontends_->log(master);
  ASSERT_EQ(::kill(frozen, SIGCONT), 0);
  EXPECT_TRUE(WaitForVersion(member, "javelin", version)) << frontends_->log(member);
  while (update.change().seq() < version && updates->Read(&update)) {
  }
  EXPECT_EQ(update.change().seq(), version) << "the subscriber on the member stayed behind";
  watch.TryCancel();
  updates->Finish().IgnoreError();
}

TEST_F(FrontendCacheTest, PullAppliesTheChangeLogEveryInterval) {
  StartCluster("pull", {"--poll_interval=50ms"});
  for (int round = 1; round <= 5; ++round) {
    const int64_t version = Write("wrestling", round);
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(WaitForVersion(i, "wrestling", version)) << "frontend " << i;
    }
  }
}

TEST_F(FrontendCacheTest, CacheHitsSurviveTheBackendMissesSayUnavailable) {
  // Slow to suspect a peer: on a loaded machine a missed heartbeat would
  // change the master, which rightly makes every cached value stale, and
  // this test is about the backend's death, not the master's.
  StartCluster("push", {"--failure_timeout=5s"});
  Write("boar-hunt", 42);
  auto stub = frontends_->NewStub(0);
  v1::EventScore score;
  ASSERT_TRUE(Read(stub.get(), "boar-hunt", &score).ok());
  backend_.Kill(SIGKILL);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Read(stub.get(), "boar-hunt", &score).ok()) << "hit needed the backend";
    EXPECT_EQ(score.points(0).points(), 42);
  }
  grpc::Status miss = Read(stub.get(), "chariot-race", &score);
  EXPECT_EQ(miss.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(miss.error_message(), HasSubstr("not cached here"));
  EXPECT_THAT(miss.error_message(), HasSubstr(backend_.address()));
}

// Issue 14 item 3: a change of master makes every cached value stale, and
// with no backend to read, stale values are still answered (stale-if-error),
// flagged unverified, as is a board made of them; once a backend answers
// again, reads are verified again.
TEST_F(FrontendCacheTest, WithEveryBackendDownStaleValuesAreAnsweredUnverifiedUntilOneReturns) {
  StartCluster("push");
  Write("boar-hunt", 42);
  int lowest = 0;
  for (int i = 1; i < frontends_->size(); ++i) {
    if (frontends_->pid(i) < frontends_->pid(lowest)) lowest = i;
  }
  // The lowest pid stays a member through the change of master below.
  auto stub = frontends_->NewStub(lowest);
  v1::EventScore score;
  ASSERT_TRUE(Read(stub.get(), "boar-hunt", &score).ok());
  {
    grpc::ClientContext context;
    v1::Board board;
    ASSERT_TRUE(stub->GetBoard(&context, v1::GetScoreboardRequest(), &board).ok());
    EXPECT_FALSE(board.unverified());
  }
  backend_.Kill(SIGKILL);
  const int master = frontends_->HighestPid();
  frontends_->Kill(master, SIGKILL);
  ASSERT_TRUE(
      frontends_->WaitForMaster(frontends_->address(frontends_->HighestPid()), absl::Seconds(15))
          .ok());

  grpc::Status status;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {  // until the member has seen the new master and dropped its fresh marks
    status = Read(stub.get(), "boar-hunt", &score);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(score.points(0).points(), 42);
  } while (!score.unverified() && absl::Now() < deadline);
  EXPECT_TRUE(score.unverified()) << "a stale value was answered as if verified";
  {
    grpc::ClientContext context;
    v1::Board board;
    status = stub->GetBoard(&context, v1::GetScoreboardRequest(), &board);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(board.unverified());
    EXPECT_EQ(board.events_size(), 6);
  }
  // A key never cached has nothing to fall back on.
  EXPECT_EQ(Read(stub.get(), "no-such-event", &score).error_code(), grpc::StatusCode::NOT_FOUND);

  ASSERT_TRUE(backend_.Start().ok()) << backend_.log();
  const absl::Time verified_by = absl::Now() + absl::Seconds(10);
  do {
    status = Read(stub.get(), "boar-hunt", &score);
  } while ((!status.ok() || score.unverified()) && absl::Now() < verified_by);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(score.unverified());
  EXPECT_EQ(score.points(0).points(), 42);
}

TEST_F(FrontendCacheTest, UnknownEventIsNotFoundThroughTheFrontend) {
  StartCluster("push");
  v1::EventScore score;
  grpc::Status status = Read(frontends_->NewStub(1).get(), "curling", &score);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("curling"));
}

// The backend accepts a games file that grew since its database was
// written; the frontends once learned the names a single time and went on
// refusing a new event as "not in the games file".
TEST_F(FrontendCacheTest, AnEventAddedToTheGamesIsServedAfterTheBackendRestarts) {
  const std::string games = dir_.path() + "/games.txt";
  std::ofstream(games) << "team Gauls\nteam Romans\nevent javelin\n";
  harness::BackendProcess backend(dir_.path(), {"--games=" + games});
  ASSERT_TRUE(backend.Start().ok()) << backend.log();
  harness::FrontendCluster frontends(dir_.path(), backend.address(), 1, "pull");
  ASSERT_EQ(frontends.StartAll(), absl::OkStatus());
  auto stub = frontends.NewStub(0);
  v1::EventScore score;
  ASSERT_TRUE(Read(stub.get(), "javelin", &score).ok());
  // Until the frontend has read the names it lets the backend judge them;
  // the restart must come once it knows the old games, or its first read
  // could be answered by the new backend (or by the old one, too late).
  grpc::Status unknown;
  const absl::Time known_by = absl::Now() + absl::Seconds(10);
  do {
    unknown = Read(stub.get(), "discus", &score);
    ASSERT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND) << unknown.error_message();
    if (unknown.error_message().find("names are read again") != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < known_by);
  ASSERT_THAT(unknown.error_message(), HasSubstr("names are read again"))
      << "the frontend never learned the games' names";

  std::ofstream(games) << "team Gauls\nteam Romans\nevent javelin\nevent discus\n";
  ASSERT_TRUE(backend.Restart().ok()) << backend.log();
  // Within about a second (unknown names are rechecked at most that often).
  grpc::Status status;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    status = Read(stub.get(), "discus", &score);
    if (!status.ok()) absl::SleepFor(absl::Milliseconds(50));
  } while (!status.ok() && absl::Now() < deadline);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(score.event(), "discus");
  EXPECT_THAT(frontends.log(0), HasSubstr("the games changed: now 2 events"));

  grpc::ClientContext context;
  v1::Board board;
  ASSERT_TRUE(stub->GetBoard(&context, v1::GetScoreboardRequest(), &board).ok());
  ASSERT_EQ(board.events_size(), 2);
  EXPECT_EQ(board.events(1).event(), "discus");
}

// A games file that gained a team changes the shape of every value of the
// same version: the backend pads each event with the new team at 0. The
// frontend's fresh cached copies must take that shape too, without a write.
void FrontendCacheTest::ExpectATeamAddedToReachEveryCachedValue(const std::string& mode) {
  const std::string games = dir_.path() + "/games.txt";
  std::ofstream(games) << "team Gauls\nteam Romans\nevent javelin\n";
  harness::BackendProcess backend(dir_.path(), {"--games=" + games});
  ASSERT_TRUE(backend.Start().ok()) << backend.log();
  backend_stub_ = backend.NewStub();
  harness::FrontendCluster frontends(dir_.path(), backend.address(), 1, mode,
                                     {"--names_max_age=200ms"});
  ASSERT_EQ(frontends.StartAll(), absl::OkStatus());
  if (mode == "push") {
    ASSERT_TRUE(frontends.WaitForMaster(frontends.address(0), absl::Seconds(15)).ok());
  }
  Write("javelin", 3);
  auto stub = frontends.NewStub(0);
  v1::EventScore score;
  ASSERT_TRUE(Read(stub.get(), "javelin", &score).ok());
  ASSERT_EQ(score.points_size(), 2);

  std::ofstream(games) << "team Gauls\nteam Romans\nteam Britons\nevent javelin\n";
  ASSERT_TRUE(backend.Restart().ok()) << backend.log();
  // Both the cached event and the board take the new shape (the master's
  // catch-up after the restart may reshape the event first; the names'
  // re-read brings the board's new team and refreshes what is left).
  v1::Board board;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    if (Read(stub.get(), "javelin", &score).ok() && score.points_size() == 3 &&
        stub->GetBoard(&context, v1::GetScoreboardRequest(), &board).ok() &&
        board.medals_size() == 3) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(score.points_size(), 3) << frontends.log(0);
  EXPECT_EQ(score.points(0).points(), 3);
  EXPECT_EQ(score.points(2).team(), "Britons");
  ASSERT_EQ(board.medals_size(), 3) << frontends.log(0);
  EXPECT_EQ(board.events(0).points_size(), 3);
  EXPECT_THAT(frontends.log(0), HasSubstr("the games changed"));
}

TEST_F(FrontendCacheTest, ATeamAddedToTheGamesReachesEveryCachedValuePush) {
  ExpectATeamAddedToReachEveryCachedValue("push");
}

// Pull mode reads only changes, so nothing but the names' re-read can
// reshape a cached value that was not written again.
TEST_F(FrontendCacheTest, ATeamAddedToTheGamesReachesEveryCachedValuePull) {
  ExpectATeamAddedToReachEveryCachedValue("pull");
}

// Readers on every frontend race fills against pushes while the bard
// writes and the master is killed and revived twice (each master change
// invalidates every cache, so fills happen throughout). No reader may ever
// see a version go back, and all frontends end on the final value.
TEST_F(FrontendCacheTest, VersionsNeverGoBackWhileFillsRaceInvalidations) {
  StartCluster("push");
  const std::vector<std::string> events = {"menhir-put", "boar-hunt", "javelin"};
  std::atomic<bool> done{false};
  std::atomic<int> violations{0};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    for (int r = 0; r < 2; ++r) {
      readers.emplace_back([&, i] {
        auto stub = frontends_->NewStub(i);
        std::map<std::string, int64_t> last;
        // Bounded: the writer below ends, and so does this loop, at most
        // after 200k reads.
        for (int n = 0; !done && n < 200000; ++n) {
          const std::string& event = events[n % events.size()];
          v1::EventScore score;
          if (!Read(stub.get(), event, &score).ok()) continue;  // its frontend is down
          if (score.version() < last[event]) ++violations;
          last[event] = score.version();
          ++reads;
        }
      });
    }
  }
  int64_t final_version = 0;
  for (int round = 1; round <= 300; ++round) {
    final_version = Write(events[round % events.size()], round);
    if (round == 100 || round == 200) {
      const int master = frontends_->HighestPid();
      frontends_->Kill(master, SIGKILL);
      ASSERT_EQ(frontends_->Start(master), absl::OkStatus());
    }
  }
  const int64_t last_write = final_version;
  done = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(reads.load(), 300);
  for (int i = 0; i < 3; ++i) {
    for (const std::string& event : events) {
      EXPECT_TRUE(WaitForVersion(i, event, 1)) << event;
    }
    EXPECT_TRUE(WaitForVersion(i, events[300 % events.size()], last_write))
        << "frontend " << i << " never got the last write";
  }
}

}  // namespace
}  // namespace podium::test
