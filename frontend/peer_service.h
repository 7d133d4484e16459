// The frontend-to-frontend gRPC service: election and invalidation calls,
// handed to the Frontend once the caller has shown the cluster token. On
// the frontend's peer listener only, never beside the public services.
#ifndef PODIUM_FRONTEND_PEER_SERVICE_H_
#define PODIUM_FRONTEND_PEER_SERVICE_H_

#include <string>
#include <utility>

#include "frontend/frontend.h"
#include "podium/v1/peer.grpc.pb.h"

namespace podium {

// Thread-safe (the Frontend is).
class PeerService final : public v1::FrontendPeer::Service {
 public:
  // `cluster_token` must not be empty: every call without it is refused.
  PeerService(Frontend* frontend, std::string cluster_token)
      : frontend_(frontend), cluster_token_(std::move(cluster_token)) {}

  grpc::Status Ping(grpc::ServerContext* context, const v1::PingRequest* request,
                    v1::PingReply* reply) override;
  grpc::Status Coordinator(grpc::ServerContext* context,
                           const v1::CoordinatorRequest* request,
                           v1::CoordinatorReply* reply) override;
  grpc::Status Interest(grpc::ServerContext* context,
                        const v1::InterestRequest* request,
                        v1::InterestReply* reply) override;
  grpc::Status Invalidate(grpc::ServerContext* context,
                          const v1::InvalidateRequest* request,
                          v1::InvalidateReply* reply) override;

 private:
  // UNAUTHENTICATED, processing and revealing nothing, without the token.
  grpc::Status Authenticate(const grpc::ServerContext* context, const char* method) const;

  Frontend* const frontend_;
  const std::string cluster_token_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_PEER_SERVICE_H_
