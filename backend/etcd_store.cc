// EtcdStore: opening, writes and reads. The watch that keeps the state and
// the log, and the housekeeping (lease, compaction, late acks), are in
// etcd_store_watch.cc.
#include "backend/etcd_store.h"

#include <deque>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "backend/etcd_values.h"
#include "backend/event_awards.h"
#include "backend/write_fingerprint.h"
#include "common/keys.h"
#include "glog/logging.h"
#include "podium/store/etcd_records.pb.h"

namespace podium {

namespace {

// Least time Open gives the watch to start and replay the history.
constexpr absl::Duration kOpenWait = absl::Seconds(30);

}  // namespace

struct EtcdStore::Write {
  const v1::RecordScoreRequest* score = nullptr;
  const v1::AwardMedalRequest* medal = nullptr;
  int64_t fingerprint = 0;
  WriteDone done;
  std::string key;  // "event:NAME" / "team:NAME"
  // The value the next attempt computes from, and its revision in etcd
  // (0: never written).
  v1::Change current;
  int64_t current_revision = 0;
  // An award or revocation naming an event also changes the event's medal
  // counts (event_awards.h): these, as last known, their revision in etcd
  // (0: never written) and what the attempt makes of them.
  bool counts_event = false;
  EventAwards awards;
  int64_t awards_revision = 0;
  EventAwards next_awards;
  int attempts = 0;
  // When UNAVAILABLE from every member is the answer.
  absl::Time give_up_at;
  // The attempt's result: the new value, or why it is refused.
  v1::Change next;
  absl::Status refusal;
  etcdserverpb::TxnRequest request;
  etcdserverpb::TxnResponse response;

  const std::string& idempotency_key() const {
    return score != nullptr ? score->idempotency_key() : medal->idempotency_key();
  }
};

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

void EtcdStore::RecordScoreAsync(const v1::RecordScoreRequest& request, WriteDone done) {
  Submit(request, std::move(done));
}

void EtcdStore::AwardMedalAsync(const v1::AwardMedalRequest& request, WriteDone done) {
  Submit(request, std::move(done));
}

template <typename Request>
void EtcdStore::Submit(const Request& request, WriteDone done) {
  auto write = std::make_shared<Write>();
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    status =
        stopping_ ? absl::UnavailableError("the store is shutting down") : state_.Validate(request);
  }
  if (!status.ok()) return done(status);
  if constexpr (std::is_same_v<Request, v1::RecordScoreRequest>) {
    write->score = &request;
    write->key = EventKey(request.event());
  } else {
    write->medal = &request;
    write->key = TeamKey(request.team());
    write->counts_event = !request.event().empty();
  }
  write->fingerprint = WriteFingerprint(request);
  write->done = std::move(done);
  write->give_up_at = absl::Now() + options_.write_budget;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {  // began shutting down since the check above
      status = absl::UnavailableError("the store is shutting down");
    } else {
      ++in_flight_;
      // One write of a key at a time from this backend: writers of the
      // same key would otherwise only make each other's compare fail.
      std::deque<std::shared_ptr<Write>>& queue = key_queues_[write->key];
      queue.push_back(write);
      if (queue.size() > 1) return;  // starts when the one before it ends
    }
  }
  if (!status.ok()) return write->done(status);
  Start(std::move(write), std::nullopt);
}

void EtcdStore::Start(std::shared_ptr<Write> write, std::optional<Handoff> handoff) {
  {
    absl::MutexLock lock(&mu_);
    if (handoff.has_value()) {
      write->current = std::move(handoff->value);
      write->current_revision = handoff->revision;
    } else {
      absl::StatusOr<v1::Change> current = state_.ValueOf(write->key);
      write->current = current.ok() ? *std::move(current) : v1::Change();
      write->current_revision = write->current.seq();
    }
    if (write->counts_event) {
      auto known = event_awards_.find(write->medal->event());
      if (known != event_awards_.end()) {
        write->awards = known->second.first;
        write->awards_revision = known->second.second;
      }
    }
  }
  Attempt(std::move(write));
}

void EtcdStore::Finish(std::shared_ptr<Write> write, absl::StatusOr<WriteResult> result,
                       int64_t revision, std::optional<Handoff> handoff) {
  if (revision > 0) {
    AckAt(revision, std::move(write->done), std::move(result));
  } else {
    write->done(std::move(result));
  }
  std::shared_ptr<Write> next;
  {
    absl::MutexLock lock(&mu_);
    --in_flight_;
    auto it = key_queues_.find(write->key);
    it->second.pop_front();
    if (it->second.empty()) {
      key_queues_.erase(it);
    } else {
      next = it->second.front();
    }
  }
  if (next != nullptr) Start(std::move(next), std::move(handoff));
}

