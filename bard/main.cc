// podium-bard: the official scorer's feed. Sings scores and medals into the
// backend: one write from the command line, a replay file, or a simulated
// games day. Every write is retried with its idempotency key, so it is
// applied once however often the backend restarts meanwhile.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "bard/bard_writer.h"
#include "bard/journal.h"
#include "bard/journaled_writer.h"
#include "bard/output.h"
#include "bard/replay.h"
#include "bard/simulator.h"
#include "bard/write_words.h"
#include "common/auth.h"
#include "common/init.h"
#include "common/server.h"
#include "common/tls.h"
#include "glog/logging.h"

ABSL_FLAG(std::string, backend, "127.0.0.1:7100",
          "backend address, host:port; or several backends over one etcd cluster, "
          "host:port,host:port,... (a write's retries go to the next when one fails, "
          "under the same idempotency key)");
ABSL_FLAG(std::string, write_token_file, "var/write.token",
          "file whose first line is the backend's write token");
ABSL_FLAG(bool, json, false,
          "print results as JSON, one object per line, instead of text");
ABSL_FLAG(std::string, status, "",
          "set-score: the event's new result status (ODF): start_list, live, "
          "intermediate, unconfirmed, unofficial, official or protested; "
          "scheduled and final are read as start_list and official");
ABSL_FLAG(std::string, event, "", "award, revoke: the event the medal was won in");
ABSL_FLAG(std::string, reason, "",
          "set-score, award, revoke: why (a correction's or a disqualification's "
          "reason, kept with the change; required by revoke)");
ABSL_FLAG(double, rate, 10, "simulate: writes per second; 0 is unpaced");
ABSL_FLAG(absl::Duration, duration, absl::ZeroDuration(),
          "simulate: how long to run, e.g. 90s or 5m; 0 runs until SIGTERM");
ABSL_FLAG(uint64_t, seed, 1, "simulate: the same seed gives the same writes");
ABSL_FLAG(int64_t, rounds, 0,
          "simulate: stop after this many rounds of every event; 0 = no limit");
ABSL_FLAG(int, max_live, 3, "simulate: matches in play at once");
ABSL_FLAG(absl::Duration, retry_budget, absl::Seconds(60),
          "how long a write keeps being retried while the backend is down");
ABSL_FLAG(absl::Duration, attempt_timeout, absl::Seconds(5),
          "deadline of each attempt of a write");
ABSL_FLAG(std::string, replay_name, "",
          "replay: the name that, with each line, makes its idempotency key; "
          "empty means the file's base name (docs/replay.md)");
ABSL_FLAG(std::string, journal, "",
          "journal FILE: every write is recorded before it is sent and its "
          "answer after; on start, writes a killed bard left unanswered are "
          "re-sent first (docs/replay.md)");

