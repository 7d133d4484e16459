// How a ScoreboardClient, and the FrontendPicker that places it, reach
// their servers: deadlines, reconnection, keep-alive, probing home.
#ifndef PODIUM_CLIENT_CLIENT_OPTIONS_H_
#define PODIUM_CLIENT_CLIENT_OPTIONS_H_

#include <cstdint>

#include "absl/time/time.h"

namespace podium {

struct ScoreboardClientOptions {
  // Deadline of each read. A read of a dead or hung server fails with
  // UNAVAILABLE or DEADLINE_EXCEEDED within it instead of blocking (through
  // frontends: within twice it, the retry on another frontend included).
  absl::Duration timeout = absl::Seconds(2);
  // Longest pause between reconnection attempts after a server went away.
  // gRPC's own default (two minutes) would leave a client that polls a
  // restarting server failing long after the server is back. See
  // common/channel.h.
  absl::Duration max_reconnect_backoff = absl::Seconds(1);

  // Through frontends only. Keep-alive pings on every channel: a frontend
  // that stops answering them is dead after keepalive_time plus
  // keepalive_timeout, even when its connections stay open.
  absl::Duration keepalive_time = absl::Seconds(1);
  absl::Duration keepalive_timeout = absl::Seconds(1);
  // While away from home, how often home's health is probed.
  absl::Duration home_probe_interval = absl::Milliseconds(500);
  // While at home, how often the membership is asked for again, so that a
  // frontend started after the client was placed is known by the time the
  // client must fail over to it.
  absl::Duration membership_refresh_interval = absl::Seconds(10);
  // Threads the subscriptions' callbacks run on, shared by all the
  // subscriptions of one client (1 to 64); see client/subscriber.h.
  int delivery_threads = 2;
  // Seeds the random choice among equally loaded frontends (0: at random);
  // tests fix it to place clients reproducibly.
  uint64_t placement_seed = 0;
};

}  // namespace podium

#endif  // PODIUM_CLIENT_CLIENT_OPTIONS_H_
