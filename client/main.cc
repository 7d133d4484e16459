// podium-client: reads the scoreboard from the command line.
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "client/commands.h"
#include "client/repeat.h"
#include "client/scoreboard_client.h"
#include "common/init.h"
#include "common/server.h"

ABSL_FLAG(std::string, backend, "127.0.0.1:7100",
          "address of the podium-backend to read, host:port");
ABSL_FLAG(bool, json, false,
          "print one JSON object per line instead of text (see "
          "docs/client.md for the fields)");
ABSL_FLAG(absl::Duration, interval, absl::ZeroDuration(),
          "repeat the command with this pause between runs (e.g. 500ms, 2s) "
          "until SIGINT/SIGTERM or --count runs; 0 runs it once");
ABSL_FLAG(int64_t, count, 0,
          "number of runs; 0 means one without --interval and unlimited "
          "with it");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(2), "deadline of each read");

namespace {

constexpr char kSummary[] = "reads the live Podium scoreboard.";

constexpr char kUsage[] =
    "usage: podium-client [--backend=HOST:PORT] [--json] "
    "[--interval=D [--count=N]] COMMAND\n"
    "\n"
    "Commands:\n"
    "  get-score EVENT     one event's score: status, points per team, "
    "version\n"
    "  get-medals [TEAM]   one team's medal tally, or every team's\n"
    "  board               every event, then every team's tally\n"
    "  health              SERVING when the server is up and serving\n"
    "\n"
    "Flags may come before or after the command. With --interval the "
    "command\nrepeats (a failed read is reported and retried) until "
    "SIGINT/SIGTERM or\n--count runs. See docs/client.md.\n"
    "\n"
    "Exit status: 0 success, 1 a read failed, 2 a usage error.\n"
    "\n"
    "Examples:\n"
    "  podium-client get-score menhir-put\n"
    "  podium-client --json get-medals Gauls\n"
    "  podium-client board --interval=1s\n";

void PrintError(const absl::Status& status) {
  std::cerr << "podium-client: " << absl::StatusCodeToString(status.code())
            << ": " << status.message() << std::endl;
}

int UsageError(const absl::Status& status) {
  std::cerr << "podium-client: " << status.message() << "\n\n"
            << kUsage << std::flush;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage = absl::StrCat(kSummary, "\n\n", kUsage);
  std::vector<std::string> args =
      podium::InitProcess(argc, argv, usage.c_str());
  absl::StatusOr<podium::Command> command = podium::ParseCommand(args);
  if (!command.ok()) return UsageError(command.status());
  podium::RepeatOptions repeat;
  repeat.interval = absl::GetFlag(FLAGS_interval);
  repeat.count = absl::GetFlag(FLAGS_count);
  if (absl::Status s = podium::ValidateRepeatOptions(repeat); !s.ok()) {
    return UsageError(s);
  }

  // Repeated runs end on SIGINT/SIGTERM, after the current read; a single
  // run keeps the default handling so Ctrl-C stops it at once. Signals must
  // be blocked before gRPC starts its threads.
  static absl::Notification* const stop = new absl::Notification;
  if (podium::IsRepeated(repeat)) {
    podium::BlockTerminationSignals();
    std::thread([] {
      podium::WaitForTerminationSignal();
      stop->Notify();
    }).detach();
  }

  podium::ScoreboardClientOptions options;
  options.timeout = absl::GetFlag(FLAGS_timeout);
  absl::StatusOr<std::unique_ptr<podium::ScoreboardClient>> client =
      podium::ScoreboardClient::ConnectToBackend(absl::GetFlag(FLAGS_backend),
                                                 options);
  if (!client.ok()) return UsageError(client.status());

  const bool json = absl::GetFlag(FLAGS_json);
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
