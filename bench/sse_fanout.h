// Server-Sent Events as a fan-out target (fanout_targets.h): a push-mode
// frontend of its own, started with --http_listen for this one measurement
// (so that its resident memory before the streams is that of a frontend
// that never held any), N `GET /api/stream?events=E` connections from this
// process, all read by one epoll loop on non-blocking loopback sockets, and
// writes through the backend as the Podium target makes them.
//
// A subscriber counts as open once its snapshot value (the event without
// an `id:` line) has arrived. Each later event is recorded under the seq of
// its `id:` line at the time of the read that brought it; the JSON of its
// `data:` line is not parsed (the id is the change's seq, see
// frontend/sse_events.h), so the reader costs what Redis's does: a read and
// a scan per message. "Message" for the updates-per-message figure is one
// read of a connection.
//
// The frontend's RSS (VmRSS, /proc/PID/status) is taken before the first
// connection and again once every stream has its snapshot and the
// frontend has been idle for a moment: their difference over N is the
// memory of an idle stream (idle_bytes_per_subscriber).
#ifndef PODIUM_BENCH_SSE_FANOUT_H_
#define PODIUM_BENCH_SSE_FANOUT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/fanout_targets.h"
#include "harness/cluster.h"

namespace podium::bench {

class SseFanout : public FanoutTarget {
 public:
  // Starts the frontend (over `backend_address`, logging under `dir`,
  // with `frontend_flags` added) and reads `event` once over HTTP, so that
  // its names and cache are ready. Writes go through `backend`, numbered by
  // `*writes` (shared with every target writing to that backend: the
  // numbers are idempotency keys). `expected` receipts are reserved per
  // subscriber.
  static absl::StatusOr<std::unique_ptr<SseFanout>> Start(
      const std::string& dir, const std::string& backend_address, v1::Backend::Stub* backend,
      std::string event, std::string team, const std::vector<std::string>& frontend_flags,
      int expected, int* writes);
  ~SseFanout() override;

  absl::Status Open(int subscribers) override;
  absl::StatusOr<std::vector<int64_t>> Publish(int count) override;
  int64_t received() const override { return received_.load(std::memory_order_relaxed); }
  bool AllHave(int64_t seq) const override;
  absl::Status Close() override;
  std::vector<const std::vector<Receipt>*> receipts() const override;
  pid_t server() const override { return frontend_->pid(0); }
  double idle_bytes_per_subscriber() const override { return idle_bytes_per_subscriber_; }

  const std::string& http_address() const { return http_address_; }

 private:
  struct Connection;
  SseFanout(std::unique_ptr<harness::FrontendCluster> frontend, std::string http_address,
            v1::Backend::Stub* backend, std::string event, std::string team, int expected,
            int* writes);
  // The one thread: connects (at most kConnecting at a time without their
  // snapshot), sends the requests, reads every stream.
  void Loop();
  void Connect(int index);
  void Read(Connection* connection);
  void Fail(const std::string& why);

  std::unique_ptr<harness::FrontendCluster> frontend_;
  const std::string http_address_;
  v1::Backend::Stub* const backend_;
  const std::string event_, team_, request_;
  const int expected_;
  int* const writes_;
  int port_ = 0;
  int epoll_fd_ = -1;
  // Written by Open() before the loop starts, read-only afterwards.
  std::vector<std::unique_ptr<Connection>> connections_;
  std::thread loop_;
  std::atomic<int> wanted_{0};  // subscribers Open() asked for
  std::atomic<bool> stopping_{false}, failed_{false};
  std::atomic<int64_t> opened_{0}, received_{0};
  std::string failure_;  // set by the loop before failed_
  double idle_bytes_per_subscriber_ = -1;
};

}  // namespace podium::bench

#endif  // PODIUM_BENCH_SSE_FANOUT_H_
