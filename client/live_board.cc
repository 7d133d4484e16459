#include "client/live_board.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/format.h"
#include "common/names.h"
#include "common/standings.h"

namespace podium {
namespace {

// Fixed rows: header, blank, events' heading, blank, medals' heading, footer.
constexpr int kFixedRows = 6;

std::string Fit(std::string line, int width) {
  if (width > 0 && static_cast<int>(line.size()) > width) line.resize(width);
  return line;
}

std::string AgeText(absl::Time last, absl::Time now) {
  if (last == absl::InfinitePast()) return "no update yet";
  const absl::Duration age = std::max(now - last, absl::ZeroDuration());
  if (age < absl::Seconds(60)) {
    return absl::StrFormat("last update %.1fs ago", absl::ToDoubleSeconds(age));
  }
  return absl::StrCat("last update ",
                      absl::FormatDuration(absl::Trunc(age, absl::Seconds(1))),
                      " ago");
}

}  // namespace

void LiveBoard::Reset(const v1::Board& board) {
  absl::MutexLock lock(&mu_);
  events_.clear();
  teams_.clear();
  for (const v1::EventScore& score : board.events()) {
    if (scores_.emplace(score.event(), score).second ||
        score.version() > scores_[score.event()].version()) {
      scores_[score.event()] = score;
    }
    events_.push_back(score.event());
  }
  for (const v1::MedalTally& tally : board.medals()) {
    if (tallies_.emplace(tally.team(), tally).second ||
        tally.version() > tallies_[tally.team()].version()) {
      tallies_[tally.team()] = tally;
    }
    teams_.push_back(tally.team());
  }
  last_seq_ = std::max(last_seq_, board.seq());
  changed_ = true;
}

void LiveBoard::Apply(const v1::SubscribeUpdate& update, absl::Time now) {
  const v1::Change& change = update.change();
  absl::MutexLock lock(&mu_);
  if (change.has_event()) {
    const v1::EventScore& score = change.event();
    auto [it, added] = scores_.emplace(score.event(), score);
    if (added) {
      events_.push_back(score.event());
    } else if (score.version() > it->second.version()) {
      it->second = score;
    } else {
      return;
    }
  } else if (change.has_medals()) {
    const v1::MedalTally& tally = change.medals();
    auto [it, added] = tallies_.emplace(tally.team(), tally);
    if (added) {
      teams_.push_back(tally.team());
    } else if (tally.version() > it->second.version()) {
      it->second = tally;
    } else {
      return;
    }
  } else {
    return;
  }
  if (change.seq() > last_seq_) {
    last_seq_ = change.seq();
    last_update_ = now;
  }
  changed_ = true;
}

bool LiveBoard::changed() const {
  absl::MutexLock lock(&mu_);
  return changed_;
}

std::vector<std::string> LiveBoard::Render(int width, int height,
                                           const std::string& frontend,
                                           absl::Time now) {
  absl::MutexLock lock(&mu_);
  changed_ = false;
  const int rows = std::max(0, height - kFixedRows);
  const int all_events = static_cast<int>(events_.size());
  const int all_teams = static_cast<int>(teams_.size());
  // Share the rows: the medal table gets what the events leave, but at
  // least a third when both do not fit.
  int team_rows = std::min(all_teams, std::max((rows + 2) / 3, rows - all_events));
  int event_rows = std::min(all_events, rows - team_rows);
  team_rows = std::min(all_teams, rows - event_rows);

  std::vector<std::string> lines;
  lines.push_back(Fit(absl::StrCat("Podium live  |  ", frontend, "  |  seq ",
                                   last_seq_, "  |  ", AgeText(last_update_, now)),
                      width));
  lines.emplace_back();

  size_t event_width = 5;
  for (const std::string& event : events_) {
    event_width = std::max(event_width, event.size());
  }
  const int ew = static_cast<int>(event_width);
  size_t status_width = 6;
  for (const std::string& event : events_) {
    status_width = std::max(status_width, StatusName(scores_.at(event).status()).size());
  }
  const int sw = static_cast<int>(status_width);
  lines.push_back(Fit(absl::StrFormat("%-*s  %-*s  %s", ew, "EVENT", sw, "STATUS", "POINTS"),
                      width));
  auto more = [](int hidden, const char* what) {
    return absl::StrCat("  ... +", hidden, " more ", what);
  };
  for (int i = 0; i < event_rows; ++i) {
    if (i == event_rows - 1 && event_rows < all_events) {
      lines.push_back(Fit(more(all_events - i, "events"), width));
      break;
    }
    const v1::EventScore& score = scores_.at(events_[i]);
    lines.push_back(Fit(absl::StrFormat("%-*s  %-*s  %s", ew, score.event(), sw,
                                        StatusName(score.status()),
                                        PointsText(score)),
                        width));
  }
  lines.emplace_back();

  google::protobuf::RepeatedPtrField<v1::MedalTally> tallies;
  tallies.Reserve(static_cast<int>(teams_.size()));
  for (const std::string& team : teams_) *tallies.Add() = tallies_.at(team);
  const v1::Standings standings = RankStandings(tallies);
  size_t team_width = 4;
  for (const std::string& team : teams_) team_width = std::max(team_width, team.size());
  const int tw = static_cast<int>(team_width);
  lines.push_back(Fit(absl::StrFormat("RANK  %-*s  %4s  %6s  %6s  %5s", tw, "TEAM",
                                      "GOLD", "SILVER", "BRONZE", "TOTAL"),
                      width));
  for (int i = 0; i < team_rows; ++i) {
    if (i == team_rows - 1 && team_rows < all_teams) {
      lines.push_back(Fit(more(all_teams - i, "teams"), width));
      break;
    }
    const v1::Standing& s = standings.standings(i);
    lines.push_back(Fit(absl::StrFormat("%4d  %-*s  %4d  %6d  %6d  %5d", s.rank(), tw,
                                        s.tally().team(), s.tally().gold(),
                                        s.tally().silver(), s.tally().bronze(),
                                        s.total()),
                        width));
  }
  lines.push_back(Fit("q or Ctrl-C quits", width));
  if (height > 0 && static_cast<int>(lines.size()) > height) lines.resize(height);
  return lines;
}

}  // namespace podium
