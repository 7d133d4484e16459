// The benchmarks' scorer: one RecordScore to every event of a list, round
// after round at a fixed pace, on a thread of its own, straight to the
// backend. "A change written after the kill" is one above LatestSeq() read
// once the killed process is gone: acked(), the writer's own view, lags
// the backend whenever this process is busy, and a change it has not
// counted yet may already have been delivered before the kill.
#ifndef PODIUM_BENCH_PACED_WRITER_H_
#define PODIUM_BENCH_PACED_WRITER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "podium/v1/backend.grpc.pb.h"

namespace podium::bench {

// Thread-compatible to set up, then Start() and Stop() from one thread;
// acked() and failed() from any.
class PacedWriter {
 public:
  PacedWriter(std::unique_ptr<v1::Backend::StubInterface> backend, std::string write_token,
              std::vector<std::string> events, absl::Duration interval);
  // Stop().
  ~PacedWriter();

  // One write to each event, now, on the caller's thread: the keys' first
  // values, before subscriptions want a snapshot of them.
  void WriteEach();
  // Rounds of WriteEach() every `interval` on the writer's thread, for 10
  // minutes at most, until Stop().
  void Start();
  void Stop();

  int64_t acked() const { return acked_.load(); }
  // The backend's seq now (its board's), asked for on the caller's thread.
  absl::StatusOr<int64_t> LatestSeq() const;
  // Writes the backend refused or did not answer in time.
  int64_t failed() const { return failed_.load(); }

 private:
  void Write(const std::string& event);

  const std::unique_ptr<v1::Backend::StubInterface> backend_;
  const std::string write_token_;
  const std::vector<std::string> events_;
  const absl::Duration interval_;
  std::atomic<int64_t> written_{0};
  std::atomic<int64_t> acked_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace podium::bench

#endif  // PODIUM_BENCH_PACED_WRITER_H_
