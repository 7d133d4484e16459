#include "backend/games.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
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

absl::StatusOr<Games> Games::Parse(absl::string_view text,
                                   absl::string_view source) {
  Games games;
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
    if (words.size() != 2 || (words[0] != "team" && words[0] != "event")) {
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "expected 'team NAME' or 'event NAME', got '", line, "'"));
    }
    const bool is_team = words[0] == "team";
    absl::string_view name = words[1];
    if (absl::Status s = ValidateName(words[0], name); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where(), s.message()));
    }
    auto& set = is_team ? games.team_set_ : games.event_set_;
    if (!set.insert(std::string(name)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), words[0], " '", name, "' is declared twice"));
    }
    (is_team ? games.teams_ : games.events_).emplace_back(name);
    if (games.teams_.size() + games.events_.size() > kMaxDeclarations) {
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "more than ", kMaxDeclarations, " declarations"));
    }
  }
  if (games.teams_.empty() || games.events_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": a games file needs at least one team and one event"));
  }
  return games;
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
