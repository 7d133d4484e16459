// Exponential backoff with full jitter, for retrying through restarts
// without all retriers hitting a reviving server at the same instant.
#ifndef PODIUM_COMMON_BACKOFF_H_
#define PODIUM_COMMON_BACKOFF_H_

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace podium {

// Not thread-safe: each retrying loop owns one.
class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max, uint64_t seed = 0);

  // The delay before the next attempt: uniform in [0, current], after which
  // current doubles up to `max`.
  absl::Duration Next();
  void Reset() { current_ = initial_; }

 private:
  const absl::Duration initial_;
  const absl::Duration max_;
  absl::Duration current_;
  std::mt19937_64 rng_;
};

}  // namespace podium

#endif  // PODIUM_COMMON_BACKOFF_H_