void EtcdStore::Attempt(std::shared_ptr<Write> write) {
  const int64_t now = absl::ToUnixMicros(absl::Now());
  write->next.Clear();
  write->refusal = absl::OkStatus();
  if (write->score != nullptr) {
    *write->next.mutable_event() =
        BoardState::ApplyScore(write->current.event(), *write->score, 0, now);
    write->next.set_reason(write->score->reason());
  } else {
    absl::StatusOr<v1::MedalTally> tally =
        BoardState::ApplyMedal(write->current.medals(), *write->medal, 0, now);
    if (tally.ok()) {
      *write->next.mutable_medals() = *std::move(tally);
      write->next.set_reason(write->medal->reason());
    } else {
      write->refusal = tally.status();
    }
    if (write->refusal.ok() && write->counts_event) {
      absl::StatusOr<EventAwards> awards = ApplyEventAward(
          initial_.games().InfoOf(write->medal->event()), write->awards, *write->medal);
      if (awards.ok()) {
        write->next_awards = *awards;
      } else {
        write->refusal = awards.status();
      }
    }
  }

  const std::string applied_key = AppliedKey(write->idempotency_key());
  const std::string value_key = ValueKey(write->key);
  etcdserverpb::TxnRequest& txn = write->request;
  txn.Clear();
  etcdserverpb::Compare* unused = txn.add_compare();
  unused->set_key(applied_key);
  unused->set_target(etcdserverpb::Compare::CREATE);
  unused->set_result(etcdserverpb::Compare::EQUAL);
  unused->set_create_revision(0);
  etcdserverpb::Compare* unchanged = txn.add_compare();
  unchanged->set_key(value_key);
  unchanged->set_target(etcdserverpb::Compare::MOD);
  unchanged->set_result(etcdserverpb::Compare::EQUAL);
  unchanged->set_mod_revision(write->current_revision);
  const std::string awards_key =
      write->counts_event ? AwardsKey(write->medal->event()) : std::string();
  if (write->counts_event) {
    etcdserverpb::Compare* counted = txn.add_compare();
    counted->set_key(awards_key);
    counted->set_target(etcdserverpb::Compare::MOD);
    counted->set_result(etcdserverpb::Compare::EQUAL);
    counted->set_mod_revision(write->awards_revision);
  }
  // A refusal (a revocation below zero) is confirmed against the newest
  // value: the transaction then only compares, and writes nothing.
  if (write->refusal.ok()) {
    etcdserverpb::PutRequest* value = txn.add_success()->mutable_request_put();
    value->set_key(value_key);
    value->set_value(write->next.SerializeAsString());
    store::AppliedWrite record;
    record.set_fingerprint(write->fingerprint);
    *record.mutable_change() = write->next;
    etcdserverpb::PutRequest* applied = txn.add_success()->mutable_request_put();
    applied->set_key(applied_key);
    applied->set_value(record.SerializeAsString());
    if (write->counts_event) {
      etcdserverpb::PutRequest* counts = txn.add_success()->mutable_request_put();
      counts->set_key(awards_key);
      counts->set_value(EncodeEventAwards(write->next_awards));
    }
    absl::MutexLock lock(&mu_);
    if (lease_id_ == 0 && !stopping_ && absl::Now() < write->give_up_at) {
      // A record without a lease would never expire: wait for the
      // housekeeper's next lease (it retries parked writes after renewing).
      retries_.push_back(std::move(write));
      return;
    }
    applied->set_lease(lease_id_);
  }
  txn.add_failure()->mutable_request_range()->set_key(applied_key);
  txn.add_failure()->mutable_request_range()->set_key(value_key);
  if (write->counts_event) txn.add_failure()->mutable_request_range()->set_key(awards_key);
  etcd_->TxnAsync(&write->request, &write->response,
                  [this, write](grpc::Status status) { Answered(write, std::move(status)); });
}

