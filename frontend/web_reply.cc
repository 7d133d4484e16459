#include "frontend/web_reply.h"

#include <optional>

#include "common/json.h"
#include "frontend/post_limiter.h"

namespace podium {

WebReply JsonReply(std::string json) {
  WebReply reply;
  reply.content_type = "application/json";
  reply.body = std::move(json);
  reply.body.push_back('\n');
  reply.headers.emplace_back("Cache-Control", "no-cache");
  return reply;
}

WebReply TextReply(int status, std::string text) {
  WebReply reply;
  reply.status = status;
  reply.content_type = "text/plain; charset=utf-8";
  reply.body = std::move(text);
  return reply;
}

int HttpStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

WebReply ErrorReply(const absl::Status& status) {
  WebReply reply =
      JsonReply(absl::StrCat("{\"error\":", JsonQuote(status.message()), ",\"code\":\"",
                             absl::StatusCodeToString(status.code()), "\"}"));
  reply.status = HttpStatus(status.code());
  if (auto retry = status.GetPayload(kRetryAfterPayload)) {
    reply.headers.emplace_back("Retry-After", std::string(*retry));
  }
  return reply;
}

}  // namespace podium
