// The textual form of one write, shared by the command line (`podium-bard
// set-score ...`, `podium-bard award ...`) and replay files, so that a line
// that works on the command line works in a file and vice versa:
//
//   score:  EVENT TEAM=POINTS [TEAM=POINTS...] [status=STATUS] [reason=TEXT...]
//           (the status alone, without points, is allowed)
//   award:  TEAM gold|silver|bronze [event=EVENT] [reason=TEXT...]
//   revoke: TEAM gold|silver|bronze [event=EVENT] reason=TEXT...
//
// `reason=` comes last and takes the rest of the words (a correction's or a
// disqualification's reason, kept with the change).
//
// Parsing checks everything that can be known without the backend (syntax,
// name spelling, integer points from 0 to kMaxPoints, each team and the status given
// once), so that a malformed batch is rejected before any of it is written.
// Whether the names belong to the games is for the backend to say.
#ifndef PODIUM_BARD_WRITE_WORDS_H_
#define PODIUM_BARD_WRITE_WORDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "podium/v1/backend.pb.h"

namespace podium {

// `words` are what follows the verb. Errors are INVALID_ARGUMENT saying what
// was expected; the idempotency key is left empty.
absl::StatusOr<v1::RecordScoreRequest> ParseScoreWords(
    absl::Span<const absl::string_view> words);
absl::StatusOr<v1::AwardMedalRequest> ParseAwardWords(
    absl::Span<const absl::string_view> words);
// An AwardMedalRequest with revoke set; the reason is required.
absl::StatusOr<v1::AwardMedalRequest> ParseRevokeWords(
    absl::Span<const absl::string_view> words);

// The usage of each form, for error messages and --help.
inline constexpr absl::string_view kScoreUsage =
    "EVENT TEAM=POINTS [TEAM=POINTS...] [status=STATUS] [reason=TEXT...]";
inline constexpr absl::string_view kAwardUsage =
    "TEAM gold|silver|bronze [event=EVENT] [reason=TEXT...]";
inline constexpr absl::string_view kRevokeUsage =
    "TEAM gold|silver|bronze [event=EVENT] reason=TEXT...";

}  // namespace podium

#endif  // PODIUM_BARD_WRITE_WORDS_H_
