#include "frontend/scoreboard_service.h"

#include "absl/synchronization/mutex.h"
#include "common/status_util.h"
#include "glog/logging.h"

namespace podium {
namespace {

// Copies a value or maps an error; one place for every unary read.
template <typename T>
grpc::Status Finish(absl::StatusOr<T> result, T* reply) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *reply = *std::move(result);
  return grpc::Status::OK;
}

// One Subscribe stream. Lives until OnDone; the Subscription it owns stops
// calling back once closed.
class SubscribeReactor final : public grpc::ServerWriteReactor<v1::SubscribeUpdate> {
 public:
  SubscribeReactor(Frontend* frontend, grpc::CallbackServerContext* context,
                   const v1::SubscribeRequest& request)
      : frontend_(frontend) {
    absl::StatusOr<std::shared_ptr<Subscription>> subscription =
        frontend->NewSubscription(request, context->peer(),
                                  [this](const v1::SubscribeUpdate& update) {
                                    absl::MutexLock lock(&mu_);
                                    writing_ = true;
                                    buffer_ = update;
                                    StartWrite(&buffer_);
                                  });
    if (!subscription.ok()) {
      LOG(INFO) << "Subscribe from " << context->peer()
                << " refused: " << subscription.status();
      absl::MutexLock lock(&mu_);
      FinishLocked(ToGrpcStatus(subscription.status()));
      return;
    }
    subscription_ = *std::move(subscription);
    // Tells the client at once that the stream is up: one returning home
    // closes its old stream on this signal rather than on the first update.
    StartSendInitialMetadata();
    frontend->StartSubscription(subscription_, request.after_seq());
  }

  void OnWriteDone(bool ok) override {
    if (!ok) subscription_->Close();
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok || finishing_) {
        FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed"));
        return;
      }
    }
    subscription_->WriteDone();
  }

  void OnCancel() override {
    if (subscription_ != nullptr) subscription_->Close();
    absl::MutexLock lock(&mu_);
    finishing_ = true;
    // A write in flight completes (failed) first; its OnWriteDone finishes.
    if (!writing_) FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    if (subscription_ != nullptr) frontend_->EndSubscription(subscription_.get());
    delete this;
  }

 private:
  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(std::move(status));
  }

  Frontend* const frontend_;
  std::shared_ptr<Subscription> subscription_;
  absl::Mutex mu_;
  v1::SubscribeUpdate buffer_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::ServerWriteReactor<v1::SubscribeUpdate>* ScoreboardService::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) {
  return new SubscribeReactor(frontend_, context, *request);
}

grpc::Status ScoreboardService::GetScore(grpc::ServerContext* context,
                                         const v1::GetScoreRequest* request,
                                         v1::EventScore* reply) {
  VLOG(2) << "GetScore " << request->event() << " from " << context->peer();
  return Finish(frontend_->GetScore(request->event(), context->peer()), reply);
}

grpc::Status ScoreboardService::GetMedals(grpc::ServerContext* context,
                                          const v1::GetTeamMedalsRequest* request,
                                          v1::MedalTally* reply) {
  VLOG(2) << "GetMedals " << request->team() << " from " << context->peer();
  return Finish(frontend_->GetMedals(request->team(), context->peer()), reply);
}

grpc::Status ScoreboardService::GetBoard(grpc::ServerContext* context,
                                         const v1::GetScoreboardRequest*,
                                         v1::Board* reply) {
  VLOG(2) << "GetBoard from " << context->peer();
  return Finish(frontend_->GetBoard(context->peer()), reply);
}

grpc::Status ScoreboardService::ListFrontends(grpc::ServerContext*,
                                              const v1::ListFrontendsRequest*,
                                              v1::ListFrontendsReply* reply) {
  *reply = frontend_->ListFrontends();
  return grpc::Status::OK;
}

}  // namespace podium
