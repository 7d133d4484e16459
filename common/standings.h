// The medal table as standings (v1::Standing): ranked by gold, then
// silver, then bronze. Equal counts share a rank and the next rank skips
// (1, 2, 2, 4), as the Olympic medal table does; within a rank teams are
// ordered by name. Frontends answer GetStandings with it and clients rank
// a board read from the backend with it, so every reader ranks alike.
#ifndef PODIUM_COMMON_STANDINGS_H_
#define PODIUM_COMMON_STANDINGS_H_

#include "google/protobuf/repeated_field.h"
#include "podium/v1/types.pb.h"

namespace podium {

// `tallies` ranked; the result's seq is left 0 for the caller to set.
v1::Standings RankStandings(
    const google::protobuf::RepeatedPtrField<v1::MedalTally>& tallies);

}  // namespace podium

#endif  // PODIUM_COMMON_STANDINGS_H_
