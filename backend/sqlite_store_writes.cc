// SqliteStore: the write path. Writes wait in a queue; one committer
// thread applies what has gathered in one transaction (a group commit),
// fsyncs it, then answers every write of the batch. Opening the database
// and the reads are in sqlite_store.cc.
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "backend/event_awards.h"
#include "backend/fan_board.h"
#include "backend/sqlite_db.h"
#include "backend/sqlite_store.h"
#include "backend/write_fingerprint.h"
#include "glog/logging.h"

namespace podium {
namespace {

// Compaction deletes in steps of this many seqs, not at every commit.
constexpr int64_t kCompactEvery = 1024;

}  // namespace

struct SqliteStore::PendingWrite {
  // Exactly one is set.
  const v1::RecordScoreRequest* score = nullptr;
  const v1::AwardMedalRequest* medal = nullptr;
  const v1::PostToFanBoardRequest* post = nullptr;
  const v1::RemovePostRequest* removal = nullptr;
  int64_t fingerprint = 0;
  void Set(const v1::RecordScoreRequest* request) {
    score = request;
    fingerprint = WriteFingerprint(*request);
  }
  void Set(const v1::AwardMedalRequest* request) {
    medal = request;
    fingerprint = WriteFingerprint(*request);
  }
  void Set(const v1::PostToFanBoardRequest* request) {
    post = request;
    fingerprint = WriteFingerprint(*request);
  }
  void Set(const v1::RemovePostRequest* request) {
    removal = request;
    fingerprint = WriteFingerprint(*request);
  }
  const std::string& key() const {
    if (score != nullptr) return score->idempotency_key();
    if (medal != nullptr) return medal->idempotency_key();
    return post != nullptr ? post->idempotency_key() : removal->idempotency_key();
  }
  absl::StatusOr<WriteResult> result;
  WriteDone done;
};

SqliteStore::SqliteStore(Games games, SqliteStoreOptions options)
    : options_(options), state_(std::move(games)), log_(options.change_retention) {}

SqliteStore::~SqliteStore() {
  if (committer_.joinable()) {
    {
      absl::MutexLock lock(&queue_mu_);
      stopping_ = true;
    }
    committer_.join();
  }
}

template <typename Request>
void SqliteStore::ValidateAndSubmit(const Request& request, WriteDone done) {
  absl::Status valid;
  {
    absl::ReaderMutexLock lock(&state_mu_);
    valid = state_.Validate(request);
  }
  if (!valid.ok()) return done(valid);
  auto write = std::make_unique<PendingWrite>();
  write->Set(&request);
  write->done = std::move(done);
  Submit(std::move(write));
}

void SqliteStore::RecordScoreAsync(const v1::RecordScoreRequest& request, WriteDone done) {
  ValidateAndSubmit(request, std::move(done));
}

void SqliteStore::AwardMedalAsync(const v1::AwardMedalRequest& request, WriteDone done) {
  ValidateAndSubmit(request, std::move(done));
}

void SqliteStore::PostToFanBoardAsync(const v1::PostToFanBoardRequest& request, WriteDone done) {
  ValidateAndSubmit(request, std::move(done));
}

void SqliteStore::RemovePostAsync(const v1::RemovePostRequest& request, WriteDone done) {
  ValidateAndSubmit(request, std::move(done));
}

void SqliteStore::Submit(std::unique_ptr<PendingWrite> write) {
  {
    absl::MutexLock lock(&queue_mu_);
    if (!stopping_) {
      queue_.push_back(std::move(write));
      return;
    }
  }
  write->done(absl::UnavailableError("the store is shutting down"));
}

void SqliteStore::CommitLoop() {
  std::vector<std::unique_ptr<PendingWrite>> batch;
  while (true) {
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](SqliteStore* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->queue_mu_) {
            return !s->queue_.empty() || s->stopping_;
          },
          this));
      if (queue_.empty()) return;  // stopping, and nothing left to commit
      const size_t n = std::min(queue_.size(), options_.max_batch);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
    }
    CommitBatch(batch);
    batch.clear();
  }
}

