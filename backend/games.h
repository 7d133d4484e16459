// The games: which events are held, which teams compete and which teams
// take part in which event. Writes naming anything else are rejected.
//
// Games file format (UTF-8 text, one declaration a line; docs/games.md):
//
//   # comment; blank lines are ignored
//   team Gauls                       # the code is also the name shown
//   team USA United States of America
//   event menhir-put                 # every team takes part
//   event judo-73kg teams=USA,Gauls mark=rank medals=1,1,2
//
// A team's code, and an event's name, are 1 to 128 characters of letters,
// digits, '_', '-', '.' or '\''; a team's display name is the rest of its
// line (at most 128 bytes of UTF-8). `teams=` lists declared team codes
// (in any order; the event keeps the games' order), `mark=` is points,
// time, distance or rank, `medals=G,S,B` how many of each medal the event
// awards (0 to 9 each). A name may be declared once. At least one team and
// one event are needed.
#ifndef PODIUM_BACKEND_GAMES_H_
#define PODIUM_BACKEND_GAMES_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "podium/v1/types.pb.h"

namespace podium {

class Games {
 public:
  // `source` names the text in errors ("games.txt"); errors carry the line.
  static absl::StatusOr<Games> Parse(absl::string_view text,
                                     absl::string_view source);
  static absl::StatusOr<Games> LoadFile(const std::string& path);
  // The built-in games day: Gauls, Romans and their neighbours.
  static Games Default();

  const std::vector<std::string>& events() const { return events_; }
  // Team codes, in the file's order.
  const std::vector<std::string>& teams() const { return teams_; }
  bool HasEvent(absl::string_view name) const {
    return event_teams_.contains(name);
  }
  bool HasTeam(absl::string_view code) const {
    return team_set_.contains(code);
  }
  // The codes of the teams taking part in `event` (a known event), in the
  // games' order.
  const std::vector<std::string>& TeamsOf(absl::string_view event) const {
    return event_teams_.at(event);
  }
  bool TakesPart(absl::string_view event, absl::string_view team) const;
  // The key (common/keys.h) `name` stands for: an event or a team of the
  // games, or either spelled out as "event:NAME" / "team:NAME". NOT_FOUND
  // for a name outside the games; INVALID_ARGUMENT for a bare name that is
  // both an event and a team.
  absl::StatusOr<std::string> KeyOf(absl::string_view name) const;
  // A known event's declaration: mark and medals.
  const v1::EventInfo& InfoOf(absl::string_view event) const {
    return spec_.events(event_index_.at(event));
  }
  // Everything the file declares, for the board (v1::Board.games).
  const v1::Games& spec() const { return spec_; }

 private:
  std::vector<std::string> events_;
  std::vector<std::string> teams_;
  absl::flat_hash_set<std::string> team_set_;
  absl::flat_hash_map<std::string, std::vector<std::string>> event_teams_;
  absl::flat_hash_map<std::string, int> event_index_;  // into spec_.events
  v1::Games spec_;
};

}  // namespace podium

#endif  // PODIUM_BACKEND_GAMES_H_
