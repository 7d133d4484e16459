// Frontend: fans' posts to fan boards, written through the backend.
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/auth.h"
#include "common/fan_posts.h"
#include "common/keys.h"
#include "common/names.h"
#include "common/status_util.h"
#include "frontend/frontend.h"
#include "glog/logging.h"

namespace podium {

absl::StatusOr<v1::FanPostReply> Frontend::PostToFanBoard(const v1::FanPostRequest& request,
                                                          const std::string& client) {
  clients_.Seen(client);
  if (absl::Status s = ValidateName("event", request.event()); !s.ok()) return s;
  LearnNames();
  if (!names_.Known(FansKey(request.event()))) return UnknownName(FansKey(request.event()));
  // Checked here too, so that a post the backend would refuse costs the
  // fan no token.
  if (absl::Status s = ValidatePost(request.author(), request.text()); !s.ok()) return s;
  // "ipv4:1.2.3.4:5678" (gRPC) or "http:1.2.3.4:5678": the address
  // without the port, which changes with every connection.
  if (absl::Status s = post_limiter_.Admit(client.substr(0, client.rfind(':')), request.author());
      !s.ok()) {
    return s;
  }
  v1::PostToFanBoardRequest write;
  // A key of its own, kept across the retry below: a post whose answer
  // was lost is applied once.
  absl::BitGen random;
  write.set_idempotency_key(absl::StrFormat("post-%016x%016x", absl::Uniform<uint64_t>(random),
                                            absl::Uniform<uint64_t>(random)));
  write.set_event(request.event());
  write.set_author(request.author());
  write.set_text(request.text());
  v1::WriteReply reply;
  grpc::Status status;
  for (int attempt = 0; attempt < 2; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.backend_timeout));
    AddBearerToken(&context, options_.membership.cluster_token);
    status = backend_->PostToFanBoard(&context, write, &reply);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
  }
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    // The cluster's setup, not the fan's doing: said to the operator.
    LOG_EVERY_T(ERROR, 10) << "the backend refuses this frontend's posts ("
                           << status.error_message()
                           << "): start the backends with --cluster_token_file naming the "
                              "frontends' cluster token";
    return absl::UnavailableError(
        "fan boards cannot take posts right now (the cluster is set up "
        "without them); try again later");
  }
  if (!status.ok())
    return BackendError(status, "a post is written by the backend, and the backend ");
  v1::FanPostReply answer;
  answer.set_seq(reply.change().seq());
  for (const v1::FanPost& post : reply.change().fans().posts()) {
    if (post.id() == reply.change().seq()) *answer.mutable_post() = post;
  }
  VLOG(1) << "post " << answer.seq() << " to " << request.event() << " from " << client;
  return answer;
}

absl::StatusOr<int64_t> Frontend::RemovePost(const std::string& event, int64_t post_id,
                                             const std::string& write_token,
                                             const std::string& client) {
  clients_.Seen(client);
  if (write_token.empty()) {
    return absl::UnauthenticatedError(
        "removing a post is for operators: send the write token (Authorization: Bearer TOKEN)");
  }
  v1::RemovePostRequest write;
  absl::BitGen random;
  write.set_idempotency_key(absl::StrFormat("remove-%016x%016x", absl::Uniform<uint64_t>(random),
                                            absl::Uniform<uint64_t>(random)));
  write.set_event(event);
  write.set_post_id(post_id);
  write.set_reason(absl::StrCat("removed by an operator through ", options_.public_address));
  v1::WriteReply reply;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.backend_timeout));
  AddBearerToken(&context, write_token);
  grpc::Status status = backend_->RemovePost(&context, write, &reply);
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    return FromGrpcStatus(status);
  }
  if (!status.ok())
    return BackendError(status, "a removal is written by the backend, and the backend ");
  LOG(INFO) << "post " << post_id << " of " << event << " removed at seq " << reply.change().seq()
            << " for " << client;
  return reply.change().seq();
}

}  // namespace podium
