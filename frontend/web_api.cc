#include "frontend/web_api.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/standings.h"
#include "frontend/web_reply.h"
#include "frontend/web_routes.h"
#include "google/protobuf/util/json_util.h"

namespace podium {
namespace {

std::string ContentType(const std::filesystem::path& file) {
  const std::string ext = absl::AsciiStrToLower(file.extension().string());
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

// The medal table as /api/medals answers it: ranked, as of the board's seq.
v1::Standings StandingsOf(const v1::Board& board) {
  v1::Standings standings = RankStandings(board.medals());
  standings.set_seq(board.seq());
  return standings;
}

}  // namespace

WebApi::WebApi(Frontend* frontend, WebApiOptions options)
    : frontend_(frontend), options_(std::move(options)) {}

absl::Status WebApi::Load() {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::directory_iterator files(options_.web_root, error);
  if (error) {
    return absl::NotFoundError(absl::StrCat(
        "cannot read the page's folder --web_root=", options_.web_root, ": ", error.message()));
  }
  for (const fs::directory_entry& entry : files) {
    if (!entry.is_regular_file(error)) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in) {
      return absl::DataLossError(absl::StrCat("cannot read ", entry.path().string()));
    }
    WebReply reply;
    reply.content_type = ContentType(entry.path());
    reply.body = bytes.str();
    reply.headers.emplace_back("Cache-Control", "no-cache");
    reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
    const std::string name = "/" + entry.path().filename().string();
    if (name == "/index.html") files_["/"] = reply;
    files_[name] = std::move(reply);
  }
  if (!files_.count("/")) {
    return absl::NotFoundError(
        absl::StrCat("the page's folder --web_root=", options_.web_root, " has no index.html"));
  }
  return absl::OkStatus();
}

template <typename T>
std::shared_ptr<const std::string> WebApi::HitJson(const std::string& key,
                                                   const Frontend::Reply& bytes) {
  {
    absl::MutexLock lock(&json_mu_);
    auto it = json_.find(key);
    if (it != json_.end() && it->second.bytes == bytes) return it->second.json;
  }
  T message;
  if (!message.ParseFromString(*bytes)) return nullptr;
  absl::StatusOr<std::string> json;
  if constexpr (std::is_same_v<T, v1::Board>) {
    json = key == "standings" ? ToJson(StandingsOf(message)) : ToJson(message);
  } else {
    json = ToJson(message);
  }
  if (!json.ok()) return nullptr;
  auto shared = std::make_shared<const std::string>(*std::move(json) + "\n");
  absl::MutexLock lock(&json_mu_);
  // Keys are names the cache answered a hit for: bounded by the games.
  json_[key] = CachedJson{bytes, shared};
  return shared;
}

WebReply WebApi::Counted(const std::string& route, WebReply reply) {
  metrics_.CountRequest(route, reply.status);
  return reply;
}

std::optional<WebReply> WebApi::AnswerAtOnce(const WebRequest& request) {
  std::optional<std::string> path = TargetPath(request.target);
  if (!path) {
    return Counted("bad", ErrorReply(absl::InvalidArgumentError(
                              "the request's path has a % not followed by two hex digits")));
  }
  const WebRoute route = RouteOf(*path);
  const bool read = request.method == "GET" || request.method == "HEAD";
  const bool write = (request.method == "POST" && route.kind == WebRoute::kFanBoard) ||
                     (request.method == "DELETE" && route.kind == WebRoute::kPost);
  if ((read && route.kind == WebRoute::kPost) || (!read && !write)) {
    WebReply reply = ErrorReply(absl::InvalidArgumentError(
        absl::StrCat(request.method, " is not served at ", *path, "; it answers ", route.allow)));
    reply.status = 405;
    reply.headers.emplace_back("Allow", route.allow);
    return Counted(route.label, std::move(reply));
  }
  if (write) return std::nullopt;  // a write waits on the backend
  auto hit = [&](std::shared_ptr<const std::string> json) -> std::optional<WebReply> {
    if (json == nullptr) return std::nullopt;
    WebReply reply = JsonReply("");
    reply.body = *json;
    return Counted(route.label, std::move(reply));
  };
  switch (route.kind) {
    case WebRoute::kHealth:
      if (draining_.load(std::memory_order_relaxed)) {
        return Counted(route.label, TextReply(503, "shutting down\n"));
      }
      return Counted(route.label, TextReply(200, "ok\n"));
    case WebRoute::kMetrics:
      return Counted(route.label, Metrics());
    case WebRoute::kFile: {
      auto it = files_.find(*path);
      if (it != files_.end()) return Counted(route.label, it->second);
      return Counted(route.label,
                     TextReply(404, files_.empty() ? "this frontend serves no page: see its "
                                                     "log for why --web_root was not read\n"
                                                   : "not found\n"));
    }
    case WebRoute::kNotFound:
      return Counted(route.label,
                     ErrorReply(absl::NotFoundError(absl::StrCat(
                         "no such API: ", *path,
                         " (there are /api/board, /api/events/NAME, /api/events/NAME/posts, "
                         "/api/medals, /api/medals/TEAM and /api/stream)"))));
    case WebRoute::kStream:
      return Counted(route.label,
                     ErrorReply(absl::InvalidArgumentError(
                         "/api/stream is read with GET and Accept: text/event-stream")));
    case WebRoute::kBoard:
      if (Frontend::Reply bytes = frontend_->BoardHit(request.client)) {
        return hit(HitJson<v1::Board>("board", bytes));
      }
      return std::nullopt;
    case WebRoute::kMedals:
      if (Frontend::Reply bytes = frontend_->BoardHit(request.client)) {
        return hit(HitJson<v1::Board>("standings", bytes));
      }
      return std::nullopt;
    case WebRoute::kEvent:
      if (Frontend::Reply bytes = frontend_->ScoreHit(route.name, request.client)) {
        return hit(HitJson<v1::EventScore>(EventKey(route.name), bytes));
      }
      return std::nullopt;
    case WebRoute::kFanBoard:
      if (Frontend::Reply bytes = frontend_->FansHit(route.name, request.client)) {
        return hit(HitJson<v1::FanBoard>(FansKey(route.name), bytes));
      }
      return std::nullopt;
    case WebRoute::kTeam:
      if (Frontend::Reply bytes = frontend_->MedalsHit(route.name, request.client)) {
        return hit(HitJson<v1::MedalTally>(TeamKey(route.name), bytes));
      }
      return std::nullopt;
    case WebRoute::kPost:
      return std::nullopt;  // refused above: only DELETE, a write
  }
  return std::nullopt;
}

WebReply WebApi::Answer(const WebRequest& request) {
  if (std::optional<WebReply> reply = AnswerAtOnce(request)) return *std::move(reply);
  const WebRoute route = RouteOf(*TargetPath(request.target));
  switch (route.kind) {
    case WebRoute::kBoard:
      return Counted(route.label, JsonReplyOf(frontend_->GetBoard(request.client)));
    case WebRoute::kMedals:
      return Counted(route.label, JsonReplyOf(frontend_->GetStandings(request.client)));
    case WebRoute::kEvent:
      return Counted(route.label, JsonReplyOf(frontend_->GetScore(route.name, request.client)));
    case WebRoute::kTeam:
      return Counted(route.label, JsonReplyOf(frontend_->GetMedals(route.name, request.client)));
    case WebRoute::kFanBoard:
      if (request.method == "POST") return Counted(route.label, Post(route, request));
      return Counted(route.label, JsonReplyOf(frontend_->GetFanBoard(route.name, request.client)));
    case WebRoute::kPost:
      return Counted(route.label, Remove(route, request));
    default:
      return Counted(route.label,
                     ErrorReply(absl::InternalError("a request answered at once came back")));
  }
}

WebReply WebApi::Metrics() {
  std::string out;
  metrics_.AppendTo(&out);
  const Frontend::Vitals vitals = frontend_->GetVitals();
  AppendMetric(&out, "podium_grpc_subscribers", "gauge", "gRPC Subscribe streams open.",
               options_.grpc_subscribers ? options_.grpc_subscribers() : 0);
  AppendMetric(&out, "podium_grpc_updates_delivered_total", "counter",
               "Updates written to gRPC Subscribe streams.",
               options_.grpc_delivered ? options_.grpc_delivered() : 0);
  AppendMetric(&out, "podium_grpc_updates_conflated_total", "counter",
               "Updates to gRPC Subscribe streams that replaced an older waiting value of their "
               "key (a slow reader).",
               options_.grpc_conflated ? options_.grpc_conflated() : 0);
  AppendMetric(&out, "podium_cache_hits_total", "counter", "Reads answered from the cache.",
               vitals.cache.hits);
  AppendMetric(&out, "podium_cache_misses_total", "counter", "Reads that went to the backend.",
               vitals.cache.misses);
  AppendMetric(&out, "podium_cache_fresh_entries", "gauge", "Cache entries known current.",
               vitals.cache.fresh_entries);
  AppendMetric(&out, "podium_master_epoch", "gauge",
               "The election epoch of the master this frontend follows.", vitals.master.epoch);
  AppendMetric(&out, "podium_is_master", "gauge", "1 while this frontend is the master.",
               vitals.master.self_is_master ? 1 : 0);
  AppendMetric(&out, "podium_applied_seq", "gauge",
               "The newest backend seq this frontend has applied.", vitals.applied_seq);
  AppendMetric(&out, "podium_backend_lag_seqs", "gauge",
               "How many seqs this frontend is behind the newest any live frontend has "
               "applied.",
               vitals.cluster_seq - vitals.applied_seq);
  AppendMetric(&out, "podium_clients", "gauge", "Clients seen recently (load balancing).",
               vitals.clients);
  WebReply reply = TextReply(200, std::move(out));
  reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return reply;
}

}  // namespace podium
