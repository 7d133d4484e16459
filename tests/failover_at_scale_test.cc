// Guarantee 6 at scale (issue 12): 2,000 subscriptions on a member while
// its master is SIGKILLed mid-stream. Every subscription must receive every
// change of its keys after its snapshot, in order (skipping one only where
// the frontend flags the update as conflated), and end on the backend's
// final values. Real processes: a backend and three push-mode frontends.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/keys.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/subscriber_fleet.h"
#include "harness/temp_dir.h"
#include "tests/client_testing.h"

namespace podium::test {
namespace {

constexpr int kSubscriptions = 2000;
const std::vector<std::string> kEvents = {"javelin", "boar-hunt"};

// Every seq of each key in the backend's change log.
std::map<std::string, std::vector<int64_t>> ChangeLog(v1::Backend::Stub* backend) {
  std::map<std::string, std::vector<int64_t>> log;
  int64_t after = 0;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::ChangesSinceRequest request;
    request.set_after_seq(after);
    request.set_max_changes(1000);
    v1::ChangesSinceReply reply;
    if (!backend->ChangesSince(&context, request, &reply).ok()) return {};
    for (const v1::Change& change : reply.changes()) {
      log[ChangeKey(change)].push_back(change.seq());
      after = change.seq();
    }
    if (reply.changes().empty() || after >= reply.head_seq()) return log;
  }
}

// What is wrong with one stream's receipts, or "": per key strictly
// increasing from the snapshot, every logged change after it delivered
// unless the update that skipped it says conflated, ending on the last.
std::string Check(const std::vector<harness::Receipt>& receipts,
                  const std::map<std::string, std::vector<int64_t>>& log) {
  std::map<std::string, int64_t> last;
  for (const harness::Receipt& r : receipts) {
    auto previous = last.find(r.key);
    if (previous == last.end()) {
      if (!r.snapshot) return absl::StrCat(r.key, ": first update ", r.seq, " is no snapshot");
      last[r.key] = r.seq;
      continue;
    }
    if (r.seq <= previous->second) {
      return absl::StrCat(r.key, ": ", r.seq, " after ", previous->second);
    }
    const std::vector<int64_t>& seqs = log.at(r.key);
    auto skipped = std::upper_bound(seqs.begin(), seqs.end(), previous->second);
    if (skipped == seqs.end()) return absl::StrCat(r.key, ": ", r.seq, " is not in the log");
    if (*skipped != r.seq && !r.conflated) {
      return absl::StrCat(r.key, ": ", *skipped, " missing between ", previous->second, " and ",
                          r.seq, ", not flagged conflated");
    }
    previous->second = r.seq;
  }
  for (const auto& [key, seqs] : log) {
    if (last[key] != seqs.back()) {
      return absl::StrCat(key, ": ends at ", last[key], ", not ", seqs.back());
    }
  }
  return "";
}

// The log of stream i's keys: every stream wants the first event, odd ones
// the second too.
std::map<std::string, std::vector<int64_t>> LogOfStream(
    int i, const std::map<std::string, std::vector<int64_t>>& log) {
  std::map<std::string, std::vector<int64_t>> mine = {
      {EventKey(kEvents[0]), log.at(EventKey(kEvents[0]))}};
  if (i % 2) mine[EventKey(kEvents[1])] = log.at(EventKey(kEvents[1]));
  return mine;
}

// The last seq of every key, for harness::SubscriberFleet::WaitForSeqs.
std::vector<std::pair<std::string, int64_t>> Finals(
    const std::map<std::string, std::vector<int64_t>>& log) {
  std::vector<std::pair<std::string, int64_t>> finals;
  for (const auto& [key, seqs] : log) finals.emplace_back(key, seqs.back());
  return finals;
}

// ChangesSince calls the backend served so far (it logs each at --verbose=1).
size_t ChangesSinceCalls(const harness::BackendProcess& backend) {
  const std::string log = backend.log();
  size_t n = 0;
  for (size_t at = 0; (at = log.find("ChangesSince after=", at)) != std::string::npos; ++at) ++n;
  return n;
}

TEST(FailoverAtScaleTest, AMasterKillWithThousandsOfSubscriptionsLosesNoChange) {
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path(), {"--verbose=1"});  // logs each ChangesSince
  ASSERT_TRUE(backend.Start().ok()) << backend.log();
  harness::FrontendCluster frontends(dir.path(), backend.address(), 3, "push");
  ASSERT_EQ(frontends.StartAll(), absl::OkStatus());
  const int master = frontends.HighestPid();
  ASSERT_TRUE(frontends.WaitForMaster(frontends.address(master), absl::Seconds(15)).ok());
  // The member with the lowest pid stays a member when the master dies.
  int member = -1;
  for (int i = 0; i < frontends.size(); ++i) {
    if (member < 0 || frontends.pid(i) < frontends.pid(member)) member = i;
  }
  BackendWriter writer(backend.NewStub());
  for (const std::string& event : kEvents)
    ASSERT_GT(writer.RecordScore(event, "Gauls", 1).seq(), 0);

