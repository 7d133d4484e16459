#include "backend/backend_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/status_util.h"
#include "glog/logging.h"

namespace podium {
namespace {

constexpr size_t kDefaultPage = 1000;
constexpr size_t kMaxPage = 10000;

// A request's max_changes (not negative) as a page size: 0 for the default.
size_t PageSize(int32_t max_changes) {
  return max_changes == 0 ? kDefaultPage
                          : std::min<size_t>(static_cast<size_t>(max_changes), kMaxPage);
}
// How often a Watch with nothing to send checks whether its caller left.
constexpr absl::Duration kWatchIdleCheck = absl::Milliseconds(200);

}  // namespace

BackendService::BackendService(Store* store, std::string write_token, std::string cluster_token)
    : store_(store), write_token_(std::move(write_token)), cluster_token_(std::move(cluster_token)) {}

grpc::ServerUnaryReactor* BackendService::Write(
    grpc::CallbackServerContext* context, const char* method, std::string what,
    v1::WriteReply* reply, const std::function<void(Store::WriteDone)>& write,
    bool cluster_may_write) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status auth = CheckBearerToken(context->client_metadata(), write_token_);
  if (!auth.ok() && cluster_may_write && !cluster_token_.empty() &&
      CheckBearerToken(context->client_metadata(), cluster_token_).ok()) {
    auth = absl::OkStatus();
  }
  if (!auth.ok()) {
    LOG(WARNING) << method << " from " << context->peer() << " refused: " << auth;
    reactor->Finish(ToGrpcStatus(auth));
    return reactor;
  }
  write([reactor, reply, method, what = std::move(what)](absl::StatusOr<WriteResult> result) {
    if (result.ok()) {
      *reply->mutable_change() = std::move(result->change);
      reply->set_duplicate(result->duplicate);
    }
    VLOG(1) << method << " " << what << " -> "
            << (result.ok() ? absl::StrCat("seq ", reply->change().seq(),
                                           reply->duplicate() ? " (duplicate)" : "")
                            : result.status().ToString());
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* BackendService::RecordScore(grpc::CallbackServerContext* context,
                                                      const v1::RecordScoreRequest* request,
                                                      v1::WriteReply* reply) {
  return Write(context, "RecordScore",
               VLOG_IS_ON(1)
                   ? absl::StrCat("key=", request->idempotency_key(), " event=", request->event())
                   : std::string(),
               reply, [this, request](Store::WriteDone done) {
                 store_->RecordScoreAsync(*request, std::move(done));
               });
}

grpc::ServerUnaryReactor* BackendService::AwardMedal(grpc::CallbackServerContext* context,
                                                     const v1::AwardMedalRequest* request,
                                                     v1::WriteReply* reply) {
  return Write(context, "AwardMedal",
               VLOG_IS_ON(1) ? absl::StrCat("key=", request->idempotency_key(),
                                            " team=", request->team(), " medal=", request->medal())
                             : std::string(),
               reply, [this, request](Store::WriteDone done) {
                 store_->AwardMedalAsync(*request, std::move(done));
               });
}

grpc::ServerUnaryReactor* BackendService::PostToFanBoard(grpc::CallbackServerContext* context,
                                                         const v1::PostToFanBoardRequest* request,
                                                         v1::WriteReply* reply) {
  return Write(
      context, "PostToFanBoard",
      VLOG_IS_ON(1) ? absl::StrCat("key=", request->idempotency_key(), " event=", request->event())
                    : std::string(),
      reply,
      [this, request](Store::WriteDone done) {
        store_->PostToFanBoardAsync(*request, std::move(done));
      },
      /*cluster_may_write=*/true);
}

grpc::ServerUnaryReactor* BackendService::RemovePost(grpc::CallbackServerContext* context,
                                                     const v1::RemovePostRequest* request,
                                                     v1::WriteReply* reply) {
  return Write(context, "RemovePost",
               absl::StrCat("event=", request->event(), " post=", request->post_id()), reply,
               [this, request](Store::WriteDone done) {
                 store_->RemovePostAsync(*request, std::move(done));
               });
}

grpc::Status BackendService::GetFanBoard(grpc::ServerContext*,
                                         const v1::GetFanBoardRequest* request,
                                         v1::FanBoard* reply) {
  if (absl::Status s = store_->AwaitCommitted(); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<v1::FanBoard> board = store_->GetFanBoard(request->event());
  if (!board.ok()) return ToGrpcStatus(board.status());
  *reply = *std::move(board);
  return grpc::Status::OK;
}

grpc::Status BackendService::GetEvent(grpc::ServerContext*, const v1::GetEventRequest* request,
                                      v1::EventScore* reply) {
  if (absl::Status s = store_->AwaitCommitted(); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<v1::EventScore> score = store_->GetEvent(request->event());
  if (!score.ok()) return ToGrpcStatus(score.status());
  *reply = *std::move(score);
  return grpc::Status::OK;
}

grpc::Status BackendService::GetMedals(grpc::ServerContext*, const v1::GetMedalsRequest* request,
                                       v1::MedalTally* reply) {
  if (absl::Status s = store_->AwaitCommitted(); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<v1::MedalTally> tally = store_->GetMedals(request->team());
  if (!tally.ok()) return ToGrpcStatus(tally.status());
  *reply = *std::move(tally);
  return grpc::Status::OK;
}

grpc::Status BackendService::GetBoard(grpc::ServerContext*, const v1::GetBoardRequest*,
                                      v1::Board* reply) {
  if (absl::Status s = store_->AwaitCommitted(); !s.ok()) return ToGrpcStatus(s);
  *reply = store_->GetBoard();
  return grpc::Status::OK;
}

grpc::Status BackendService::ChangesSince(grpc::ServerContext* context,
                                          const v1::ChangesSinceRequest* request,
                                          v1::ChangesSinceReply* reply) {
  if (request->max_changes() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "max_changes must not be negative");
  }
  const size_t page = PageSize(request->max_changes());
  // A reader covers (after_seq, head]: every change acknowledged anywhere
  // before it asked must be in that.
  if (absl::Status s = store_->AwaitCommitted(); !s.ok()) return ToGrpcStatus(s);
  // Read the head first: the changes returned are then at least that fresh.
  const int64_t head = store_->head_seq();
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ChangesSince(request->after_seq(), page);
  if (!changes.ok()) return ToGrpcStatus(changes.status());
  for (v1::Change& change : *changes) *reply->add_changes() = std::move(change);
  reply->set_head_seq(
      std::max(head, reply->changes().empty() ? head : reply->changes().rbegin()->seq()));
  VLOG(1) << "ChangesSince after=" << request->after_seq() << " from " << context->peer() << " -> "
          << reply->changes_size() << " changes, head " << reply->head_seq();
  return grpc::Status::OK;
}

grpc::Status BackendService::GetHistory(grpc::ServerContext* context,
                                        const v1::HistoryRequest* request, v1::History* reply) {
  if (request->max_changes() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "max_changes must not be negative");
  }
  const size_t page = PageSize(request->max_changes());
  if (absl::Status s = store_->AwaitCommitted(); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<v1::History> history = store_->GetHistory(*request, page);
  if (!history.ok()) return ToGrpcStatus(history.status());
  *reply = *std::move(history);
  VLOG(1) << "GetHistory " << reply->key() << " after=" << request->after_seq() << " from "
          << context->peer() << " -> " << reply->changes_size() << " changes";
  return grpc::Status::OK;
}

grpc::Status BackendService::Watch(grpc::ServerContext* context, const v1::WatchRequest* request,
                                   grpc::ServerWriter<v1::Change>* writer) {
  LOG(INFO) << "Watch from " << context->peer() << " after seq " << request->from_seq();
  int64_t last = request->from_seq();
  while (!context->IsCancelled()) {
    absl::StatusOr<std::vector<v1::Change>> changes = store_->ChangesSince(last, kDefaultPage);
    if (!changes.ok()) {
      LOG(WARNING) << "Watch from " << context->peer() << " ends: " << changes.status();
      return ToGrpcStatus(changes.status());
    }
    for (const v1::Change& change : *changes) {
      if (!writer->Write(change)) {
        LOG(INFO) << "Watch from " << context->peer() << " ended by the peer";
        return grpc::Status::OK;
      }
      VLOG(1) << "Watch sent seq " << change.seq() << " to " << context->peer();
      last = change.seq();
    }
    if (changes->empty()) {
      store_->WaitForChangesAfter(last, absl::Now() + kWatchIdleCheck);
    }
  }
  LOG(INFO) << "Watch from " << context->peer() << " cancelled at seq " << last;
  return grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled");
}

}  // namespace podium
