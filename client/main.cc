// podium-client: reads and watches the scoreboard from the command line.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "client/commands.h"
#include "client/repeat.h"
#include "client/scoreboard_client.h"
#include "client/top.h"
#include "common/backoff.h"
#include "common/init.h"
#include "common/server.h"
#include "common/status_util.h"
#include "common/tls.h"

ABSL_FLAG(std::vector<std::string>, frontends, {},
          "frontends to read and watch through, host:port,host:port,... "
          "(seeds: the client asks them for the whole tier and settles on "
          "the least-loaded one); when neither this nor --backend is given, "
          "$PODIUM_FRONTENDS, else the local cluster of ./scripts/run, "
          "127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103");
ABSL_FLAG(std::string, backend, "",
          "read this podium-backend directly instead (diagnostics; not with "
          "--frontends), host:port");
ABSL_FLAG(absl::Duration, wait_for_frontends, absl::Seconds(30),
          "watch, top and repeated runs: how long to keep trying while no "
          "frontend has ever answered; then exit 1 (after the first answer "
          "they ride out any outage)");
ABSL_FLAG(bool, json, false,
          "print one JSON object per line instead of text (see "
          "docs/client.md for the fields)");
ABSL_FLAG(bool, medals, false,
          "watch: also watch every team's medal tally");
ABSL_FLAG(absl::Duration, interval, absl::ZeroDuration(),
          "repeat the command with this pause between runs (e.g. 500ms, 2s) "
          "until SIGINT/SIGTERM or --count runs; 0 runs it once");
ABSL_FLAG(int64_t, count, 0,
          "number of runs; 0 means one without --interval and unlimited "
          "with it");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(2), "deadline of each read");

