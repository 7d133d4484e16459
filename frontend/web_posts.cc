// WebApi: the fan boards' writes.
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "frontend/web_api.h"

namespace podium {

WebReply WebApi::Post(const WebRoute& route, const WebRequest& request) {
  if (!absl::StartsWithIgnoreCase(request.content_type, "application/json")) {
    WebReply reply = ErrorReply(absl::InvalidArgumentError(
        "a post is JSON: Content-Type: application/json, {\"author\": ..., \"text\": ...}"));
    reply.status = 415;
    return reply;
  }
  v1::FanPostRequest post;
  google::protobuf::util::JsonParseOptions options;
  if (auto parsed = google::protobuf::util::JsonStringToMessage(request.body, &post, options);
      !parsed.ok()) {
    return ErrorReply(absl::InvalidArgumentError(absl::StrCat(
        "a post is {\"author\": NAME, \"text\": TEXT}; this body is not: ", parsed.ToString())));
  }
  if (!post.event().empty() && post.event() != route.name) {
    return ErrorReply(absl::InvalidArgumentError(
        absl::StrCat("the body names event '", post.event(), "' but the path '", route.name, "'")));
  }
  post.set_event(route.name);
  absl::StatusOr<v1::FanPostReply> posted = frontend_->PostToFanBoard(post, request.client);
  WebReply reply = JsonReplyOf(posted);
  if (posted.ok()) reply.status = 201;
  return reply;
}

WebReply WebApi::Remove(const WebRoute& route, const WebRequest& request) {
  absl::string_view token = request.authorization;
  if (!absl::ConsumePrefix(&token, "Bearer ")) token = "";
  absl::StatusOr<int64_t> seq = frontend_->RemovePost(
      route.name, route.post_id, std::string(absl::StripAsciiWhitespace(token)), request.client);
  if (!seq.ok()) return ErrorReply(seq.status());
  return JsonReply(absl::StrCat("{\"seq\":\"", *seq, "\"}"));
}

}  // namespace podium
