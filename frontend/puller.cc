#include "frontend/puller.h"

#include "common/board_changes.h"
#include "common/status_util.h"
#include "glog/logging.h"

namespace podium {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(2);

}  // namespace

Puller::Puller(v1::Backend::Stub* backend, absl::Duration interval, Apply apply)
    : backend_(backend), interval_(interval), apply_(std::move(apply)) {}

Puller::~Puller() { Stop(); }

void Puller::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Puller::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int64_t Puller::applied_seq() const {
  absl::MutexLock lock(&mu_);
  return applied_seq_;
}

absl::Status Puller::ApplyBoard() {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  v1::Board board;
  grpc::Status status = backend_->GetBoard(&context, v1::GetBoardRequest(), &board);
  if (!status.ok()) return FromGrpcStatus(status);
  for (const v1::Change& change : BoardAsChanges(board)) apply_(change, ChangeSource::kBoard);
  absl::MutexLock lock(&mu_);
  applied_seq_ = board.seq();
  have_board_ = true;
  VLOG(1) << "pull: applied the whole board at seq " << board.seq();
  return absl::OkStatus();
}

absl::Status Puller::PollOnce() {
  absl::MutexLock poll(&poll_mu_);
  bool have_board;
  {
    absl::MutexLock lock(&mu_);
    have_board = have_board_;
  }
  // The first poll starts from a full board: the cache is then warm, and
  // the change log need not be read from its beginning.
  if (!have_board) return ApplyBoard();
  while (true) {
    v1::ChangesSinceRequest request;
    request.set_after_seq(applied_seq());
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    v1::ChangesSinceReply reply;
    grpc::Status status = backend_->ChangesSince(&context, request, &reply);
    if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
      LOG(WARNING) << "pull: " << status.error_message();
      return ApplyBoard();
    }
    if (!status.ok()) return FromGrpcStatus(status);
    for (const v1::Change& change : reply.changes()) apply_(change, ChangeSource::kLog);
    if (!reply.changes().empty()) {
      absl::MutexLock lock(&mu_);
      applied_seq_ = reply.changes().rbegin()->seq();
      VLOG(1) << "pull: applied " << reply.changes_size()
              << " changes up to seq " << applied_seq_;
    }
    if (reply.changes().empty() || applied_seq() >= reply.head_seq()) {
      return absl::OkStatus();
    }
  }
}

void Puller::Loop() {
  absl::Time next = absl::Now();
  absl::Status last = absl::OkStatus();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithDeadline(absl::Condition(&stopping_), next)) return;
    }
    absl::Status status = PollOnce();
    if (!status.ok() && last.ok()) {
      LOG(WARNING) << "pull from the backend failed: " << status
                   << " (serving cached values; retrying every "
                   << absl::FormatDuration(interval_) << ")";
    } else if (status.ok() && !last.ok()) {
      LOG(INFO) << "pull from the backend works again";
    }
    last = status;
    // A fixed rate, not a fixed pause: polls start every interval.
    next += interval_;
    if (next < absl::Now()) next = absl::Now();
  }
}

}  // namespace podium
