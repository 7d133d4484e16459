// The issue-4 end to end (guarantees 3, 6 and 8 together): six clients,
// each its own ScoreboardClient in this process, subscribed to everything
// across three push-mode frontends while a writer makes 1,000 changes;
// each frontend in turn is SIGKILLed mid-stream and restarted. Afterwards
// every client holds the backend's final board, saw the versions of every
// key strictly increase, missed no change, and the clients are back home,
// two per frontend.
#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/scoreboard_client.h"
#include "common/keys.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"
#include "tests/client_testing.h"

namespace podium::test {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::IsEmpty;

constexpr int kClients = 6;
constexpr int kWrites = 1000;

class SubscriberFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(backend_.Start().ok()) << backend_.log();
    ASSERT_EQ(frontends_.StartAll(), absl::OkStatus());
    ASSERT_TRUE(
        frontends_.WaitForMaster(frontends_.address(frontends_.HighestPid()), absl::Seconds(15))
            .ok());
  }

  // Each running frontend's own count of its clients (its own entry in its
  // own listing: the others' entries lag by a heartbeat).
  std::map<std::string, int64_t> Loads() {
    std::map<std::string, int64_t> loads;
    for (int i = 0; i < frontends_.size(); ++i) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
      v1::ListFrontendsReply reply;
      if (!frontends_.NewStub(i)
               ->ListFrontends(&context, v1::ListFrontendsRequest(), &reply)
               .ok()) {
        continue;
      }
      for (const v1::FrontendInfo& info : reply.frontends()) {
        if (info.address() == frontends_.address(i)) loads[info.address()] = info.clients();
      }
    }
    return loads;
  }

  // Polls until frontend 0, the seed new clients ask first, reports
  // `total` clients in all.
  bool WaitForTotal(int64_t total) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
      v1::ListFrontendsReply reply;
      if (frontends_.NewStub(0)->ListFrontends(&context, v1::ListFrontendsRequest(), &reply).ok()) {
        int64_t sum = 0;
        for (const v1::FrontendInfo& info : reply.frontends()) sum += info.clients();
        if (sum == total) return true;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  // Polls until every frontend serves two clients and every subscription
  // is at its client's home.
  bool WaitForTwoEachAtHome(absl::Duration timeout, std::string* last) {
    const absl::Time deadline = absl::Now() + timeout;
    do {
      last->clear();
      const std::map<std::string, int64_t> loads = Loads();
      bool ok = loads.size() == 3;
      for (const auto& [address, clients] : loads) {
        absl::StrAppend(last, address, " serves ", clients, "; ");
        ok = ok && clients == 2;
      }
      for (int n = 0; n < kClients; ++n) {
        if (subscribers_[n]->frontend() != clients_[n]->home()) {
          absl::StrAppend(last, "client ", n, " at ", subscribers_[n]->frontend(), ", home ",
                          clients_[n]->home(), "; ");
          ok = false;
        }
      }
      if (ok) return true;
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < deadline);
    return false;
  }

  harness::ScopedTempDir dir_;
  harness::BackendProcess backend_{dir_.path()};
  harness::FrontendCluster frontends_{dir_.path(), backend_.address(), 3, "push"};
  BackendWriter writer_{backend_.NewStub()};
  std::vector<std::unique_ptr<ScoreboardClient>> clients_;
  std::vector<std::unique_ptr<UpdateRecorder>> recorders_;
  std::vector<std::unique_ptr<Subscriber>> subscribers_;
};

