// A simulated games day, for demos, load and chaos tests: plausible writes
// at a steady rate for as long as asked.
//
// Each event is a match: reset to scheduled with every team at 0, then live,
// then a number of score updates in which one team's points go up, then
// final, then the medals the event declares (gold, silver and bronze unless
// the games say otherwise) to the top teams by points, ties going to the
// team listed first (fewer medals when there are fewer teams). Several
// matches are in play at once, their writes interleaved. When every event is
// final a new round of rematches starts, so a run lasts its whole duration.
// First-round awards name their event (AwardMedal event=EVENT), which the
// store counts against the medals the event declares; a rematch's awards
// name none (so that their medals go on moving the tallies) and say whose
// they are in their reason (RematchReason). A first-round award the store
// refuses because the event's medals are already awarded (a day played
// before on the same store) is logged, counted and left out.
//
// The sequence of writes depends only on the options (seed included), not
// on timing, so a failing run can be reproduced. Writes carry no idempotency
// key: the ScoreWriter gives each its own and retries it with that key.
#ifndef PODIUM_BARD_SIMULATOR_H_
#define PODIUM_BARD_SIMULATOR_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "bard/score_writer.h"

namespace podium {

struct SimulatorOptions {
  // The games, e.g. from the backend's GetBoard. Both must be non-empty.
  std::vector<std::string> events;
  std::vector<std::string> teams;
  // The teams of an event that not every team takes part in (the codes its
  // board EventScore lists); an event missing here is contested by `teams`.
  absl::flat_hash_map<std::string, std::vector<std::string>> event_teams;
  // The medals of an event that does not award one of each, best place
  // first (gold, silver, bronze, bronze for judo's two bronzes), as its
  // games declare them; an event missing here awards gold, silver, bronze.
  absl::flat_hash_map<std::string, std::vector<v1::Medal>> event_medals;
  // Writes per second; 0 writes as fast as the writer allows.
  double rate = 10;
  // How long to run; zero runs until Stop() (or max_rounds).
  absl::Duration duration = absl::ZeroDuration();
  // Same seed, same writes.
  uint64_t seed = 1;
  // Complete rounds after which to stop; 0 means no limit.
  int64_t max_rounds = 0;
  // Matches in play at once.
  int max_live = 3;
  // Score updates per match, uniformly in [min_updates, max_updates].
  int min_updates = 3;
  int max_updates = 8;
};

struct MedalCount {
  int64_t gold = 0;
  int64_t silver = 0;
  int64_t bronze = 0;
  int64_t total() const { return gold + silver + bronze; }
  bool operator==(const MedalCount& other) const {
    return gold == other.gold && silver == other.silver &&
           bronze == other.bronze;
  }
};

// What the writer acknowledged. A chaos check compares `medals` with the
// backend's tallies: with idempotent retries they must match exactly.
struct SimulationReport {
  int64_t writes = 0;  // acknowledged writes, duplicates included
  int64_t duplicates = 0;
  int64_t rounds = 0;   // rounds completed
  int64_t matches = 0;  // matches that reached final and got their medals
  // First-round awards the store refused because the event had already
  // awarded that medal (an earlier run on the same store); not in `medals`.
  int64_t refused_awards = 0;
  std::map<std::string, MedalCount> medals;  // by team; only teams awarded
};

// The reason a rematch's award carries: "EVENT rematch, round N".
std::string RematchReason(absl::string_view event, int64_t round);

// Run() once, on one thread; report() from any thread.
class Simulator {
 public:
  // `writer` must outlive the simulator. Notifying `stop` (may be null; not
  // owned) from any thread, e.g. on SIGTERM, ends Run() after the write in
  // flight and cuts a pause between writes short. A notification rather than
  // a Stop() method so that one signal can stop both the simulator and the
  // writer's retries, created before the simulator.
  Simulator(SimulatorOptions options, ScoreWriter* writer,
            const absl::Notification* stop = nullptr);

  // Plays until the duration or max_rounds is reached or `stop` is
  // notified, then returns OK. A write that fails (the writer already
  // retried what could be retried) ends the run with that failure; its
  // outcome is then unknown and it is not counted. INVALID_ARGUMENT for
  // unusable options.
  absl::Status Run();

  SimulationReport report() const;

  // INVALID_ARGUMENT for pacing and match options Run() would refuse; lets
  // a command line reject them before the games are fetched. (Run() also
  // needs at least one event and one team.)
  static absl::Status CheckOptions(const SimulatorOptions& options);

 private:
  struct Match;

  // Sends the match's next write and advances it; sets *done after its last
  // medal.
  absl::Status Step(Match* match, std::mt19937_64* rng, bool* done);
  // The medals a finished match awards: one per place its event awards
  // a medal for, as far as it has teams.
  static size_t Awards(const Match& match);
  absl::Status Write(const v1::RecordScoreRequest& request);
  absl::Status Award(const std::string& team, v1::Medal medal, const Match& match);
  bool Stopped() const { return stop_ != nullptr && stop_->HasBeenNotified(); }
  // Waits for the next write's slot (advancing *next_slot); false when the
  // run should end instead.
  bool Pace(absl::Time end, absl::Time* next_slot);

  const SimulatorOptions options_;
  ScoreWriter* const writer_;
  const absl::Notification* const stop_;

  mutable absl::Mutex mu_;
  SimulationReport report_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podium

#endif  // PODIUM_BARD_SIMULATOR_H_
