// The scoreboard as the chaos checks compare it: every key ("event:NAME",
// "team:NAME") with its version and its value spelled one canonical way, so
// that the backend's board, a frontend's board and the last values a client
// printed can be compared whatever form they came in.
#ifndef PODIUM_TOOLS_CHAOS_BOARD_VIEW_H_
#define PODIUM_TOOLS_CHAOS_BOARD_VIEW_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "podium/v1/types.pb.h"
#include "tools/chaos/json_value.h"

namespace podium::chaos {

struct KeyValue {
  int64_t version = 0;
  // Events: "live Britons=0 Gauls=3 Romans=1" (teams sorted by name);
  // tallies: "gold=1 silver=0 bronze=2". The update time is left out: it
  // is not part of what the guarantees promise to every reader.
  std::string value;

  bool operator==(const KeyValue& other) const {
    return version == other.version && value == other.value;
  }
  bool operator!=(const KeyValue& other) const { return !(*this == other); }
};

// "v17 live Gauls=3 Romans=1".
std::string DescribeKeyValue(const KeyValue& value);

using BoardView = std::map<std::string, KeyValue>;  // by key

BoardView ViewOfBoard(const v1::Board& board);

// One value printed by `podium-client --json` (an event score or a medal
// tally object, docs/client.md; watch adds "snapshot", which is ignored)
// as its key and value. INVALID_ARGUMENT naming what is missing.
absl::StatusOr<std::pair<std::string, KeyValue>> KeyValueFromJson(const JsonValue& object);

// What one lifetime of a watching client printed.
struct WatchLog {
  BoardView last;       // each key's last value
  int64_t updates = 0;  // values read
  int64_t repeats = 0;  // values whose version the key already had
  // Guarantee 3 broken: a key's version went down, or one version came
  // with two different values. "line N: KEY vA after vB".
  std::vector<std::string> regressions;
  // Complete lines that are not a value. The last line is excused when it
  // has no newline: the client may have been killed while printing it.
  std::vector<std::string> malformed;
};

// Reads the stdout of `podium-client --json watch`.
WatchLog ReadWatchLog(absl::string_view output);

}  // namespace podium::chaos

#endif  // PODIUM_TOOLS_CHAOS_BOARD_VIEW_H_
