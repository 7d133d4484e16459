// What a browser's request asks for (frontend/web_routes.h): its route,
// its query and a stream request's keys and seq, and a fan's post
// (common/fan_posts.h). The input's first line is the request target, its
// second the Last-Event-ID header, the rest a post's author and text
// (split at the first newline). Beyond "no crash": a route's label is one
// of a fixed few (metrics stay bounded); a stream request that parses
// names at least one key and resumes from a seq >= 0; a post that passes
// is valid UTF-8 of 1-40 and 1-500 characters with no control character
// but a newline in the text.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/fan_posts.h"
#include "common/names.h"
#include "frontend/web_routes.h"
#include "fuzz/fuzz_check.h"

namespace podium {
namespace {

int64_t CodePoints(absl::string_view text) {
  int64_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

void CheckRequest(const std::string& target, const std::string& last_event_id) {
  static const std::set<std::string> kLabels = {"/healthz",
                                                "/metrics",
                                                "/api/board",
                                                "/api/medals",
                                                "/api/stream",
                                                "/api/events/{event}",
                                                "/api/events/{event}/posts",
                                                "/api/events/{event}/posts/{id}",
                                                "/api/medals/{team}",
                                                "/api/other",
                                                "static"};
  if (std::optional<std::string> path = TargetPath(target)) {
    const WebRoute route = RouteOf(*path);
    FUZZ_CHECK(kLabels.count(route.label) == 1, route.label);
    FUZZ_CHECK(route.kind != WebRoute::kPost || route.post_id > 0, *path);
  }
  ParseQuery(target);
  WebRequest request;
  request.method = "GET";
  request.target = target;
  request.last_event_id = last_event_id;
  absl::StatusOr<StreamRequest> stream = ParseStreamRequest(request);
  if (stream.ok()) {
    const v1::SubscribeRequest& s = stream->subscribe;
    FUZZ_CHECK(s.all_events() || s.all_teams() || s.all_fan_boards() || s.events_size() > 0 ||
                   s.teams_size() > 0 || s.fan_boards_size() > 0,
               target);
    FUZZ_CHECK(stream->after_seq >= 0, target);
  }
}

void CheckPost(absl::string_view author, absl::string_view text) {
  if (!ValidatePost(author, text).ok()) return;
  FUZZ_CHECK(IsValidUtf8(author) && IsValidUtf8(text), "a post that passes is UTF-8");
  FUZZ_CHECK(CodePoints(author) >= 1 && CodePoints(author) <= kMaxAuthorChars, std::string(author));
  FUZZ_CHECK(CodePoints(text) >= 1 && CodePoints(text) <= kMaxPostChars, std::string(text));
  for (char c : author) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F, "author");
  for (char c : text) {
    FUZZ_CHECK((static_cast<unsigned char>(c) >= 0x20 || c == '\n') && c != 0x7F, "text");
  }
}

}  // namespace
}  // namespace podium

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  podium::fuzz::QuietLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> lines = absl::StrSplit(input, absl::MaxSplits('\n', 3));
  lines.resize(4);
  podium::CheckRequest(std::string(lines[0]), std::string(lines[1]));
  podium::CheckPost(lines[2], lines[3]);
  return 0;
}
