// The games: which events are held and which teams compete. Every team takes
// part in every event. Writes naming anything else are rejected.
//
// Games file format (UTF-8 text, one declaration a line):
//
//   # comment; blank lines are ignored
//   team Gauls
//   team Romans
//   event menhir-put
//
// Names are 1 to 128 characters of letters, digits, '_', '-', '.' or '\''.
// A name may be declared once. At least one team and one event are needed.
#ifndef PODIUM_BACKEND_GAMES_H_
#define PODIUM_BACKEND_GAMES_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

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
  const std::vector<std::string>& teams() const { return teams_; }
  bool HasEvent(absl::string_view name) const {
    return event_set_.contains(name);
  }
  bool HasTeam(absl::string_view name) const {
    return team_set_.contains(name);
  }

 private:
  std::vector<std::string> events_;
  std::vector<std::string> teams_;
  absl::flat_hash_set<std::string> event_set_;
  absl::flat_hash_set<std::string> team_set_;
};

}  // namespace podium

#endif  // PODIUM_BACKEND_GAMES_H_
