// Running a read again and again (--interval, --count): how a terminal
// shows live reads, and how a watcher rides out a server restart. Each
// failure is reported and the loop goes on, since the next attempt may
// well succeed.
#ifndef PODIUM_CLIENT_REPEAT_H_
#define PODIUM_CLIENT_REPEAT_H_

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace podium {

struct RepeatOptions {
  // Pause between the end of one run and the start of the next.
  absl::Duration interval = absl::ZeroDuration();
  // Runs in all; 0 means one without an interval and unlimited with one.
  int64_t count = 0;
};

// INVALID_ARGUMENT for a negative interval or count.
absl::Status ValidateRepeatOptions(const RepeatOptions& options);

// True when `options` ask for more than one run. A single run reports its
// failure as the result; repeated runs report each through `on_error`.
bool IsRepeated(const RepeatOptions& options);

// Calls `run` as `options` ask. A single run returns its status. Repeated
// runs hand each failure to `on_error` and carry on; they return OK when
// `stop` (may be null) is notified, which also cuts the pause short, and
// otherwise the last run's status once `count` runs are done.
absl::Status Repeat(const RepeatOptions& options,
                    const absl::Notification* stop,
                    absl::FunctionRef<absl::Status()> run,
                    absl::FunctionRef<void(const absl::Status&)> on_error);

}  // namespace podium

#endif  // PODIUM_CLIENT_REPEAT_H_
