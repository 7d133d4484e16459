// EtcdStore: the write path. A write is one etcd transaction: its
// idempotency record absent and its key's value (and, for an award naming
// an event, the event's medal counts) unchanged since the write computed
// from them; then all are put, else read back for a duplicate's answer or
// another compare-and-swap. One write of a key at a time from a backend.
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backend/etcd_store.h"
#include "backend/etcd_values.h"
#include "backend/event_awards.h"
#include "backend/fan_board.h"
#include "backend/write_fingerprint.h"
#include "common/keys.h"
#include "podium/store/etcd_records.pb.h"

namespace podium {

struct EtcdStore::Write {
  // Exactly one is set.
  const v1::RecordScoreRequest* score = nullptr;
  const v1::AwardMedalRequest* medal = nullptr;
  const v1::PostToFanBoardRequest* post = nullptr;
  const v1::RemovePostRequest* removal = nullptr;
  int64_t fingerprint = 0;
  WriteDone done;
  std::string key;  // "event:NAME" / "team:NAME" / "fans:EVENT"
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
    if (score != nullptr) return score->idempotency_key();
    if (medal != nullptr) return medal->idempotency_key();
    return post != nullptr ? post->idempotency_key() : removal->idempotency_key();
  }
};

void EtcdStore::RecordScoreAsync(const v1::RecordScoreRequest& request, WriteDone done) {
  Submit(request, std::move(done));
}

void EtcdStore::AwardMedalAsync(const v1::AwardMedalRequest& request, WriteDone done) {
  Submit(request, std::move(done));
}

void EtcdStore::PostToFanBoardAsync(const v1::PostToFanBoardRequest& request, WriteDone done) {
  Submit(request, std::move(done));
}

void EtcdStore::RemovePostAsync(const v1::RemovePostRequest& request, WriteDone done) {
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
  } else if constexpr (std::is_same_v<Request, v1::PostToFanBoardRequest>) {
    write->post = &request;
    write->key = FansKey(request.event());
  } else if constexpr (std::is_same_v<Request, v1::RemovePostRequest>) {
    write->removal = &request;
    write->key = FansKey(request.event());
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
  } else if (write->post != nullptr) {
    // Its id (0 here) becomes the transaction's revision: StampRevision.
    *write->next.mutable_fans() = ApplyPost(write->current.fans(), *write->post, 0, now);
  } else if (write->removal != nullptr) {
    absl::StatusOr<v1::FanBoard> board =
        ApplyRemoval(write->current.fans(), *write->removal, 0, now);
    if (board.ok()) {
      *write->next.mutable_fans() = *std::move(board);
      write->next.set_reason(write->removal->reason());
    } else {
      write->refusal = board.status();
    }
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
      if (write->counts_event) RememberAwards(write->medal->event(), write->next_awards, revision);
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
        RememberAwards(write->medal->event(), *awards, write->awards_revision);
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

void EtcdStore::RememberAwards(const std::string& event, const EventAwards& awards,
                               int64_t revision) {
  absl::MutexLock lock(&mu_);
  auto& known = event_awards_[event];
  if (known.second < revision) known = {awards, revision};
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

}  // namespace podium
