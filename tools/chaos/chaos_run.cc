#include "tools/chaos/chaos_run.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/chaos/board_view.h"
#include "tools/chaos/chaos_cluster.h"
#include "tools/chaos/fault_plan.h"
#include "tools/chaos/verdict.h"

namespace podium::chaos {
namespace {

constexpr char kNoCrash[] = "(0) no unasked exit";
constexpr char kOneBoard[] = "(1) one final board";
constexpr char kMedals[] = "(2) medals = acknowledged awards";
constexpr char kExactlyOnce[] = "(2) each write applied once";
constexpr char kMonotonic[] = "(3) monotonic versions";
constexpr char kOneMaster[] = "(4) one master";
constexpr char kJsonLines[] = "(--json) one value per line";
constexpr char kHarness[] = "harness";

std::string FirstLine(const std::string& text) {
  return std::string(text.substr(0, text.find('\n')));
}

class ChaosRun {
 public:
  ChaosRun(const ChaosOptions& options, std::ostream* out)
      : options_(options),
        out_(*out),
        cluster_({options.dir, options.seed, options.frontends, options.clients, options.rate,
                  options.max_live, options.games, options.replicated}) {}

  bool Run() {
    FaultPlanOptions plan_options;
    plan_options.seed = options_.seed;
    plan_options.duration = options_.duration;
    plan_options.frontends = options_.frontends;
    plan_options.clients = options_.clients;
    plan_options.replicated = options_.replicated;
    const std::vector<Fault> plan = PlanFaults(plan_options);
    out_ << "chaos: seed=" << options_.seed
         << " duration=" << absl::FormatDuration(options_.duration) << " faults=" << plan.size()
         << " frontends=" << options_.frontends << " clients=" << options_.clients
         << (options_.replicated ? " replicated (3 etcd members, 2 backends)" : "")
         << " dir=" << options_.dir << std::endl;
    if (absl::Status s = cluster_.Start(options_.start_timeout); !s.ok()) {
      verdict_.Fail(kHarness, absl::StrCat("could not start the cluster: ", s.ToString()));
      return Report();
    }
    start_ = absl::Now();
    if (InjectFaults(plan) && WaitUntil(options_.duration)) Finish();
    return Report();
  }

 private:
  void Print(absl::Duration offset, const std::string& text) {
    out_ << absl::StrFormat("chaos: +%.3fs %s", absl::ToDoubleSeconds(offset), text) << std::endl;
  }

  // Sleeps until `offset` after the start, restarting (and reporting) any
  // process that exited unasked meanwhile. False when interrupted.
  bool WaitUntil(absl::Duration offset) {
    for (;;) {
      for (const std::string& exit : cluster_.RestartUnexpectedExits()) {
        Print(absl::Now() - start_, "UNASKED EXIT " + FirstLine(exit));
        verdict_.Fail(kNoCrash, exit);
      }
      const absl::Duration left = start_ + offset - absl::Now();
      if (left <= absl::ZeroDuration()) return true;
      if (options_.interrupt != nullptr && options_.interrupt->WaitForNotificationWithTimeout(
                                               std::min(left, absl::Milliseconds(100)))) {
        verdict_.Fail(kHarness, "interrupted by a signal");
        return false;
      }
      if (options_.interrupt == nullptr) {
        absl::SleepFor(std::min(left, absl::Milliseconds(100)));
      }
    }
  }

  // "", or " late=0.42s" when the step ran behind its planned offset (a
  // restart waiting for health takes time).
  std::string Lateness(absl::Duration planned) const {
    const absl::Duration late = absl::Now() - start_ - planned;
    return late > absl::Milliseconds(250)
               ? absl::StrFormat(" late=%.2fs", absl::ToDoubleSeconds(late))
               : "";
  }

  bool InjectFaults(const std::vector<Fault>& plan) {
    for (const Fault& fault : plan) {
      if (!WaitUntil(fault.kill_at)) return false;
      absl::StatusOr<Victim> victim = cluster_.Kill(fault);
      if (!victim.ok()) {
        verdict_.Fail(kHarness, victim.status().ToString());
        return false;
      }
      const std::string name =
          fault.target == Target::kMaster ? "master -> " + victim->name : victim->name;
      Print(fault.kill_at, absl::StrCat("kill ", name, Lateness(fault.kill_at)));
      ++kills_;
      if (!WaitUntil(fault.restart_at())) return false;
      if (absl::Status s = cluster_.Restart(*victim); !s.ok()) {
        verdict_.Fail(kHarness, absl::StrCat("could not restart ", name, ": ", s.ToString()));
        return false;
      }
      Print(fault.restart_at(), absl::StrCat("restart ", name, " pid=", cluster_.Pid(*victim),
                                             Lateness(fault.restart_at())));
    }
    return true;
  }

