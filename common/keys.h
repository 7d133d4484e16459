// Cache keys: one namespace for every kind of value, "event:NAME",
// "team:NAME" and "fans:EVENT" (a fan board), as the change log, caches and
// subscriptions see them.
#ifndef PODIUM_COMMON_KEYS_H_
#define PODIUM_COMMON_KEYS_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "podium/v1/types.pb.h"

namespace podium {

inline std::string EventKey(absl::string_view event) {
  return absl::StrCat("event:", event);
}

inline std::string TeamKey(absl::string_view team) {
  return absl::StrCat("team:", team);
}

// An event's fan board.
inline std::string FansKey(absl::string_view event) {
  return absl::StrCat("fans:", event);
}

// The key a change is about.
inline std::string ChangeKey(const v1::Change& change) {
  if (change.has_fans()) return FansKey(change.fans().event());
  return change.has_event() ? EventKey(change.event().event())
                            : TeamKey(change.medals().team());
}

}  // namespace podium

#endif  // PODIUM_COMMON_KEYS_H_
