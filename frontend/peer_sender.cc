#include "frontend/peer_sender.h"

#include "common/backoff.h"
#include "glog/logging.h"

namespace podium {
namespace {

constexpr size_t kMaxBatch = 512;
constexpr absl::Duration kSendTimeout = absl::Seconds(1);

}  // namespace

PeerSender::PeerSender(std::string master, int64_t epoch, std::string member,
                       v1::FrontendPeer::Stub* stub, IsAlive is_alive)
    : master_(std::move(master)),
      epoch_(epoch),
      member_(std::move(member)),
      stub_(stub),
      is_alive_(std::move(is_alive)) {
  thread_ = std::thread([this] { Loop(); });
}

PeerSender::~PeerSender() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void PeerSender::Enqueue(const v1::Change& change, int64_t watched_seq) {
  absl::MutexLock lock(&mu_);
  if (!healthy_) return;
  queue_.push_back(change);
  watched_seq_ = watched_seq;
}

bool PeerSender::healthy() const {
  absl::MutexLock lock(&mu_);
  return healthy_;
}

void PeerSender::Loop() {
  Backoff backoff(absl::Milliseconds(5), absl::Milliseconds(200));
  v1::InvalidateRequest request;
  request.set_master(master_);
  request.set_epoch(epoch_);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](PeerSender* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
            return s->stopping_ || !s->queue_.empty();
          },
          this));
      if (stopping_) return;
      request.clear_changes();
      while (!queue_.empty() && request.changes_size() < static_cast<int>(kMaxBatch)) {
        *request.add_changes() = std::move(queue_.front());
        queue_.pop_front();
      }
      request.set_watched_seq(watched_seq_);
    }
    // Retry this batch until it lands, the member dies, or we stop.
    while (true) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + kSendTimeout));
      v1::InvalidateReply reply;
      grpc::Status status = stub_->Invalidate(&context, request, &reply);
      if (status.ok()) {
        VLOG(1) << "Invalidate to " << member_ << ": " << request.changes_size()
                << " changes up to seq "
                << request.changes(request.changes_size() - 1).seq();
        backoff.Reset();
        break;
      }
      // A dead member, or one that follows another master now, will
      // register its keys again with whoever it follows next.
      const bool give_up = !is_alive_() ||
                           status.error_code() == grpc::StatusCode::FAILED_PRECONDITION;
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      if (give_up) {
        LOG(WARNING) << "giving up on member " << member_ << " ("
                     << status.error_message() << "); dropping "
                     << request.changes_size() + queue_.size()
                     << " queued invalidations";
        healthy_ = false;
        queue_.clear();
        return;
      }
      LOG(WARNING) << "Invalidate to " << member_ << " failed ("
                   << status.error_message() << "); retrying";
      mu_.AwaitWithDeadline(absl::Condition(&stopping_), absl::Now() + backoff.Next());
      if (stopping_) return;
    }
  }
}

}  // namespace podium
