// Pull mode: every fixed interval, read the backend's change log since the
// last applied seq and apply it to the cache. Staleness is thus bounded by
// the interval plus one round trip. When the backend has compacted what we
// had not read, the whole board is read and applied instead.
#ifndef PODIUM_FRONTEND_PULLER_H_
#define PODIUM_FRONTEND_PULLER_H_

#include <cstdint>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/board_changes.h"
#include "podium/v1/backend.grpc.pb.h"

namespace podium {

// Thread-safe.
class Puller {
 public:
  using Apply = std::function<void(const v1::Change&, ChangeSource)>;

  // `backend` must outlive the puller.
  Puller(v1::Backend::Stub* backend, absl::Duration interval, Apply apply);
  ~Puller();

  void Start();
  void Stop();
  // The newest seq applied so far.
  int64_t applied_seq() const;

  // One poll: applies everything committed since the last one. Exposed so
  // tests can drive polls without waiting on the clock.
  absl::Status PollOnce();

 private:
  absl::Status ApplyBoard();
  void Loop();

  v1::Backend::Stub* const backend_;
  const absl::Duration interval_;
  const Apply apply_;

  mutable absl::Mutex mu_;
  int64_t applied_seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool have_board_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex poll_mu_;  // one poll at a time
  std::thread thread_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_PULLER_H_
