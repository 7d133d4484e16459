#include "frontend/scoreboard_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "glog/logging.h"

namespace podium {
namespace {

// Copies a value or maps an error; one place for every typed read.
template <typename T>
grpc::Status Finish(absl::StatusOr<T> result, T* reply) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *reply = *std::move(result);
  return grpc::Status::OK;
}

// The same into a raw reply: the message serialized.
template <typename T>
grpc::Status FinishRaw(absl::StatusOr<T> result, grpc::ByteBuffer* reply) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  const std::string bytes = result->SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer buffer(&slice, 1);
  reply->Swap(&buffer);
  return grpc::Status::OK;
}

// Above this a reply is sent from the shared bytes themselves (a board);
// below, copying the bytes costs less than holding a reference to them.
constexpr size_t kMaxCopiedReply = 1024;

// `bytes` as a reply. A large one goes without a copy: the slice holds a
// reference until gRPC has sent it.
void SetReply(const Frontend::Reply& bytes, grpc::ByteBuffer* reply) {
  grpc::Slice slice = [&] {
    if (bytes->size() <= kMaxCopiedReply) return grpc::Slice(bytes->data(), bytes->size());
    auto* hold = new Frontend::Reply(bytes);
    return grpc::Slice(const_cast<char*>((*hold)->data()), (*hold)->size(),
                       [](void* p) { delete static_cast<Frontend::Reply*>(p); }, hold);
  }();
  grpc::ByteBuffer buffer(&slice, 1);
  reply->Swap(&buffer);
}

template <typename T>
bool Parse(const grpc::ByteBuffer& request, T* message) {
  // A small request arrives in one slice: parsed in place.
  if (grpc::Slice slice; request.TrySingleSlice(&slice).ok()) {
    return message->ParseFromArray(slice.begin(), static_cast<int>(slice.size()));
  }
  grpc::ByteBuffer copy(request);  // deserializing consumes the buffer
  return grpc::GenericDeserialize<grpc::ProtoBufferReader, T>(&copy, message).ok();
}

// Ends the call at once with `why` (OK included).
grpc::ServerUnaryReactor* EndNow(grpc::CallbackServerContext* context, const grpc::Status& why) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(why);
  return reactor;
}

grpc::Status Unparsable(absl::string_view what) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      absl::StrCat("the request is not a valid ", what,
                                   " message: is the client built from podium/v1/scoreboard.proto?"));
}

}  // namespace

grpc::ServerUnaryReactor* ScoreboardService::Answer(grpc::CallbackServerContext* context,
                                                    const Frontend::Reply& hit,
                                                    grpc::ByteBuffer* reply) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  SetReply(hit, reply);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* ScoreboardService::ReadOnWorker(grpc::CallbackServerContext* context,
                                                          std::function<grpc::Status()> read) {
  return misses_.RunAndFinish(context, "reads waiting on its backend (is the backend slow?)",
                              std::move(read));
}

grpc::ServerUnaryReactor* ScoreboardService::GetScore(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* reply) {
  v1::GetScoreRequest parsed;
  if (!Parse(*request, &parsed)) {
    return EndNow(context, Unparsable("GetScoreRequest"));
  }
  VLOG(2) << "GetScore " << parsed.event() << " from " << context->peer();
  std::string client = context->peer();
  if (Frontend::Reply hit = frontend_->ScoreHit(parsed.event(), client)) {
    return Answer(context, hit, reply);
  }
  return ReadOnWorker(context, [this, event = parsed.event(), client = std::move(client), reply] {
    return FinishRaw(frontend_->GetScore(event, client), reply);
  });
}

grpc::ServerUnaryReactor* ScoreboardService::GetMedals(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* reply) {
  v1::GetTeamMedalsRequest parsed;
  if (!Parse(*request, &parsed)) {
    return EndNow(context, Unparsable("GetTeamMedalsRequest"));
  }
  VLOG(2) << "GetMedals " << parsed.team() << " from " << context->peer();
  std::string client = context->peer();
  if (Frontend::Reply hit = frontend_->MedalsHit(parsed.team(), client)) {
    return Answer(context, hit, reply);
  }
  return ReadOnWorker(context, [this, team = parsed.team(), client = std::move(client), reply] {
    return FinishRaw(frontend_->GetMedals(team, client), reply);
  });
}

grpc::ServerUnaryReactor* ScoreboardService::GetBoard(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* reply) {
  if (v1::GetScoreboardRequest parsed; !Parse(*request, &parsed)) {
    return EndNow(context, Unparsable("GetScoreboardRequest"));
  }
  VLOG(2) << "GetBoard from " << context->peer();
  std::string client = context->peer();
  if (Frontend::Reply hit = frontend_->BoardHit(client)) return Answer(context, hit, reply);
  return ReadOnWorker(context, [this, client = std::move(client), reply] {
    return FinishRaw(frontend_->GetBoard(client), reply);
  });
}

grpc::ServerUnaryReactor* ScoreboardService::GetStandings(grpc::CallbackServerContext* context,
                                                          const v1::GetStandingsRequest*,
                                                          v1::Standings* reply) {
  VLOG(2) << "GetStandings from " << context->peer();
  return ReadOnWorker(context, [this, client = context->peer(), reply] {
    return Finish(frontend_->GetStandings(client), reply);
  });
}

grpc::ServerUnaryReactor* ScoreboardService::GetHistory(grpc::CallbackServerContext* context,
                                                        const v1::HistoryRequest* request,
                                                        v1::History* reply) {
  VLOG(2) << "GetHistory " << request->name() << " from " << context->peer();
  return ReadOnWorker(context, [this, client = context->peer(), request, reply] {
    return Finish(frontend_->GetHistory(*request, client), reply);
  });
}

grpc::ServerUnaryReactor* ScoreboardService::ListFrontends(grpc::CallbackServerContext* context,
                                                           const v1::ListFrontendsRequest*,
                                                           v1::ListFrontendsReply* reply) {
  *reply = frontend_->ListFrontends();
  return EndNow(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* ScoreboardService::GetFanBoard(grpc::CallbackServerContext* context,
                                                         const v1::FanBoardRequest* request,
                                                         v1::FanBoard* reply) {
  VLOG(2) << "GetFanBoard " << request->event() << " from " << context->peer();
  return ReadOnWorker(context, [this, client = context->peer(), request, reply] {
    return Finish(frontend_->GetFanBoard(request->event(), client), reply);
  });
}

grpc::ServerUnaryReactor* ScoreboardService::PostToFanBoard(grpc::CallbackServerContext* context,
                                                            const v1::FanPostRequest* request,
                                                            v1::FanPostReply* reply) {
  VLOG(1) << "PostToFanBoard " << request->event() << " from " << context->peer();
  return ReadOnWorker(context, [this, client = context->peer(), request, reply] {
    return Finish(frontend_->PostToFanBoard(*request, client), reply);
  });
}

}  // namespace podium
