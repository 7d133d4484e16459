#include "frontend/pusher.h"

#include <functional>
#include <utility>

#include "common/backoff.h"
#include "common/board_changes.h"
#include "common/keys.h"
#include "glog/logging.h"

namespace podium {
namespace {

// The backend's Watch stream, read on gRPC's callback threads. A thread
// blocked reading a synchronous stream would take turns polling all of the
// frontend's sockets, and hand every cached read it picked up over to a
// callback thread: one such idle thread cost a large share of the cached
// reads (docs/benchmarks.md, "Cached reads under h2load").
class WatchReader final : public grpc::ClientReadReactor<v1::Change> {
 public:
  using OnChange = std::function<void(const v1::Change&)>;

  // Starts the call; `on_change` runs for each change, one at a time, on a
  // gRPC thread. `context` and `request` must outlive Await().
  WatchReader(v1::Backend::Stub* backend, grpc::ClientContext* context,
              const v1::WatchRequest& request, OnChange on_change)
      : on_change_(std::move(on_change)) {
    backend->async()->Watch(context, &request, this);
    StartRead(&change_);
    StartCall();
  }

  // The stream's end: blocks until the call is over.
  grpc::Status Await() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_;
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended; OnDone follows
    on_change_(change_);
    StartRead(&change_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

 private:
  const OnChange on_change_;
  v1::Change change_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

Pusher::Pusher(std::string self_address, v1::Backend::Stub* backend, Membership* membership,
               ApplyLocal apply_local)
    : self_address_(std::move(self_address)),
      backend_(backend),
      membership_(membership),
      apply_local_(std::move(apply_local)) {}

Pusher::~Pusher() { Stop(); }

void Pusher::Start(int64_t epoch, int64_t from_seq) {
  Stop();
  absl::MutexLock lock(&mu_);
  running_ = true;
  epoch_ = epoch;
  watched_seq_ = from_seq;
  interest_.clear();
  LOG(INFO) << "pushing for epoch " << epoch << ", watching the backend after seq " << from_seq;
  watcher_ = std::thread([this, epoch] { WatchLoop(epoch); });
}

void Pusher::Stop() {
  std::thread watcher;
  std::map<std::string, std::unique_ptr<PeerSender>> senders;
  {
    absl::MutexLock lock(&mu_);
    if (!running_) return;
    running_ = false;
    if (watch_context_ != nullptr) watch_context_->TryCancel();
    watcher.swap(watcher_);
    senders.swap(senders_);
    interest_.clear();
    LOG(INFO) << "stopped pushing for epoch " << epoch_;
  }
  if (watcher.joinable()) watcher.join();
  senders.clear();  // joins their threads outside mu_
}

bool Pusher::Running(int64_t epoch) const {
  absl::MutexLock lock(&mu_);
  return running_ && epoch_ == epoch;
}

absl::StatusOr<int64_t> Pusher::AddInterest(const std::string& member, int64_t epoch,
                                            const std::vector<std::string>& keys) {
  absl::MutexLock lock(&mu_);
  if (!running_ || epoch != epoch_) {
    return absl::FailedPreconditionError("this frontend is not master of epoch " +
                                         std::to_string(epoch));
  }
  // Looked up before senders_ gets an entry: a made-up member must not
  // grow the table.
  v1::FrontendPeer::Stub* stub = membership_->Stub(member);
  if (stub == nullptr) {
    return absl::InvalidArgumentError("'" + member.substr(0, 64) + "' is not a configured peer");
  }
  auto& sender = senders_[member];
  if (sender == nullptr || !sender->healthy()) {
    PeerSenderOptions options;
    options.authorize = [membership = membership_](grpc::ClientContext* context) {
      membership->Authorize(context);
    };
    sender = std::make_unique<PeerSender>(
        self_address_, epoch, member, stub, [this, member] { return membership_->IsAlive(member); },
        options);
  }
  if (sender->owes_reset()) {
    // Changes for it were dropped; a value it read now could miss one. It
    // serves this read uncached and registers again after the reset.
    return absl::UnavailableError("the master " + self_address_ + " dropped changes for " + member +
                                  " and owes it a reset first");
  }
  for (const std::string& key : keys) interest_[key].insert(member);
  VLOG(1) << "Interest from " << member << " in " << keys.size() << " keys, first "
          << (keys.empty() ? "" : keys[0]);
  return watched_seq_;
}

int64_t Pusher::watched_seq() const {
  absl::MutexLock lock(&mu_);
  return watched_seq_;
}

void Pusher::Forward(const v1::Change& change) {
  auto it = interest_.find(ChangeKey(change));
  if (it == interest_.end()) return;
  for (auto member = it->second.begin(); member != it->second.end();) {
    auto sender = senders_.find(*member);
    if (sender == senders_.end() || !sender->second->healthy()) {
      member = it->second.erase(member);  // it re-registers when it returns
      continue;
    }
    sender->second->Enqueue(change, watched_seq_);
    ++member;
  }
}

grpc::Status Pusher::CatchUpFromBoard() {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::Board board;
  grpc::Status status = backend_->GetBoard(&context, v1::GetBoardRequest(), &board);
  if (!status.ok()) return status;
  const std::vector<v1::Change> values = BoardAsChanges(board);
  for (const v1::Change& change : values) apply_local_(change, ChangeSource::kBoard);
  absl::MutexLock lock(&mu_);
  watched_seq_ = board.seq();
  for (const v1::Change& change : values) Forward(change);
  return status;
}

void Pusher::WatchLoop(int64_t epoch) {
  Backoff backoff(absl::Milliseconds(20), absl::Seconds(1));
  while (Running(epoch)) {
    if (watched_seq() == 0) {
      // Nobody has read the change log yet: start from a snapshot rather
      // than replaying the whole retained history.
      grpc::Status status = CatchUpFromBoard();
      if (!status.ok()) {
        LOG(WARNING) << "cannot read the board to start pushing: " << status.error_message();
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithDeadline(absl::Condition(
                                  +[](bool* running) { return !*running; }, &running_),
                              absl::Now() + backoff.Next());
        continue;
      }
    }
    grpc::ClientContext context;
    v1::WatchRequest request;
    {
      absl::MutexLock lock(&mu_);
      if (!running_) return;
      watch_context_ = &context;
      request.set_from_seq(watched_seq_);
    }
    bool first = true;
    WatchReader reader(backend_, &context, request, [&](const v1::Change& change) {
      if (first) {
        // With several backends (--backend=A,B) the channel picks one:
        // say which, so an operator can follow a move to another.
        LOG(INFO) << "watching the backend at " << context.peer() << " from seq " << change.seq();
        first = false;
      }
      backoff.Reset();
      apply_local_(change, ChangeSource::kLog);
      absl::MutexLock lock(&mu_);
      watched_seq_ = change.seq();
      Forward(change);
    });
    grpc::Status status = reader.Await();
    {
      absl::MutexLock lock(&mu_);
      watch_context_ = nullptr;
      if (!running_) return;
    }
    if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
      // The history after watched_seq_ is gone: send everyone the whole
      // board instead, as changes, and watch on from its seq.
      LOG(WARNING) << "backend compacted changes we had not read (" << status.error_message()
                   << "); re-sending the whole board";
      status = CatchUpFromBoard();
      if (status.ok()) continue;
    }
    const absl::Duration pause = backoff.Next();
    LOG(WARNING) << "backend Watch at " << context.peer() << " ended (" << status.error_message()
                 << "); resuming after seq " << watched_seq() << " in "
                 << absl::FormatDuration(pause);
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(
                              +[](bool* running) { return !*running; }, &running_),
                          absl::Now() + pause);
  }
}

}  // namespace podium
