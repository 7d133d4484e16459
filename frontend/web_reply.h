// The requests and replies of the HTTP plane, as WebApi sees them (no HTTP
// library in sight), and the JSON replies every route makes: protobuf's
// JSON mapping for messages, {"error": ..., "code": ...} for errors.
#ifndef PODIUM_FRONTEND_WEB_REPLY_H_
#define PODIUM_FRONTEND_WEB_REPLY_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace podium {

struct WebRequest {
  std::string method;         // "GET", "HEAD", ...
  std::string target;         // path and query, as sent: "/api/stream?events=a"
  std::string last_event_id;  // the Last-Event-ID header, if any
  std::string client;         // who asks: "http:1.2.3.4:5678" (see HttpServer)
  std::string body;
  std::string content_type;
  std::string authorization;  // the Authorization header, if any
};

struct WebReply {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond the type
};

// `json` as a reply (a newline added).
WebReply JsonReply(std::string json);
WebReply TextReply(int status, std::string text);
// `status` as a JSON error reply: {"error": message, "code": name}, under
// the matching HTTP status; a RESOURCE_EXHAUSTED status with a retry-after
// payload (post_limiter.h) also says Retry-After.
WebReply ErrorReply(const absl::Status& status);
int HttpStatus(absl::StatusCode code);

template <typename T>
absl::StatusOr<std::string> ToJson(const T& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  if (auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
      !status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot write a ", T::descriptor()->name(), " as JSON: ", status.ToString()));
  }
  return json;
}

// The message as JSON, or its error.
template <typename T>
WebReply JsonReplyOf(const absl::StatusOr<T>& message) {
  if (!message.ok()) return ErrorReply(message.status());
  absl::StatusOr<std::string> json = ToJson(*message);
  if (!json.ok()) return ErrorReply(json.status());
  return JsonReply(*std::move(json));
}

}  // namespace podium

#endif  // PODIUM_FRONTEND_WEB_REPLY_H_
