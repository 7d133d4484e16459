#include "frontend/web_routes.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/percent_encoding.h"

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

std::optional<std::string> TargetPath(absl::string_view target) {
  return PercentDecode(target.substr(0, target.find('?')), /*plus_is_space=*/false);
}

absl::flat_hash_map<std::string, std::string> ParseQuery(absl::string_view target) {
  absl::flat_hash_map<std::string, std::string> query;
  const size_t question = target.find('?');
  if (question == absl::string_view::npos) return query;
  for (absl::string_view pair :
       absl::StrSplit(target.substr(question + 1), '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    std::optional<std::string> name = PercentDecode(kv.first, true);
    std::optional<std::string> value = PercentDecode(kv.second, true);
    if (name && value) query[*name] = *value;
  }
  return query;
}

bool IsStreamRequest(const WebRequest& request) {
  std::optional<std::string> path = TargetPath(request.target);
  return request.method == "GET" && path && *path == "/api/stream";
}

absl::StatusOr<StreamRequest> ParseStreamRequest(const WebRequest& request) {
  absl::flat_hash_map<std::string, std::string> query = ParseQuery(request.target);
  StreamRequest stream;
  stream.subscribe.set_format(v1::SUBSCRIBE_FORMAT_BATCHES);
  auto names = [&](const std::string& param, bool* all,
                   google::protobuf::RepeatedPtrField<std::string>* out) {
    auto it = query.find(param);
    if (it == query.end()) return;
    if (it->second == "*") {
      *all = true;
      return;
    }
    for (absl::string_view name : absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
      out->Add(std::string(name));
    }
  };
  bool all_events = false, all_teams = false;
  names("events", &all_events, stream.subscribe.mutable_events());
  names("teams", &all_teams, stream.subscribe.mutable_teams());
  bool all_fans = false;
  names("fans", &all_fans, stream.subscribe.mutable_fan_boards());
  if (auto it = query.find("medals");
      it != query.end() && (it->second == "1" || it->second == "true")) {
    all_teams = true;
  }
  stream.subscribe.set_all_events(all_events);
  stream.subscribe.set_all_teams(all_teams);
  stream.subscribe.set_all_fan_boards(all_fans);
  if (!all_events && !all_teams && !all_fans && stream.subscribe.events().empty() &&
      stream.subscribe.teams().empty() && stream.subscribe.fan_boards().empty()) {
    return absl::InvalidArgumentError(
        "a stream needs keys: events=NAME,NAME (or events=*), teams=CODE,CODE, medals=1 "
        "for every team's tally, or fans=EVENT,EVENT (or fans=*) for fan boards");
  }
  // EventSource's own resume comes first: it is newer than the URL's.
  std::string seq = request.last_event_id;
  if (seq.empty()) {
    if (auto it = query.find("after_seq"); it != query.end()) seq = it->second;
  }
  if (!seq.empty() && (!absl::SimpleAtoi(seq, &stream.after_seq) || stream.after_seq < 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the seq to resume after (Last-Event-ID or after_seq) must be a whole number >= 0, "
        "not '",
        seq, "'"));
  }
  return stream;
}

}  // namespace podium
