// `podium-client top`: a full-screen scoreboard that redraws in place from
// a live subscription, on the alternate screen of a terminal.
#ifndef PODIUM_CLIENT_TOP_H_
#define PODIUM_CLIENT_TOP_H_

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "client/scoreboard_client.h"

namespace podium {

struct TopOptions {
  int input_fd = 0;   // keys: 'q' quits
  int output_fd = 1;  // the screen; its size is asked on every redraw
  // The age shown in the header moves on even without updates.
  absl::Duration refresh = absl::Seconds(1);
};

// Runs until 'q' is read, `stop` is notified (SIGINT/SIGTERM), then OK; or
// until the frontends refuse the subscription, then why. Survives
// failovers as `watch` does. The terminal is restored however it ends.
absl::Status RunTop(ScoreboardClient* client, const absl::Notification* stop,
                    const TopOptions& options = {});

}  // namespace podium

#endif  // PODIUM_CLIENT_TOP_H_
