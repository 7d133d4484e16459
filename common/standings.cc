#include "common/standings.h"

#include <algorithm>
#include <tuple>
#include <vector>

namespace podium {
namespace {

auto Counts(const v1::MedalTally& tally) {
  return std::make_tuple(tally.gold(), tally.silver(), tally.bronze());
}

}  // namespace

v1::Standings RankStandings(
    const google::protobuf::RepeatedPtrField<v1::MedalTally>& tallies) {
  std::vector<const v1::MedalTally*> order;
  order.reserve(tallies.size());
  for (const v1::MedalTally& tally : tallies) order.push_back(&tally);
  std::sort(order.begin(), order.end(),
            [](const v1::MedalTally* a, const v1::MedalTally* b) {
              if (Counts(*a) != Counts(*b)) return Counts(*a) > Counts(*b);
              return a->team() < b->team();
            });
  v1::Standings standings;
  for (size_t i = 0; i < order.size(); ++i) {
    const bool tied = i > 0 && Counts(*order[i]) == Counts(*order[i - 1]);
    v1::Standing* row = standings.add_standings();
    row->set_rank(tied ? standings.standings(static_cast<int>(i) - 1).rank()
                       : static_cast<int>(i) + 1);
    *row->mutable_tally() = *order[i];
    row->set_total(order[i]->gold() + order[i]->silver() + order[i]->bronze());
  }
  return standings;
}

}  // namespace podium
