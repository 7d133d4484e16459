#include "frontend/peer_service.h"

#include "common/auth.h"
#include "common/status_util.h"
#include "glog/logging.h"

namespace podium {

grpc::Status PeerService::Authenticate(const grpc::ServerContext* context,
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

grpc::Status PeerService::Ping(grpc::ServerContext* context, const v1::PingRequest* request,
                               v1::PingReply* reply) {
  if (grpc::Status s = Authenticate(context, "Ping"); !s.ok()) return s;
  *reply = frontend_->Ping(*request);
  return grpc::Status::OK;
}

grpc::Status PeerService::Coordinator(grpc::ServerContext* context,
                                      const v1::CoordinatorRequest* request,
                                      v1::CoordinatorReply* reply) {
  if (grpc::Status s = Authenticate(context, "Coordinator"); !s.ok()) return s;
  *reply = frontend_->Coordinator(*request);
  return grpc::Status::OK;
}

grpc::Status PeerService::Interest(grpc::ServerContext* context,
                                   const v1::InterestRequest* request,
                                   v1::InterestReply* reply) {
  if (grpc::Status s = Authenticate(context, "Interest"); !s.ok()) return s;
  absl::StatusOr<v1::InterestReply> result = frontend_->Interest(*request);
  if (!result.ok()) return ToGrpcStatus(result.status());
  *reply = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status PeerService::Invalidate(grpc::ServerContext* context,
                                     const v1::InvalidateRequest* request,
                                     v1::InvalidateReply*) {
  if (grpc::Status s = Authenticate(context, "Invalidate"); !s.ok()) return s;
  return ToGrpcStatus(frontend_->Invalidate(*request));
}

}  // namespace podium
