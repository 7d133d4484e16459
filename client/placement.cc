#include "client/placement.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"

namespace podium {

absl::StatusOr<std::string> ChooseFrontend(
    const google::protobuf::RepeatedPtrField<v1::FrontendInfo>& frontends,
    const absl::flat_hash_set<std::string>& avoid, std::mt19937_64* rng) {
  std::vector<const v1::FrontendInfo*> least;
  int64_t fewest = 0;
  for (const v1::FrontendInfo& info : frontends) {
    if (!info.alive() || info.address().empty() || avoid.contains(info.address())) {
      continue;
    }
    if (least.empty() || info.clients() < fewest) {
      least.clear();
      fewest = info.clients();
    }
    if (info.clients() == fewest) least.push_back(&info);
  }
  if (least.empty()) {
    return absl::UnavailableError(
        absl::StrCat("no live frontend to go to among the ", frontends.size(), " listed",
                     avoid.empty() ? "" : " (not counting those just failed)"));
  }
  std::uniform_int_distribution<size_t> pick(0, least.size() - 1);
  return least[pick(*rng)]->address();
}

absl::StatusOr<std::string> ChooseFrontendAfterFailure(
    const google::protobuf::RepeatedPtrField<v1::FrontendInfo>& frontends,
    const std::string& failed, const absl::flat_hash_set<std::string>& avoid,
    std::mt19937_64* rng) {
  int64_t arriving = 1;
  std::vector<const v1::FrontendInfo*> survivors;
  for (const v1::FrontendInfo& info : frontends) {
    if (info.address() == failed) {
      arriving = std::max({arriving, info.clients(), info.last_clients()});
    }
    if (!info.alive() || info.address().empty() || avoid.contains(info.address())) continue;
    survivors.push_back(&info);
  }
  if (survivors.empty()) {
    return absl::UnavailableError(
        absl::StrCat("no live frontend to go to among the ", frontends.size(), " listed",
                     avoid.empty() ? "" : " (not counting those just failed)"));
  }
  std::sort(survivors.begin(), survivors.end(),
            [](const v1::FrontendInfo* a, const v1::FrontendInfo* b) {
              return a->clients() < b->clients();
            });
  // The level: fill the least loaded first, then each next one as the
  // level reaches it.
  double level = 0;
  double below = 0;  // clients of the survivors under the level
  for (size_t j = 0; j < survivors.size(); ++j) {
    below += static_cast<double>(survivors[j]->clients());
    level = (static_cast<double>(arriving) + below) / static_cast<double>(j + 1);
    if (j + 1 == survivors.size() || level <= static_cast<double>(survivors[j + 1]->clients())) {
      break;
    }
  }
  std::vector<double> weights;
  double total = 0;
  for (const v1::FrontendInfo* info : survivors) {
    const double weight = std::max(0.0, level - static_cast<double>(info->clients()));
    weights.push_back(weight);
    total += weight;
  }
  double draw = std::uniform_real_distribution<double>(0, total)(*rng);
  for (size_t i = 0; i < survivors.size(); ++i) {
    if (weights[i] > 0 && draw < weights[i]) return survivors[i]->address();
    draw -= weights[i];
  }
  // Rounding left the draw past the last weight: the last one weighed.
  for (size_t i = survivors.size(); i-- > 0;) {
    if (weights[i] > 0) return survivors[i]->address();
  }
  return survivors.front()->address();
}

}  // namespace podium