  // Stops the writes, completes the journal, lets the system converge and
  // runs the checks.
  void Finish() {
    absl::StatusOr<int> bard = cluster_.StopBard(absl::Seconds(20));
    Print(absl::Now() - start_,
          absl::StrCat("bard stopped: ",
                       bard.ok() ? absl::StrCat("wait status ", *bard) : bard.status().ToString()));
    absl::StatusOr<std::string> summary = cluster_.JournalSummary(absl::Seconds(90));
    absl::StatusOr<JournalTotals> totals =
        summary.ok() ? ParseJournalSummary(*summary) : summary.status();
    if (!totals.ok()) {
      verdict_.Fail(kMedals, absl::StrCat("no journal summary: ", totals.status().ToString()));
    } else {
      totals_ = *totals;
      have_totals_ = true;
      if (totals_.pending != 0) {
        verdict_.Fail(kMedals, absl::StrCat(totals_.pending,
                                            " writes still pending after "
                                            "journal-summary re-sent them"));
      }
    }
    Settle();
    CheckFinalBoard();
    CheckClientHistories();
    if (absl::Status s = cluster_.WaitForOneMaster(absl::Seconds(5)); !s.ok()) {
      verdict_.Fail(kOneMaster, s.message());
    }
    WaitUntil(absl::ZeroDuration());  // a last look for unasked exits
  }

  // Who still differs from the backend's board: one line per difference.
  std::vector<std::string> Disagreements(const v1::Board& truth) {
    const BoardView want = ViewOfBoard(truth);
    std::vector<std::string> lines;
    for (int i = 0; i < cluster_.frontends(); ++i) {
      const std::string name = absl::StrCat("frontend-", i);
      absl::StatusOr<v1::Board> board = cluster_.FrontendBoard(i);
      if (!board.ok()) {
        lines.push_back(board.status().ToString());
        continue;
      }
      for (std::string& diff : DiffViews(want, "backend", ViewOfBoard(*board), name)) {
        lines.push_back(std::move(diff));
      }
    }
    for (int i = 0; i < cluster_.clients(); ++i) {
      const WatchLog log =
          ReadWatchLog(harness::ReadFileOrEmpty(cluster_.client_outputs(i).back()));
      for (std::string& diff : DiffViews(want, "backend", log.last, absl::StrCat("client-", i))) {
        lines.push_back(std::move(diff));
      }
    }
    return lines;
  }

  void Settle() {
    const absl::Time begin = absl::Now();
    const absl::Time deadline = begin + options_.settle_timeout;
    for (;;) {
      absl::StatusOr<v1::Board> truth = cluster_.BackendBoard();
      if (truth.ok()) {
        board_ = *truth;
        if (Disagreements(board_).empty()) break;
      }
      if (absl::Now() > deadline) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    Print(absl::Now() - start_,
          absl::StrFormat("settle: waited %.2fs for every frontend and client "
                          "to reach the backend's seq %d",
                          absl::ToDoubleSeconds(absl::Now() - begin), board_.seq()));
  }

  void CheckFinalBoard() {
    absl::StatusOr<v1::Board> truth = cluster_.BackendBoard();
    if (!truth.ok()) {
      verdict_.Fail(kOneBoard, truth.status().ToString());
      return;
    }
    board_ = *truth;
    for (const std::string& line : Disagreements(board_)) {
      verdict_.Fail(kOneBoard, line);
    }
    if (!have_totals_) return;  // already a violation
    for (const std::string& line : DiffMedals(board_, totals_)) {
      verdict_.Fail(kMedals, line);
    }
    // The bard is the only writer and the backend gives each applied write
    // the next seq: one write applied twice (a score as much as a medal)
    // shows as a head seq beyond the writes acknowledged.
    if (board_.seq() - cluster_.seq_base() != totals_.acked) {
      verdict_.Fail(kExactlyOnce, absl::StrCat("the backend's head seq is ", board_.seq(), " (",
                                               board_.seq() - cluster_.seq_base(),
                                               " after the start) but the journal acknowledges ",
                                               totals_.acked, " writes"));
    }
  }

  void CheckClientHistories() {
    for (int i = 0; i < cluster_.clients(); ++i) {
      const std::vector<std::string>& lives = cluster_.client_outputs(i);
      for (size_t life = 0; life < lives.size(); ++life) {
        const WatchLog log = ReadWatchLog(harness::ReadFileOrEmpty(lives[life]));
        updates_ += log.updates;
        const std::string who =
            absl::StrCat("client-", i, " (life ", life + 1, ", ", lives[life], ") ");
        for (const std::string& line : log.regressions) {
          verdict_.Fail(kMonotonic, who + line);
        }
        for (const std::string& line : log.malformed) {
          verdict_.Fail(kJsonLines, who + line);
        }
      }
    }
  }

  bool Report() {
    for (const std::string& violation : verdict_.violations()) {
      out_ << "chaos: violation " << violation << std::endl;
    }
    const std::string stats = absl::StrCat(
        "seed=", options_.seed, " duration=", absl::FormatDuration(options_.duration),
        " kills=", kills_, " writes=", totals_.acked, " medals=", totals_.medal_total(),
        " seq=", board_.seq(), " updates=", updates_, " clients=", options_.clients);
    if (verdict_.passed()) {
      out_ << "chaos: PASS " << stats << std::endl;
      return true;
    }
    out_ << "chaos: FAIL " << stats << " (" << verdict_.violations().size()
         << " violations): " << FirstLine(verdict_.violations().front()) << std::endl;
    return false;
  }

  const ChaosOptions& options_;
  std::ostream& out_;
  ChaosCluster cluster_;
  Verdict verdict_;
  absl::Time start_ = absl::Now();
  int kills_ = 0;
  int64_t updates_ = 0;
  JournalTotals totals_;
  bool have_totals_ = false;
  v1::Board board_;
};

}  // namespace

bool RunChaos(const ChaosOptions& options, std::ostream* out) {
  return ChaosRun(options, out).Run();
}

}  // namespace podium::chaos
