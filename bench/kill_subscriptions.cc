#include "bench/kill_subscriptions.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/scoreboard_client.h"
#include "harness/subscriber_fleet.h"

namespace podium::bench {
namespace {

// podium_client subscriptions over `clients` ScoreboardClients, given all
// three frontends; they notice the kill and fail over by themselves.
class ClientSubscriptions : public KillSubscriptions {
 public:
  ClientSubscriptions(std::vector<std::string> frontends, int subscriptions, int clients)
      : frontends_(std::move(frontends)),
        client_count_(clients),
        probes_(static_cast<size_t>(subscriptions)) {}
  ~ClientSubscriptions() override { subscribers_.clear(); }  // before the probes

  absl::Status Open(int i, const std::string& event) override {
    if (clients_.empty()) {
      for (int c = 0; c < client_count_; ++c) {
        absl::StatusOr<std::unique_ptr<ScoreboardClient>> client =
            ScoreboardClient::ConnectToFrontends(frontends_);
        if (!client.ok()) return client.status();
        clients_.push_back(*std::move(client));
      }
    }
    SubscriptionKeys wanted;
    wanted.events = {event};
    Probe* probe = &probes_[i];
    const std::atomic<bool>* recording = &recording_;
    absl::StatusOr<std::unique_ptr<Subscriber>> subscriber = clients_[i % client_count_]->Subscribe(
        wanted, [probe, recording](const v1::SubscribeUpdate& update) {
          if (update.snapshot()) probe->snapshotted = true;
          if (!recording->load()) return;
          absl::MutexLock lock(&probe->mu);
          if (probe->receipts.size() < kReceiptsKept) {
            probe->receipts.push_back({update.change().seq(), absl::ToUnixNanos(absl::Now())});
          }
        });
    if (!subscriber.ok()) return subscriber.status();
    subscribers_.push_back(*std::move(subscriber));
    return absl::OkStatus();
  }
  absl::StatusOr<bool> AllSnapshotted() const override {
    return std::all_of(probes_.begin(), probes_.end(),
                       [](const Probe& p) { return p.snapshotted.load(); });
  }
  void BeforeKill() override { recording_ = true; }
  void AfterKill(int64_t kill_seq) override { kill_seq_ = kill_seq; }
  int64_t FirstAboveNs(int i) const override {
    const Probe& probe = probes_[i];
    absl::MutexLock lock(&probe.mu);
    for (const auto& [seq, ns] : probe.receipts) {
      if (seq > kill_seq_.load()) return ns;
    }
    return 0;
  }
  std::string FrontendOf(int i) const override { return subscribers_[i]->frontend(); }

 private:
  // Enough for the first after the kill: it comes within a few writes.
  static constexpr size_t kReceiptsKept = 256;
  struct Probe {
    std::atomic<bool> snapshotted{false};
    mutable absl::Mutex mu;
    std::vector<std::pair<int64_t, int64_t>> receipts ABSL_GUARDED_BY(mu);  // seq, Unix ns
  };
  const std::vector<std::string> frontends_;
  const int client_count_;
  std::atomic<bool> recording_{false};
  std::atomic<int64_t> kill_seq_{INT64_MAX};
  std::vector<Probe> probes_;
  std::vector<std::unique_ptr<ScoreboardClient>> clients_;
  std::vector<std::unique_ptr<Subscriber>> subscribers_;
};

// Subscribe streams on gRPC's async API (harness::SubscriberFleet, light
// enough that the frontends, not this process, are the bottleneck). At the
// kill each stream is opened again at once on a survivor, alternately,
// with after_seq the last seq it had received, as the client library
// would; the survivors' side of a failover without the library's cost.
class FleetSubscriptions : public KillSubscriptions {
 public:
  FleetSubscriptions(std::string victim, std::vector<std::string> survivors)
      : victim_address_(victim),
        survivors_(std::move(survivors)),
        victim_(std::make_unique<harness::SubscriberFleet>(
            victim, harness::SubscriberFleet::Options{/*channels=*/64, /*queues=*/16})) {
    for (const std::string& survivor : survivors_) {
      moved_.push_back(std::make_unique<harness::SubscriberFleet>(
          survivor, harness::SubscriberFleet::Options{/*channels=*/32, /*queues=*/8}));
    }
  }
  absl::Status Open(int, const std::string& event) override {
    v1::SubscribeRequest request;
    request.add_events(event);
    requests_.push_back(request);
    victim_->Add(request);
    return absl::OkStatus();
  }
  absl::StatusOr<bool> AllSnapshotted() const override {
    const absl::Status status = victim_->WaitForSnapshots(absl::ZeroDuration());
    if (absl::IsDeadlineExceeded(status)) return false;  // not yet
    if (!status.ok()) return status;
    return true;
  }
  void AfterKill(int64_t kill_seq) override {
    kill_seq_ = kill_seq;
    moved_yet_ = true;
    for (size_t i = 0; i < requests_.size(); ++i) {
      v1::SubscribeRequest request = requests_[i];
      for (const harness::Receipt& r : victim_->receipts(static_cast<int>(i))) {
        request.set_after_seq(std::max(request.after_seq(), r.seq));
      }
      moved_[i % moved_.size()]->Add(request);
    }
  }
  int64_t FirstAboveNs(int i) const override {
    const absl::Time at =
        moved_[i % moved_.size()]->FirstAbove(i / static_cast<int>(moved_.size()), kill_seq_);
    return at == absl::InfiniteFuture() ? 0 : absl::ToUnixNanos(at);
  }
  std::string FrontendOf(int i) const override {
    return moved_yet_ ? survivors_[i % survivors_.size()] : victim_address_;
  }

 private:
  const std::string victim_address_;
  const std::vector<std::string> survivors_;
  std::unique_ptr<harness::SubscriberFleet> victim_;
  std::vector<std::unique_ptr<harness::SubscriberFleet>> moved_;
  std::vector<v1::SubscribeRequest> requests_;
  int64_t kill_seq_ = 0;
  bool moved_yet_ = false;
};

}  // namespace

std::unique_ptr<KillSubscriptions> NewClientSubscriptions(std::vector<std::string> frontends,
                                                          int subscriptions, int clients) {
  return std::make_unique<ClientSubscriptions>(std::move(frontends), subscriptions, clients);
}

std::unique_ptr<KillSubscriptions> NewFleetSubscriptions(std::string victim,
                                                         std::vector<std::string> survivors) {
  return std::make_unique<FleetSubscriptions>(std::move(victim), std::move(survivors));
}

}  // namespace podium::bench
