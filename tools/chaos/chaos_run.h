// One chaos run (scripts/chaos, issue 5): a games day under random process
// kills, then a check of every guarantee of DESIGN.md a black-box observer
// can see:
//
//   (0) no process exits unless the run killed it;
//   (1) the backend, every frontend (Scoreboard.GetBoard) and every client
//       (the last value per key it printed) end on the same board;
//   (2) each team's medal tally on the backend equals the awards the bard's
//       journal records as acknowledged: no award lost, none counted twice;
//       and the backend's head seq equals the writes acknowledged (the bard
//       is the only writer, each applied write takes one seq; over etcd,
//       one revision, counted from the revision at the start);
//   (3) within one client process, no key's version ever goes down;
//   (4) the frontends agree on exactly one master, the highest live pid.
//
// Why (2) is exact: every write is journaled (fsynced) before it is sent,
// so the backend can only have applied journaled keys; after the run the
// bard's `journal-summary` re-sends each write without an answer under its
// own key, so every journaled write ends applied exactly once and answered.
// The journal's acknowledged awards are then exactly what the backend
// applied.
#ifndef PODIUM_TOOLS_CHAOS_CHAOS_RUN_H_
#define PODIUM_TOOLS_CHAOS_CHAOS_RUN_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace podium::chaos {

struct ChaosOptions {
  uint64_t seed = 1;
  absl::Duration duration = absl::Seconds(30);
  int frontends = 3;
  int clients = 12;
  double rate = 20;   // the bard's writes per second
  int max_live = 4;   // the bard's matches in play at once
  std::string games;  // a games file for the backend; empty: the built-in day
  // Over 3 etcd members and 2 backends, with their faults in the plan.
  bool replicated = false;
  std::string dir;  // logs and data; must exist
  absl::Duration start_timeout = absl::Seconds(60);
  // How long the system may take to converge once the writes stop.
  absl::Duration settle_timeout = absl::Seconds(30);
  // Notified (e.g. on SIGINT) to end the run early; it then fails. May be
  // null; not owned.
  const absl::Notification* interrupt = nullptr;
};

// Runs it, printing one line per kill and restart (with its offset from
// the first fault's clock), every violation, and last the verdict line
// "chaos: PASS ..." or "chaos: FAIL ...: <first violation>". True on PASS.
bool RunChaos(const ChaosOptions& options, std::ostream* out);

}  // namespace podium::chaos

#endif  // PODIUM_TOOLS_CHAOS_CHAOS_RUN_H_
