// The replicated Store: all state in an etcd v3 cluster, so that any number
// of backends over the same cluster serve the same truth and any one
// machine may be lost. etcd does the replication (raft); this class maps
// Podium's contract onto it:
//
//  - seq is etcd's revision: each accepted write is one transaction, and
//    its revision is the change's seq and the value's version. Revisions
//    only increase but may skip (etcd counts every write, Podium's or not).
//  - Keys under the prefix (default "/podium/"): kv/<event:NAME|team:NAME>
//    holds the newest value (a v1::Change without seq: the key's
//    mod_revision is its seq), applied/<idempotency key> an AppliedWrite.
//  - A write is one transaction: "the idempotency record is absent and the
//    value's mod_revision is the one this value was computed from" then put
//    both, else read both back. A retry through any backend finds the
//    record and answers it as a duplicate; a concurrent write to the same
//    key makes the compare fail, and the write is computed again from the
//    value read back (compare-and-swap, retried).
//  - awarded/<event> holds an event's medal counts ("G,S,B"); an award or
//    revocation naming the event compares and puts it in the same
//    transaction, so no event awards more medals than the games declare.
//  - Idempotency records expire with a lease: keys are remembered for
//    `idempotency_ttl` (time, not a count of writes as in SqliteStore).
//  - Reads are served from memory, kept by a watch on kv/ from the
//    revision of a snapshot; the change log is etcd's history as that
//    watch delivers it. A write is acknowledged once the watch has
//    delivered its revision, so a reader of this backend sees its own
//    acknowledged writes, and ChangesSince/Watch never miss one.
//  - History older than `change_retention` revisions is compacted in etcd;
//    a reader behind it gets OUT_OF_RANGE, as from SqliteStore.
#ifndef PODIUM_BACKEND_ETCD_STORE_H_
#define PODIUM_BACKEND_ETCD_STORE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "backend/board_state.h"
#include "backend/change_log.h"
#include "backend/etcd_client.h"
#include "backend/event_awards.h"
#include "backend/games.h"
#include "backend/store.h"

namespace podium {

struct EtcdStoreOptions {
  // Every key of this store starts with it; two games days can share a
  // cluster under different prefixes.
  std::string prefix = "/podium/";
  // Revisions of history kept, in etcd and in memory, for ChangesSince.
  size_t change_retention = 100'000;
  // How long an idempotency key is remembered.
  absl::Duration idempotency_ttl = absl::Hours(24);
  // Longest a durable write waits for this backend's watch to deliver it
  // before it is acknowledged anyway (the watch is reconnecting): only then
  // may a reader of this backend not yet see a write it acknowledged.
  absl::Duration ack_wait = absl::Seconds(5);
  // Compare-and-swap attempts of one write against concurrent writers of
  // the same key before it gives up with ABORTED.
  int max_attempts = 64;
  // How long a write keeps being sent again, every member having failed it
  // (an election under way, a member cut off), before it is answered
  // UNAVAILABLE.
  absl::Duration write_budget = absl::Seconds(10);
};

// Thread-safe.
class EtcdStore : public Store {
 public:
  // Reads the current board from etcd, starts the watch and waits until it
  // runs. UNAVAILABLE, naming the members, when no member answers.
  static absl::StatusOr<std::unique_ptr<EtcdStore>> Open(std::unique_ptr<EtcdClient> etcd,
                                                         Games games,
                                                         EtcdStoreOptions options = {});
  // Answers writes still waiting for the watch, then stops.
  ~EtcdStore() override;

  void RecordScoreAsync(const v1::RecordScoreRequest& request, WriteDone done) override;
  void AwardMedalAsync(const v1::AwardMedalRequest& request, WriteDone done) override;
  void PostToFanBoardAsync(const v1::PostToFanBoardRequest& request, WriteDone done) override;
  void RemovePostAsync(const v1::RemovePostRequest& request, WriteDone done) override;
  absl::StatusOr<v1::EventScore> GetEvent(absl::string_view event) const override;
  absl::StatusOr<v1::MedalTally> GetMedals(absl::string_view team) const override;
  absl::StatusOr<v1::FanBoard> GetFanBoard(absl::string_view event) const override;
  v1::Board GetBoard() const override;
  absl::StatusOr<std::vector<v1::Change>> ChangesSince(int64_t after_seq,
                                                       size_t max_changes) const override;
  absl::StatusOr<v1::History> GetHistory(const v1::HistoryRequest& request,
                                         size_t max_changes) const override;
  int64_t head_seq() const override;
  bool WaitForChangesAfter(int64_t after_seq, absl::Time deadline) const override;
  // Asks etcd (linearizably) for the newest revision of any value under
  // the prefix, and waits for the watch to have applied it.
  absl::Status AwaitCommitted() const override;

  EtcdClient& etcd() { return *etcd_; }