  harness::SubscriberFleet fleet(frontends.address(member), harness::SubscriberFleet::Options{});
  for (int i = 0; i < kSubscriptions; ++i) {
    v1::SubscribeRequest request;
    request.add_events(kEvents[0]);
    if (i % 2) request.add_events(kEvents[1]);  // two key sets
    fleet.Add(request);
  }
  ASSERT_TRUE(fleet.WaitForSnapshots(absl::Seconds(60)).ok());

  // Writes every 10 ms to each key, before, across and after the kill.
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0};
  std::thread writing([&] {
    for (int n = 0; n < 400 && !stop.load(); ++n) {
      if (writer.RecordScore(kEvents[n % 2], "Gauls", n).seq() == 0) ++failed;
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  absl::SleepFor(absl::Milliseconds(300));
  const std::string log_before_kill = frontends.log(member);
  frontends.Kill(master, SIGKILL);
  absl::SleepFor(absl::Milliseconds(1500));
  stop = true;
  writing.join();
  ASSERT_EQ(failed.load(), 0);

  const std::map<std::string, std::vector<int64_t>> log = ChangeLog(backend.NewStub().get());
  ASSERT_EQ(log.size(), 2u);
  // Each stream waits only for the keys it asked for.
  const absl::Status caught_up = fleet.WaitForSeqs(Finals(log), absl::Seconds(60));
  ASSERT_TRUE(caught_up.ok()) << caught_up << "\n" << frontends.log(member);
  EXPECT_TRUE(fleet.ended().empty()) << fleet.ended().front().error_message();

  int wrong = 0;
  std::string first;
  for (int i = 0; i < kSubscriptions; ++i) {
    const std::string problem = Check(fleet.receipts(i), LogOfStream(i, log));
    if (!problem.empty() && wrong++ == 0) first = absl::StrCat("stream ", i, ": ", problem);
  }
  EXPECT_EQ(wrong, 0) << first;

  // The member caught its subscriptions up in a few batches, not one read
  // each: its log says how many it took at once.
  const std::string member_log = frontends.log(member).substr(log_before_kill.size());
  EXPECT_NE(member_log.find("subscriptions catch up after seq"), std::string::npos) << member_log;
  const size_t replays = ChangesSinceCalls(backend);
  std::cout << "backend ChangesSince calls: " << replays << "\n";
  EXPECT_LT(replays, 50u) << "ChangesSince calls at the backend, for " << kSubscriptions
                          << " subscriptions";
}

// The other half of issue 12: a frontend holding thousands of streams dies
// and its clients resubscribe at a survivor at once, each from the last
// seq it had (as the podium_client library does). The survivor serves the
// resumes from its recent changes or one shared read, never a backend read
// each, and every stream continues exactly where it left off.
TEST(FailoverAtScaleTest, ADeadFrontendsClientsResumeAtASurvivorWithoutLoss) {
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path(), {"--verbose=1"});  // logs each ChangesSince
  ASSERT_TRUE(backend.Start().ok()) << backend.log();
  harness::FrontendCluster frontends(dir.path(), backend.address(), 3, "push");
  ASSERT_EQ(frontends.StartAll(), absl::OkStatus());
  const int master = frontends.HighestPid();
  ASSERT_TRUE(frontends.WaitForMaster(frontends.address(master), absl::Seconds(15)).ok());
  const int victim = (master + 1) % 3;
  const int survivor = (master + 2) % 3;
  BackendWriter writer(backend.NewStub());
  for (const std::string& event : kEvents)
    ASSERT_GT(writer.RecordScore(event, "Gauls", 1).seq(), 0);

  auto request = [](int i, int64_t after_seq) {
    v1::SubscribeRequest r;
    r.add_events(kEvents[0]);
    if (i % 2) r.add_events(kEvents[1]);
    r.set_after_seq(after_seq);
    return r;
  };
  // The survivor's own subscribers, as it has them before the storm.
  harness::SubscriberFleet local(frontends.address(survivor),
                                 harness::SubscriberFleet::Options{2, 2});
  for (int i = 0; i < 10; ++i) local.Add(request(i, 0));
  ASSERT_TRUE(local.WaitForSnapshots(absl::Seconds(30)).ok());
  auto doomed = std::make_unique<harness::SubscriberFleet>(frontends.address(victim),
                                                           harness::SubscriberFleet::Options{});
  for (int i = 0; i < kSubscriptions; ++i) doomed->Add(request(i, 0));
  ASSERT_TRUE(doomed->WaitForSnapshots(absl::Seconds(60)).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> failed{0};
  std::thread writing([&] {
    for (int n = 0; n < 400 && !stop.load(); ++n) {
      if (writer.RecordScore(kEvents[n % 2], "Gauls", n).seq() == 0) ++failed;
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  absl::SleepFor(absl::Milliseconds(300));
  frontends.Kill(victim, SIGKILL);
  // What each stream had when its frontend died: the resume point.
  std::vector<std::vector<harness::Receipt>> before(kSubscriptions);
  std::vector<int64_t> resume(kSubscriptions, 0);
  for (int i = 0; i < kSubscriptions; ++i) {
    before[i] = doomed->receipts(i);
    for (const harness::Receipt& r : before[i]) resume[i] = std::max(resume[i], r.seq);
  }
  doomed.reset();
  const size_t replays_before = ChangesSinceCalls(backend);
  harness::SubscriberFleet resumed(frontends.address(survivor),
                                   harness::SubscriberFleet::Options{});
  for (int i = 0; i < kSubscriptions; ++i) resumed.Add(request(i, resume[i]));
  absl::SleepFor(absl::Milliseconds(500));
  stop = true;
  writing.join();
  ASSERT_EQ(failed.load(), 0);

  const std::map<std::string, std::vector<int64_t>> log = ChangeLog(backend.NewStub().get());
  ASSERT_EQ(log.size(), 2u);
  const absl::Status caught_up = resumed.WaitForSeqs(Finals(log), absl::Seconds(60));
  ASSERT_TRUE(caught_up.ok()) << caught_up << "\n" << frontends.log(survivor);
  int wrong = 0;
  std::string first;
  for (int i = 0; i < kSubscriptions; ++i) {
    // Both streams together, as the client's filter sees them: the
    // resumed one continues where the dead one stopped.
    std::vector<harness::Receipt> all = before[i];
    for (const harness::Receipt& r : resumed.receipts(i)) all.push_back(r);
    const std::string problem = Check(all, LogOfStream(i, log));
    if (!problem.empty() && wrong++ == 0) first = absl::StrCat("stream ", i, ": ", problem);
  }
  EXPECT_EQ(wrong, 0) << first;
  const size_t replays = ChangesSinceCalls(backend);
  std::cout << "backend ChangesSince calls for " << kSubscriptions
            << " resumes: " << replays - replays_before << "\n";
  EXPECT_LE(replays - replays_before, 5u);
}

}  // namespace
}  // namespace podium::test
