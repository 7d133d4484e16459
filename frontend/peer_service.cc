#include "frontend/peer_service.h"

#include "common/status_util.h"

namespace podium {

grpc::Status PeerService::Ping(grpc::ServerContext*, const v1::PingRequest* request,
                               v1::PingReply* reply) {
  *reply = frontend_->Ping(*request);
  return grpc::Status::OK;
}

grpc::Status PeerService::Coordinator(grpc::ServerContext*,
                                      const v1::CoordinatorRequest* request,
                                      v1::CoordinatorReply* reply) {
  *reply = frontend_->Coordinator(*request);
  return grpc::Status::OK;
}

grpc::Status PeerService::Interest(grpc::ServerContext*,
                                   const v1::InterestRequest* request,
                                   v1::InterestReply* reply) {
  absl::StatusOr<v1::InterestReply> result = frontend_->Interest(*request);
  if (!result.ok()) return ToGrpcStatus(result.status());
  *reply = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status PeerService::Invalidate(grpc::ServerContext*,
                                     const v1::InvalidateRequest* request,
                                     v1::InvalidateReply*) {
  return ToGrpcStatus(frontend_->Invalidate(*request));
}

}  // namespace podium