void SqliteStore::CommitBatch(const std::vector<std::unique_ptr<PendingWrite>>& batch) {
  std::vector<v1::Change> new_changes;
  absl::Status s = db_->Exec("BEGIN IMMEDIATE");
  if (s.ok()) s = ApplyBatch(batch, &new_changes);
  if (s.ok()) s = db_->Exec("COMMIT");
  if (!s.ok()) {
    LOG(ERROR) << "commit of " << batch.size() << " writes failed: " << s;
    db_->Exec("ROLLBACK").IgnoreError();  // Fails harmlessly if none is open.
    for (const auto& write : batch) {
      write->done(absl::UnavailableError(
          absl::StrCat("the backend could not store the write (nothing was applied; "
                       "retry): ",
                       s.message())));
    }
    return;
  }
  {
    absl::MutexLock lock(&state_mu_);
    for (const v1::Change& change : new_changes) state_.Install(change);
    if (!new_changes.empty()) committed_seq_ = new_changes.back().seq();
    stats_.transactions += 1;
    stats_.writes += static_cast<int64_t>(batch.size());
  }
  log_.Append(new_changes);
  for (const auto& write : batch) write->done(std::move(write->result));
}

absl::Status SqliteStore::ApplyBatch(const std::vector<std::unique_ptr<PendingWrite>>& batch,
                                     std::vector<v1::Change>* new_changes) {
  int64_t seq;
  {
    absl::ReaderMutexLock lock(&state_mu_);
    seq = committed_seq_;
  }
  const int64_t first_seq = seq + 1;
  const int64_t now = absl::ToUnixMicros(absl::Now());
  // Values written earlier in this batch, not yet visible in state_.
  absl::flat_hash_map<std::string, v1::Change> overlay;
  // Events' medal counts changed earlier in this batch.
  absl::flat_hash_map<std::string, EventAwards> awards_overlay;
  // Keys applied earlier in this batch: a retry racing its original.
  absl::flat_hash_map<std::string, std::pair<v1::Change, int64_t>> applied_in_batch;
  std::string blob;

  for (const auto& write : batch) {
    if (auto it = applied_in_batch.find(write->key()); it != applied_in_batch.end()) {
      write->result = Duplicate(*write, it->second.first, it->second.second);
      continue;
    }
    find_applied_->BindText(1, write->key());
    absl::StatusOr<bool> found = find_applied_->Step();
    if (!found.ok()) return found.status();
    if (*found) {
      v1::Change original;
      const bool parsed = original.ParseFromString(std::string(find_applied_->ColumnBlob(0)));
      const int64_t fingerprint = find_applied_->ColumnInt(1);  // 0 when NULL
      find_applied_->Reset();
      if (!parsed) {
        // As Init does for kv and changes rows: a damaged row is said so,
        // not answered with an empty change as if it were the original;
        // and this write alone fails, for good: a retry would find it again.
        write->result = absl::DataLossError(
            absl::StrCat("the applied row of idempotency key '", write->key(),
                         "' does not parse: the database is damaged; restore it from a backup"));
        continue;
      }
      write->result = Duplicate(*write, std::move(original), fingerprint);
      continue;
    }
    find_applied_->Reset();

    v1::Change change;
    change.set_seq(seq + 1);
    {
      absl::ReaderMutexLock lock(&state_mu_);
      if (write->score != nullptr) {
        const std::string key = EventKey(write->score->event());
        auto it = overlay.find(key);
        v1::EventScore current =
            it != overlay.end() ? it->second.event() : *state_.GetEvent(write->score->event());
        *change.mutable_event() = BoardState::ApplyScore(current, *write->score, change.seq(), now);
        change.set_reason(write->score->reason());
      } else if (write->post != nullptr || write->removal != nullptr) {
        const std::string& event =
            write->post != nullptr ? write->post->event() : write->removal->event();
        auto it = overlay.find(FansKey(event));
        v1::FanBoard current = it != overlay.end() ? it->second.fans() : *state_.GetFanBoard(event);
        if (write->post != nullptr) {
          *change.mutable_fans() = ApplyPost(current, *write->post, change.seq(), now);
        } else {
          absl::StatusOr<v1::FanBoard> next =
              ApplyRemoval(current, *write->removal, change.seq(), now);
          if (!next.ok()) {  // no such post on the board: refused, no seq used
            write->result = next.status();
            continue;
          }
          *change.mutable_fans() = *std::move(next);
          change.set_reason(write->removal->reason());
        }
      } else {
        const std::string key = TeamKey(write->medal->team());
        auto it = overlay.find(key);
        v1::MedalTally current =
            it != overlay.end() ? it->second.medals() : *state_.GetMedals(write->medal->team());
        absl::StatusOr<v1::MedalTally> next =
            BoardState::ApplyMedal(current, *write->medal, change.seq(), now);
        if (!next.ok()) {  // a revocation below zero: refused, no seq used
          write->result = next.status();
          continue;
        }
        *change.mutable_medals() = *std::move(next);
        change.set_reason(write->medal->reason());
        if (!write->medal->event().empty()) {
          const std::string& event = write->medal->event();
          absl::StatusOr<EventAwards> awards = EventAwardsOf(event, awards_overlay);
          if (!awards.ok()) return awards.status();
          awards = ApplyEventAward(state_.games().InfoOf(event), *awards, *write->medal);
          if (!awards.ok()) {  // the event has no medal of that kind left: no seq used
            write->result = awards.status();
            continue;
          }
          awards_overlay[event] = *awards;
          put_awards_->BindText(1, event);
          put_awards_->BindInt(2, awards->gold);
          put_awards_->BindInt(3, awards->silver);
          put_awards_->BindInt(4, awards->bronze);
          if (absl::Status s = put_awards_->Run(); !s.ok()) return s;
        }
      }
    }
    ++seq;
    const std::string key = ChangeKey(change);
    change.SerializeToString(&blob);
    put_value_->BindText(1, key);
    put_value_->BindBlob(2, blob);
    put_change_->BindInt(1, seq);
    put_change_->BindBlob(2, blob);
    put_applied_->BindText(1, write->key());
    put_applied_->BindInt(2, seq);
    put_applied_->BindBlob(3, blob);
    put_applied_->BindInt(4, write->fingerprint);
    for (SqliteStatement* stmt : {put_value_.get(), put_change_.get(), put_applied_.get()}) {
      if (absl::Status s = stmt->Run(); !s.ok()) return s;
    }
    write->result = WriteResult{change, false};
    applied_in_batch[write->key()] = {change, write->fingerprint};
    overlay[key] = change;
    new_changes->push_back(std::move(change));
  }
  if (seq / kCompactEvery != (first_seq - 1) / kCompactEvery) return Compact(seq);
  return absl::OkStatus();
}

