// The textual form of one write (bard/write_words.h), as `podium-bard
// set-score|award WORDS...` and replay lines give it: the first line of the
// input, split at blanks; "score" or "award" first. write_words.h promises
// that parsing checks everything that can be known without the backend; so
// what it accepts must pass BoardState::Validate against games that hold
// its names.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "backend/board_state.h"
#include "backend/games.h"
#include "bard/write_words.h"
#include "fuzz/fuzz_check.h"

namespace podium {
namespace {

// Games holding `teams` and `events`, and a filler of each kind so that
// both lists are non-empty. The filler names are longer than any name the
// fuzzer is likely to build, so they rarely collide with one.
absl::StatusOr<Games> GamesOf(const std::vector<std::string>& teams,
                              const std::vector<std::string>& events) {
  std::string text = "team filler-team-for-the-fuzzer\nevent filler-event-for-the-fuzzer\n";
  for (const std::string& t : teams) absl::StrAppend(&text, "team ", t, "\n");
  for (const std::string& e : events) absl::StrAppend(&text, "event ", e, "\n");
  return Games::Parse(text, "games of the write");
}

template <typename Request>
void CheckAgainstItsGames(Request request, const std::vector<std::string>& teams,
                          const std::vector<std::string>& events) {
  absl::StatusOr<Games> games = GamesOf(teams, events);
  // The names were accepted, so games spelling them must parse, unless a
  // name collides with a filler (declared twice).
  if (!games.ok()) {
    FUZZ_CHECK(absl::StrContains(games.status().message(), "declared twice"),
               games.status().ToString());
    return;
  }
  request.set_idempotency_key("fuzz-key");
  FUZZ_CHECK_OK(BoardState(*std::move(games)).Validate(request));
}

}  // namespace
}  // namespace podium

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  podium::fuzz::QuietLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  text = text.substr(0, text.find('\n'));
  std::vector<absl::string_view> words =
      absl::StrSplit(text, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
  if (words.empty()) return 0;
  const absl::string_view verb = words[0];
  const absl::Span<const absl::string_view> rest =
      absl::MakeConstSpan(words).subspan(1);
  if (verb == "score") {
    absl::StatusOr<podium::v1::RecordScoreRequest> score =
        podium::ParseScoreWords(rest);
    if (!score.ok()) {
      FUZZ_CHECK(score.status().code() == absl::StatusCode::kInvalidArgument,
                 score.status().ToString());
      return 0;
    }
    FUZZ_CHECK(score->idempotency_key().empty(), "a key was made up");
    std::vector<std::string> teams;
    for (const auto& points : score->points()) teams.push_back(points.team());
    podium::CheckAgainstItsGames(*score, teams, {score->event()});
  } else if (verb == "award") {
    absl::StatusOr<podium::v1::AwardMedalRequest> award =
        podium::ParseAwardWords(rest);
    if (!award.ok()) {
      FUZZ_CHECK(award.status().code() == absl::StatusCode::kInvalidArgument,
                 award.status().ToString());
      return 0;
    }
    FUZZ_CHECK(award->idempotency_key().empty(), "a key was made up");
    std::vector<std::string> events;
    if (!award->event().empty()) events.push_back(award->event());
    podium::CheckAgainstItsGames(*award, {award->team()}, events);
  }
  return 0;
}
