#include "frontend/web_routes.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace podium {

WebRoute RouteOf(absl::string_view path) {
  if (path == "/healthz") return {WebRoute::kHealth, "", 0, "/healthz"};
  if (path == "/metrics") return {WebRoute::kMetrics, "", 0, "/metrics"};
  if (path == "/api/board") return {WebRoute::kBoard, "", 0, "/api/board"};
  if (path == "/api/medals") return {WebRoute::kMedals, "", 0, "/api/medals"};
  if (path == "/api/stream") return {WebRoute::kStream, "", 0, "/api/stream"};
  if (absl::ConsumePrefix(&path, "/api/events/")) {
    const std::vector<std::string> parts = absl::StrSplit(path, '/');
    if (parts.size() == 1 && !parts[0].empty()) {
      return {WebRoute::kEvent, parts[0], 0, "/api/events/{event}"};
    }
    if (parts.size() == 2 && !parts[0].empty() && parts[1] == "posts") {
      return {WebRoute::kFanBoard, parts[0], 0, "/api/events/{event}/posts", "GET, HEAD, POST"};
    }
    int64_t id = 0;
    if (parts.size() == 3 && !parts[0].empty() && parts[1] == "posts" &&
        absl::SimpleAtoi(parts[2], &id) && id > 0) {
      return {WebRoute::kPost, parts[0], id, "/api/events/{event}/posts/{id}", "DELETE"};
    }
    return {WebRoute::kNotFound, "", 0, "/api/other"};
  }
  if (absl::ConsumePrefix(&path, "/api/medals/") && !path.empty()) {
    return {WebRoute::kTeam, std::string(path), 0, "/api/medals/{team}"};
  }
  if (absl::StartsWith(path, "/api/")) return {WebRoute::kNotFound, "", 0, "/api/other"};
  return {WebRoute::kFile, std::string(path), 0, "static"};
}

}  // namespace podium
