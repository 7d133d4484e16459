// Counters of the HTTP plane, written out in the Prometheus text format
// (https://prometheus.io/docs/instrumenting/exposition_formats/) by
// WebApi's /metrics with the frontend's own vitals beside them.
#ifndef PODIUM_FRONTEND_WEB_METRICS_H_
#define PODIUM_FRONTEND_WEB_METRICS_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace podium {

// Thread-safe.
class WebMetrics {
 public:
  // `route` is one of a fixed few ("/api/board", "static", ...), never a
  // path a client chose, so the label set stays bounded.
  void CountRequest(absl::string_view route, int status);
  void StreamOpened() { streams_.fetch_add(1, std::memory_order_relaxed); }
  void StreamClosed() { streams_.fetch_sub(1, std::memory_order_relaxed); }
  // Updates written to one stream, and how many of them replaced older
  // values of their key (conflation).
  void Delivered(int64_t updates, int64_t conflated) {
    delivered_.fetch_add(updates, std::memory_order_relaxed);
    conflated_.fetch_add(conflated, std::memory_order_relaxed);
  }
  int64_t streams() const { return streams_.load(std::memory_order_relaxed); }

  // Appends the counters, each with its # HELP and # TYPE lines.
  void AppendTo(std::string* out) const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::pair<std::string, int>, int64_t> requests_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> streams_{0};
  std::atomic<int64_t> delivered_{0};
  std::atomic<int64_t> conflated_{0};
};

// One metric's # HELP and # TYPE lines, then `name value` (Prometheus
// text format), appended to `out`.
void AppendMetric(std::string* out, absl::string_view name, absl::string_view type,
                  absl::string_view help, int64_t value);

}  // namespace podium

#endif  // PODIUM_FRONTEND_WEB_METRICS_H_
