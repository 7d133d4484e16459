// The client-facing gRPC service of a frontend: hands each call to the
// Frontend and maps its Status onto the wire.
#ifndef PODIUM_FRONTEND_SCOREBOARD_SERVICE_H_
#define PODIUM_FRONTEND_SCOREBOARD_SERVICE_H_

#include "frontend/frontend.h"
#include "frontend/subscribe_streams.h"
#include "podium/v1/scoreboard.grpc.pb.h"

namespace podium {

// Subscribe is an async raw method served by SubscribeStreams: a frontend
// holds thousands of streams, and a thread apiece would not do.
//
// Thread-safe (the Frontend is).
class ScoreboardService final : public ScoreboardAsyncBase {
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
  grpc::Status GetStandings(grpc::ServerContext* context,
                            const v1::GetStandingsRequest* request,
                            v1::Standings* reply) override;
  grpc::Status GetHistory(grpc::ServerContext* context,
                          const v1::HistoryRequest* request,
                          v1::History* reply) override;
  grpc::Status ListFrontends(grpc::ServerContext* context,
                             const v1::ListFrontendsRequest* request,
                             v1::ListFrontendsReply* reply) override;

 private:
  Frontend* const frontend_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_SCOREBOARD_SERVICE_H_
