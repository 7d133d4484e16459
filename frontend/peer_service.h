// The frontend-to-frontend gRPC service: election and invalidation calls,
// handed to the Frontend once the caller has shown the cluster token. On
// the frontend's peer listener only, never beside the public services.
#ifndef PODIUM_FRONTEND_PEER_SERVICE_H_
#define PODIUM_FRONTEND_PEER_SERVICE_H_

#include <string>
#include <utility>

#include "frontend/blocking_calls.h"
#include "frontend/frontend.h"
#include "podium/v1/peer.grpc.pb.h"

namespace podium {

// On gRPC's callback API, as every frontend service (see BlockingCalls):
// Ping, the heartbeat, is answered on gRPC's thread; the calls that may
// act on an election or take the push path's locks run on threads of
// their own, apart from the reads' (a slow backend must not hold up an
// election).
//
// Thread-safe (the Frontend is).
class PeerService final : public v1::FrontendPeer::CallbackService {
 public:
  // `cluster_token` must not be empty: every call without it is refused.
  PeerService(Frontend* frontend, std::string cluster_token)
      : frontend_(frontend), cluster_token_(std::move(cluster_token)) {}

  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* context,
                                 const v1::PingRequest* request, v1::PingReply* reply) override;
  grpc::ServerUnaryReactor* Coordinator(grpc::CallbackServerContext* context,
                                        const v1::CoordinatorRequest* request,
                                        v1::CoordinatorReply* reply) override;
  grpc::ServerUnaryReactor* Interest(grpc::CallbackServerContext* context,
                                     const v1::InterestRequest* request,
                                     v1::InterestReply* reply) override;
  grpc::ServerUnaryReactor* Invalidate(grpc::CallbackServerContext* context,
                                       const v1::InvalidateRequest* request,
                                       v1::InvalidateReply* reply) override;

 private:
  // UNAUTHENTICATED, processing and revealing nothing, without the token.
  grpc::Status Authenticate(const grpc::CallbackServerContext* context, const char* method) const;
  // Ends the call with `status` at once.
  static grpc::ServerUnaryReactor* EndNow(grpc::CallbackServerContext* context,
                                          const grpc::Status& status);

  Frontend* const frontend_;
  const std::string cluster_token_;
  // Declared last: destroyed first, it runs the calls still queued while
  // the frontend is alive.
  BlockingCalls calls_{/*threads=*/2, /*max_waiting=*/1024};
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_PEER_SERVICE_H_