namespace {

constexpr char kUsage[] =
    "podium-bard [--backend=ADDR] [--write_token_file=FILE] COMMAND ...\n"
    "\n"
    "Sings scores and medals into the Podium backend. Each write carries an\n"
    "idempotency key and is retried with it while the backend is down, so\n"
    "it is applied exactly once.\n"
    "\n"
    "Commands:\n"
    "  set-score EVENT TEAM=POINTS [TEAM=POINTS...] "
    "[--status=STATUS]\n"
    "  award TEAM gold|silver|bronze [--event=EVENT]\n"
    "                   with --event, counted against the medals the event\n"
    "                   declares (medals=G,S,B, 1,1,1 by default): refused\n"
    "                   once it has awarded them all\n"
    "  revoke TEAM gold|silver|bronze [--event=EVENT] --reason=TEXT\n"
    "                   takes a medal away (a disqualification; with --event\n"
    "                   the event may award it again); refused when the team\n"
    "                   has none of that kind\n"
    "  replay FILE      the writes of a replay file, in order "
    "(docs/replay.md)\n"
    "  simulate [--rate=N] [--duration=D] [--seed=S] [--rounds=R]\n"
    "                   a games day, its events played again in rounds; only\n"
    "                   the first round's medals count against the events\n"
    "  journal-summary  with --journal: the writes and medals it records as\n"
    "                   acknowledged, after re-sending pending writes\n"
    "  remove-post EVENT POST_ID [--reason=TEXT]\n"
    "                   an operator's removal of a fan's post from the event's\n"
    "                   fan board (POST_ID as the board shows it); not\n"
    "                   journaled: running it again after success says the\n"
    "                   board shows no such post\n"
    "\n"
    "With --journal=FILE every command records its writes in FILE and first\n"
    "re-sends the writes an earlier, killed bard left unanswered, so each is\n"
    "applied exactly once.\n"
    "\n"
    "set-score, award, revoke and remove-post print the backend's reply\n"
    "(--json: as JSON).\n"
    "Exit status: 0 success; 1 a write or read failed, a replay file is\n"
    "malformed, or a signal stopped the run; 2 usage error.";

constexpr int kFailed = 1;
constexpr int kUsageError = 2;

int Fail(const absl::Status& raw, int exit_code = kFailed) {
  const absl::Status status = podium::ExplainTlsMismatch(raw);
  std::cerr << "podium-bard: " << absl::StatusCodeToString(status.code())
            << ": " << status.message() << std::endl;
  return exit_code;
}

int Usage(absl::string_view message) {
  return Fail(absl::InvalidArgumentError(
                  absl::StrCat(message, " (see podium-bard --help)")),
              kUsageError);
}

void Print(const std::string& text, const std::string& json) {
  std::cout << (absl::GetFlag(FLAGS_json) ? json : text) << std::endl;
}

// Turns the first SIGINT/SIGTERM into `on_signal` (the signals are blocked in
// every thread, so only this one receives them). The destructor wakes and
// joins the waiting thread when no signal came.
class StopOnSignal {
 public:
  explicit StopOnSignal(std::function<void()> on_signal)
      : thread_([this, on_signal = std::move(on_signal)] {
          const int signal_number = podium::WaitForTerminationSignal();
          if (finished_.load()) return;
          LOG(INFO) << "signal " << signal_number
                    << ": stopping after the write in flight";
          on_signal();
        }) {}
  ~StopOnSignal() {
    finished_.store(true);
    // Directed at the waiter, which sigwaits for it: nothing else sees it.
    pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
  }

