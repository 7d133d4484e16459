#include "frontend/peer_sender.h"

#include "common/backoff.h"
#include "glog/logging.h"

namespace podium {
namespace {

constexpr int kMaxBatch = 512;
// How often a member that is owed a reset is looked for while it is down
// (membership's view only; nothing is sent to it meanwhile).
constexpr absl::Duration kDownRecheck = absl::Milliseconds(50);

}  // namespace

PeerSender::PeerSender(std::string master, int64_t epoch, std::string member,
                       v1::FrontendPeer::Stub* stub, IsAlive is_alive,
                       PeerSenderOptions options)
    : master_(std::move(master)),
      epoch_(epoch),
      member_(std::move(member)),
      stub_(stub),
      is_alive_(std::move(is_alive)),
      options_(options) {
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
  if (!healthy_ || owes_reset_) return;  // the reset will cover it
  if (queue_.size() >= options_.max_queued) {
    LoseLocked("it is more than " + std::to_string(options_.max_queued) +
               " changes behind");
    return;
  }
  queue_.push_back(Queued{change, watched_seq});
}

bool PeerSender::healthy() const {
  absl::MutexLock lock(&mu_);
  return healthy_;
}

bool PeerSender::owes_reset() const {
  absl::MutexLock lock(&mu_);
  return owes_reset_;
}

int64_t PeerSender::resets() const {
  absl::MutexLock lock(&mu_);
  return resets_;
}

void PeerSender::LoseLocked(const std::string& why) {
  LOG(WARNING) << "dropping " << queue_.size() << " queued invalidations for member "
               << member_ << " (" << why << "); it gets a reset when it answers";
  queue_.clear();
  owes_reset_ = true;
}

void PeerSender::Loop() {
  while (true) {
    v1::InvalidateRequest request;
    request.set_master(master_);
    request.set_epoch(epoch_);
    bool reset = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](PeerSender* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
            return s->stopping_ || s->owes_reset_ || !s->queue_.empty();
          },
          this));
      if (stopping_) return;
      reset = owes_reset_;
      request.set_resets(resets_);
      if (!reset) {
        while (!queue_.empty() && request.changes_size() < kMaxBatch) {
          *request.add_changes() = std::move(queue_.front().change);
          request.set_watched_seq(queue_.front().watched_seq);
          queue_.pop_front();
        }
      }
    }
    if (reset) {
      if (!is_alive_()) {
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithDeadline(absl::Condition(&stopping_), absl::Now() + kDownRecheck);
        continue;
      }
      {
        // Changes from here on queue behind the reset.
        absl::MutexLock lock(&mu_);
        owes_reset_ = false;
        ++resets_;
        request.set_resets(resets_);
      }
      LOG(INFO) << "member " << member_ << " answers again: sending it a reset";
      request.set_reset(true);
    }
    if (!Deliver(request)) {
      absl::MutexLock lock(&mu_);
      if (stopping_ || !healthy_) return;
      // Otherwise the member was lost; the loop waits to reset it.
    }
  }
}

bool PeerSender::Deliver(const v1::InvalidateRequest& request) {
  Backoff backoff(absl::Milliseconds(5), absl::Milliseconds(200));
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.send_timeout));
    if (options_.authorize) options_.authorize(&context);
    v1::InvalidateReply reply;
    grpc::Status status = stub_->Invalidate(&context, request, &reply);
    if (status.ok()) {
      if (request.changes_size() > 0) {
        VLOG(1) << "Invalidate to " << member_ << ": " << request.changes_size()
                << " changes up to seq "
                << request.changes(request.changes_size() - 1).seq();
      }
      return true;
    }
    const bool refused = status.error_code() == grpc::StatusCode::FAILED_PRECONDITION;
    const bool dead = !refused && !is_alive_();
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    if (refused) {
      // It follows another master and registers its keys with that one.
      LOG(WARNING) << "giving up on member " << member_ << " ("
                   << status.error_message() << "); dropping "
                   << request.changes_size() + queue_.size() << " queued invalidations";
      healthy_ = false;
      queue_.clear();
      return false;
    }
    if (dead) {
      LoseLocked("declared dead after: " + status.error_message() + "; " +
                 std::to_string(request.changes_size()) + " more were in flight");
      return false;
    }
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
        status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      // Sending the same batch again would be refused again, for ever: the
      // member resets instead (and a wrong cluster token is said loudly).
      LoseLocked("it refused a batch: " + status.error_message());
      return false;
    }
    LOG(WARNING) << "Invalidate to " << member_ << " failed (" << status.error_message()
                 << "); retrying";
    mu_.AwaitWithDeadline(absl::Condition(&stopping_), absl::Now() + backoff.Next());
    if (stopping_) return false;
  }
}

}  // namespace podium
