// The end-of-run checks of a chaos run, on data already collected (boards,
// client output, the journal's summary), and the violations they find. No
// processes here: the checks are tested on made-up inputs.
#ifndef PODIUM_TOOLS_CHAOS_VERDICT_H_
#define PODIUM_TOOLS_CHAOS_VERDICT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "podium/v1/types.pb.h"
#include "tools/chaos/board_view.h"

namespace podium::chaos {

struct Tally {
  int64_t gold = 0;
  int64_t silver = 0;
  int64_t bronze = 0;
  int64_t total() const { return gold + silver + bronze; }
};

// `podium-bard --json journal-summary` (docs/replay.md), read back.
struct JournalTotals {
  int64_t acked = 0;
  int64_t duplicates = 0;
  int64_t pending = 0;
  int64_t refused = 0;
  std::map<std::string, Tally> medals;  // acknowledged, by team
  int64_t medal_total() const;
};

// The last JSON object line of the command's stdout. INVALID_ARGUMENT when
// there is none or it lacks a field.
absl::StatusOr<JournalTotals> ParseJournalSummary(absl::string_view output);

// How `got` differs from `want`: keys missing, extra, or with another
// version or value, one line each ("event:boar-hunt: backend v41 live
// Gauls=2 ..., frontend-1 v38 live Gauls=1 ..."), at most `limit` lines
// (the last one then says how many more there are).
std::vector<std::string> DiffViews(const BoardView& want, absl::string_view want_name,
                                   const BoardView& got, absl::string_view got_name,
                                   size_t limit = 5);

// Each team's tally on the backend against the awards the journal records
// as acknowledged (a team the journal never names must have none), one
// line per team that differs.
std::vector<std::string> DiffMedals(const v1::Board& backend, const JournalTotals& journal);

// Violations found so far, in the order found.
class Verdict {
 public:
  // `check` names the guarantee, e.g. "(1) boards agree".
  void Fail(absl::string_view check, absl::string_view detail);
  bool passed() const { return violations_.empty(); }
  const std::vector<std::string>& violations() const { return violations_; }

 private:
  std::vector<std::string> violations_;
};

}  // namespace podium::chaos

#endif  // PODIUM_TOOLS_CHAOS_VERDICT_H_