namespace {

// ./scripts/run's frontends at its default PODIUM_PORT.
constexpr char kDefaultFrontends[] = "127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103";

constexpr char kSummary[] = "reads and watches the live Podium scoreboard.";

constexpr char kUsage[] =
    "usage: podium-client [--frontends=HOST:PORT,... | --backend=HOST:PORT] "
    "[--json]\n"
    "                     [--interval=D [--count=N]] COMMAND\n"
    "\n"
    "Commands:\n"
    "  get-score EVENT     one event's score: status, points per team, "
    "version\n"
    "  get-medals [TEAM]   one team's medal tally, or the medal table\n"
    "  medals              the medal table: rank, team, gold, silver, bronze,\n"
    "                      total; ranked by gold, then silver, then bronze\n"
    "  board               every event, then the medal table\n"
    "  history NAME        every change of an event or a team the backend's\n"
    "                      change log still holds: seq, time, value, reason\n"
    "                      (event:NAME or team:NAME when a name is both)\n"
    "  health              SERVING when the server is up and serving\n"
    "  frontends           every frontend: address, pid, master, cache "
    "mode,\n"
    "                      clients, alive (through frontends)\n"
    "  watch [EVENT...] [--medals]\n"
    "                      every update of the events (and with --medals "
    "of\n"
    "                      every tally) as it happens, until SIGINT/SIGTERM;\n"
    "                      neither given: everything (through frontends)\n"
    "  top                 a full-screen live scoreboard: every event, the\n"
    "                      ranked medal table, the frontend, the last update;\n"
    "                      q or Ctrl-C quits (through frontends)\n"
    "\n"
    "Without --frontends or --backend the client goes through the frontends\n"
    "in $PODIUM_FRONTENDS, else those of ./scripts/run (127.0.0.1:7101-7103).\n"
    "\n"
    "Flags may come before or after the command. With --interval the "
    "command\nrepeats (a failed read is reported and retried) until "
    "SIGINT/SIGTERM or\n--count runs. See docs/client.md.\n"
    "\n"
    "Exit status: 0 success, 1 a read failed (or no frontend answered within\n"
    "--wait_for_frontends), 2 a usage error.\n"
    "\n"
    "Examples:\n"
    "  podium-client --frontends=127.0.0.1:7101,127.0.0.1:7102 board\n"
    "  podium-client --frontends=127.0.0.1:7101 --json watch menhir-put\n"
    "  podium-client --backend=127.0.0.1:7100 get-medals Gauls\n"
    "  podium-client medals\n"
    "  podium-client history USA\n"
    "  podium-client top\n";

void PrintError(const absl::Status& raw) {
  const absl::Status status = podium::ExplainTlsMismatch(raw);
  std::cerr << "podium-client: " << absl::StatusCodeToString(status.code())
            << ": " << status.message() << std::endl;
}

int UsageError(const absl::Status& status) {
  std::cerr << "podium-client: " << status.message() << "\n\n"
            << kUsage << std::flush;
  return 2;
}

// The flags that cannot go together, as a usage error.
absl::Status CheckFlagCombinations(const podium::Command& command,
                                   bool frontends_given, bool backend_given,
                                   const podium::RepeatOptions& repeat) {
  if (frontends_given && backend_given) {
    return absl::InvalidArgumentError(
        "--frontends and --backend are mutually exclusive");
  }
  if (podium::NeedsFrontends(command.kind) && backend_given) {
    return absl::InvalidArgumentError(
        "this command is served by frontends: give --frontends, not --backend");
  }
  if (command.medals && command.kind != podium::CommandKind::kWatch) {
    return absl::InvalidArgumentError("--medals goes with 'watch' only");
  }
  if (podium::RunsUntilStopped(command.kind) && podium::IsRepeated(repeat)) {
    return absl::InvalidArgumentError(
        "'watch' and 'top' run until stopped; --interval and --count do not "
        "apply");
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage = absl::StrCat(kSummary, "\n\n", kUsage);
  podium::CommandLine command_line = podium::InitProcess(argc, argv, usage.c_str());
  if (command_line.exit_code) return *command_line.exit_code;
  std::vector<std::string> args = std::move(command_line.args);
  absl::StatusOr<podium::Command> command = podium::ParseCommand(args);
  if (!command.ok()) return UsageError(command.status());
  command->medals = absl::GetFlag(FLAGS_medals);
  podium::RepeatOptions repeat;
  repeat.interval = absl::GetFlag(FLAGS_interval);
  repeat.count = absl::GetFlag(FLAGS_count);
  if (absl::Status s = podium::ValidateRepeatOptions(repeat); !s.ok()) {
    return UsageError(s);
  }
  const std::string backend = absl::GetFlag(FLAGS_backend);
  std::vector<std::string> frontends = absl::GetFlag(FLAGS_frontends);
  if (absl::Status s = CheckFlagCombinations(*command, !frontends.empty(),
                                              !backend.empty(), repeat);
      !s.ok()) {
    return UsageError(s);
  }
  if (frontends.empty() && backend.empty()) {
    const char* env = std::getenv("PODIUM_FRONTENDS");
    frontends = absl::StrSplit(env != nullptr && *env != '\0' ? env : kDefaultFrontends,
                               ',', absl::SkipEmpty());
  }

  // Repeated runs and watch end on SIGINT/SIGTERM, after the current read;
  // a single run keeps the default handling so Ctrl-C stops it at once.
  // Signals must be blocked before gRPC starts its threads.
  const bool until_stopped = podium::RunsUntilStopped(command->kind);
  static absl::Notification* const stop = new absl::Notification;
  if (until_stopped || podium::IsRepeated(repeat)) {
    podium::BlockTerminationSignals();
    std::thread([] {
      podium::WaitForTerminationSignal();
      stop->Notify();
    }).detach();
  }

  podium::ScoreboardClientOptions options;
  options.timeout = absl::GetFlag(FLAGS_timeout);
  auto connect = [&] {
    return frontends.empty()
               ? podium::ScoreboardClient::ConnectToBackend(backend, options)
               : podium::ScoreboardClient::ConnectToFrontends(frontends, options);
  };
  absl::StatusOr<std::unique_ptr<podium::ScoreboardClient>> client = connect();
  // A long-running client started alongside its servers waits for them, as
  // it rides out their restarts later, but not for ever for servers that
  // never answer (a wrong address); a one-shot read reports at once.
  if (until_stopped || podium::IsRepeated(repeat)) {
    const absl::Time started = absl::Now();
    const absl::Time give_up = started + absl::GetFlag(FLAGS_wait_for_frontends);
    podium::Backoff backoff(absl::Milliseconds(100), absl::Seconds(2));
    while (!client.ok() && podium::IsRetryable(client.status()) &&
           absl::Now() < give_up) {
      PrintError(client.status());
      if (stop->WaitForNotificationWithTimeout(
              std::min(backoff.Next(), give_up - absl::Now()))) {
        break;
      }
      client = connect();
    }
    if (!client.ok() && podium::IsRetryable(client.status())) {
      PrintError(absl::Status(
          client.status().code(),
          absl::StrCat(stop->HasBeenNotified() ? "stopped" : "gave up",
                       " after ",
                       absl::FormatDuration(absl::Trunc(absl::Now() - started,
                                                        absl::Milliseconds(100))),
                       ": no server ever answered; is the cluster running "
                       "('./scripts/run status')?")));
      return 1;
    }
  }
  if (!client.ok()) {
    if (client.status().code() == absl::StatusCode::kInvalidArgument) {
      return UsageError(client.status());
    }
    PrintError(client.status());
    return 1;
  }

  const bool json = absl::GetFlag(FLAGS_json);
  if (until_stopped) {
    absl::Status status =
        command->kind == podium::CommandKind::kTop
            ? podium::RunTop(client->get(), stop)
            : podium::RunWatch(*command, json, client->get(), stop, &std::cout);
    if (status.ok()) return 0;
    PrintError(status);
    return 1;
  }
  absl::Status status = podium::Repeat(
      repeat, stop,
      [&] {
        return podium::RunCommand(*command, json, client->get(), &std::cout);
      },
      PrintError);
  if (status.ok()) return 0;
  // Repeated runs have already reported each failure as it happened.
  if (!podium::IsRepeated(repeat)) PrintError(status);
  return 1;
}
