// The medal table as standings: ranked by gold, then silver, then bronze.
// Equal counts share a rank and the next rank skips (1, 2, 2, 4), as the
// Olympic medal table does; within a rank teams are ordered by name.
#ifndef PODIUM_CLIENT_STANDINGS_H_
#define PODIUM_CLIENT_STANDINGS_H_

#include <vector>

#include "absl/types/span.h"
#include "podium/v1/types.pb.h"

namespace podium {

struct Standing {
  int rank = 0;  // 1 for the leaders
  v1::MedalTally tally;
  int64_t total() const { return tally.gold() + tally.silver() + tally.bronze(); }
};

std::vector<Standing> RankStandings(absl::Span<const v1::MedalTally> tallies);

}  // namespace podium

#endif  // PODIUM_CLIENT_STANDINGS_H_
