#include "frontend/subscription_hub.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/keys.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

// A hub whose catch-up finds every key at version 0 (nothing written yet).
SubscriptionHooks EmptyBoard() {
  SubscriptionHooks hooks;
  hooks.ensure_feed = [](const std::vector<std::string>&) { return absl::OkStatus(); };
  hooks.read = [](const std::string& key) -> absl::StatusOr<v1::Change> {
    v1::Change change;
    change.mutable_event()->set_event(key.substr(key.find(':') + 1));
    return change;
  };
  hooks.changes_since = [](int64_t) -> absl::StatusOr<v1::ChangesSinceReply> {
    return v1::ChangesSinceReply();
  };
  return hooks;
}

v1::Change Score(const std::string& event, int64_t seq) {
  v1::Change change;
  change.set_seq(seq);
  change.mutable_event()->set_event(event);
  change.mutable_event()->set_version(seq);
  return change;
}

// Records what a subscription writes, completing each write at once.
class Recorder {
 public:
  Subscription::StartWrite writer() {
    return [this](absl::Span<const OutgoingUpdate> updates) {
      absl::MutexLock lock(&mu_);
      for (const OutgoingUpdate& update : updates) seqs_.push_back(update.change->change.seq());
    };
  }
  std::vector<int64_t> seqs() const {
    absl::MutexLock lock(&mu_);
    return seqs_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<int64_t> seqs_ ABSL_GUARDED_BY(mu_);
};

// Waits (bounded) until the hub has caught `s` up and releases live changes.
bool WaitCaughtUp(const Subscription& s) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (s.catching_up()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

TEST(SubscriptionHubTest, EachShardGetsItsOwnSubscriptionsInPublishOrder) {
  SubscriptionHub hub(EmptyBoard());
  // The runner queues tasks per shard; the test runs them when it likes.
  std::map<int, std::deque<std::function<void()>>> shards;
  absl::Mutex shards_mu;
  hub.SetShardRunner([&](int shard, std::function<void()> task) {
    absl::MutexLock lock(&shards_mu);
    shards[shard].push_back(std::move(task));
  });

  Recorder r0, r1, other;
  auto s0 = std::make_shared<Subscription>(std::vector<std::string>{EventKey("a")}, "c0",
                                           r0.writer());
  auto s1 = std::make_shared<Subscription>(std::vector<std::string>{EventKey("a")}, "c1",
                                           r1.writer());
  auto s_other = std::make_shared<Subscription>(std::vector<std::string>{EventKey("b")},
                                                "c2", other.writer());
  s0->set_shard(0);
  s1->set_shard(3);
  s_other->set_shard(3);
  for (const auto& s : {s0, s1, s_other}) hub.Add(s, /*after_seq=*/0);
  // Each opens with its snapshot, written by the hub's catch-up worker.
  for (const auto& s : {s0, s1, s_other}) ASSERT_TRUE(WaitCaughtUp(*s));
  ASSERT_EQ(r0.seqs().size(), 1u);
  ASSERT_EQ(r1.seqs().size(), 1u);
  ASSERT_EQ(other.seqs().size(), 1u);
  for (const auto& s : {s0, s1, s_other}) s->WriteDone();

  hub.Publish(Score("a", 1));
  hub.Publish(Score("a", 2));
  {
    absl::MutexLock lock(&shards_mu);
    // One task per shard and change, only for shards with a subscriber of
    // "a": shard 3's "b" subscriber does not make it a target of its own.
    ASSERT_EQ(shards.size(), 2u);
    EXPECT_EQ(shards[0].size(), 2u);
    EXPECT_EQ(shards[3].size(), 2u);
  }
  EXPECT_EQ(r0.seqs().size(), 1u) << "nothing is written until the shard runs it";

  // Shard 3 runs first: each shard delivers on its own, in publish order.
  for (int shard : {3, 0}) {
    std::deque<std::function<void()>> tasks;
    {
      absl::MutexLock lock(&shards_mu);
      tasks.swap(shards[shard]);
    }
    for (auto& task : tasks) {
      task();
      for (const auto& s : {s0, s1}) s->WriteDone();
    }
  }
  EXPECT_EQ(r0.seqs(), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(r1.seqs(), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(other.seqs(), (std::vector<int64_t>{0}));
}

TEST(SubscriptionHubTest, WithoutARunnerPublishWritesOnTheCallingThread) {
  SubscriptionHub hub(EmptyBoard());
  Recorder recorder;
  auto s = std::make_shared<Subscription>(std::vector<std::string>{EventKey("a")}, "c",
                                          recorder.writer());
  s->set_shard(5);  // ignored without a runner
  hub.Add(s, 0);
  ASSERT_TRUE(WaitCaughtUp(*s));
  ASSERT_EQ(recorder.seqs().size(), 1u);
  s->WriteDone();
  hub.Publish(Score("a", 7));
  EXPECT_EQ(recorder.seqs(), (std::vector<int64_t>{0, 7}));
}

TEST(SubscriptionHubTest, AChangeReachesOnlyItsKeysSubscribersAndRemovedOnesNoMore) {
  SubscriptionHub hub(EmptyBoard());
  Recorder of_a, of_a_and_b, of_b;
  auto a = std::make_shared<Subscription>(std::vector<std::string>{EventKey("a")}, "c1",
                                          of_a.writer());
  // Named twice: still one subscription of each key.
  auto ab = std::make_shared<Subscription>(
      std::vector<std::string>{EventKey("b"), EventKey("a"), EventKey("b")}, "c2",
      of_a_and_b.writer());
  auto b = std::make_shared<Subscription>(std::vector<std::string>{EventKey("b")}, "c3",
                                          of_b.writer());
  for (const auto& s : {a, ab, b}) hub.Add(s, 0);
  for (const auto& s : {a, ab, b}) ASSERT_TRUE(WaitCaughtUp(*s));
  // Snapshots: one value per key (the second of ab's waited for the first).
  for (const auto& s : {a, ab, b}) s->WriteDone();
  ASSERT_EQ(of_a.seqs().size(), 1u);
  ASSERT_EQ(of_a_and_b.seqs().size(), 2u);
  ASSERT_EQ(of_b.seqs().size(), 1u);
  std::vector<std::string> keys = hub.Keys();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{EventKey("a"), EventKey("b")}));

  auto published = [&](const v1::Change& change) {
    for (const auto& s : {a, ab, b}) s->WriteDone();
    hub.Publish(change);
  };
  published(Score("a", 1));
  published(Score("b", 2));
  EXPECT_EQ(of_a.seqs(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(of_a_and_b.seqs(), (std::vector<int64_t>{0, 0, 1, 2}));
  EXPECT_EQ(of_b.seqs(), (std::vector<int64_t>{0, 2}));

  hub.Remove(ab.get());
  hub.Remove(b.get());
  published(Score("a", 3));
  published(Score("b", 4));
  EXPECT_EQ(of_a.seqs(), (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(of_a_and_b.seqs(), (std::vector<int64_t>{0, 0, 1, 2}));
  EXPECT_EQ(of_b.seqs(), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(hub.Keys(), (std::vector<std::string>{EventKey("a")}));
  EXPECT_EQ(hub.size(), 1u);
}

TEST(SubscriptionHubTest, FanOutWritesEachClientsStreamsTogether) {
  SubscriptionHub hub(EmptyBoard());
  // Which client each write went to, in the order of the writes.
  absl::Mutex mu;
  std::vector<std::string> order;
  std::vector<std::shared_ptr<Subscription>> subs;
  for (const char* client : {"ipv4:127.0.0.1:5002", "ipv4:127.0.0.1:5001",
                             "ipv4:127.0.0.1:5002", "ipv4:127.0.0.1:5001",
                             "ipv4:127.0.0.1:5003", "ipv4:127.0.0.1:5002"}) {
    subs.push_back(std::make_shared<Subscription>(
        std::vector<std::string>{EventKey("a")}, client,
        [&mu, &order, client](absl::Span<const OutgoingUpdate>) {
          absl::MutexLock lock(&mu);
          order.push_back(client);
        }));
    hub.Add(subs.back(), 0);
  }
  for (const auto& s : subs) ASSERT_TRUE(WaitCaughtUp(*s));
  for (const auto& s : subs) s->WriteDone();
  {
    absl::MutexLock lock(&mu);
    order.clear();  // the snapshots came from catch-up workers, in any order
  }
  hub.Publish(Score("a", 1));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(order, (std::vector<std::string>{
                       "ipv4:127.0.0.1:5001", "ipv4:127.0.0.1:5001",
                       "ipv4:127.0.0.1:5002", "ipv4:127.0.0.1:5002",
                       "ipv4:127.0.0.1:5002", "ipv4:127.0.0.1:5003"}));
}

}  // namespace
}  // namespace podium
