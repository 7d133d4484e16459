#include "client/format.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/json.h"
#include "common/names.h"
#include "common/standings.h"

namespace podium {
namespace {

// "(v12)", or "(v12, unverified)" for a value a frontend answered from
// its cache while no backend answered it.
std::string VersionText(int64_t version, bool unverified) {
  return absl::StrCat("(v", version, unverified ? ", unverified)" : ")");
}

// The JSON member saying a value is unverified, only when it is.
const char* UnverifiedJson(bool unverified) { return unverified ? ",\"unverified\":true" : ""; }

std::string EventLine(const v1::EventScore& score, size_t event_width, size_t status_width) {
  return absl::StrFormat("%-*s  %-*s  %s  %s", static_cast<int>(event_width), score.event(),
                         static_cast<int>(status_width), StatusName(score.status()),
                         PointsText(score), VersionText(score.version(), score.unverified()));
}

// What a change did to a tally, from the one before it: "+1 gold",
// "-1 bronze"; "" when it cannot be told.
std::string TallyDelta(const v1::MedalTally* before, const v1::MedalTally& after) {
  if (before == nullptr) return "";
  std::string out;
  const std::pair<const char*, int64_t> deltas[] = {{"gold", after.gold() - before->gold()},
                                                    {"silver", after.silver() - before->silver()},
                                                    {"bronze", after.bronze() - before->bronze()}};
  for (const auto& [medal, delta] : deltas) {
    if (delta == 0) continue;
    absl::StrAppend(&out, out.empty() ? "" : " ", delta > 0 ? "+" : "", delta, " ", medal);
  }
  return out;
}

std::string TimeText(int64_t unix_micros) {
  if (unix_micros == 0) return "-";  // written before times were kept
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S", absl::FromUnixMicros(unix_micros),
                          absl::UTCTimeZone());
}

}  // namespace

std::string HistoryText(const v1::History& history) {
  std::string out =
      absl::StrCat("history of ", history.key(), ", change log at seq ", history.head_seq(), "\n");
  if (history.compacted_through_seq() > 0) {
    absl::StrAppend(&out, "changes up to seq ", history.compacted_through_seq(),
                    " were compacted: this key's changes before them, if it had "
                    "any, are gone\n");
  }
  if (history.changes().empty()) {
    absl::StrAppend(&out, "no retained change of ", history.key(), "\n");
    return out;
  }
  struct Row {
    std::string seq, time, value, reason;
  };
  std::vector<Row> rows;
  // Nothing compacted: a tally's first change starts from zero.
  v1::MedalTally zero;
  const v1::MedalTally* before = history.compacted_through_seq() == 0 ? &zero : nullptr;
  for (const v1::Change& change : history.changes()) {
    Row row{absl::StrCat(change.seq()), "", "", change.reason()};
    if (change.has_event()) {
      row.time = TimeText(change.event().updated_unix_micros());
      row.value =
          absl::StrCat(StatusName(change.event().status()), "  ", PointsText(change.event()));
    } else {
      const v1::MedalTally& tally = change.medals();
      row.time = TimeText(tally.updated_unix_micros());
      row.value = absl::StrFormat("gold %d  silver %d  bronze %d", tally.gold(), tally.silver(),
                                  tally.bronze());
      if (std::string delta = TallyDelta(before, tally); !delta.empty()) {
        absl::StrAppend(&row.value, "  ", delta);
      }
      before = &tally;
    }
    rows.push_back(std::move(row));
  }
  Row header{"seq", "time (UTC)", "value", "reason"};
  size_t widths[3] = {header.seq.size(), header.time.size(), header.value.size()};
  for (const Row& row : rows) {
    widths[0] = std::max(widths[0], row.seq.size());
    widths[1] = std::max(widths[1], row.time.size());
    widths[2] = std::max(widths[2], row.value.size());
  }
  auto line = [&](const Row& row) {
    std::string text = absl::StrFormat("%*s  %-*s  %-*s  %s", static_cast<int>(widths[0]), row.seq,
                                       static_cast<int>(widths[1]), row.time,
                                       static_cast<int>(widths[2]), row.value, row.reason);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return absl::StrCat(text, "\n");
  };
  absl::StrAppend(&out, line(header));
  for (const Row& row : rows) absl::StrAppend(&out, line(row));
  return out;
}