TEST_F(SubscriberFailoverTest, SixClientsThreeKillsNothingLostAllBackHome) {
  std::vector<std::string> seeds;
  for (int i = 0; i < frontends_.size(); ++i) seeds.push_back(frontends_.address(i));
  // Placement: one client at a time, each placed once the previous one
  // counts, so each sees the true loads.
  std::map<std::string, int> homes;
  for (int n = 0; n < kClients; ++n) {
    ScoreboardClientOptions options;
    options.placement_seed = 1000 + n;
    absl::StatusOr<std::unique_ptr<ScoreboardClient>> client =
        ScoreboardClient::ConnectToFrontends(seeds, options);
    ASSERT_TRUE(client.ok()) << client.status();
    clients_.push_back(*std::move(client));
    recorders_.push_back(std::make_unique<UpdateRecorder>());
    absl::StatusOr<std::unique_ptr<Subscriber>> subscriber =
        clients_[n]->Subscribe(SubscriptionKeys::Everything(), recorders_[n]->Callback());
    ASSERT_TRUE(subscriber.ok()) << subscriber.status();
    subscribers_.push_back(*std::move(subscriber));
    ASSERT_TRUE(recorders_[n]->WaitForCount(1, absl::Seconds(10))) << "no snapshot";
    ASSERT_TRUE(WaitForTotal(n + 1)) << "client " << n << " not counted";
    ++homes[clients_[n]->home()];
  }
  for (const std::string& address : seeds) EXPECT_EQ(homes[address], 2) << address;
  std::string loads;
  ASSERT_TRUE(WaitForTwoEachAtHome(absl::Seconds(10), &loads)) << loads;

  // The writer: scores of four events and, every tenth write, a medal.
  const std::vector<std::string> events = {"menhir-put", "boar-hunt", "javelin", "chariot-race"};
  const std::vector<std::string> teams = {"Gauls", "Romans", "Britons", "Egyptians"};
  std::vector<v1::Change> written(kWrites);
  std::atomic<int> done{0};
  std::thread writer([&] {
    for (int n = 0; n < kWrites; ++n) {
      written[n] = n % 10 == 9 ? writer_.AwardMedal(teams[n % 4], v1::Medal(1 + n % 3))
                               : writer_.RecordScore(events[n % 4], teams[(n / 4) % 4], n);
      done = n + 1;
      absl::SleepFor(absl::Milliseconds(3));
    }
  });
  // Each frontend in turn dies mid-stream, stays down a moment (its clients
  // fail over), and comes back (they return). The master goes first, so
  // that a change of master happens while clients fail over; a revived
  // frontend has the highest pid and takes over again, so each restart
  // changes the master too.
  std::vector<int> order = {frontends_.HighestPid()};
  for (int i = 0; i < frontends_.size(); ++i) {
    if (i != order[0]) order.push_back(i);
  }
  const absl::Time bound = absl::Now() + absl::Seconds(120);
  for (int round = 0; round < frontends_.size(); ++round) {
    const int i = order[round];
    while (done < 150 + 300 * round && absl::Now() < bound) {
      absl::SleepFor(absl::Milliseconds(2));
    }
    frontends_.Kill(i, SIGKILL);
    absl::SleepFor(absl::Milliseconds(300));
    ASSERT_TRUE(frontends_.Start(i).ok()) << frontends_.log(i);
  }
  writer.join();
  for (const v1::Change& change : written) ASSERT_GT(change.seq(), 0) << "a write failed";

  absl::StatusOr<v1::Board> board = writer_.GetBoard();
  ASSERT_TRUE(board.ok()) << board.status();
  std::map<std::string, v1::Change> truth;
  for (const v1::EventScore& event : board->events()) {
    truth[EventKey(event.event())].mutable_event()->CopyFrom(event);
  }
  for (const v1::MedalTally& tally : board->medals()) {
    truth[TeamKey(tally.team())].mutable_medals()->CopyFrom(tally);
  }
  for (int n = 0; n < kClients; ++n) {
    SCOPED_TRACE(absl::StrCat("client ", n, " (home ", clients_[n]->home(), ")"));
    // The last write reaches everyone (bounded wait), then the final value
    // of every key must be the backend's.
    const v1::Change& last = written.back();
    ASSERT_TRUE(recorders_[n]->WaitForVersion(ChangeKey(last), last.seq(), absl::Seconds(20)));
    const std::vector<UpdateRecorder::Entry> entries = recorders_[n]->entries();
    std::map<std::string, v1::Change> final_values;
    for (const UpdateRecorder::Entry& entry : entries) {
      final_values[ChangeKey(entry.update.change())] = entry.update.change();
    }
    for (const auto& [key, value] : truth) {
      ASSERT_EQ(final_values.count(key), 1u) << key;
      const v1::Change& got = final_values[key];
      EXPECT_TRUE(value.has_event() ? MessageDifferencer::Equals(got.event(), value.event())
                                    : MessageDifferencer::Equals(got.medals(), value.medals()))
          << key << ": got " << got.ShortDebugString() << ", backend has "
          << value.ShortDebugString();
    }
    // Per key, versions strictly increase as delivered.
    EXPECT_THAT(VersionRegressions(entries), IsEmpty());
    // No lost change. The callbacks only record, so every subscriber keeps
    // up and no conflation for slowness is allowed: each change written
    // after the subscription opened must be delivered, or else superseded
    // by a snapshot value of its key (the one thing allowed to skip, e.g.
    // after a resume beyond the backend's retained history).
    EXPECT_THAT(MissedChanges(entries, written), IsEmpty());
    EXPECT_EQ(subscribers_[n]->status().code(), absl::StatusCode::kOk);
  }

  // Placement and return home, from the frontends' own loads: every client
  // went back to its revived home, so each frontend serves two again.
  ASSERT_TRUE(WaitForTwoEachAtHome(absl::Seconds(15), &loads)) << loads;
}

}  // namespace
}  // namespace podium::test
