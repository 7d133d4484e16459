#include "backend/games.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/container/flat_hash_set.h"
#include "common/keys.h"
#include "common/names.h"

namespace podium {
namespace {

// Well past any real games day; keeps a hostile file from eating memory.
constexpr size_t kMaxDeclarations = 10000;

constexpr absl::string_view kDefaultGames = R"(# Podium's built-in games day.
team Gauls
team Romans
team Britons
team Egyptians
event menhir-put
event boar-hunt
event chariot-race
event javelin
event wrestling
event 100m
)";

}  // namespace

namespace {

// `teams=A,B,C`, `mark=KIND`, `medals=G,S,B` of an event line.
absl::Status ParseEventOption(absl::string_view option, v1::EventInfo* info,
                              std::vector<std::string>* teams) {
  std::pair<absl::string_view, absl::string_view> kv =
      absl::StrSplit(option, absl::MaxSplits('=', 1));
  if (kv.first == "teams" && teams->empty()) {
    for (absl::string_view team : absl::StrSplit(kv.second, ',')) {
      if (absl::Status s = ValidateName("team", team); !s.ok()) return s;
      teams->emplace_back(team);
    }
    return absl::OkStatus();
  }
  if (kv.first == "mark" && info->mark() == v1::MARK_KIND_UNSPECIFIED) {
    absl::StatusOr<v1::MarkKind> mark = ParseMark(kv.second);
    if (!mark.ok()) return mark.status();
    info->set_mark(*mark);
    return absl::OkStatus();
  }
  if (kv.first == "medals") {
    std::vector<absl::string_view> counts = absl::StrSplit(kv.second, ',');
    int values[3];
    bool ok = counts.size() == 3;
    for (size_t i = 0; ok && i < 3; ++i) {
      ok = counts[i].size() == 1 && absl::ascii_isdigit(counts[i][0]);
      if (ok) values[i] = counts[i][0] - '0';
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "medals='", kv.second, "' must be three counts 0 to 9, gold,silver,bronze "
          "(medals=1,1,2 for two bronzes)"));
    }
    info->set_golds(values[0]);
    info->set_silvers(values[1]);
    info->set_bronzes(values[2]);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown or repeated event option '", option,
      "': use teams=CODE,CODE,... mark=points|time|distance|rank medals=G,S,B"));
}

}  // namespace

absl::StatusOr<Games> Games::Parse(absl::string_view text,
                                   absl::string_view source) {
  Games games;
  // Each event's teams as written, with the line, checked once all teams
  // are known (an event may name a team declared below it).
  std::vector<std::pair<std::vector<std::string>, int>> listed;
  absl::flat_hash_set<std::string> event_set;
  // Some editors start a UTF-8 file with a byte-order mark.
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_number;
    // Names never contain '#': from it on is a comment, as in replay files.
    absl::string_view line = absl::StripAsciiWhitespace(raw.substr(0, raw.find('#')));
    if (line.empty()) continue;
    auto where = [&] { return absl::StrCat(source, ":", line_number, ": "); };
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() < 2 || (words[0] != "team" && words[0] != "event")) {
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "expected 'team CODE [NAME]' or 'event NAME [OPTION...]', got '", line,
          "'"));
    }
    const bool is_team = words[0] == "team";
    absl::string_view name = words[1];
    if (absl::Status s = ValidateName(words[0], name); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where(), s.message()));
    }
    const bool fresh = is_team ? games.team_set_.insert(std::string(name)).second
                               : event_set.insert(std::string(name)).second;
    if (!fresh) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), words[0], " '", name, "' is declared twice"));
    }
    if (is_team) {
      // The display name is the rest of the line, spaces and all.
      absl::string_view display = line.substr(line.find(name, words[0].size()) + name.size());
      display = absl::StripAsciiWhitespace(display);
      if (display.size() > kMaxNameBytes || !IsValidUtf8(display)) {
        return absl::InvalidArgumentError(absl::StrCat(
            where(), "team '", name, "' has a name that is not UTF-8 of at most ",
            kMaxNameBytes, " bytes"));
      }
      games.teams_.emplace_back(name);
      v1::Team* team = games.spec_.add_teams();
      team->set_code(std::string(name));
      team->set_name(display.empty() ? std::string(name) : std::string(display));
    } else {
      v1::EventInfo* info = games.spec_.add_events();
      info->set_event(std::string(name));
      info->set_golds(1);
      info->set_silvers(1);
      info->set_bronzes(1);
      std::vector<std::string> teams;
      for (size_t i = 2; i < words.size(); ++i) {
        if (absl::Status s = ParseEventOption(words[i], info, &teams); !s.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(where(), s.message()));
        }
      }
      if (info->mark() == v1::MARK_KIND_UNSPECIFIED) info->set_mark(v1::MARK_POINTS);
      games.events_.emplace_back(name);
      listed.emplace_back(std::move(teams), line_number);
    }
    if (games.teams_.size() + games.events_.size() > kMaxDeclarations) {
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "more than ", kMaxDeclarations, " declarations"));
    }
  }
  if (games.teams_.empty() || games.events_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": a games file needs at least one team and one event"));
  }
  for (size_t e = 0; e < games.events_.size(); ++e) {
    const auto& [teams, line] = listed[e];
    absl::flat_hash_set<absl::string_view> named;
    for (const std::string& team : teams) {
      if (!games.team_set_.contains(team)) {
        return absl::InvalidArgumentError(absl::StrCat(
            source, ":", line, ": event '", games.events_[e], "' names team '", team,
            "', which no 'team' line declares"));
      }
      if (!named.insert(team).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            source, ":", line, ": event '", games.events_[e], "' names team '", team,
            "' twice"));
      }
    }
    // The event's teams in the games' order: every team when none is named.
    games.event_index_[games.events_[e]] = static_cast<int>(e);
    std::vector<std::string>& taking_part = games.event_teams_[games.events_[e]];
    for (const std::string& team : games.teams_) {
      if (teams.empty() || named.contains(team)) taking_part.push_back(team);
    }
  }
  return games;
}

bool Games::TakesPart(absl::string_view event, absl::string_view team) const {
  auto it = event_teams_.find(event);
  if (it == event_teams_.end()) return false;
  for (const std::string& code : it->second) {
    if (code == team) return true;
  }
  return false;
}

absl::StatusOr<std::string> Games::KeyOf(absl::string_view name) const {
  if (absl::string_view event = name; absl::ConsumePrefix(&event, "event:")) {
    if (HasEvent(event)) return std::string(name);
    return absl::NotFoundError(absl::StrCat("no event '", event, "' in the games"));
  }
  if (absl::string_view team = name; absl::ConsumePrefix(&team, "team:")) {
    if (HasTeam(team)) return std::string(name);
    return absl::NotFoundError(absl::StrCat("no team '", team, "' in the games"));
  }
  const bool event = HasEvent(name);
  const bool team = HasTeam(name);
  if (event && team) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", name, "' is both an event and a team: say event:", name,
        " or team:", name));
  }
  if (event) return EventKey(name);
  if (team) return TeamKey(name);
  return absl::NotFoundError(
      absl::StrCat("'", name, "' is neither an event nor a team of the games"));
}

absl::StatusOr<Games> Games::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read games file '", path, "'"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

Games Games::Default() {
  absl::StatusOr<Games> games = Parse(kDefaultGames, "built-in games");
  return *std::move(games);  // The built-in text is known to parse.
}

}  // namespace podium