std::string HistoryJson(const v1::History& history) {
  std::string out =
      absl::StrCat("{\"key\":", JsonQuote(history.key()), ",\"head_seq\":", history.head_seq(),
                   ",\"compacted_through_seq\":", history.compacted_through_seq(), "}\n");
  for (const v1::Change& change : history.changes()) {
    std::string value;
    if (change.has_event()) {
      value = EventScoreJson(change.event());
      value.pop_back();  // the closing brace
    } else {
      value = MedalTallyJson(change.medals());
      value.pop_back();
      absl::StrAppend(&value, ",\"updated_unix_micros\":", change.medals().updated_unix_micros());
    }
    absl::StrAppend(&out, value, ",\"seq\":", change.seq(),
                    ",\"reason\":", JsonQuote(change.reason()), "}\n");
  }
  return out;
}

std::string PointsText(const v1::EventScore& score) {
  if (score.points().empty()) return "-";
  std::string out;
  for (const v1::TeamPoints& points : score.points()) {
    absl::StrAppend(&out, out.empty() ? "" : " : ", points.team(), " ", points.points());
  }
  return out;
}

std::string EventScoreJson(const v1::EventScore& score) {
  std::string out =
      absl::StrCat("{\"event\":", JsonQuote(score.event()),
                   ",\"status\":", JsonQuote(StatusName(score.status())), ",\"points\":{");
  bool first = true;
  for (const v1::TeamPoints& points : score.points()) {
    absl::StrAppend(&out, first ? "" : ",", JsonQuote(points.team()), ":", points.points());
    first = false;
  }
  absl::StrAppend(&out, "},\"version\":", score.version(),
                  ",\"updated_unix_micros\":", score.updated_unix_micros(),
                  UnverifiedJson(score.unverified()), "}");
  return out;
}

std::string MedalTallyJson(const v1::MedalTally& tally) {
  return absl::StrCat("{\"team\":", JsonQuote(tally.team()), ",\"gold\":", tally.gold(),
                      ",\"silver\":", tally.silver(), ",\"bronze\":", tally.bronze(),
                      ",\"version\":", tally.version(), UnverifiedJson(tally.unverified()), "}");
}

std::string StandingJson(const v1::Standing& standing) {
  const v1::MedalTally& tally = standing.tally();
  return absl::StrCat("{\"rank\":", standing.rank(), ",\"team\":", JsonQuote(tally.team()),
                      ",\"gold\":", tally.gold(), ",\"silver\":", tally.silver(),
                      ",\"bronze\":", tally.bronze(), ",\"total\":", standing.total(),
                      ",\"version\":", tally.version(), UnverifiedJson(tally.unverified()), "}");
}

std::string EventScoreText(const v1::EventScore& score) { return EventLine(score, 0, 0); }

std::string MedalTallyText(const v1::MedalTally& tally) {
  return absl::StrFormat("%s  gold %d  silver %d  bronze %d  %s", tally.team(), tally.gold(),
                         tally.silver(), tally.bronze(),
                         VersionText(tally.version(), tally.unverified()));
}

std::string EventTableText(absl::Span<const v1::EventScore> scores) {
  size_t event_width = 0;
  size_t status_width = 0;
  for (const v1::EventScore& score : scores) {
    event_width = std::max(event_width, score.event().size());
    status_width = std::max(status_width, StatusName(score.status()).size());
  }
  std::string out;
  for (const v1::EventScore& score : scores) {
    absl::StrAppend(&out, EventLine(score, event_width, status_width), "\n");
  }
  return out;
}