 private:
  struct Write;
  struct Ack {
    WriteDone done;
    absl::StatusOr<WriteResult> result;
    absl::Time deadline;
  };

  EtcdStore(std::unique_ptr<EtcdClient> etcd, Games games, EtcdStoreOptions options);
  std::string ValueKey(const std::string& key) const { return options_.prefix + "kv/" + key; }
  std::string AppliedKey(const std::string& key) const {
    return options_.prefix + "applied/" + key;
  }
  // An event's medal counts (event_awards.h), "G,S,B".
  std::string AwardsKey(const std::string& event) const {
    return options_.prefix + "awarded/" + event;
  }

  // Writes (etcd_store_writes.cc).
  // The value a write of a key left, for the next write of that key.
  struct Handoff {
    v1::Change value;
    int64_t revision;
  };
  template <typename Request>
  void Submit(const Request& request, WriteDone done);
  // Starts a write whose turn has come, from `handoff` or else from the
  // state the watch keeps.
  void Start(std::shared_ptr<Write> write, std::optional<Handoff> handoff);
  // Answers the write and starts the next of its key.
  void Finish(std::shared_ptr<Write> write, absl::StatusOr<WriteResult> result, int64_t revision,
              std::optional<Handoff> handoff);
  void Attempt(std::shared_ptr<Write> write);
  void Answered(std::shared_ptr<Write> write, grpc::Status status);
  // Keeps `awards` as the event's counts at `revision`, unless newer ones
  // are known.
  void RememberAwards(const std::string& event, const EventAwards& awards, int64_t revision);
  // A value read back from etcd, as BoardState::Install shapes it.
  absl::StatusOr<v1::Change> AsInstalled(const mvccpb::KeyValue& kv) const;
  // Acknowledges `result` once the watch has applied `revision`.
  void AckAt(int64_t revision, WriteDone done, absl::StatusOr<WriteResult> result);

  // Reads the board at the newest revision; with `restart_log` the log
  // starts over after it (history was compacted under the watch).
  absl::Status LoadSnapshot(bool restart_log);
  // The acks whose revision the state has reached, taken out of acks_.
  std::vector<Ack> TakeReadyAcks() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WatchLoop();
  enum class WatchEnd {
    kRestart,       // history was compacted: start again, from the new place
    kBroken,        // it ran, then the stream broke
    kNeverStarted,  // the member would not start it
  };
  // One watch stream on `member` from next_revision_ until it ends.
  WatchEnd WatchOnce(size_t member);
  void Apply(const etcdserverpb::WatchResponse& response);
  void Housekeeping();
  absl::Status RenewLease();

  const EtcdStoreOptions options_;
  // Reset first in the destructor: its completion thread, which answers
  // writes, is gone before anything it touches.
  std::unique_ptr<EtcdClient> etcd_;
  const BoardState initial_;  // the value of a key never written

  mutable absl::Mutex mu_;
  BoardState state_ ABSL_GUARDED_BY(mu_);
  // state_ holds every change up to this revision.
  int64_t applied_revision_ ABSL_GUARDED_BY(mu_) = 0;
  // Where the next watch starts: the revision after the last one it
  // delivered. Below applied_revision_ while the retained history is
  // replayed into the log (those changes are not applied again).
  int64_t next_revision_ ABSL_GUARDED_BY(mu_) = 1;
  // Writes submitted and not yet answered; they hold `this`.
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // Writes every member failed, sent again by the housekeeper.
  std::vector<std::shared_ptr<Write>> retries_ ABSL_GUARDED_BY(mu_);
  // Per key, its writes in order: the first is in etcd's hands, the rest
  // wait their turn.
  absl::flat_hash_map<std::string, std::deque<std::shared_ptr<Write>>> key_queues_
      ABSL_GUARDED_BY(mu_);
  // Events' medal counts as this store's writes last saw them, with their
  // revision: where the next award naming the event starts (a stale entry
  // only costs that write one more compare-and-swap).
  absl::flat_hash_map<std::string, std::pair<EventAwards, int64_t>> event_awards_
      ABSL_GUARDED_BY(mu_);
  // The newest revision among the values of the last snapshot.
  int64_t snapshot_newest_ ABSL_GUARDED_BY(mu_) = 0;
  bool watching_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::multimap<int64_t, Ack> acks_ ABSL_GUARDED_BY(mu_);
  int64_t lease_id_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time lease_granted_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t compacted_through_ ABSL_GUARDED_BY(mu_) = 0;
  // The running watch's call (null when none runs) and its member.
  grpc::ClientContext* watch_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  size_t watch_member_ ABSL_GUARDED_BY(mu_) = 0;
  ChangeLog log_;

  std::thread watcher_;
  std::thread housekeeper_;
};

}  // namespace podium

#endif  // PODIUM_BACKEND_ETCD_STORE_H_
