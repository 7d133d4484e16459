// Frontend's peer-plane entry points (FrontendPeer, served by
// PeerService), kept apart from the read path in frontend.cc: how a member
// takes the master's interest registrations and invalidations.
#include "absl/strings/str_cat.h"
#include "common/keys.h"
#include "frontend/frontend.h"
#include "glog/logging.h"

namespace podium {

v1::PingReply Frontend::Ping(const v1::PingRequest& request) {
  return membership_.HandlePing(request);
}

v1::CoordinatorReply Frontend::Coordinator(const v1::CoordinatorRequest& request) {
  return membership_.HandleCoordinator(request);
}

absl::StatusOr<v1::InterestReply> Frontend::Interest(const v1::InterestRequest& request) {
  if (pusher_ == nullptr) {
    return absl::FailedPreconditionError("this frontend runs in pull mode");
  }
  if (!membership_.IsPeer(request.from().address())) {
    return absl::PermissionDeniedError(absl::StrCat(
        "'", request.from().address().substr(0, 64), "' is not a configured peer"));
  }
  // Only names of the games: the master's interest table is then bounded
  // by the games, however many keys a member sends.
  if (names_.empty()) {
    return absl::UnavailableError("the games' names are not known yet; retry");
  }
  for (const std::string& key : request.keys()) {
    if (!names_.Known(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "interest in '", key.substr(0, 64), "', which is no key of the games"));
    }
  }
  std::vector<std::string> keys(request.keys().begin(), request.keys().end());
  absl::StatusOr<int64_t> watched =
      pusher_->AddInterest(request.from().address(), request.epoch(), keys);
  if (!watched.ok()) return watched.status();
  v1::InterestReply reply;
  reply.set_watched_seq(*watched);
  return reply;
}

absl::Status Frontend::Invalidate(const v1::InvalidateRequest& request) {
  absl::MutexLock lock(&view_mu_);
  if (request.master() != view_.master || request.epoch() != view_.epoch) {
    return absl::FailedPreconditionError(absl::StrCat(
        "invalidation from ", request.master(), " epoch ", request.epoch(),
        ", but this frontend follows ", view_.master, " epoch ", view_.epoch));
  }
  if (request.resets() < resets_seen_) {
    LOG(INFO) << "ignoring an invalidation from " << request.master()
              << " that its reset overtook (" << request.changes_size() << " changes)";
    return absl::OkStatus();
  }
  if (request.reset()) {
    // The master dropped changes meant for us: as after a change of
    // master, nothing cached is trusted and subscriptions replay from the
    // last seq the master had read when it last reached us.
    resets_seen_ = request.resets();
    ++generation_;
    cache_.InvalidateAll(generation_);
    LOG(WARNING) << "master " << request.master()
                 << " dropped invalidations for this frontend; cache invalidated, "
                    "subscriptions catch up after seq "
                 << master_seq_;
    hub_->CatchUpAll(master_seq_);
    return absl::OkStatus();
  }
  for (const v1::Change& change : request.changes()) {
    // A change past what the master says it has read is not one a master
    // sends.
    if (change.seq() < 0 || change.seq() > request.watched_seq()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalidation carries a change (seq ", change.seq(), ", key '",
          ChangeKey(change).substr(0, 64), "') past the seq its master has read (",
          request.watched_seq(), ") that no master sends; nothing applied"));
    }
  }
  for (const v1::Change& change : request.changes()) {
    // A key outside the games (one a smaller games file dropped, replayed
    // from the retained log) is nobody's: skipped, so the table stays
    // bounded by the games and the rest of the batch still applies.
    if (!names_.empty() && !names_.Known(ChangeKey(change))) continue;
    cache_.Apply(change, generation_);
    hub_->Publish(change);
  }
  master_seq_ = std::max(master_seq_, request.watched_seq());
  VLOG(1) << "Invalidate from " << request.master() << ": "
          << request.changes_size() << " changes";
  return absl::OkStatus();
}

}  // namespace podium