void EtcdStore::Answered(std::shared_ptr<Write> write, grpc::Status status) {
  absl::StatusOr<WriteResult> result;
  int64_t revision = 0;
  // What the next write of the key starts from, when this one knows it.
  std::optional<Handoff> handoff;
  const etcdserverpb::TxnResponse& response = write->response;
  if (!status.ok()) {
    absl::MutexLock lock(&mu_);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
      lease_id_ = 0;  // expired or revoked: the housekeeper grants another
    }
    // Every member failed it: an election, most likely. Sent again (safe:
    // the transaction checks its own record) until the budget is spent.
    if ((EtcdClient::TryAnother(status) || status.error_code() == grpc::StatusCode::NOT_FOUND) &&
        absl::Now() < write->give_up_at && !stopping_) {
      retries_.push_back(std::move(write));
      return;
    }
    if (EtcdClient::TryAnother(status) || status.error_code() == grpc::StatusCode::NOT_FOUND) {
      result = absl::UnavailableError(absl::StrCat(
          "etcd did not answer the write (", status.error_message(),
          "); it may or may not be applied: retry it with the same idempotency key, which "
          "applies it at most once"));
    } else {  // etcd said no (out of space, too large, not allowed): nothing applied
      result = absl::Status(
          static_cast<absl::StatusCode>(status.error_code()),
          absl::StrCat("etcd refused the write, nothing was applied: ", status.error_message()));
    }
  } else if (response.succeeded()) {
    revision = response.header().revision();
    if (!write->refusal.ok()) {
      // Confirmed against the newest value, which stays as it was.
      result = write->refusal;
      revision = 0;
      handoff = Handoff{write->current, write->current_revision};
    } else {
      v1::Change change = write->next;
      StampRevision(&change, revision);
      handoff = Handoff{change, revision};
      result = WriteResult{std::move(change), false};
      if (write->counts_event) {
        absl::MutexLock lock(&mu_);
        auto& known = event_awards_[write->medal->event()];
        if (known.second < revision) known = {write->next_awards, revision};
      }
    }
  } else if (response.responses_size() != (write->counts_event ? 3 : 2)) {
    result = absl::InternalError(absl::StrCat("etcd answered a failed write transaction with ",
                                              response.responses_size(),
                                              " reads; nothing was applied: retry it"));
  } else if (response.responses(0).response_range().kvs_size() > 0) {
    // The key was applied before: answer with what it applied.
    const mvccpb::KeyValue& kv = response.responses(0).response_range().kvs(0);
    store::AppliedWrite record;
    if (!record.ParseFromString(kv.value())) {
      result = absl::DataLossError(
          absl::StrCat("the idempotency record of '", write->idempotency_key(),
                       "' in etcd does not parse: restore the cluster from a snapshot"));
    } else {
      v1::Change original = record.change();
      StampRevision(&original, kv.mod_revision());
      if (record.fingerprint() != write->fingerprint) {
        result = KeyReusedError(write->idempotency_key(), original.seq());
      } else {
        revision = kv.mod_revision();
        result = WriteResult{std::move(original), true};
      }
    }
  } else if (++write->attempts < options_.max_attempts) {
    // Another write changed the value (or the event's counts) first:
    // compute again from what etcd holds now.
    const etcdserverpb::RangeResponse& value = response.responses(1).response_range();
    absl::StatusOr<v1::Change> current =
        value.kvs_size() > 0 ? AsInstalled(value.kvs(0)) : initial_.ValueOf(write->key);
    if (current.ok() && write->counts_event) {
      const etcdserverpb::RangeResponse& counts = response.responses(2).response_range();
      absl::StatusOr<EventAwards> awards =
          counts.kvs_size() > 0 ? DecodeEventAwards(counts.kvs(0).value(), counts.kvs(0).key())
                                : EventAwards();
      if (awards.ok()) {
        write->awards = *awards;
        write->awards_revision = counts.kvs_size() > 0 ? counts.kvs(0).mod_revision() : 0;
        absl::MutexLock lock(&mu_);
        auto& known = event_awards_[write->medal->event()];
        if (known.second < write->awards_revision) known = {*awards, write->awards_revision};
      } else {
        current = awards.status();
      }
    }
    if (current.ok()) {
      write->current = *std::move(current);
      write->current_revision = value.kvs_size() > 0 ? value.kvs(0).mod_revision() : 0;
      return Attempt(std::move(write));
    }
    result = current.status();
  } else {
    result = absl::AbortedError(absl::StrCat(
        "the write to ", write->key, " lost ", options_.max_attempts,
        " races with concurrent writes of the same key; nothing was applied: retry it"));
  }
  Finish(std::move(write), std::move(result), revision, std::move(handoff));
}

absl::StatusOr<v1::Change> EtcdStore::AsInstalled(const mvccpb::KeyValue& kv) const {
  absl::StatusOr<v1::Change> change = DecodeValue(kv);
  if (!change.ok()) return change.status();
  // Shaped as the state holds it (an event's points for the teams the
  // games give it now), so that the write computes from what readers see.
  BoardState scratch(initial_);
  if (!scratch.Install(*change)) return initial_.ValueOf(ChangeKey(*change));
  absl::StatusOr<v1::Change> installed = scratch.ValueOf(ChangeKey(*change));
  if (installed.ok()) installed->set_seq(change->seq());
  return installed;
}

void EtcdStore::AckAt(int64_t revision, WriteDone done, absl::StatusOr<WriteResult> result) {
  {
    absl::MutexLock lock(&mu_);
    if (applied_revision_ < revision && !stopping_) {
      acks_.emplace(revision,
                    Ack{std::move(done), std::move(result), absl::Now() + options_.ack_wait});
      return;
    }
  }
  done(std::move(result));
}

absl::StatusOr<v1::EventScore> EtcdStore::GetEvent(absl::string_view event) const {
  absl::MutexLock lock(&mu_);
  return state_.GetEvent(event);
}

absl::StatusOr<v1::MedalTally> EtcdStore::GetMedals(absl::string_view team) const {
  absl::MutexLock lock(&mu_);
  return state_.GetMedals(team);
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
