// EtcdStore: opening and reads. Writes are in etcd_store_writes.cc; the
// watch that keeps the state and the log, and the housekeeping (lease,
// compaction, late acks), in etcd_store_watch.cc.
#include "backend/etcd_store.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backend/etcd_values.h"

namespace podium {

namespace {

// Least time Open gives the watch to start and replay the history.
constexpr absl::Duration kOpenWait = absl::Seconds(30);

}  // namespace

EtcdStore::EtcdStore(std::unique_ptr<EtcdClient> etcd, Games games, EtcdStoreOptions options)
    : options_(std::move(options)),
      etcd_(std::move(etcd)),
      initial_(games),
      state_(std::move(games)),
      log_(options_.change_retention) {}

absl::StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::Open(std::unique_ptr<EtcdClient> etcd,
                                                           Games games, EtcdStoreOptions options) {
  if (options.prefix.empty() || options.change_retention < 1 ||
      options.idempotency_ttl < absl::Seconds(10)) {
    return absl::InvalidArgumentError(
        "the etcd store needs a key prefix, a change retention of at least 1 and an "
        "idempotency TTL of at least 10 s");
  }
  std::unique_ptr<EtcdStore> store(
      new EtcdStore(std::move(etcd), std::move(games), std::move(options)));
  if (absl::Status s = store->LoadSnapshot(/*restart_log=*/false); !s.ok()) return s;
  if (absl::Status s = store->RenewLease(); !s.ok()) return s;
  int64_t replay_from;
  {
    absl::MutexLock lock(&store->mu_);
    // Replay the retained history into the log; what the snapshot already
    // holds is not applied twice.
    replay_from = std::max<int64_t>(
        1, store->applied_revision_ - static_cast<int64_t>(store->options_.change_retention) + 1);
    store->next_revision_ = replay_from;
  }
  store->log_.RestartAfter(replay_from - 1);
  store->watcher_ = std::thread([raw = store.get()] { raw->WatchLoop(); });
  store->housekeeper_ = std::thread([raw = store.get()] { raw->Housekeeping(); });

  // Open returns once the log holds the retained history up to the
  // snapshot, so that a reader of it right away misses nothing.
  EtcdStore* raw = store.get();
  absl::MutexLock lock(&raw->mu_);
  // Replaying up to change_retention revisions may take a while on a busy
  // machine.
  const absl::Duration wait = std::max(raw->etcd_->call_timeout() * raw->etcd_->size(), kOpenWait);
  auto caught_up = [raw]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(raw->mu_) {
    return raw->watching_ && raw->next_revision_ > raw->snapshot_newest_;
  };
  if (!raw->mu_.AwaitWithTimeout(absl::Condition(&caught_up), wait)) {
    return absl::UnavailableError(absl::StrCat(
        "no etcd member of ", EtcdAddresses(*store->etcd_), " would start a watch within ",
        absl::FormatDuration(wait), "; is the cluster up and does it have a leader?"));
  }
  return store;
}

EtcdStore::~EtcdStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (watch_context_ != nullptr) watch_context_->TryCancel();
  }
  if (watcher_.joinable()) watcher_.join();
  if (housekeeper_.joinable()) housekeeper_.join();
  std::vector<std::shared_ptr<Write>> retries;
  {
    absl::MutexLock lock(&mu_);
    retries.swap(retries_);
  }
  for (std::shared_ptr<Write>& write : retries) {
    Finish(std::move(write), absl::UnavailableError("the store is shutting down; retry"), 0,
           std::nullopt);
  }
  std::multimap<int64_t, Ack> acks;
  {
    absl::MutexLock lock(&mu_);
    // Writes in flight hold `this` until etcd answers them (bounded by the
    // call deadline on each member).
    mu_.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &in_flight_));
    acks.swap(acks_);
  }
  // Durable in etcd, only not yet seen by the watch: acknowledged.
  for (auto& [revision, ack] : acks) ack.done(std::move(ack.result));
  // The last write's answer may still be unwinding on the client's
  // completion thread: joined here, before the members it uses go.
  etcd_.reset();
}

absl::StatusOr<v1::EventScore> EtcdStore::GetEvent(absl::string_view event) const {
  absl::MutexLock lock(&mu_);
  return state_.GetEvent(event);
}

absl::StatusOr<v1::MedalTally> EtcdStore::GetMedals(absl::string_view team) const {
  absl::MutexLock lock(&mu_);
  return state_.GetMedals(team);
}

absl::StatusOr<v1::FanBoard> EtcdStore::GetFanBoard(absl::string_view event) const {
  absl::MutexLock lock(&mu_);
  return state_.GetFanBoard(event);
}

v1::Board EtcdStore::GetBoard() const {
  absl::MutexLock lock(&mu_);
  return state_.ToBoard(applied_revision_);
}

absl::StatusOr<std::vector<v1::Change>> EtcdStore::ChangesSince(int64_t after_seq,
                                                                size_t max_changes) const {
  return log_.Since(after_seq, max_changes);
}

absl::StatusOr<v1::History> EtcdStore::GetHistory(const v1::HistoryRequest& request,
                                                  size_t max_changes) const {
  if (request.after_seq() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("after_seq ", request.after_seq(),
                     " is negative: 0 reads from the oldest retained change"));
  }
  absl::StatusOr<std::string> key = initial_.games().KeyOf(request.name());
  if (!key.ok()) return key.status();
  return log_.HistoryOf(*key, request.after_seq(), max_changes);
}

int64_t EtcdStore::head_seq() const {
  absl::MutexLock lock(&mu_);
  return applied_revision_;
}

absl::Status EtcdStore::AwaitCommitted() const {
  // The newest value's revision, not the store's revision: revisions
  // outside the values (idempotency records expiring, other prefixes)
  // bring no event this store's watch would see.
  etcdserverpb::RangeRequest request;
  request.set_key(ValueKey(""));
  request.set_range_end(EtcdPrefixEnd(ValueKey("")));
  request.set_sort_target(etcdserverpb::RangeRequest::MOD);
  request.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
  request.set_limit(1);
  request.set_keys_only(true);
  etcdserverpb::RangeResponse response;
  grpc::Status status = etcd_->Range(request, &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("this backend cannot confirm with etcd that it is current (",
                     status.error_message(), "); ask another backend"));
  }
  if (response.kvs().empty()) return absl::OkStatus();
  const int64_t newest = response.kvs(0).mod_revision();
  absl::MutexLock lock(&mu_);
  auto reached = [this, newest]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return applied_revision_ >= newest || stopping_;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&reached), etcd_->call_timeout() * 2)) {
    return absl::UnavailableError(absl::StrCat("this backend's view of etcd is behind (revision ",
                                               applied_revision_, " of ", newest,
                                               "); ask another backend"));
  }
  return absl::OkStatus();
}

bool EtcdStore::WaitForChangesAfter(int64_t after_seq, absl::Time deadline) const {
  return log_.WaitForChangesAfter(after_seq, deadline);
}

}  // namespace podium
