#include "frontend/scoreboard_service.h"

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

}  // namespace

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

grpc::Status ScoreboardService::GetStandings(grpc::ServerContext* context,
                                             const v1::GetStandingsRequest*,
                                             v1::Standings* reply) {
  VLOG(2) << "GetStandings from " << context->peer();
  return Finish(frontend_->GetStandings(context->peer()), reply);
}

grpc::Status ScoreboardService::GetHistory(grpc::ServerContext* context,
                                           const v1::HistoryRequest* request,
                                           v1::History* reply) {
  VLOG(2) << "GetHistory " << request->name() << " from " << context->peer();
  return Finish(frontend_->GetHistory(*request, context->peer()), reply);
}

grpc::Status ScoreboardService::ListFrontends(grpc::ServerContext*,
                                              const v1::ListFrontendsRequest*,
                                              v1::ListFrontendsReply* reply) {
  *reply = frontend_->ListFrontends();
  return grpc::Status::OK;
}

}  // namespace podium
