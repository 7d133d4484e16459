// EtcdStore: the snapshot and the watch that keep the in-memory state and
// change log, and the housekeeping (idempotency lease, compaction, acks the
// watch is late for).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backend/etcd_store.h"
#include "backend/etcd_values.h"
#include "glog/logging.h"

namespace podium {
namespace {

// Compaction runs when this many revisions have passed since the last.
constexpr int64_t kCompactEvery = 1024;
// How often the housekeeper looks at the lease, compaction and late acks.
constexpr absl::Duration kHousekeepingInterval = absl::Milliseconds(200);
constexpr absl::Duration kMaxWatchBackoff = absl::Seconds(1);
// A committed write the watch has not delivered after this long means the
// watch's member is behind the cluster.
constexpr absl::Duration kWatchLate = absl::Milliseconds(300);

}  // namespace

absl::Status EtcdStore::LoadSnapshot(bool restart_log) {
  etcdserverpb::RangeRequest request;
  request.set_key(ValueKey(""));
  request.set_range_end(EtcdPrefixEnd(ValueKey("")));
  etcdserverpb::RangeResponse response;
  grpc::Status status = etcd_->Range(request, &response);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "no etcd member of ", EtcdAddresses(*etcd_), " answered a read of ", options_.prefix, " (",
        status.error_message(), "); is the cluster up and does it have a leader?"));
  }
  BoardState fresh(initial_.games());
  int64_t newest = 0;
  for (const mvccpb::KeyValue& kv : response.kvs()) {
    newest = std::max(newest, kv.mod_revision());
    absl::StatusOr<v1::Change> change = DecodeValue(kv);
    if (!change.ok()) return change.status();
    if (!fresh.Install(*change)) {
      LOG(WARNING) << "etcd holds " << kv.key()
                   << ", which the games file no longer names; ignoring it";
    }
  }
  const int64_t revision = response.header().revision();
  std::vector<Ack> ready;
  {
    absl::MutexLock lock(&mu_);
    const int64_t applied_before = applied_revision_;
    state_ = std::move(fresh);
    applied_revision_ = std::max(applied_revision_, revision);
    next_revision_ = revision + 1;
    snapshot_newest_ = newest;
    // State and log move together, and writes the snapshot covers are
    // answered: no watch event will come for them. When nothing under the
    // prefix changed meanwhile (what was compacted was another prefix's,
    // sharing the cluster), the log is still complete and stays.
    if (restart_log && newest > applied_before) log_.RestartAfter(applied_revision_);
    ready = TakeReadyAcks();
  }
  for (Ack& ack : ready) ack.done(std::move(ack.result));
  LOG(INFO) << "read " << response.kvs_size() << " values under " << options_.prefix
            << " from etcd at revision " << revision;
  return absl::OkStatus();
}

void EtcdStore::WatchLoop() {
  absl::Duration backoff = absl::Milliseconds(50);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    const size_t member = etcd_->preferred();
    switch (WatchOnce(member)) {
      case WatchEnd::kRestart:
        break;
      case WatchEnd::kBroken:
        // It ran: another member may take over at once.
        etcd_->Demote(member);
        backoff = absl::Milliseconds(50);
        break;
      case WatchEnd::kNeverStarted: {
        etcd_->Demote(member);
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
        backoff = std::min(backoff * 2, kMaxWatchBackoff);
        break;
      }
    }
  }
}

