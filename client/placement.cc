#include "client/placement.h"

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

}  // namespace podium
