// The frontend-to-frontend gRPC service: election and invalidation calls,
// handed to the Frontend.
#ifndef PODIUM_FRONTEND_PEER_SERVICE_H_
#define PODIUM_FRONTEND_PEER_SERVICE_H_

#include "frontend/frontend.h"
#include "podium/v1/peer.grpc.pb.h"

namespace podium {

// Thread-safe (the Frontend is).
class PeerService final : public v1::FrontendPeer::Service {
 public:
  explicit PeerService(Frontend* frontend) : frontend_(frontend) {}

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
  Frontend* const frontend_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_PEER_SERVICE_H_