EtcdStore::WatchEnd EtcdStore::WatchOnce(size_t member) {
  grpc::ClientContext context;
  // A member that loses its leader ends the watch instead of going quiet.
  context.AddMetadata("hasleader", "true");
  int64_t start;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return WatchEnd::kRestart;
    watch_context_ = &context;
    watch_member_ = member;
    start = next_revision_;
  }
  const std::string& address = etcd_->member(member).address;
  std::unique_ptr<
      grpc::ClientReaderWriterInterface<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
      stream = etcd_->member(member).watch->Watch(&context);
  etcdserverpb::WatchRequest request;
  etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
  create->set_key(ValueKey(""));
  create->set_range_end(EtcdPrefixEnd(ValueKey("")));
  create->set_start_revision(start);
  create->set_progress_notify(true);
  bool running = false;     // etcd created the watch
  bool restart = false;     // compacted history: start again from elsewhere
  bool resnapshot = false;  // ...from a new snapshot
  bool running_cancelled = false;
  etcdserverpb::WatchResponse response;
  if (stream->Write(request)) {
    while (stream->Read(&response)) {
      if (response.compact_revision() > 0) {
        // The history from `start` is gone. The log starts over from the
        // oldest revision left, or from a new snapshot when even the
        // changes the state lacks are gone.
        const int64_t oldest = response.compact_revision();
        absl::MutexLock lock(&mu_);
        LOG(WARNING) << "etcd compacted revisions before " << oldest
                     << "; the watch wanted them from " << start;
        if (oldest <= applied_revision_ + 1) {
          next_revision_ = oldest;
          log_.RestartAfter(oldest - 1);
        } else {
          resnapshot = true;
        }
        restart = true;
        break;
      }
      if (response.canceled()) {
        LOG(WARNING) << "etcd member " << address
                     << " cancelled the watch: " << response.cancel_reason();
        running_cancelled = true;
        break;
      }
      if (response.created()) {
        absl::MutexLock lock(&mu_);
        watching_ = true;
        LOG(INFO) << "watching " << options_.prefix << " on etcd member " << address
                  << " from revision " << start;
        running = true;
        continue;
      }
      Apply(response);
    }
  }
  // Ended by us (compaction, cancellation): the server is told; ended by
  // the stream, Finish says why.
  if (restart || running_cancelled) context.TryCancel();
  grpc::Status status = stream->Finish();
  {
    absl::MutexLock lock(&mu_);
    watch_context_ = nullptr;
    if (stopping_) return WatchEnd::kRestart;
  }
  if (restart) {
    if (!resnapshot) return WatchEnd::kRestart;
    absl::Status s = LoadSnapshot(/*restart_log=*/true);
    if (s.ok()) return WatchEnd::kRestart;
    LOG(WARNING) << s;
    return WatchEnd::kNeverStarted;
  }
  LOG(WARNING) << "the watch on etcd member " << address << " ended ("
               << (status.ok() ? "closed" : status.error_message()) << "); resuming from revision "
               << [&] {
                    absl::MutexLock lock(&mu_);
                    return next_revision_;
                  }();
  return running ? WatchEnd::kBroken : WatchEnd::kNeverStarted;
}

void EtcdStore::Apply(const etcdserverpb::WatchResponse& response) {
  std::vector<v1::Change> changes;
  std::vector<Ack> ready;
  {
    absl::MutexLock lock(&mu_);
    for (const mvccpb::Event& event : response.events()) {
      const int64_t revision = event.kv().mod_revision();
      next_revision_ = std::max(next_revision_, revision + 1);
      if (event.type() != mvccpb::Event::PUT) {
        LOG(WARNING) << "etcd key " << event.kv().key() << " was deleted at revision " << revision
                     << "; Podium never deletes values, so the board keeps it";
        continue;
      }
      if (!changes.empty() && revision <= changes.back().seq()) {
        // Two values in one revision: not a Podium write (each puts one).
        LOG(WARNING) << "etcd key " << event.kv().key() << " changed in revision " << revision
                     << " with another value; not written by Podium, ignored";
        continue;
      }
      absl::StatusOr<v1::Change> change = DecodeValue(event.kv());
      if (!change.ok()) {
        LOG(ERROR) << change.status();
        continue;
      }
      if (revision > applied_revision_) {
        state_.Install(*change);
        applied_revision_ = revision;
      }
      changes.push_back(*std::move(change));
    }
    if (response.events().empty() && response.header().revision() > applied_revision_ &&
        next_revision_ > applied_revision_) {
      // A progress notice: nothing under the prefix changed up to there.
      applied_revision_ = response.header().revision();
      next_revision_ = applied_revision_ + 1;
    }
    // In the log before anyone waiting on mu_ for this revision (Open, an
    // ack) goes on.
    log_.Append(changes);
    ready = TakeReadyAcks();
  }
  for (Ack& ack : ready) ack.done(std::move(ack.result));
}