 private:
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

// The arguments after the command, with `flag_word` ("status=live") added
// when its flag was given, so flags and positional words parse alike. The
// views point into `args` and `flag_word`.
int PrintReply(const absl::StatusOr<podium::v1::WriteReply>& reply) {
  if (!reply.ok()) return Fail(reply.status());
  Print(podium::DescribeReply(*reply), podium::ReplyToJson(*reply));
  return 0;
}

// The words of a command line: its operands, then each flag given as the
// word a replay line would hold (the reason last, as it must be).
std::vector<std::string> FlagWords(std::initializer_list<std::pair<const char*, std::string>> flags) {
  std::vector<std::string> words;
  for (const auto& [key, value] : flags) {
    if (!value.empty()) words.push_back(absl::StrCat(key, "=", value));
  }
  return words;
}

std::vector<absl::string_view> Words(const std::vector<std::string>& args,
                                     const std::vector<std::string>& flag_words) {
  std::vector<absl::string_view> words(args.begin() + 1, args.end());
  words.insert(words.end(), flag_words.begin(), flag_words.end());
  return words;
}

absl::StatusOr<podium::v1::RecordScoreRequest> ScoreFromArgs(
    const std::vector<std::string>& args) {
  const std::vector<std::string> flags = FlagWords(
      {{"status", absl::GetFlag(FLAGS_status)}, {"reason", absl::GetFlag(FLAGS_reason)}});
  return podium::ParseScoreWords(Words(args, flags));
}

absl::StatusOr<podium::v1::AwardMedalRequest> AwardFromArgs(
    const std::vector<std::string>& args, bool revoke) {
  const std::vector<std::string> flags = FlagWords(
      {{"event", absl::GetFlag(FLAGS_event)}, {"reason", absl::GetFlag(FLAGS_reason)}});
  return revoke ? podium::ParseRevokeWords(Words(args, flags))
                : podium::ParseAwardWords(Words(args, flags));
}

// The commands read the games through `reader` and write through `writer`
// (the journaled one with --journal).
int RunReplay(const podium::Replay& replay, podium::BardWriter* reader,
              podium::ScoreWriter* writer, const absl::Notification* stop) {
  absl::StatusOr<podium::v1::Board> board = reader->GetBoard();
  if (!board.ok()) return Fail(board.status());
  if (absl::Status s = podium::CheckReplayNames(replay, *board); !s.ok()) {
    return Fail(s);
  }
  podium::ReplayProgress progress;
  absl::Status status = podium::RunReplay(replay, writer, stop, &progress);
  Print(podium::DescribeReplay(progress), podium::ReplayToJson(progress));
  return status.ok() ? 0 : Fail(status);
}

// Prints what the journal records, also when re-sending its pending writes
// failed (`resent`): then the counts are not final and the exit status says
// so.
int PrintSummary(const podium::Journal& journal, const absl::Status& resent) {
  const podium::JournalSummary summary = journal.Summary();
  Print(podium::DescribeJournalSummary(journal.path(), summary),
        podium::JournalSummaryToJson(summary));
  return resent.ok() ? 0 : Fail(resent);
}

podium::SimulatorOptions SimulatorOptionsFromFlags() {
  podium::SimulatorOptions options;
  options.rate = absl::GetFlag(FLAGS_rate);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.max_rounds = absl::GetFlag(FLAGS_rounds);
  options.max_live = absl::GetFlag(FLAGS_max_live);
  return options;
}

int Simulate(podium::SimulatorOptions options, podium::BardWriter* reader,
             podium::ScoreWriter* writer, const absl::Notification* stop) {
  absl::StatusOr<podium::v1::Board> board = reader->GetBoard();
  if (!board.ok()) return Fail(board.status());
  for (const auto& event : board->events()) {
    options.events.push_back(event.event());
  }
  for (const auto& tally : board->medals()) {
    options.teams.push_back(tally.team());
  }
  for (const auto& event : board->events()) {
    if (event.points_size() == static_cast<int>(options.teams.size())) continue;
    std::vector<std::string>& teams = options.event_teams[event.event()];
    for (const auto& points : event.points()) teams.push_back(points.team());
  }
  for (const auto& info : board->games().events()) {
    if (info.golds() == 1 && info.silvers() == 1 && info.bronzes() == 1) continue;
    std::vector<podium::v1::Medal>& medals = options.event_medals[info.event()];
    medals.insert(medals.end(), info.golds(), podium::v1::GOLD);
    medals.insert(medals.end(), info.silvers(), podium::v1::SILVER);
    medals.insert(medals.end(), info.bronzes(), podium::v1::BRONZE);
  }
  podium::Simulator simulator(std::move(options), writer, stop);
  const absl::Status status = simulator.Run();
  const podium::SimulationReport report = simulator.report();
  Print(podium::DescribeReport(report), podium::ReportToJson(report));
  return status.ok() ? 0 : Fail(status);
}

}  // namespace

int main(int argc, char** argv) {
  podium::BlockTerminationSignals();
  podium::CommandLine command_line = podium::InitProcess(argc, argv, kUsage);
  if (command_line.exit_code) return *command_line.exit_code;
  const std::vector<std::string> args = std::move(command_line.args);
  if (args.empty()) return Usage("no command given");
  const std::string& command = args[0];
  if (!absl::GetFlag(FLAGS_status).empty() && command != "set-score") {
    return Usage("--status applies to set-score only");
  }
  const bool medal_command = command == "award" || command == "revoke";
  if (!absl::GetFlag(FLAGS_event).empty() && !medal_command) {
    return Usage("--event applies to award and revoke only");
  }
  if (!absl::GetFlag(FLAGS_reason).empty() && !medal_command && command != "set-score" &&
      command != "remove-post") {
    return Usage("--reason applies to set-score, award, revoke and remove-post only");
  }
  // Whatever can be checked without the backend is, before the token file
  // is read or the backend called: a usage error never half-runs.
  absl::StatusOr<podium::v1::RecordScoreRequest> score;
  absl::StatusOr<podium::v1::AwardMedalRequest> award;
  absl::StatusOr<podium::Replay> replay;
  podium::v1::RemovePostRequest removal;
  const podium::SimulatorOptions simulation = SimulatorOptionsFromFlags();
  if (command == "set-score") {
    score = ScoreFromArgs(args);
    if (!score.ok()) {
      return Usage(absl::StrCat("set-score: ", score.status().message()));
    }
  } else if (medal_command) {
    award = AwardFromArgs(args, command == "revoke");
    if (!award.ok()) {
      return Usage(absl::StrCat(command, ": ", award.status().message()));
    }
  } else if (command == "remove-post") {
    int64_t id = 0;
    if (args.size() != 3 || !absl::SimpleAtoi(args[2], &id) || id <= 0) {
      return Usage("remove-post: expected EVENT POST_ID (the post's id, a seq)");
    }
    removal.set_event(args[1]);
    removal.set_post_id(id);
    removal.set_reason(absl::GetFlag(FLAGS_reason));
  } else if (command == "replay") {
    if (args.size() != 2) return Usage("replay: expected one FILE");
    replay = podium::LoadReplayFile(args[1], absl::GetFlag(FLAGS_replay_name));
    if (!replay.ok()) return Fail(replay.status());
  } else if (command == "simulate") {
    if (args.size() != 1) {
      return Usage(
          absl::StrCat("simulate: unexpected argument '", args[1], "'"));
    }
    if (absl::Status s = podium::Simulator::CheckOptions(simulation); !s.ok()) {
      return Usage(absl::StrCat("simulate: ", s.message()));
    }
  } else if (command == "journal-summary") {
    if (args.size() != 1) {
      return Usage(absl::StrCat("journal-summary: unexpected argument '",
                                args[1], "'"));
    }
    if (absl::GetFlag(FLAGS_journal).empty()) {
      return Usage("journal-summary needs --journal=FILE");
    }
  } else {
    return Usage(absl::StrCat("unknown command '", command, "'"));
  }
  std::unique_ptr<podium::Journal> journal;
  if (!absl::GetFlag(FLAGS_journal).empty()) {
    absl::StatusOr<std::unique_ptr<podium::Journal>> opened =
        podium::Journal::Open(absl::GetFlag(FLAGS_journal));
    if (!opened.ok()) return Fail(opened.status());
    journal = *std::move(opened);
  }
  // A summary with nothing to re-send needs neither token nor backend.
  if (command == "journal-summary" && journal->Pending().empty()) {
    return PrintSummary(*journal, absl::OkStatus());
  }
  absl::StatusOr<std::string> token =
      podium::ReadTokenFile(absl::GetFlag(FLAGS_write_token_file));
  if (!token.ok()) return Fail(token.status());

  absl::Notification stop;
  podium::BardWriterOptions options;
  options.retry_budget = absl::GetFlag(FLAGS_retry_budget);
  options.attempt_timeout = absl::GetFlag(FLAGS_attempt_timeout);
  options.stop = &stop;
  podium::BardWriter writer(absl::GetFlag(FLAGS_backend), *std::move(token),
                            options);
  // Also for one write: a signal ends its retries while the backend is down.
  StopOnSignal on_signal([&] { stop.Notify(); });
  podium::ScoreWriter* out = &writer;
  std::unique_ptr<podium::JournaledWriter> journaled;
  if (journal != nullptr) {
    journaled = std::make_unique<podium::JournaledWriter>(
        journal.get(), &writer, [&writer] { return writer.NextKey(); });
    out = journaled.get();
    // What an earlier bard left unanswered goes first: nothing new is
    // written while an older write's outcome is unknown.
    const absl::Status resent = journaled->ResendPending();
    if (command == "journal-summary") return PrintSummary(*journal, resent);
    if (!resent.ok()) return Fail(resent);
  }
  if (command == "set-score") {
    return PrintReply(out->RecordScore(*std::move(score)));
  }
  if (medal_command) return PrintReply(out->AwardMedal(*std::move(award)));
  if (command == "remove-post") return PrintReply(writer.RemovePost(std::move(removal)));
  if (command == "replay") return RunReplay(*replay, &writer, out, &stop);
  return Simulate(simulation, &writer, out, &stop);
}
