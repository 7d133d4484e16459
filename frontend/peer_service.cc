#include "frontend/peer_service.h"

#include "common/auth.h"
#include "common/status_util.h"
#include "glog/logging.h"

namespace podium {

grpc::Status PeerService::Authenticate(const grpc::CallbackServerContext* context,
                                       const char* method) const {
  absl::StatusOr<absl::string_view> token = BearerToken(context->client_metadata());
  if (token.ok() && TokenMatches(*token, cluster_token_)) return grpc::Status::OK;
  // Once per 10 s at most, however many strangers knock: a flood cannot
  // fill the disk through the log.
  LOG_EVERY_T(WARNING, 10) << "refused FrontendPeer." << method << " from "
                           << context->peer() << ": "
                           << (token.ok() ? "wrong cluster token" : token.status().message());
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      "this is a frontend's peer plane: calls need the cluster token "
                      "(the same --cluster_token_file as every frontend of the cluster)");
}

grpc::ServerUnaryReactor* PeerService::EndNow(grpc::CallbackServerContext* context,
                                              const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* PeerService::Ping(grpc::CallbackServerContext* context,
                                            const v1::PingRequest* request,
                                            v1::PingReply* reply) {
  if (grpc::Status s = Authenticate(context, "Ping"); !s.ok()) return EndNow(context, s);
  *reply = frontend_->Ping(*request);
  return EndNow(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* PeerService::Coordinator(grpc::CallbackServerContext* context,
                                                   const v1::CoordinatorRequest* request,
                                                   v1::CoordinatorReply* reply) {
  if (grpc::Status s = Authenticate(context, "Coordinator"); !s.ok()) return EndNow(context, s);
  return calls_.RunAndFinish(context, "peer calls waiting", [this, request, reply] {
    *reply = frontend_->Coordinator(*request);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* PeerService::Interest(grpc::CallbackServerContext* context,
                                                const v1::InterestRequest* request,
                                                v1::InterestReply* reply) {
  if (grpc::Status s = Authenticate(context, "Interest"); !s.ok()) return EndNow(context, s);
  return calls_.RunAndFinish(context, "peer calls waiting", [this, request, reply] {
    absl::StatusOr<v1::InterestReply> result = frontend_->Interest(*request);
    if (!result.ok()) return ToGrpcStatus(result.status());
    *reply = *std::move(result);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* PeerService::Invalidate(grpc::CallbackServerContext* context,
                                                  const v1::InvalidateRequest* request,
                                                  v1::InvalidateReply*) {
  if (grpc::Status s = Authenticate(context, "Invalidate"); !s.ok()) return EndNow(context, s);
  return calls_.RunAndFinish(context, "peer calls waiting", [this, request] {
    return ToGrpcStatus(frontend_->Invalidate(*request));
  });
}

}  // namespace podium
