#include "client/format.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json.h"
#include "common/names.h"
#include "common/standings.h"

namespace podium {
namespace {

std::string EventLine(const v1::EventScore& score, size_t event_width,
                      size_t status_width) {
  return absl::StrFormat("%-*s  %-*s  %s  (v%d)", static_cast<int>(event_width),
                         score.event(), static_cast<int>(status_width),
                         StatusName(score.status()), PointsText(score),
                         score.version());
}

}  // namespace

std::string PointsText(const v1::EventScore& score) {
  if (score.points().empty()) return "-";
  std::string out;
  for (const v1::TeamPoints& points : score.points()) {
    absl::StrAppend(&out, out.empty() ? "" : " : ", points.team(), " ",
                    points.points());
  }
  return out;
}

std::string EventScoreJson(const v1::EventScore& score) {
  std::string out = absl::StrCat(
      "{\"event\":", JsonQuote(score.event()),
      ",\"status\":", JsonQuote(StatusName(score.status())), ",\"points\":{");
  bool first = true;
  for (const v1::TeamPoints& points : score.points()) {
    absl::StrAppend(&out, first ? "" : ",", JsonQuote(points.team()), ":",
                    points.points());
    first = false;
  }
  absl::StrAppend(&out, "},\"version\":", score.version(),
                  ",\"updated_unix_micros\":", score.updated_unix_micros(),
                  "}");
  return out;
}

std::string MedalTallyJson(const v1::MedalTally& tally) {
  return absl::StrCat(
      "{\"team\":", JsonQuote(tally.team()), ",\"gold\":", tally.gold(),
      ",\"silver\":", tally.silver(), ",\"bronze\":", tally.bronze(),
      ",\"version\":", tally.version(), "}");
}

std::string StandingJson(const v1::Standing& standing) {
  const v1::MedalTally& tally = standing.tally();
  return absl::StrCat("{\"rank\":", standing.rank(), ",\"team\":", JsonQuote(tally.team()),
                      ",\"gold\":", tally.gold(), ",\"silver\":", tally.silver(),
                      ",\"bronze\":", tally.bronze(), ",\"total\":", standing.total(),
                      ",\"version\":", tally.version(), "}");
}

std::string EventScoreText(const v1::EventScore& score) {
  return EventLine(score, 0, 0);
}

std::string MedalTallyText(const v1::MedalTally& tally) {
  return absl::StrFormat("%s  gold %d  silver %d  bronze %d  (v%d)",
                         tally.team(), tally.gold(), tally.silver(),
                         tally.bronze(), tally.version());
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
  std::string out = absl::StrFormat("%4s  %-*s  %6s  %6s  %6s  %6s  %7s\n", "rank", width,
                                    kTeam, "gold", "silver", "bronze", "total", "version");
  for (const v1::Standing& standing : standings.standings()) {
    const v1::MedalTally& tally = standing.tally();
    absl::StrAppendFormat(&out, "%4d  %-*s  %6d  %6d  %6d  %6d  %7d\n", standing.rank(), width,
                          tally.team(), tally.gold(), tally.silver(), tally.bronze(),
                          standing.total(), tally.version());
  }
  return out;
}

std::string SubscribeUpdateJson(const v1::SubscribeUpdate& update) {
  const v1::Change& change = update.change();
  std::string out = change.has_event() ? EventScoreJson(change.event())
                                       : MedalTallyJson(change.medals());
  out.pop_back();  // the closing brace
  absl::StrAppend(&out, ",\"snapshot\":", update.snapshot() ? "true" : "false",
                  "}");
  return out;
}

std::string SubscribeUpdateText(const v1::SubscribeUpdate& update) {
  const v1::Change& change = update.change();
  return absl::StrCat(change.has_event() ? EventScoreText(change.event())
                                         : MedalTallyText(change.medals()),
                      update.snapshot() ? "  [snapshot]" : "");
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
  return absl::StrCat(
      "{\"address\":", JsonQuote(info.address()), ",\"pid\":", info.pid(),
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
    absl::StrAppendFormat(
        &out, "%-*s  pid %*d  %-6s  %-4s  clients %d  %s\n",
        static_cast<int>(address_width), info.address(),
        static_cast<int>(pid_width), info.pid(),
        info.master() ? "master" : "member", CacheModeName(info.cache_mode()),
        info.clients(), info.alive() ? "alive" : "dead");
  }
  return out;
}

std::string BoardText(const v1::Board& board) {
  const std::vector<v1::EventScore> events(board.events().begin(),
                                           board.events().end());
  return absl::StrCat("board at seq ", board.seq(), "\n", EventTableText(events), "\n",
                      StandingsText(RankStandings(board.medals())));
}

}  // namespace podium
