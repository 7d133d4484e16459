#include "frontend/frontend.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/board_changes.h"
#include "common/channel.h"
#include "common/keys.h"
#include "common/status_util.h"
#include "glog/logging.h"

namespace podium {

Frontend::Frontend(FrontendOptions options)
    : options_(std::move(options)),
      backend_(v1::Backend::NewStub(CreateFastReconnectChannel(options_.backend))),
      names_([this] { return FetchBoard(); }, options_.names,
             [this](const v1::Board& board) { OnGamesChanged(board); }),
      post_limiter_(options_.posts),
      membership_(
          [this] {
            v1::Member self;
            self.set_address(options_.address);
            self.set_pid(options_.pid);
            self.set_public_address(options_.public_address.empty()
                                        ? options_.address
                                        : options_.public_address);
            return self;
          }(),
          options_.peers, options_.mode, options_.membership,
          [this](const MasterView& view) { OnMasterChanged(view); },
          [this] { return Status(); }) {
  SubscriptionHooks hooks;
  hooks.ensure_feed = [this](const std::vector<std::string>& keys) {
    if (pusher_ == nullptr) return absl::OkStatus();  // polls bring everything
    MasterView view;
    {
      absl::MutexLock lock(&view_mu_);
      view = view_;
    }
    return RegisterInterest(keys, view);
  };
  hooks.read = [this](const std::string& key) -> absl::StatusOr<v1::Change> {
    absl::StatusOr<CachedValue> value = ReadKey(key);
    if (!value.ok()) return value.status();
    return (*value)->change();
  };
  hooks.changes_since = [this](int64_t after_seq) -> absl::StatusOr<v1::ChangesSinceReply> {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.backend_timeout));
    v1::ChangesSinceRequest request;
    request.set_after_seq(after_seq);
    v1::ChangesSinceReply reply;
    grpc::Status status = backend_->ChangesSince(&context, request, &reply);
    if (!status.ok()) return BackendError(status);
    return reply;
  };
  hub_ = std::make_unique<SubscriptionHub>(std::move(hooks), /*workers=*/2,
                                           options_.recent_changes);
  if (options_.mode == v1::PUSH) {
    pusher_ = std::make_unique<Pusher>(
        options_.address, backend_.get(), &membership_,
        [this](const v1::Change& change, ChangeSource source) {
          absl::MutexLock lock(&view_mu_);
          if (!view_.self_is_master) return;
          if (source == ChangeSource::kBoard) hub_->ForgetHistory();
          cache_.Apply(change, generation_);
          master_seq_ = std::max(master_seq_, change.seq());
          hub_->Publish(change);
        });
  } else if (options_.mode == v1::PULL) {
    puller_ = std::make_unique<Puller>(
        backend_.get(), options_.poll_interval,
        [this](const v1::Change& change, ChangeSource source) { ApplyPulled(change, source); });
  }
}

Frontend::~Frontend() {
  Stop();
  hub_.reset();
}

void Frontend::Start() {
  membership_.Start();
  if (puller_ != nullptr) puller_->Start();
}

void Frontend::Stop() {
  membership_.Stop();
  if (pusher_ != nullptr) pusher_->Stop();
  if (puller_ != nullptr) puller_->Stop();
}

LocalStatus Frontend::Status() const {
  LocalStatus status;
  status.clients = clients_.Count();
  if (puller_ != nullptr) {
    status.applied_seq = puller_->applied_seq();
  } else {
    absl::MutexLock lock(&view_mu_);
    status.applied_seq = master_seq_;
  }
  return status;
}

Frontend::Vitals Frontend::GetVitals() const {
  Vitals vitals;
  vitals.cache = cache_.stats();
  vitals.master = master();
  const LocalStatus status = Status();
  vitals.applied_seq = status.applied_seq;
  vitals.clients = status.clients;
  for (int64_t seq : membership_.LiveAppliedSeqs()) {
    vitals.cluster_seq = std::max(vitals.cluster_seq, seq);
  }
  return vitals;
}

