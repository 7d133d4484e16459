// ParseReplay (bard/replay.h) on arbitrary text: the bard sings a replay
// file an operator recorded or edited. Beyond not crashing, what the header
// promises: every write has a key of its own, names and points the backend
// would accept, and a file that passes ParseReplay and CheckReplayNames
// against a board is refused nothing by that board's BoardState::Validate.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "backend/board_state.h"
#include "backend/games.h"
#include "bard/replay.h"
#include "fuzz/fuzz_check.h"

namespace {

const podium::BoardState& Board() {
  static const auto* board = new podium::BoardState(podium::Games::Default());
  return *board;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  podium::fuzz::QuietLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<podium::Replay> replay =
      podium::ParseReplay(text, "dir/fuzz.replay");
  if (!replay.ok()) {
    FUZZ_CHECK(replay.status().code() == absl::StatusCode::kInvalidArgument,
               replay.status().ToString());
    FUZZ_CHECK(absl::StartsWith(replay.status().message(), "dir/fuzz.replay:"),
               replay.status().ToString());
    return 0;
  }
  // Without a name given, the source as given names the replay.
  FUZZ_CHECK(replay->name == "dir/fuzz.replay", replay->name);

  absl::flat_hash_set<std::string> keys;
  int previous_line = 0;
  for (const podium::ReplayWrite& write : replay->writes) {
    FUZZ_CHECK(write.line > previous_line, "lines out of order");
    previous_line = write.line;
    const std::string& key = std::visit(
        [](const auto& r) -> const std::string& { return r.idempotency_key(); },
        write.request);
    FUZZ_CHECK(absl::StartsWith(key, "replay-"), key);
    FUZZ_CHECK(keys.insert(key).second, "key used twice: " + key);
  }

  const podium::v1::Board board = Board().ToBoard(0);
  if (!podium::CheckReplayNames(*replay, board).ok()) return 0;
  for (const podium::ReplayWrite& write : replay->writes) {
    std::visit([](const auto& r) { FUZZ_CHECK_OK(Board().Validate(r)); },
               write.request);
  }
  return 0;
}
