#include "frontend/subscription_hub.h"

#include <algorithm>
#include <iterator>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_join.h"
#include "common/keys.h"
#include "glog/logging.h"

namespace podium {
namespace {

constexpr absl::Duration kRetryAfter = absl::Milliseconds(200);

}  // namespace

SubscriptionHub::SubscriptionHub(SubscriptionHooks hooks, int workers, size_t recent_changes)
    : hooks_(std::move(hooks)), recent_(recent_changes) {
  for (int i = 0; i < workers; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

SubscriptionHub::~SubscriptionHub() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
}

void SubscriptionHub::Add(std::shared_ptr<Subscription> subscription, int64_t after_seq) {
  subscription->BeginCatchUp();
  {
    absl::MutexLock lock(&mu_);
    // Kept in order of client connection, so that fan-out writes a
    // connection's streams one after another. When two threads write the
    // same connection at once, gRPC's transport merges the later writes
    // into one sendmsg; interleaved connections rarely meet that way.
    // With 10,000 subscribers over 64 connections this took sendmsg calls
    // from 94-100% of deliveries to 90-91% (fanout_bench under perf stat,
    // three runs each); the kernel's send path is about a third of the
    // frontend's time in fan-out.
    for (const std::string& key : subscription->keys()) {
      by_key_[key].emplace(IndexKey(*subscription), subscription);
    }
    subscriptions_.emplace(subscription.get(), subscription);
  }
  std::vector<Task> task;
  task.push_back(Task{std::move(subscription), after_seq});
  Schedule(std::move(task), absl::Now());
}

void SubscriptionHub::Remove(const Subscription* subscription) {
  absl::MutexLock lock(&mu_);
  for (const std::string& key : subscription->keys()) {
    auto of_key = by_key_.find(key);
    if (of_key == by_key_.end()) continue;
    of_key->second.erase(IndexKey(*subscription));
    if (of_key->second.empty()) by_key_.erase(of_key);
  }
  subscriptions_.erase(subscription);
}

void SubscriptionHub::SetShardRunner(ShardRunner runner) {
  absl::MutexLock lock(&mu_);
  runner_ = std::move(runner);
}

void SubscriptionHub::Publish(const v1::Change& change) {
  // Encoded once: for the recent changes, and for every subscriber.
  const EncodedChangePtr encoded = EncodeChange(change);
  const std::string& key = encoded->key;
  // Changes reach every subscription in the order they arrive here.
  absl::MutexLock order(&publish_mu_);
  recent_.AddLive(encoded);
  std::vector<std::vector<std::shared_ptr<Subscription>>> shards;
  ShardRunner runner;
  {
    // Writing to thousands of streams takes a while; streams that end or
    // start meanwhile should not wait for it.
    absl::MutexLock lock(&mu_);
    runner = runner_;
    auto of_key = by_key_.find(key);
    if (of_key == by_key_.end()) return;
    for (const auto& [position, subscription] : of_key->second) {
      const size_t shard = runner ? static_cast<size_t>(std::max(0, subscription->shard())) : 0;
      if (shard >= shards.size()) shards.resize(shard + 1);
      shards[shard].push_back(subscription);
    }
  }
  if (shards.empty()) return;
  for (size_t shard = 0; shard < shards.size(); ++shard) {
    if (shards[shard].empty()) continue;
    auto fan_out = [targets = std::move(shards[shard]), encoded] {
      for (const auto& subscription : targets) subscription->Publish(encoded);
    };
    if (runner) {
      runner(static_cast<int>(shard), std::move(fan_out));
    } else {
      fan_out();
    }
  }
}

void SubscriptionHub::CatchUpAll(int64_t complete_seq) {
  std::vector<Task> tasks;
  {
    // Every subscription holds its live changes before any catch-up
    // registers at the new master, whose first pushes would otherwise reach
    // subscriptions not yet marked and make the version filter drop the
    // older changes their replay brings. One pass under mu_ (Publish waits
    // for it), none under publish_mu_.
    absl::MutexLock lock(&mu_);
    recent_.Forget();
    tasks.reserve(subscriptions_.size());
    for (const auto& [address, subscription] : subscriptions_) {
      subscription->BeginCatchUp();
      tasks.push_back(Task{subscription, std::min(subscription->high_seq(), complete_seq)});
    }
  }
  if (tasks.empty()) return;
  LOG(INFO) << tasks.size() << " subscriptions catch up after seq " << complete_seq << " or older";
  Schedule(std::move(tasks), absl::Now());
}

void SubscriptionHub::ForgetHistory() { recent_.Forget(); }

SubscriptionHub::Stats SubscriptionHub::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

std::vector<std::string> SubscriptionHub::Keys() const {
  std::vector<std::string> keys;
  absl::MutexLock lock(&mu_);
  keys.reserve(by_key_.size());
  for (const auto& [key, subscriptions] : by_key_) keys.push_back(key);
  return keys;
}

size_t SubscriptionHub::size() const {
  absl::MutexLock lock(&mu_);
  return subscriptions_.size();
}

void SubscriptionHub::Schedule(std::vector<Task> tasks, absl::Time not_before) {
  absl::MutexLock lock(&mu_);
  if (not_before <= absl::Now()) {
    if (due_.empty()) {
      due_ = std::move(tasks);
    } else {
      due_.insert(due_.end(), std::make_move_iterator(tasks.begin()),
                  std::make_move_iterator(tasks.end()));
    }
    return;
  }
  for (Task& task : tasks) later_.emplace(not_before, std::move(task));
}

void SubscriptionHub::WorkerLoop() {
  while (true) {
    std::vector<Task> tasks;
    {
      absl::MutexLock lock(&mu_);
      while (true) {
        if (stopping_) return;
        const absl::Time now = absl::Now();
        while (!later_.empty() && later_.begin()->first <= now) {
          due_.push_back(std::move(later_.begin()->second));
          later_.erase(later_.begin());
        }
        if (!due_.empty()) break;
        const absl::Duration wait = later_.empty() ? kRetryAfter : later_.begin()->first - now;
        auto ready = [this]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !due_.empty(); };
        mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
      }
      // Everything due at once: one batch, one read for all of it.
      tasks.swap(due_);
    }
    std::vector<Item> items;
    items.reserve(tasks.size());
    for (Task& task : tasks) {
      std::shared_ptr<Subscription> subscription = task.subscription.lock();
      if (subscription == nullptr) continue;  // it ended meanwhile
      items.push_back(Item{std::move(subscription), task.after_seq});
    }
    if (!items.empty()) RunBatch(std::move(items));
  }
}

void SubscriptionHub::Retry(const std::vector<Item>& items, const absl::Status& why) {
  LOG_EVERY_T(WARNING, 10) << "catch-up of " << items.size() << " subscriptions (of "
                           << items.front().subscription->client() << " and others) failed (" << why
                           << "); retrying";
  std::vector<Task> tasks;
  tasks.reserve(items.size());
  for (const Item& item : items) tasks.push_back(Task{item.subscription, item.after_seq});
  Schedule(std::move(tasks), absl::Now() + kRetryAfter);
}

void SubscriptionHub::RunBatch(std::vector<Item> items) {
  // The recent changes vouch for this batch's keys only if no gap comes
  // between the feed's registration below and the end of the replay.
  const int64_t generation = recent_.generation();
  absl::flat_hash_set<std::string> key_set;
  for (const Item& item : items)
    key_set.insert(item.subscription->keys().begin(), item.subscription->keys().end());
  std::vector<std::string> keys(key_set.begin(), key_set.end());
  std::sort(keys.begin(), keys.end());
  if (absl::Status s = hooks_.ensure_feed(keys); !s.ok()) {
    // One key the master refuses (a name the games dropped, names newer
    // here than there) must not hold up everyone else: each key set on
    // its own, and only those that fail again wait.
    absl::flat_hash_map<std::string, std::vector<Item>> by_key_set;
    for (Item& item : items) {
      by_key_set[absl::StrJoin(item.subscription->keys(), ",")].push_back(std::move(item));
    }
    if (by_key_set.size() == 1) return Retry(by_key_set.begin()->second, s);
    for (auto& [name, group] : by_key_set) RunBatch(std::move(group));
    return;
  }

  std::vector<Item> snapshots, replays;
  for (Item& item : items) {
    (item.after_seq == 0 ? snapshots : replays).push_back(std::move(item));
  }
  if (!replays.empty()) {
    if (absl::Status s = Replay(&replays, generation, &snapshots); !s.ok()) {
      Retry(replays, s);
      replays.clear();
    }
  }
  if (!snapshots.empty()) {
    absl::Status why;
    std::vector<Item> unread = Snapshot(&snapshots, generation, &why);
    if (!unread.empty()) Retry(unread, why);
  }
  for (const std::vector<Item>* done : {&replays, &snapshots}) {
    for (const Item& item : *done) item.subscription->EndCatchUp();
  }
  const size_t caught_up = replays.size() + snapshots.size();
  {
    absl::MutexLock lock(&mu_);
    ++stats_.batches;
    stats_.catch_ups += static_cast<int64_t>(caught_up);
  }
  if (caught_up >= 100) {
    LOG(INFO) << "caught up " << caught_up << " subscriptions over " << keys.size()
              << " keys in one batch";
  }
}

std::vector<SubscriptionHub::Item> SubscriptionHub::Snapshot(std::vector<Item>* items,
                                                             int64_t generation,
                                                             absl::Status* why) {
  // One read of each key, shared by every subscription that wants it.
  absl::flat_hash_map<std::string, EncodedChangePtr> values;
  for (const Item& item : *items) {
    for (const std::string& key : item.subscription->keys()) values.try_emplace(key);
  }
  for (auto& [key, value] : values) {
    absl::StatusOr<v1::Change> read = hooks_.read(key);
    if (!read.ok()) {
      *why = read.status();  // value stays null: its subscriptions wait
      continue;
    }
    value = EncodeChange(*read);
    // Read after the key's feed was registered: every later change of it
    // comes through the feed, so the recent changes hold its history from
    // this version on (a resume after it needs no backend read).
    recent_.Cover({key}, read->seq(), read->seq(), generation);
  }
  {
    absl::MutexLock lock(&mu_);
    stats_.key_reads += static_cast<int64_t>(values.size());
  }
  std::vector<Item> read, unread;
  std::vector<EncodedChangePtr> mine;
  for (Item& item : *items) {
    mine.clear();
    for (const std::string& key : item.subscription->keys()) mine.push_back(values[key]);
    if (std::find(mine.begin(), mine.end(), nullptr) != mine.end()) {
      unread.push_back(std::move(item));
      continue;
    }
    item.subscription->CatchUp(absl::MakeConstSpan(mine), /*snapshot=*/true);
    read.push_back(std::move(item));
  }
  items->swap(read);
  return unread;
}

absl::Status SubscriptionHub::Replay(std::vector<Item>* batch, int64_t generation,
                                     std::vector<Item>* compacted) {
  std::vector<Item>& items = *batch;
  // Subscriptions with the same keys share one filtered list of the
  // changes; each takes the part above its own seq.
  struct KeySet {
    absl::flat_hash_set<std::string> keys;
    std::vector<Item*> items;
    std::vector<EncodedChangePtr> changes;  // of these keys, oldest first
  };
  absl::flat_hash_map<std::string, KeySet> key_sets;
  absl::flat_hash_set<std::string> all_keys;
  int64_t from = items.front().after_seq;
  for (Item& item : items) {
    from = std::min(from, item.after_seq);
    const std::vector<std::string>& keys = item.subscription->keys();
    KeySet& set = key_sets[absl::StrJoin(keys, ",")];
    if (set.keys.empty()) set.keys.insert(keys.begin(), keys.end());
    set.items.push_back(&item);
    all_keys.insert(keys.begin(), keys.end());
  }
  auto deliver = [&](const std::vector<EncodedChangePtr>& changes) {
    for (auto& [name, set] : key_sets) {
      set.changes.clear();
      for (const EncodedChangePtr& change : changes) {
        if (set.keys.contains(change->key)) set.changes.push_back(change);
      }
      if (set.changes.empty()) continue;
      for (Item* item : set.items) {
        auto above = std::upper_bound(
            set.changes.begin(), set.changes.end(), item->after_seq,
            [](int64_t seq, const EncodedChangePtr& change) { return seq < change->change.seq(); });
        if (above == set.changes.end()) continue;
        item->subscription->CatchUp(
            absl::MakeConstSpan(&*above, static_cast<size_t>(set.changes.end() - above)),
            /*snapshot=*/false);
      }
    }
  };

  if (std::optional<std::vector<EncodedChangePtr>> held = recent_.Since(all_keys, from)) {
    deliver(*held);
    absl::MutexLock lock(&mu_);
    ++stats_.from_memory;
    return absl::OkStatus();
  }
  int64_t next = from;
  int64_t head = from;
  while (true) {
    absl::StatusOr<v1::ChangesSinceReply> reply = hooks_.changes_since(next);
    {
      absl::MutexLock lock(&mu_);
      ++stats_.backend_pages;
    }
    if (reply.status().code() == absl::StatusCode::kOutOfRange) {
      VLOG(1) << "history after " << from << " compacted: " << items.size()
              << " subscriptions start from a snapshot";
      for (Item& item : items) compacted->push_back(std::move(item));
      items.clear();
      return absl::OkStatus();
    }
    if (!reply.ok()) return reply.status();
    std::vector<EncodedChangePtr> page;
    page.reserve(static_cast<size_t>(reply->changes_size()));
    for (const v1::Change& change : reply->changes()) {
      page.push_back(EncodeChange(change));
      recent_.AddHistory(page.back());
      next = change.seq();
    }
    deliver(page);
    head = std::max(next, reply->head_seq());
    if (reply->changes().empty() || next >= reply->head_seq()) break;
  }
  // The log after `from` is held now, and the feed registered before the
  // read brings what follows.
  recent_.Cover(std::vector<std::string>(all_keys.begin(), all_keys.end()), from, head, generation);
  return absl::OkStatus();
}

}  // namespace podium
