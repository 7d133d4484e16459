// The subscriptions a frontend-kill round holds on the victim (issue 12,
// bench/frontend_kill_bench.cc), and how they move to the survivors when
// it dies: podium_client subscriptions that fail over by themselves, or
// async-API streams opened again at the survivors (the survivors' side of
// a failover without the client library's own cost).
#ifndef PODIUM_BENCH_KILL_SUBSCRIPTIONS_H_
#define PODIUM_BENCH_KILL_SUBSCRIPTIONS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace podium::bench {

// The subscriptions under test, and how they move when the victim dies.
class KillSubscriptions {
 public:
  virtual ~KillSubscriptions() = default;
  // Opens subscription i, of `event`, at the victim.
  virtual absl::Status Open(int i, const std::string& event) = 0;
  // Whether every subscription has had its snapshot; an error when one
  // cannot get it any more.
  virtual absl::StatusOr<bool> AllSnapshotted() const = 0;
  // Just before the kill: what the subscriptions receive from here on is
  // kept.
  virtual void BeforeKill() {}
  // Once the victim is reaped: the backend's seq then, which "written after
  // the kill" is above.
  virtual void AfterKill(int64_t kill_seq) = 0;
  // When subscription i first had an update above the kill's seq, Unix
  // ns; 0 while it has none.
  virtual int64_t FirstAboveNs(int i) const = 0;
  // The frontend subscription i is on now.
  virtual std::string FrontendOf(int i) const = 0;
};

// `subscriptions` podium_client subscriptions spread over `clients`
// ScoreboardClients, each given all of `frontends` (the victim first).
std::unique_ptr<KillSubscriptions> NewClientSubscriptions(std::vector<std::string> frontends,
                                                          int subscriptions, int clients);
// Subscribe streams on gRPC's async API at `victim`, opened again at the
// kill at `survivors`, alternately, with after_seq their last seq.
std::unique_ptr<KillSubscriptions> NewFleetSubscriptions(std::string victim,
                                                         std::vector<std::string> survivors);

}  // namespace podium::bench

#endif  // PODIUM_BENCH_KILL_SUBSCRIPTIONS_H_
