// What an HTTP request asks for: its route (by its path), its query, and
// what a stream request asks for. Input from anyone: fuzz/web_request_fuzzer.
#ifndef PODIUM_FRONTEND_WEB_ROUTES_H_
#define PODIUM_FRONTEND_WEB_ROUTES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "frontend/web_reply.h"
#include "podium/v1/scoreboard.pb.h"

namespace podium {

struct WebRoute {
  enum Kind {
    kHealth,    // /healthz
    kMetrics,   // /metrics
    kBoard,     // /api/board
    kEvent,     // /api/events/EVENT
    kFanBoard,  // /api/events/EVENT/posts (GET reads, POST posts)
    kPost,      // /api/events/EVENT/posts/ID (DELETE removes)
    kTeam,      // /api/medals/TEAM
    kMedals,    // /api/medals
    kStream,    // /api/stream
    kFile,      // anything else outside /api/: the page's files
    kNotFound,  // anything else under /api/
  };
  Kind kind = kNotFound;
  std::string name;     // the event or team
  int64_t post_id = 0;  // kPost
  std::string label;    // the metrics' route label: one of a fixed few
  // The methods the route answers, as an Allow header says them.
  const char* allow = "GET, HEAD";
};

// The route of a percent-decoded path.
WebRoute RouteOf(absl::string_view path);

// The path of `target`, percent-decoded; nothing if it cannot be decoded.
std::optional<std::string> TargetPath(absl::string_view target);
// Query parameters of `target` ("a=1&b=x%20y"), percent-decoded; a name
// given twice keeps the last value.
absl::flat_hash_map<std::string, std::string> ParseQuery(absl::string_view target);

// A request for a stream of live updates, as Frontend::NewSubscription
// takes it, and the seq it resumes after (0: from a snapshot).
struct StreamRequest {
  v1::SubscribeRequest subscribe;
  int64_t after_seq = 0;
};

// Whether `request` asks for a stream (GET /api/stream...), and what it
// asks for: no keys or a bad seq are INVALID_ARGUMENT (names are checked
// by the Frontend, as for Subscribe).
bool IsStreamRequest(const WebRequest& request);
absl::StatusOr<StreamRequest> ParseStreamRequest(const WebRequest& request);

}  // namespace podium

#endif  // PODIUM_FRONTEND_WEB_ROUTES_H_