absl::StatusOr<EventAwards> SqliteStore::EventAwardsOf(
    const std::string& event, const absl::flat_hash_map<std::string, EventAwards>& overlay) {
  if (auto it = overlay.find(event); it != overlay.end()) return it->second;
  find_awards_->BindText(1, event);
  absl::StatusOr<bool> found = find_awards_->Step();
  EventAwards awards;
  if (found.ok() && *found) {
    awards.gold = find_awards_->ColumnInt(0);
    awards.silver = find_awards_->ColumnInt(1);
    awards.bronze = find_awards_->ColumnInt(2);
  }
  find_awards_->Reset();
  if (!found.ok()) return found.status();
  return awards;
}

absl::StatusOr<WriteResult> SqliteStore::Duplicate(const PendingWrite& write, v1::Change original,
                                                   int64_t fingerprint) {
  if (fingerprint != 0 && fingerprint != write.fingerprint) {
    return KeyReusedError(write.key(), original.seq());
  }
  return WriteResult{std::move(original), true};
}

absl::Status SqliteStore::Compact(int64_t head) {
  const int64_t changes_before = head - static_cast<int64_t>(options_.change_retention);
  const int64_t applied_before = head - static_cast<int64_t>(options_.idempotency_retention);
  if (changes_before > 0) {
    if (absl::Status s =
            db_->Exec(absl::StrCat("DELETE FROM changes WHERE seq <= ", changes_before));
        !s.ok()) {
      return s;
    }
  }
  if (applied_before > 0) {
    return db_->Exec(absl::StrCat("DELETE FROM applied WHERE seq <= ", applied_before));
  }
  return absl::OkStatus();
}

}  // namespace podium
