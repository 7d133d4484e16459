#include "client/repeat.h"

#include "absl/strings/str_cat.h"

namespace podium {

absl::Status ValidateRepeatOptions(const RepeatOptions& options) {
  if (options.interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("interval must not be negative, not ",
                     absl::FormatDuration(options.interval)));
  }
  if (options.count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("count must not be negative, not ", options.count));
  }
  return absl::OkStatus();
}

bool IsRepeated(const RepeatOptions& options) {
  if (options.count == 0) return options.interval > absl::ZeroDuration();
  return options.count > 1;
}

absl::Status Repeat(const RepeatOptions& options,
                    const absl::Notification* stop,
                    absl::FunctionRef<absl::Status()> run,
                    absl::FunctionRef<void(const absl::Status&)> on_error) {
  if (!IsRepeated(options)) return run();
  const auto stopped = [stop] {
    return stop != nullptr && stop->HasBeenNotified();
  };
  absl::Status last;
  for (int64_t done = 0; options.count == 0 || done < options.count;) {
    if (stopped()) return absl::OkStatus();
    last = run();
    if (!last.ok()) on_error(last);
    if (++done == options.count) break;
    if (stop == nullptr) {
      absl::SleepFor(options.interval);
    } else if (stop->WaitForNotificationWithTimeout(options.interval)) {
      return absl::OkStatus();
    }
  }
  return last;
}

}  // namespace podium
