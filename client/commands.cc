#include "client/commands.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "client/format.h"
#include "common/json.h"
#include "common/standings.h"

namespace podium {
namespace {

absl::Status WrongArguments(absl::string_view command,
                            absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("'", command, "' takes ", expected));
}

absl::Status RunGetScore(const std::string& event, bool json,
                         ScoreboardClient* client, std::string* out) {
  absl::StatusOr<v1::EventScore> score = client->GetScore(event);
  if (!score.ok()) return score.status();
  *out = json ? EventScoreJson(*score) : EventScoreText(*score);
  out->push_back('\n');
  return absl::OkStatus();
}

absl::Status RunGetMedals(const std::string& team, bool json,
                          ScoreboardClient* client, std::string* out) {
  if (!team.empty()) {
    absl::StatusOr<v1::MedalTally> tally = client->GetMedals(team);
    if (!tally.ok()) return tally.status();
    *out = json ? MedalTallyJson(*tally) : MedalTallyText(*tally);
    out->push_back('\n');
    return absl::OkStatus();
  }
  absl::StatusOr<v1::Standings> standings = client->GetStandings();
  if (!standings.ok()) return standings.status();
  if (!json) {
    *out = StandingsText(*standings);
    return absl::OkStatus();
  }
  for (const v1::Standing& standing : standings->standings()) {
    absl::StrAppend(out, StandingJson(standing), "\n");
  }
  return absl::OkStatus();
}

absl::Status RunBoard(bool json, ScoreboardClient* client, std::string* out) {
  absl::StatusOr<v1::Board> board = client->GetBoard();
  if (!board.ok()) return board.status();
  if (!json) {
    *out = BoardText(*board);
    return absl::OkStatus();
  }
  // The seq the board is as of, as the text form's first line says.
  absl::StrAppend(out, "{\"board_seq\":", board->seq(), "}\n");
  for (const v1::EventScore& score : board->events()) {
    absl::StrAppend(out, EventScoreJson(score), "\n");
  }
  const v1::Standings standings = RankStandings(board->medals());
  for (const v1::Standing& standing : standings.standings()) {
    absl::StrAppend(out, StandingJson(standing), "\n");
  }
  return absl::OkStatus();
}

absl::Status RunHistory(const std::string& name, bool json, ScoreboardClient* client,
                        std::string* out) {
  absl::StatusOr<v1::History> history = client->GetHistory(name);
  if (!history.ok()) return history.status();
  *out = json ? HistoryJson(*history) : HistoryText(*history);
  return absl::OkStatus();
}

absl::Status RunHealth(bool json, ScoreboardClient* client, std::string* out) {
  if (absl::Status status = client->CheckHealth(); !status.ok()) return status;
  *out = json ? absl::StrCat("{\"address\":", JsonQuote(client->address()),
                             ",\"status\":\"SERVING\"}\n")
              : "SERVING\n";
  return absl::OkStatus();
}

absl::Status RunFrontends(bool json, ScoreboardClient* client,
                          std::string* out) {
  absl::StatusOr<v1::ListFrontendsReply> reply = client->ListFrontends();
  if (!reply.ok()) return reply.status();
  const std::vector<v1::FrontendInfo> frontends(reply->frontends().begin(),
                                                reply->frontends().end());
  if (!json) {
    *out = FrontendTableText(frontends);
    return absl::OkStatus();
  }
  for (const v1::FrontendInfo& info : frontends) {
    absl::StrAppend(out, FrontendInfoJson(info), "\n");
  }
  return absl::OkStatus();
}

}  // namespace

bool NeedsFrontends(CommandKind kind) {
  return kind == CommandKind::kFrontends || RunsUntilStopped(kind);
}

bool RunsUntilStopped(CommandKind kind) {
  return kind == CommandKind::kWatch || kind == CommandKind::kTop;
}

