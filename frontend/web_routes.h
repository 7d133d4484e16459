// What an HTTP request asks for, by its path: the routes of WebApi.
#ifndef PODIUM_FRONTEND_WEB_ROUTES_H_
#define PODIUM_FRONTEND_WEB_ROUTES_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

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

}  // namespace podium

#endif  // PODIUM_FRONTEND_WEB_ROUTES_H_
