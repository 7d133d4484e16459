// Spelling of the data model's enums on command lines, in files and in JSON.
#ifndef PODIUM_COMMON_NAMES_H_
#define PODIUM_COMMON_NAMES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "podium/v1/types.pb.h"

namespace podium {

// Limits every server enforces on names (events, teams, idempotency keys).
inline constexpr size_t kMaxNameBytes = 128;
// A write's reason (a correction's, a revocation's), in bytes of UTF-8.
inline constexpr size_t kMaxReasonBytes = 500;
// Points above this are taken for a typo or an attack, not a score; the
// bard checks it too, so that a replay file is refused before any write.
inline constexpr int64_t kMaxPoints = 1'000'000'000;

// The ODF statuses in lower case ("start_list", "live", ..., "official",
// "protested"); "unspecified" for the zero value. ParseStatus also takes
// them in upper case, with '-' for '_', and the old "scheduled" and "final".
std::string StatusName(v1::EventStatus status);
absl::StatusOr<v1::EventStatus> ParseStatus(absl::string_view name);

// "gold", "silver", "bronze".
std::string MedalName(v1::Medal medal);
absl::StatusOr<v1::Medal> ParseMedal(absl::string_view name);

// How many medals of `medal` the event awards (EventInfo's golds, silvers
// or bronzes).
int MedalsAwarded(const v1::EventInfo& info, v1::Medal medal);

// "points", "time", "distance", "rank" (MARK_KIND_UNSPECIFIED is points).
std::string MarkName(v1::MarkKind mark);
absl::StatusOr<v1::MarkKind> ParseMark(absl::string_view name);

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or
// code points past U+10FFFF), as protobuf requires of every string field.
bool IsValidUtf8(absl::string_view text);

// OK when `name` is a plausible event or team name: 1 to kMaxNameBytes
// bytes of letters, digits, '_', '-', '.' or '\''. `what` names the field
// in the error ("event", "team").
absl::Status ValidateName(absl::string_view what, absl::string_view name);

}  // namespace podium

#endif  // PODIUM_COMMON_NAMES_H_
