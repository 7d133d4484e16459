// The client-facing gRPC service of a frontend: hands each call to the
// Frontend and maps its Status onto the wire.
#ifndef PODIUM_FRONTEND_SCOREBOARD_SERVICE_H_
#define PODIUM_FRONTEND_SCOREBOARD_SERVICE_H_

#include <functional>

#include "frontend/frontend.h"
#include "frontend/blocking_calls.h"
#include "frontend/subscribe_streams.h"
#include "podium/v1/scoreboard.grpc.pb.h"

namespace podium {

// Subscribe is an async raw method served by SubscribeStreams: a frontend
// holds thousands of streams, and a thread apiece would not do.
//
// Every unary method is on gRPC's callback API. GetScore, GetMedals and
// GetBoard, the reads fans make most, are raw: a hit is answered on
// gRPC's own thread with bytes serialized when the cache entry was stored
// (Frontend::ScoreHit), so no thread is handed a call and no reply is
// serialized per call. Whatever may wait on the backend (a miss, history,
// standings) runs on BlockingCalls. No method is synchronous: a synchronous
// one would bring gRPC's pool of threads that poll the connections too,
// taking turns with the callback threads at every read.
//
// Thread-safe (the Frontend is).
class ScoreboardService final : public ScoreboardAsyncBase {
 public:
  explicit ScoreboardService(Frontend* frontend) : frontend_(frontend) {}

  grpc::ServerUnaryReactor* GetScore(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* reply) override;
  grpc::ServerUnaryReactor* GetMedals(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* reply) override;
  grpc::ServerUnaryReactor* GetBoard(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* reply) override;
  grpc::ServerUnaryReactor* GetStandings(grpc::CallbackServerContext* context,
                                         const v1::GetStandingsRequest* request,
                                         v1::Standings* reply) override;
  grpc::ServerUnaryReactor* GetHistory(grpc::CallbackServerContext* context,
                                       const v1::HistoryRequest* request,
                                       v1::History* reply) override;
  grpc::ServerUnaryReactor* ListFrontends(grpc::CallbackServerContext* context,
                                          const v1::ListFrontendsRequest* request,
                                          v1::ListFrontendsReply* reply) override;
  grpc::ServerUnaryReactor* GetFanBoard(grpc::CallbackServerContext* context,
                                        const v1::FanBoardRequest* request,
                                        v1::FanBoard* reply) override;
  grpc::ServerUnaryReactor* PostToFanBoard(grpc::CallbackServerContext* context,
                                           const v1::FanPostRequest* request,
                                           v1::FanPostReply* reply) override;

 private:
  // Answers the call with a hit's bytes, at once.
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context,
                                   const Frontend::Reply& hit, grpc::ByteBuffer* reply);
  // Answers the call with what `read` (which fills the reply itself)
  // returns, run on the read workers; RESOURCE_EXHAUSTED when too many
  // wait already.
  grpc::ServerUnaryReactor* ReadOnWorker(grpc::CallbackServerContext* context,
                                         std::function<grpc::Status()> read);

  Frontend* const frontend_;
  // Declared last: destroyed first, it runs the misses still queued
  // while the frontend is alive.
  BlockingCalls misses_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_SCOREBOARD_SERVICE_H_
