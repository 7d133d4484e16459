// Redis pub/sub as a fan-out target (fanout_targets.h): a redis-server
// started for the benchmark (persistence off), SUBSCRIBE connections read by
// epoll threads of this process, PUBLISH on a connection of its own. Each
// message is the serialized SubscribeUpdates of the same change the gRPC
// targets send, and is parsed the same way.
#ifndef PODIUM_BENCH_REDIS_FANOUT_H_
#define PODIUM_BENCH_REDIS_FANOUT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/fanout_targets.h"
#include "harness/subprocess.h"

namespace podium::bench {

class RedisFanout : public FanoutTarget {
 public:
  // Starts redis-server (found on PATH) on a free loopback port, logging
  // under `dir`. FAILED_PRECONDITION naming the package when there is none.
  static absl::StatusOr<std::unique_ptr<RedisFanout>> Start(const std::string& dir,
                                                            std::string event, std::string team,
                                                            int threads, int expected);
  ~RedisFanout() override;

  absl::Status Open(int subscribers) override;
  absl::StatusOr<std::vector<int64_t>> Publish(int count) override;
  int64_t received() const override { return received_.load(std::memory_order_relaxed); }
  bool AllHave(int64_t seq) const override;
  absl::Status Close() override;
  std::vector<const std::vector<Receipt>*> receipts() const override;
  pid_t server() const override { return redis_.pid(); }
  // redis-server is started afresh for each measurement, so its growth is
  // the subscribers' own.
  double idle_bytes_per_subscriber() const override { return idle_bytes_per_subscriber_; }

 private:
  struct Connection;
  RedisFanout(harness::Subprocess redis, int port, std::string event, std::string team, int threads,
              int expected);
  void ReadLoop(int epoll_fd);

  harness::Subprocess redis_;
  const int port_;
  const std::string event_, team_;
  const int thread_count_, expected_;
  int publisher_ = -1;  // the PUBLISH connection's socket
  int writes_ = 0;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<int> epoll_fds_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> opened_{0}, received_{0};
  double idle_bytes_per_subscriber_ = -1;
};

}  // namespace podium::bench

#endif  // PODIUM_BENCH_REDIS_FANOUT_H_
