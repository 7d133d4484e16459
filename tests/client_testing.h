// Helpers of the client's multi-process tests: a writer that goes straight
// to the backend (as the bard would), and a subscriber callback that
// records what it was given.
#ifndef PODIUM_TESTS_CLIENT_TESTING_H_
#define PODIUM_TESTS_CLIENT_TESTING_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth.h"
#include "common/keys.h"
#include "podium/v1/backend.grpc.pb.h"
#include "podium/v1/scoreboard.pb.h"

namespace podium::test {

// Writes with the test token ("test-token", see harness/cluster.h).
// Each call returns the write's change, or one with seq 0 on failure.
class BackendWriter {
 public:
  explicit BackendWriter(std::unique_ptr<v1::Backend::Stub> stub) : stub_(std::move(stub)) {}

  v1::Change RecordScore(const std::string& event, const std::string& team, int64_t points) {
    grpc::ClientContext context;
    Prepare(&context);
    v1::RecordScoreRequest request;
    request.set_idempotency_key(absl::StrCat("client-test-", ++writes_));
    request.set_event(event);
    v1::TeamPoints* p = request.add_points();
    p->set_team(team);
    p->set_points(points);
    v1::WriteReply reply;
    if (!stub_->RecordScore(&context, request, &reply).ok()) return v1::Change();
    return reply.change();
  }

  // With `revoke`, takes the medal away for `reason`.
  v1::Change AwardMedal(const std::string& team, v1::Medal medal, bool revoke = false,
                        const std::string& reason = "") {
    grpc::ClientContext context;
    Prepare(&context);
    v1::AwardMedalRequest request;
    request.set_idempotency_key(absl::StrCat("client-test-", ++writes_));
    request.set_team(team);
    request.set_medal(medal);
    request.set_revoke(revoke);
    request.set_reason(reason);
    v1::WriteReply reply;
    if (!stub_->AwardMedal(&context, request, &reply).ok()) return v1::Change();
    return reply.change();
  }

  absl::StatusOr<v1::Board> GetBoard() {
    grpc::ClientContext context;
    Prepare(&context);
    v1::Board board;
    grpc::Status status = stub_->GetBoard(&context, v1::GetBoardRequest(), &board);
    if (!status.ok()) return absl::UnavailableError(status.error_message());
    return board;
  }

 private:
  static void Prepare(grpc::ClientContext* context) {
    AddBearerToken(context, "test-token");
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  }

  const std::unique_ptr<v1::Backend::Stub> stub_;
  int64_t writes_ = 0;
};

// A subscriber callback that records every update with its arrival time.
// Thread-safe.
class UpdateRecorder {
 public:
  struct Entry {
    v1::SubscribeUpdate update;
    absl::Time received;
  };

  std::function<void(const v1::SubscribeUpdate&)> Callback() {
    return [this](const v1::SubscribeUpdate& update) {
      absl::MutexLock lock(&mu_);
      entries_.push_back({update, absl::Now()});
    };
  }

  std::vector<Entry> entries() const {
    absl::MutexLock lock(&mu_);
    return entries_;
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return entries_.size();
  }

  // Waits up to `timeout` until an update of `key` with at least `version`
  // has been recorded.
  bool WaitForVersion(const std::string& key, int64_t version, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (ChangeKey(it->update.change()) == key && it->update.change().seq() >= version) {
          return true;
        }
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&seen), timeout);
  }

  // Waits up to `timeout` until at least `count` updates have been recorded.
  bool WaitForCount(size_t count, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return entries_.size() >= count; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
};

// Where a key's version did not go up from one recorded update to the next
// ("event:javelin 12 after 14"); empty when versions strictly increase.
inline std::vector<std::string> VersionRegressions(
    const std::vector<UpdateRecorder::Entry>& entries) {
  absl::flat_hash_map<std::string, int64_t> last;
  std::vector<std::string> regressions;
  for (const UpdateRecorder::Entry& entry : entries) {
    const std::string key = ChangeKey(entry.update.change());
    const int64_t seq = entry.update.change().seq();
    auto [it, first] = last.try_emplace(key, seq);
    if (first) continue;
    if (seq <= it->second) {
      regressions.push_back(absl::StrCat(key, " ", seq, " after ", it->second));
    }
    it->second = seq;
  }
  return regressions;
}

// The seqs of `written` that a subscriber never saw although no snapshot
// or conflation superseded them: for each written change, the first
// recorded update of its key at or after its seq must be that very change,
// or a snapshot or conflated value (those may skip values, DESIGN 6; a
// plain change stream may not).
inline std::vector<int64_t> MissedChanges(const std::vector<UpdateRecorder::Entry>& entries,
                                          const std::vector<v1::Change>& written) {
  absl::flat_hash_map<std::string, std::vector<const v1::SubscribeUpdate*>> by_key;
  for (const UpdateRecorder::Entry& entry : entries) {
    by_key[ChangeKey(entry.update.change())].push_back(&entry.update);
  }
  std::vector<int64_t> missed;
  for (const v1::Change& change : written) {
    const v1::SubscribeUpdate* next = nullptr;
    for (const v1::SubscribeUpdate* update : by_key[ChangeKey(change)]) {
      if (update->change().seq() >= change.seq()) {
        next = update;
        break;
      }
    }
    if (next == nullptr ||
        (next->change().seq() != change.seq() && !next->snapshot() && !next->conflated())) {
      missed.push_back(change.seq());
    }
  }
  return missed;
}

}  // namespace podium::test

#endif  // PODIUM_TESTS_CLIENT_TESTING_H_
