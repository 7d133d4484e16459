// What a frontend answers over HTTP, independent of any HTTP library: the
// page's files, the scoreboard as JSON (protobuf's JSON mapping), the
// request of a Server-Sent Events stream, /healthz and /metrics. The
// transport (http_server.h) parses requests, moves bytes and runs what may
// wait on a worker thread; every decision is made here.
//
// Reads come from the Frontend's cache like the gRPC reads: a hit is
// answered on the calling (event loop) thread, with the JSON converted
// once per cached value and kept while that value stays; a miss must be
// answered by Answer() on a thread that may wait for the backend.
#ifndef PODIUM_FRONTEND_WEB_API_H_
#define PODIUM_FRONTEND_WEB_API_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "frontend/frontend.h"
#include "frontend/web_metrics.h"
#include "frontend/web_reply.h"
#include "frontend/web_routes.h"
#include "podium/v1/scoreboard.pb.h"

namespace podium {

struct WebApiOptions {
  // The page's folder: every regular file directly inside it is served
  // under its own name, index.html also as "/". Read once, at Load().
  std::string web_root;
  // Live gRPC Subscribe streams, and the updates written to them and
  // conflated, for /metrics (SubscribeStreams).
  std::function<int()> grpc_subscribers;
  std::function<int64_t()> grpc_delivered;
  std::function<int64_t()> grpc_conflated;
};

// Thread-safe.
class WebApi {
 public:
  WebApi(Frontend* frontend, WebApiOptions options);

  // Reads the page's files. An error names the folder and what is wrong
  // with it; the frontend then serves the API without a page.
  absl::Status Load();

  // The reply if it is at hand without waiting (a file, a cache hit,
  // /healthz, /metrics, an error in the request); nothing when Answer()
  // must make it on a thread that may wait.
  std::optional<WebReply> AnswerAtOnce(const WebRequest& request);
  // Any request but a stream; may wait on the backend.
  WebReply Answer(const WebRequest& request);

  // The frontend is shutting down: /healthz says 503 from now on, so a
  // load balancer sends nobody new here.
  void SetDraining() { draining_.store(true, std::memory_order_relaxed); }

  WebMetrics& metrics() { return metrics_; }

 private:
  struct CachedJson {
    Frontend::Reply bytes;  // the hit the JSON was made from
    std::shared_ptr<const std::string> json;
  };
  // The hit `bytes` of `key` as JSON of message type T, converted only
  // when the hit changed since the last time.
  template <typename T>
  std::shared_ptr<const std::string> HitJson(const std::string& key, const Frontend::Reply& bytes);
  WebReply Metrics();
  // Fan boards' writes (web_posts.cc): a fan's post, an operator's removal.
  WebReply Post(const WebRoute& route, const WebRequest& request);
  WebReply Remove(const WebRoute& route, const WebRequest& request);
  // Counts `reply` under `route` and returns it.
  WebReply Counted(const std::string& route, WebReply reply);

  Frontend* const frontend_;
  const WebApiOptions options_;
  WebMetrics metrics_;
  std::atomic<bool> draining_{false};
  // name ("/" for index.html) -> file; written once by Load().
  absl::flat_hash_map<std::string, WebReply> files_;
  absl::Mutex json_mu_;
  absl::flat_hash_map<std::string, CachedJson> json_ ABSL_GUARDED_BY(json_mu_);
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_WEB_API_H_
