#include "tools/chaos/fault_plan.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

namespace podium::chaos {
namespace {

// A uniform draw from [low, high]; the modulo bias is far below anything a
// chaos run could notice.
int64_t Draw(std::mt19937_64* rng, int64_t low, int64_t high) {
  const uint64_t span = static_cast<uint64_t>(high - low) + 1;
  return low + static_cast<int64_t>((*rng)() % span);
}

absl::Duration DrawDuration(std::mt19937_64* rng, absl::Duration low, absl::Duration high) {
  return absl::Milliseconds(
      Draw(rng, absl::ToInt64Milliseconds(low), absl::ToInt64Milliseconds(high)));
}

// How often each kind of victim is drawn, in percent. Clients are many and
// the frontends are where failover happens, so they get most faults.
struct Weight {
  Target target;
  int percent;
};
constexpr Weight kWeights[] = {{Target::kBackend, 15},
                               {Target::kFrontend, 20},
                               {Target::kMaster, 15},
                               {Target::kClient, 35},
                               {Target::kBard, 15}};
// Replicated runs: a share of the faults go to etcd members and frozen
// hosts, and "backend" means either of two.
constexpr Weight kReplicatedWeights[] = {
    {Target::kBackend, 15}, {Target::kEtcd, 15},   {Target::kHost, 10}, {Target::kFrontend, 15},
    {Target::kMaster, 10},  {Target::kClient, 25}, {Target::kBard, 10}};

}  // namespace

std::string TargetName(Target target) {
  switch (target) {
    case Target::kBackend:
      return "backend";
    case Target::kFrontend:
      return "frontend";
    case Target::kMaster:
      return "master";
    case Target::kClient:
      return "client";
    case Target::kBard:
      return "bard";
    case Target::kEtcd:
      return "etcd";
    case Target::kHost:
      return "host";
  }
  return "unknown";
}

std::string VictimName(const Fault& fault, bool replicated) {
  switch (fault.target) {
    case Target::kFrontend:
    case Target::kClient:
    case Target::kEtcd:
    case Target::kHost:
      return absl::StrCat(TargetName(fault.target), "-", fault.index);
    case Target::kBackend:
      return replicated ? absl::StrCat("backend-", fault.index) : "backend";
    default:
      return TargetName(fault.target);
  }
}

absl::Status CheckFaultPlanOptions(const FaultPlanOptions& options) {
  if (options.duration < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the duration must not be negative");
  }
  if (options.replicated && (options.etcd_members < 3 || options.backends < 1)) {
    return absl::InvalidArgumentError(
        "a replicated run needs at least 3 etcd members (so that one down is a minority) "
        "and a backend");
  }
  if (options.frontends < 1 || options.clients < 1) {
    return absl::InvalidArgumentError("there must be at least one frontend and one client");
  }
  if (options.min_gap < absl::ZeroDuration() || options.min_gap > options.max_gap ||
      options.min_down < absl::ZeroDuration() || options.min_down > options.max_down) {
    return absl::InvalidArgumentError("gap and down-time ranges must be 0 <= min <= max");
  }
  return absl::OkStatus();
}

std::vector<Fault> PlanFaults(const FaultPlanOptions& options) {
  std::mt19937_64 rng(options.seed);
  std::vector<Fault> plan;
  absl::Duration at = options.warm_up + DrawDuration(&rng, options.min_gap, options.max_gap);
  while (at < options.duration) {
    Fault fault;
    fault.kill_at = at;
    int64_t roll = Draw(&rng, 0, 99);
    for (const Weight& weight : options.replicated ? absl::MakeConstSpan(kReplicatedWeights)
                                                   : absl::MakeConstSpan(kWeights)) {
      fault.target = weight.target;
      if (roll < weight.percent) break;
      roll -= weight.percent;
    }
    // Drawn for every fault, used or not, so that one kind's index never
    // shifts the draws of the faults after it.
    const int64_t frontend = Draw(&rng, 0, options.frontends - 1);
    const int64_t client = Draw(&rng, 0, options.clients - 1);
    fault.index = static_cast<int>(fault.target == Target::kClient ? client : frontend);
    if (options.replicated) {  // more draws only here: the old plans stay
      const int64_t member = Draw(&rng, 0, options.etcd_members - 1);
      const int64_t backend = Draw(&rng, 0, options.backends - 1);
      if (fault.target == Target::kEtcd || fault.target == Target::kHost) fault.index = member;
      if (fault.target == Target::kBackend) fault.index = backend;
    } else if (fault.target == Target::kBackend) {
      fault.index = 0;
    }
    fault.down_for = DrawDuration(&rng, options.min_down, options.max_down);
    plan.push_back(fault);
    at = fault.restart_at() + DrawDuration(&rng, options.min_gap, options.max_gap);
  }
  return plan;
}

}  // namespace podium::chaos