std::string StandingsText(const v1::Standings& standings) {
  constexpr absl::string_view kTeam = "team";
  size_t team_width = kTeam.size();
  for (const v1::Standing& standing : standings.standings()) {
    team_width = std::max(team_width, standing.tally().team().size());
  }
  const int width = static_cast<int>(team_width);
  std::string out = absl::StrFormat("%4s  %-*s  %6s  %6s  %6s  %6s  %7s\n", "rank", width, kTeam,
                                    "gold", "silver", "bronze", "total", "version");
  for (const v1::Standing& standing : standings.standings()) {
    const v1::MedalTally& tally = standing.tally();
    absl::StrAppendFormat(&out, "%4d  %-*s  %6d  %6d  %6d  %6d  %7d\n", standing.rank(), width,
                          tally.team(), tally.gold(), tally.silver(), tally.bronze(),
                          standing.total(), tally.version());
  }
  return out;
}

namespace {

// A fan board in a line: who posted last and how many posts it shows.
std::string FanBoardText(const v1::FanBoard& board) {
  std::string line = absl::StrCat(board.event(), " fan board: ", board.posts_size(), " posts");
  if (board.posts_size() > 0) {
    const v1::FanPost& last = *board.posts().rbegin();
    absl::StrAppend(&line, ", last by ", last.author());
  }
  return absl::StrCat(line, " (v", board.version(), ")");
}

std::string FanBoardJson(const v1::FanBoard& board) {
  std::string json = absl::StrCat("{\"fans\":", JsonQuote(board.event()),
                                  ",\"posts\":", board.posts_size(),
                                  ",\"version\":", board.version(), "}");
  return json;
}

}  // namespace

std::string SubscribeUpdateJson(const v1::SubscribeUpdate& update) {
  const v1::Change& change = update.change();
  std::string out = change.has_fans()    ? FanBoardJson(change.fans())
                    : change.has_event() ? EventScoreJson(change.event())
                                         : MedalTallyJson(change.medals());
  out.pop_back();  // the closing brace
  absl::StrAppend(&out, ",\"snapshot\":", update.snapshot() ? "true" : "false",
                  update.conflated() ? ",\"conflated\":true" : "", "}");
  return out;
}

std::string SubscribeUpdateText(const v1::SubscribeUpdate& update) {
  const v1::Change& change = update.change();
  return absl::StrCat(
      change.has_fans()    ? FanBoardText(change.fans())
      : change.has_event() ? EventScoreText(change.event())
                           : MedalTallyText(change.medals()),
      update.snapshot() ? "  [snapshot]" : "", update.conflated() ? "  [conflated]" : "");
}

std::string CacheModeName(v1::CacheMode mode) {
  switch (mode) {
    case v1::PUSH:
      return "push";
    case v1::PULL:
      return "pull";
    case v1::OFF:
      return "off";
    default:
      return "unspecified";
  }
}

std::string FrontendInfoJson(const v1::FrontendInfo& info) {
  return absl::StrCat("{\"address\":", JsonQuote(info.address()), ",\"pid\":", info.pid(),
                      ",\"master\":", info.master() ? "true" : "false",
                      ",\"cache_mode\":", JsonQuote(CacheModeName(info.cache_mode())),
                      ",\"clients\":", info.clients(),
                      ",\"alive\":", info.alive() ? "true" : "false", "}");
}

std::string FrontendTableText(absl::Span<const v1::FrontendInfo> frontends) {
  size_t address_width = 0;
  size_t pid_width = 0;
  for (const v1::FrontendInfo& info : frontends) {
    address_width = std::max(address_width, info.address().size());
    pid_width = std::max(pid_width, absl::StrCat(info.pid()).size());
  }
  std::string out;
  for (const v1::FrontendInfo& info : frontends) {
    absl::StrAppendFormat(&out, "%-*s  pid %*d  %-6s  %-4s  clients %d  %s\n",
                          static_cast<int>(address_width), info.address(),
                          static_cast<int>(pid_width), info.pid(),
                          info.master() ? "master" : "member", CacheModeName(info.cache_mode()),
                          info.clients(), info.alive() ? "alive" : "dead");
  }
  return out;
}

std::string BoardText(const v1::Board& board) {
  const std::vector<v1::EventScore> events(board.events().begin(), board.events().end());
  return absl::StrCat("board at seq ", board.seq(), "\n", EventTableText(events), "\n",
                      StandingsText(RankStandings(board.medals())));
}

}  // namespace podium