SubscriptionKeys WatchKeys(const Command& command) {
  if (command.events.empty() && !command.medals) {
    return SubscriptionKeys::Everything();
  }
  SubscriptionKeys keys;
  keys.events = command.events;
  keys.all_teams = command.medals;
  return keys;
}

absl::StatusOr<Command> ParseCommand(absl::Span<const std::string> args) {
  if (args.empty()) {
    return absl::InvalidArgumentError("no command given");
  }
  const std::string& name = args[0];
  const size_t operands = args.size() - 1;
  Command command;
  if (name == "get-score") {
    if (operands != 1) return WrongArguments(name, "exactly one EVENT");
    command.kind = CommandKind::kGetScore;
    command.name = args[1];
  } else if (name == "get-medals") {
    if (operands > 1) return WrongArguments(name, "at most one TEAM");
    command.kind = CommandKind::kGetMedals;
    if (operands == 1) command.name = args[1];
  } else if (name == "medals") {
    if (operands != 0) return WrongArguments(name, "no arguments");
    command.kind = CommandKind::kGetMedals;
  } else if (name == "board") {
    if (operands != 0) return WrongArguments(name, "no arguments");
    command.kind = CommandKind::kBoard;
  } else if (name == "history") {
    if (operands != 1) return WrongArguments(name, "exactly one EVENT or TEAM");
    command.kind = CommandKind::kHistory;
    command.name = args[1];
  } else if (name == "health") {
    if (operands != 0) return WrongArguments(name, "no arguments");
    command.kind = CommandKind::kHealth;
  } else if (name == "frontends") {
    if (operands != 0) return WrongArguments(name, "no arguments");
    command.kind = CommandKind::kFrontends;
  } else if (name == "top") {
    if (operands != 0) return WrongArguments(name, "no arguments");
    command.kind = CommandKind::kTop;
  } else if (name == "watch") {
    command.kind = CommandKind::kWatch;
    command.events.assign(args.begin() + 1, args.end());
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown command '", name, "'"));
  }
  return command;
}

absl::Status RunCommand(const Command& command, bool json,
                        ScoreboardClient* client, std::ostream* out) {
  std::string text;
  absl::Status status;
  switch (command.kind) {
    case CommandKind::kGetScore:
      status = RunGetScore(command.name, json, client, &text);
      break;
    case CommandKind::kGetMedals:
      status = RunGetMedals(command.name, json, client, &text);
      break;
    case CommandKind::kBoard:
      status = RunBoard(json, client, &text);
      break;
    case CommandKind::kHistory:
      status = RunHistory(command.name, json, client, &text);
      break;
    case CommandKind::kHealth:
      status = RunHealth(json, client, &text);
      break;
    case CommandKind::kFrontends:
      status = RunFrontends(json, client, &text);
      break;
    case CommandKind::kWatch:
    case CommandKind::kTop:
      return absl::InvalidArgumentError(
          "'watch' and 'top' run until stopped; run them with RunWatch, RunTop");
  }
  if (!status.ok()) return status;
  *out << text << std::flush;
  return absl::OkStatus();
}

absl::Status RunWatch(const Command& command, bool json,
                      ScoreboardClient* client, const absl::Notification* stop,
                      std::ostream* out) {
  absl::StatusOr<std::unique_ptr<Subscriber>> subscription =
      client->Subscribe(WatchKeys(command), [json, out](const v1::SubscribeUpdate& update) {
        *out << (json ? SubscribeUpdateJson(update) : SubscribeUpdateText(update))
             << std::endl;
      });
  if (!subscription.ok()) return subscription.status();
  // Bounded waits, so that whichever comes first ends the loop promptly.
  while (!stop->WaitForNotificationWithTimeout(absl::Milliseconds(100))) {
    if ((*subscription)->WaitForEnd(absl::ZeroDuration())) {
      return (*subscription)->status();
    }
  }
  return absl::OkStatus();
}

}  // namespace podium
