#include "frontend/web_metrics.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"

namespace podium {

void WebMetrics::CountRequest(absl::string_view route, int status) {
  absl::MutexLock lock(&mu_);
  ++requests_[{std::string(route), status}];
}

void AppendMetric(std::string* out, absl::string_view name, absl::string_view type,
                  absl::string_view help, int64_t value) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, " ",
                  value, "\n");
}

void WebMetrics::AppendTo(std::string* out) const {
  std::vector<std::tuple<std::string, int, int64_t>> requests;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, count] : requests_) requests.emplace_back(key.first, key.second, count);
  }
  std::sort(requests.begin(), requests.end());
  absl::StrAppend(out,
                  "# HELP podium_http_requests_total HTTP requests answered, by route and "
                  "status code.\n# TYPE podium_http_requests_total counter\n");
  for (const auto& [route, status, count] : requests) {
    // Routes are Podium's own fixed names: nothing to escape.
    absl::StrAppend(out, "podium_http_requests_total{route=\"", route, "\",code=\"", status, "\"} ",
                    count, "\n");
  }
  AppendMetric(out, "podium_sse_streams", "gauge", "Server-Sent Events streams open.",
               streams_.load(std::memory_order_relaxed));
  AppendMetric(out, "podium_sse_updates_delivered_total", "counter",
               "Updates written to Server-Sent Events streams.",
               delivered_.load(std::memory_order_relaxed));
  AppendMetric(out, "podium_sse_updates_conflated_total", "counter",
               "Updates to Server-Sent Events streams that replaced an older waiting value of "
               "their key (a slow reader).",
               conflated_.load(std::memory_order_relaxed));
}

}  // namespace podium