std::vector<EtcdStore::Ack> EtcdStore::TakeReadyAcks() {
  std::vector<Ack> ready;
  while (!acks_.empty() && acks_.begin()->first <= applied_revision_) {
    ready.push_back(std::move(acks_.begin()->second));
    acks_.erase(acks_.begin());
  }
  return ready;
}

absl::Status EtcdStore::RenewLease() {
  // One lease for every record written in a window of a 24th of the TTL,
  // living the TTL past the window's end: a key is remembered at least
  // the TTL, and etcd expires records a window at a time.
  const absl::Duration window = options_.idempotency_ttl / 24;
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(absl::ToInt64Seconds(options_.idempotency_ttl + window) + 1);
  etcdserverpb::LeaseGrantResponse response;
  grpc::Status status = etcd_->LeaseGrant(request, &response);
  if (!status.ok() || !response.error().empty()) {
    return absl::UnavailableError(
        absl::StrCat("etcd granted no lease for idempotency records (",
                     status.ok() ? response.error() : status.error_message(), ")"));
  }
  absl::MutexLock lock(&mu_);
  lease_id_ = response.id();
  lease_granted_ = absl::Now();
  return absl::OkStatus();
}

void EtcdStore::Housekeeping() {
  const absl::Duration window = options_.idempotency_ttl / 24;
  while (true) {
    std::vector<Ack> late;
    std::vector<std::shared_ptr<Write>> retries;
    bool renew = false;
    int64_t compact_to = 0;
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), kHousekeepingInterval)) return;
      const absl::Time now = absl::Now();
      retries.swap(retries_);
      for (auto it = acks_.begin(); it != acks_.end();) {
        if (it->second.deadline > now) {
          ++it;
          continue;
        }
        late.push_back(std::move(it->second));
        it = acks_.erase(it);
      }
      // The watch follows the member the writes found working, and leaves
      // one that has not delivered a committed write within 300 ms (cut
      // off, or its host gone without a word).
      if (watch_context_ != nullptr &&
          (watch_member_ != etcd_->preferred() ||
           (!acks_.empty() &&
            now - (acks_.begin()->second.deadline - options_.ack_wait) > kWatchLate))) {
        LOG(WARNING) << "leaving the watch on etcd member " << etcd_->member(watch_member_).address
                     << (watch_member_ != etcd_->preferred()
                             ? ": writes moved to another member"
                             : ": it has not delivered a committed write within " +
                                   absl::FormatDuration(kWatchLate));
        watch_context_->TryCancel();
        watch_context_ = nullptr;
      }
      renew = lease_id_ == 0 || now - lease_granted_ > window;
      const int64_t keep_from = applied_revision_ - static_cast<int64_t>(options_.change_retention);
      if (keep_from - compacted_through_ >= kCompactEvery) compact_to = keep_from;
    }
    if (!late.empty()) {
      LOG(WARNING) << late.size() << " writes are durable in etcd but the watch has not "
                   << "delivered them within " << absl::FormatDuration(options_.ack_wait)
                   << "; acknowledging them anyway";
    }
    for (Ack& ack : late) ack.done(std::move(ack.result));
    if (renew) {
      if (absl::Status s = RenewLease(); !s.ok()) LOG(WARNING) << s;
    }
    for (std::shared_ptr<Write>& write : retries) Attempt(std::move(write));
    if (compact_to > 0) {
      etcdserverpb::CompactionRequest request;
      request.set_revision(compact_to);
      etcdserverpb::CompactionResponse response;
      grpc::Status status = etcd_->Compact(request, &response);
      // Another backend over the same cluster may have compacted further.
      if (status.ok() || status.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
        absl::MutexLock lock(&mu_);
        compacted_through_ = compact_to;
        VLOG(1) << "compacted etcd history through revision " << compact_to;
      } else {
        LOG(WARNING) << "compacting etcd through revision " << compact_to
                     << " failed: " << status.error_message();
      }
    }
  }
}

}  // namespace podium
