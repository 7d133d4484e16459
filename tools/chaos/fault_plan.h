// The chaos run's faults, drawn from its seed before anything starts: which
// process is SIGKILLed when, and how long it stays down. The plan depends
// only on the options, so two runs with one seed inject the same faults at
// the same offsets; what the system does about them (pids, which frontend
// is master at the time, how far the bard got) is wall-clock behaviour and
// may differ.
//
// One fault at a time: each victim is restarted before the next kill, so
// the run exercises recovery from every kind of crash rather than a total
// outage (which no guarantee covers).
#ifndef PODIUM_TOOLS_CHAOS_FAULT_PLAN_H_
#define PODIUM_TOOLS_CHAOS_FAULT_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace podium::chaos {

enum class Target {
  kBackend,   // the backend `index` (0 with one backend)
  kFrontend,  // the frontend `index`
  kMaster,    // whichever frontend is master at the time (else `index`)
  kClient,    // the watching client `index`
  kBard,
  kEtcd,  // etcd member `index` (replicated runs)
  kHost,  // host `index` frozen (SIGSTOP) whole: its etcd member and
          // its backend, if it has one; thawed at the restart
};

// "backend", "frontend", "master", "client", "bard", "etcd", "host".
std::string TargetName(Target target);

struct Fault {
  absl::Duration kill_at;   // from the start of the faults
  absl::Duration down_for;  // from the kill to the restart
  Target target = Target::kBackend;
  int index = 0;  // frontend or client index; unused for backend and bard

  absl::Duration restart_at() const { return kill_at + down_for; }
};

struct FaultPlanOptions {
  uint64_t seed = 1;
  // No kill at or after this offset; restarts may fall after it.
  absl::Duration duration = absl::Seconds(30);
  int frontends = 3;
  int clients = 12;
  // Replicated: 3 etcd members and 2 backends, and faults of theirs
  // besides (etcd members, either backend, a frozen host). One fault at a
  // time: never more than one member of three, a minority, is down.
  bool replicated = false;
  int etcd_members = 3;
  int backends = 2;
  // Pause from a restart to the next kill, and time down, each drawn
  // uniformly (millisecond steps) from its range.
  absl::Duration min_gap = absl::Milliseconds(300);
  absl::Duration max_gap = absl::Milliseconds(2000);
  absl::Duration min_down = absl::Milliseconds(200);
  absl::Duration max_down = absl::Seconds(3);
  // The first kill comes no earlier than this, once the run is under way.
  absl::Duration warm_up = absl::Seconds(1);
};

// INVALID_ARGUMENT for options PlanFaults cannot use.
absl::Status CheckFaultPlanOptions(const FaultPlanOptions& options);

// The faults in kill order. Draws from std::mt19937_64(seed) with its raw
// output only (no std:: distributions, whose results differ between
// standard libraries), so the plan is the same on every platform.
std::vector<Fault> PlanFaults(const FaultPlanOptions& options);

// "frontend-2", "client-11", "master", "backend", "bard"; in replicated
// runs "backend-1", "etcd-2", "host-0".
std::string VictimName(const Fault& fault, bool replicated = false);

}  // namespace podium::chaos

#endif  // PODIUM_TOOLS_CHAOS_FAULT_PLAN_H_