void Frontend::OnMasterChanged(const MasterView& view) {
  {
    absl::MutexLock lock(&view_mu_);
    view_ = view;
    resets_seen_ = 0;
    ++generation_;
    cache_.InvalidateAll(generation_);
    // Pushes in flight from the old master may be lost: subscriptions
    // re-register with the new one and replay what they may have missed.
    // Marked here, under the lock Invalidate takes, so that no change of
    // the new master reaches a subscription before its replay.
    if (pusher_ != nullptr && !view.self_is_master && !view.master.empty()) {
      hub_->CatchUpAll(master_seq_);
    } else if (pusher_ != nullptr) {
      // Our own watch takes over from where the old master left off: the
      // push feed changed hands, so nothing is vouched for across it.
      // (Pull mode polls the backend whoever is master.)
      hub_->ForgetHistory();
    }
  }
  LOG(INFO) << "master is now " << (view.master.empty() ? "(none)" : view.master)
            << " (epoch " << view.epoch << "); cache invalidated";
  if (pusher_ == nullptr) return;
  if (!view.self_is_master) {
    pusher_->Stop();
    return;
  }
  // Resume where the old master left off: the least any live frontend has
  // seen from it (0 means nothing, which starts from a snapshot).
  int64_t from = 0;
  for (int64_t seq : membership_.LiveAppliedSeqs()) {
    if (seq > 0 && (from == 0 || seq < from)) from = seq;
  }
  pusher_->Start(view.epoch, from);
}

void Frontend::ApplyPulled(const v1::Change& change, ChangeSource source) {
  // As for pushes (Invalidate): a value of a name this frontend does not
  // know yet (the backend restarted with a grown games file) is not cached,
  // or reads would serve it while boards leave it out; asking has the
  // names read again, and a read then fetches it from the backend.
  if (!names_.empty() && !names_.Known(ChangeKey(change))) return;
  absl::MutexLock lock(&view_mu_);
  if (source == ChangeSource::kBoard) hub_->ForgetHistory();
  cache_.Apply(change, generation_);
  hub_->Publish(change);
}

absl::Status Frontend::BackendError(const grpc::Status& status,
                                    absl::string_view why_backend) const {
  absl::Status s = FromGrpcStatus(status);
  if (s.code() == absl::StatusCode::kNotFound ||
      s.code() == absl::StatusCode::kInvalidArgument) {
    return s;
  }
  return absl::Status(s.code(), absl::StrCat(why_backend, options_.backend,
                                             " did not answer: ", s.message()));
}

absl::Status Frontend::RegisterInterest(const std::vector<std::string>& keys,
                                        const MasterView& view) {
  if (view.master.empty()) {
    return absl::UnavailableError("no master elected yet");
  }
  if (view.self_is_master) return absl::OkStatus();  // we watch everything
  v1::FrontendPeer::Stub* stub = membership_.Stub(view.master);
  if (stub == nullptr) return absl::InternalError("master is not a peer");
  v1::InterestRequest request;
  request.mutable_from()->set_address(options_.address);
  request.mutable_from()->set_pid(options_.pid);
  request.set_epoch(view.epoch);
  for (const std::string& key : keys) request.add_keys(key);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  membership_.Authorize(&context);
  v1::InterestReply reply;
  grpc::Status status = stub->Interest(&context, request, &reply);
  VLOG(1) << "Interest in " << keys.size() << " keys sent to master "
          << view.master << ": " << (status.ok() ? "ok" : status.error_message());
  return FromGrpcStatus(status);
}


void Frontend::OnGamesChanged(const v1::Board& board) {
  int refreshed = 0;
  for (const v1::EventScore& event : board.events()) {
    refreshed += cache_.Refresh(EventKey(event.event()), AsChange(event));
  }
  for (const v1::MedalTally& tally : board.medals()) {
    refreshed += cache_.Refresh(TeamKey(tally.team()), AsChange(tally));
  }
  LOG(INFO) << "games changed: " << refreshed << " cached values refreshed from the backend";
}


v1::ListFrontendsReply Frontend::ListFrontends() {
  v1::ListFrontendsReply reply;
  for (v1::FrontendInfo& info : membership_.Frontends()) {
    *reply.add_frontends() = std::move(info);
  }
  reply.set_answered_by(options_.public_address.empty() ? options_.address
                                                       : options_.public_address);
  return reply;
}

}  // namespace podium
