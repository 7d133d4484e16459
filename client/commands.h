// The podium-client commands, apart from flags and process exit, so that
// tests and other programs run exactly what the CLI runs.
//
//   get-score EVENT     one event's score
//   get-medals [TEAM]   one team's tally, or the ranked medal table
//   medals              the ranked medal table
//   board               every event, then every tally
//   history NAME        every retained change of an event or a team
//   health              whether the server reports SERVING
//   frontends           the frontend tier's membership (through frontends)
//   watch [EVENT...]    live updates until stopped (through frontends)
//   top                 a full-screen live scoreboard (through frontends)
#ifndef PODIUM_CLIENT_COMMANDS_H_
#define PODIUM_CLIENT_COMMANDS_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/types/span.h"
#include "client/scoreboard_client.h"

namespace podium {

enum class CommandKind {
  kGetScore,
  kGetMedals,
  kBoard,
  kHealth,
  kFrontends,
  kHistory,
  kWatch,
  kTop
};

struct Command {
  Command() = default;
  Command(CommandKind kind, std::string name) : kind(kind), name(std::move(name)) {}

  CommandKind kind = CommandKind::kBoard;
  // The event of get-score; the team of get-medals (empty: every team);
  // the event or team of history.
  std::string name;
  // watch: the events to watch, and whether to watch every team's medals
  // (--medals). Neither means everything.
  std::vector<std::string> events;
  bool medals = false;
};

// True for the commands that need frontends (not --backend).
bool NeedsFrontends(CommandKind kind);

// What `watch` subscribes to.
SubscriptionKeys WatchKeys(const Command& command);

// Parses the positional arguments of the command line. INVALID_ARGUMENT,
// worded to go above the usage text, for an unknown command or a wrong
// number of arguments.
absl::StatusOr<Command> ParseCommand(absl::Span<const std::string> args);

// Whether `command` runs until stopped (watch, top) rather than once.
bool RunsUntilStopped(CommandKind kind);

// Runs `command` (any but watch and top) once through `client` and writes the result to `out`:
// with `json` one JSON object per line (see client/format.h), otherwise
// text for people. On failure writes nothing and returns the client's
// status, so output is never a half-printed board.
absl::Status RunCommand(const Command& command, bool json,
                        ScoreboardClient* client, std::ostream* out);

// Runs watch: subscribes through `client` and writes each update to `out`
// as it arrives, one line each (JSON with `json`, see client/format.h),
// until `stop` is notified (then OK) or the frontends refuse the
// subscription (then why, e.g. NOT_FOUND for an unknown event).
absl::Status RunWatch(const Command& command, bool json,
                      ScoreboardClient* client, const absl::Notification* stop,
                      std::ostream* out);

}  // namespace podium

#endif  // PODIUM_CLIENT_COMMANDS_H_
