// The gRPC face of the backend: checks the write token, hands each call to
// the Store and maps its Status onto the wire. No logic of its own.
#ifndef PODIUM_BACKEND_BACKEND_SERVICE_H_
#define PODIUM_BACKEND_BACKEND_SERVICE_H_

#include <functional>
#include <string>

#include "absl/time/time.h"
#include "backend/store.h"
#include "podium/v1/backend.grpc.pb.h"

namespace podium {

// Writes use gRPC's callback API: a write waits for its group commit
// without holding a thread, and the store's committer completes every call
// of a batch directly. Reads and Watch are synchronous.
//
// Thread-safe (the Store is; the rest is immutable).
class BackendService final
    : public v1::Backend::WithCallbackMethod_RecordScore<v1::Backend::WithCallbackMethod_AwardMedal<
          v1::Backend::WithCallbackMethod_PostToFanBoard<
              v1::Backend::WithCallbackMethod_RemovePost<v1::Backend::Service>>>> {
 public:
  // `store` must outlive the service. Fans' posts are accepted with the
  // write token or, when it is not empty, the cluster token the frontends
  // hold (they post for the fans, after rate-limiting them).
  BackendService(Store* store, std::string write_token, std::string cluster_token = "");

  grpc::ServerUnaryReactor* RecordScore(grpc::CallbackServerContext* context,
                                        const v1::RecordScoreRequest* request,
                                        v1::WriteReply* reply) override;
  grpc::ServerUnaryReactor* AwardMedal(grpc::CallbackServerContext* context,
                                       const v1::AwardMedalRequest* request,
                                       v1::WriteReply* reply) override;
  grpc::ServerUnaryReactor* PostToFanBoard(grpc::CallbackServerContext* context,
                                           const v1::PostToFanBoardRequest* request,
                                           v1::WriteReply* reply) override;
  grpc::ServerUnaryReactor* RemovePost(grpc::CallbackServerContext* context,
                                       const v1::RemovePostRequest* request,
                                       v1::WriteReply* reply) override;
  grpc::Status GetFanBoard(grpc::ServerContext* context, const v1::GetFanBoardRequest* request,
                           v1::FanBoard* reply) override;
  grpc::Status GetEvent(grpc::ServerContext* context,
                        const v1::GetEventRequest* request,
                        v1::EventScore* reply) override;
  grpc::Status GetMedals(grpc::ServerContext* context,
                         const v1::GetMedalsRequest* request,
                         v1::MedalTally* reply) override;
  grpc::Status GetBoard(grpc::ServerContext* context,
                        const v1::GetBoardRequest* request,
                        v1::Board* reply) override;
  grpc::Status ChangesSince(grpc::ServerContext* context,
                            const v1::ChangesSinceRequest* request,
                            v1::ChangesSinceReply* reply) override;
  grpc::Status Watch(grpc::ServerContext* context,
                     const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::Change>* writer) override;
  grpc::Status GetHistory(grpc::ServerContext* context,
                          const v1::HistoryRequest* request,
                          v1::History* reply) override;

 private:
  // Checks the token, then runs `write` with a callback that fills the
  // reply and finishes the call.
  grpc::ServerUnaryReactor* Write(
      grpc::CallbackServerContext* context, const char* method,
      std::string what, v1::WriteReply* reply,
      const std::function<void(Store::WriteDone)>& write, bool cluster_may_write = false);

  Store* const store_;
  const std::string write_token_;
  const std::string cluster_token_;
};

}  // namespace podium

#endif  // PODIUM_BACKEND_BACKEND_SERVICE_H_
