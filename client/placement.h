// Which frontend a client should talk to, given the tier's membership as a
// frontend reported it (guarantee 8: a new client goes to the least-loaded
// live frontend, a dead frontend's clients spread over the survivors).
// Pure logic, so the rule can be tested without servers.
#ifndef PODIUM_CLIENT_PLACEMENT_H_
#define PODIUM_CLIENT_PLACEMENT_H_

#include <random>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "podium/v1/scoreboard.pb.h"

namespace podium {

// The address of the live frontend in `frontends` with the fewest clients,
// skipping those in `avoid`. Ties are broken uniformly at random with
// `rng`: loads come from heartbeats and lag by a beat, so clients placed in
// the same instant all see the same numbers, and a fixed tie-break (say,
// the lowest address) would send all of them to one frontend. UNAVAILABLE
// when no live frontend is left.
absl::StatusOr<std::string> ChooseFrontend(
    const google::protobuf::RepeatedPtrField<v1::FrontendInfo>& frontends,
    const absl::flat_hash_set<std::string>& avoid, std::mt19937_64* rng);

// Where a client of `failed` goes, skipping those in `avoid`. A dead
// frontend's clients all ask within moments of each other and see the same
// loads (a heartbeat old), so the least-loaded rule would send every one of
// them to the same survivor. Each chooses at random instead, weighted so
// that the arrivals they expect fill the survivors up to one level: a
// survivor with c clients weighs max(0, level - c), the level set so the
// weights add up to `failed`'s clients as listed (while alive, or last
// reported once dead; at least one). With
// little to spread this is the least-loaded choice, ties at random.
absl::StatusOr<std::string> ChooseFrontendAfterFailure(
    const google::protobuf::RepeatedPtrField<v1::FrontendInfo>& frontends,
    const std::string& failed, const absl::flat_hash_set<std::string>& avoid, std::mt19937_64* rng);

}  // namespace podium

#endif  // PODIUM_CLIENT_PLACEMENT_H_
