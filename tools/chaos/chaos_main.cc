// chaos_main: a games day under random process kills, then a check of every
// guarantee an observer can see (tools/chaos/chaos_run.h). Run it through
// scripts/chaos, which builds what it needs first.
#include <stdlib.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/init.h"
#include "common/server.h"
#include "tools/chaos/chaos_run.h"
#include "tools/chaos/fault_plan.h"

ABSL_FLAG(uint64_t, seed, 1,
          "seeds the fault plan and the bard's simulation; the same seed "
          "gives the same faults at the same offsets");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(30),
          "how long faults are injected, e.g. 30s or 5m");
ABSL_FLAG(int, clients, 12, "watching podium-client processes");
ABSL_FLAG(int, frontends, 3, "push-mode podium-frontend processes");
ABSL_FLAG(double, rate, 20, "the bard's writes per second");
ABSL_FLAG(int, max_live, 4, "the bard's matches in play at once");
ABSL_FLAG(std::string, games, "",
          "the backend's games file (e.g. games/paris2024.games); empty: its built-in "
          "games day");
ABSL_FLAG(absl::Duration, settle_timeout, absl::Seconds(30),
          "how long everyone may take to agree once the writes stop");
ABSL_FLAG(std::string, dir, "",
          "directory for logs, database and journal (created; default a new "
          "one under $TMPDIR, removed after a PASS)");
ABSL_FLAG(bool, keep, false, "keep the default directory after a PASS too");
ABSL_FLAG(bool, plan_only, false, "print the fault plan the seed gives and exit, starting nothing");
ABSL_FLAG(bool, replicated, false,
          "run over 3 etcd members and 2 backends (--store=etcd), the frontends and the "
          "bard given both, and add their faults: etcd members SIGKILLed (one at a time, "
          "never a majority), either backend, and a whole host frozen (its etcd member "
          "and backend SIGSTOPped, to the others cut off) and thawed");

namespace {

constexpr char kUsage[] =
    "chaos_main [--duration=30s] [--seed=S] [--clients=12] ...\n"
    "\n"
    "Starts a Podium cluster on loopback (a backend, push-mode frontends,\n"
    "podium-bard simulating at --rate with a --journal, and clients running\n"
    "`podium-client --json watch`), SIGKILLs one process at a time at random\n"
    "offsets and restarts it 0.2-3 s later, then stops the bard, lets the\n"
    "system settle and checks: no process exits unasked; the backend, every\n"
    "frontend and every client agree on the final board; every team's\n"
    "medals equal the awards the bard's journal acknowledged; no client sees\n"
    "a version go back; exactly one master, the highest pid.\n"
    "\n"
    "Reproducibility: the fault plan (what is killed when, and for how long)\n"
    "depends only on --seed and --duration, and so does the bard's sequence\n"
    "of writes; each kill and restart is printed with its planned offset so\n"
    "two runs can be compared. Wall-clock effects are not reproducible: pids,\n"
    "which frontend is master when 'master' is killed, how far the bard got,\n"
    "and therefore the final board may differ between runs of one seed.\n"
    "\n"
    "Prints one line per kill and restart, every violation, and last one\n"
    "verdict line: 'chaos: PASS ...' or 'chaos: FAIL ...: <first violation>'.\n"
    "Exit status: 0 PASS, 1 FAIL, 2 usage error.";

// A fresh directory under $TMPDIR (or /tmp).
std::string MakeTempDir() {
  const char* base = getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp", "/podium-chaos-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

}  // namespace

int main(int argc, char** argv) {
  podium::BlockTerminationSignals();
  podium::CommandLine command_line = podium::InitProcess(argc, argv, kUsage);
  if (command_line.exit_code) return *command_line.exit_code;
  const std::vector<std::string> args = std::move(command_line.args);
  if (!args.empty()) {
    std::cerr << "chaos: unexpected argument '" << args[0] << "'\n";
    return 2;
  }
  podium::chaos::ChaosOptions options;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.clients = absl::GetFlag(FLAGS_clients);
  options.frontends = absl::GetFlag(FLAGS_frontends);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.max_live = absl::GetFlag(FLAGS_max_live);
  // The backend runs in the run's directory: the file is named absolutely.
  if (!absl::GetFlag(FLAGS_games).empty()) {
    options.games = std::filesystem::absolute(absl::GetFlag(FLAGS_games)).string();
  }
  options.settle_timeout = absl::GetFlag(FLAGS_settle_timeout);
  options.replicated = absl::GetFlag(FLAGS_replicated);

  podium::chaos::FaultPlanOptions plan;
  plan.seed = options.seed;
  plan.duration = options.duration;
  plan.frontends = options.frontends;
  plan.clients = options.clients;
  plan.replicated = options.replicated;
  if (absl::Status s = podium::chaos::CheckFaultPlanOptions(plan); !s.ok()) {
    std::cerr << "chaos: " << s.message() << "\n";
    return 2;
  }
  if (!(options.rate > 0) || options.max_live < 1) {
    std::cerr << "chaos: --rate must be positive and --max_live at least 1\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_plan_only)) {
    for (const podium::chaos::Fault& fault : podium::chaos::PlanFaults(plan)) {
      std::cout << absl::StrFormat("+%.3fs kill %s, restart at +%.3fs",
                                   absl::ToDoubleSeconds(fault.kill_at),
                                   podium::chaos::VictimName(fault, plan.replicated),
                                   absl::ToDoubleSeconds(fault.restart_at()))
                << std::endl;
    }
    return 0;
  }

  options.dir = absl::GetFlag(FLAGS_dir);
  const bool own_dir = options.dir.empty();
  if (own_dir) options.dir = MakeTempDir();
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (options.dir.empty() || error) {
    std::cerr << "chaos: cannot create the directory '" << options.dir << "': " << error.message()
              << "\n";
    return 2;
  }

  // SIGINT/SIGTERM end the run early; the cluster's children are still
  // killed and reaped on the way out.
  absl::Notification interrupt;
  options.interrupt = &interrupt;
  std::thread([&interrupt] {
    podium::WaitForTerminationSignal();
    interrupt.Notify();
  }).detach();

  const bool passed = podium::chaos::RunChaos(options, &std::cout);
  if (passed && own_dir && !absl::GetFlag(FLAGS_keep)) {
    std::filesystem::remove_all(options.dir, error);
  } else {
    std::cout << "chaos: logs in " << options.dir << std::endl;
  }
  return passed ? 0 : 1;
}
