// The client-facing gRPC service of a frontend: hands each call to the
// Frontend and maps its Status onto the wire.
#ifndef PODIUM_FRONTEND_SCOREBOARD_SERVICE_H_
#define PODIUM_FRONTEND_SCOREBOARD_SERVICE_H_

#include "frontend/frontend.h"
#include "podium/v1/scoreboard.grpc.pb.h"

namespace podium {

// Subscribe uses the callback API: a frontend holds thousands of streams,
// and a thread apiece would not do. It is a raw method: each stream is a
// SubscribeReactor writing the bytes its Subscription queues, encoded once
// per change for all subscribers rather than once per subscriber.
//
// Thread-safe (the Frontend is).
class ScoreboardService final
    : public v1::Scoreboard::WithRawCallbackMethod_Subscribe<v1::Scoreboard::Service> {
 public:
  explicit ScoreboardService(Frontend* frontend) : frontend_(frontend) {}

  grpc::Status GetScore(grpc::ServerContext* context,
                        const v1::GetScoreRequest* request,
                        v1::EventScore* reply) override;
  grpc::Status GetMedals(grpc::ServerContext* context,
                         const v1::GetTeamMedalsRequest* request,
                         v1::MedalTally* reply) override;
  grpc::Status GetBoard(grpc::ServerContext* context,
                        const v1::GetScoreboardRequest* request,
                        v1::Board* reply) override;
  grpc::Status ListFrontends(grpc::ServerContext* context,
                             const v1::ListFrontendsRequest* request,
                             v1::ListFrontendsReply* reply) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) override;

 private:
  Frontend* const frontend_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_SCOREBOARD_SERVICE_H_
