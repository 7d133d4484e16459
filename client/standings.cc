#include "client/standings.h"

#include <algorithm>
#include <tuple>

namespace podium {
namespace {

auto Counts(const v1::MedalTally& tally) {
  return std::make_tuple(tally.gold(), tally.silver(), tally.bronze());
}

}  // namespace

std::vector<Standing> RankStandings(absl::Span<const v1::MedalTally> tallies) {
  std::vector<Standing> standings;
  standings.reserve(tallies.size());
  for (const v1::MedalTally& tally : tallies) standings.push_back({0, tally});
  std::sort(standings.begin(), standings.end(),
            [](const Standing& a, const Standing& b) {
              if (Counts(a.tally) != Counts(b.tally)) {
                return Counts(a.tally) > Counts(b.tally);
              }
              return a.tally.team() < b.tally.team();
            });
  for (size_t i = 0; i < standings.size(); ++i) {
    const bool tied = i > 0 && Counts(standings[i].tally) ==
                                   Counts(standings[i - 1].tally);
    standings[i].rank = tied ? standings[i - 1].rank : static_cast<int>(i) + 1;
  }
  return standings;
}

}  // namespace podium
