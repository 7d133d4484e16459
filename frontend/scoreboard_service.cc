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
class SubscribeReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  SubscribeReactor(Frontend* frontend, grpc::CallbackServerContext* context,
                   const v1::SubscribeRequest& request)
      : frontend_(frontend) {
    absl::StatusOr<std::shared_ptr<Subscription>> subscription =
        frontend->NewSubscription(request, context->peer(),
                                  [this](const OutgoingUpdate& update) {
                                    absl::MutexLock lock(&mu_);
                                    writing_ = true;
                                    Encode(update, &buffer_);
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
  // The shared bytes go out without a copy: the slice holds a reference to
  // the encoded change until gRPC has sent it.
  static void Encode(const OutgoingUpdate& update, grpc::ByteBuffer* out) {
    auto* hold = new EncodedChangePtr(update.change);
    grpc::Slice slices[2] = {
        grpc::Slice(const_cast<char*>((*hold)->bytes.data()), (*hold)->bytes.size(),
                    [](void* p) { delete static_cast<EncodedChangePtr*>(p); }, hold),
        grpc::Slice(update.Flags())};
    grpc::ByteBuffer buffer(slices, slices[1].size() > 0 ? 2 : 1);
    out->Swap(&buffer);
  }

  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(std::move(status));
  }

  Frontend* const frontend_;
  std::shared_ptr<Subscription> subscription_;
  absl::Mutex mu_;
  grpc::ByteBuffer buffer_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// Answers a request that could not be parsed.
class RefusedReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* ScoreboardService::Subscribe(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request) {
  v1::SubscribeRequest request;
  grpc::ByteBuffer copy(*raw_request);
  grpc::Status parsed =
      grpc::SerializationTraits<v1::SubscribeRequest>::Deserialize(&copy, &request);
  if (!parsed.ok()) {
    auto* reactor = new RefusedReactor;
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "malformed SubscribeRequest: " + parsed.error_message()));
    return reactor;
  }
  return new SubscribeReactor(frontend_, context, request);
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
