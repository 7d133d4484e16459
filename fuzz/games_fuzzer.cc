// Games::Parse (backend/games.h) on arbitrary text: the backend reads a
// games file an operator wrote. Beyond not crashing: what parses has at
// least one team and one event, every name valid and declared once, and
// written back as a games file it parses to the same games.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "backend/games.h"
#include "common/names.h"
#include "fuzz/fuzz_check.h"

namespace podium {
namespace {

void CheckNames(const std::vector<std::string>& names, absl::string_view what,
                bool (Games::*has)(absl::string_view) const,
                const Games& games) {
  absl::flat_hash_set<std::string> seen;
  for (const std::string& name : names) {
    FUZZ_CHECK_OK(ValidateName(what, name));
    FUZZ_CHECK(seen.insert(name).second, absl::StrCat(what, " twice: ", name));
    FUZZ_CHECK((games.*has)(name), absl::StrCat(what, " not found: ", name));
  }
}

}  // namespace
}  // namespace podium

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  podium::fuzz::QuietLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using podium::Games;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Games> games = Games::Parse(text, "fuzz.games");
  if (!games.ok()) {
    FUZZ_CHECK(games.status().code() == absl::StatusCode::kInvalidArgument,
               games.status().ToString());
    return 0;
  }
  FUZZ_CHECK(!games->teams().empty() && !games->events().empty(), "empty games");
  podium::CheckNames(games->teams(), "team", &Games::HasTeam, *games);
  podium::CheckNames(games->events(), "event", &Games::HasEvent, *games);

  std::string again;
  for (const std::string& team : games->teams()) absl::StrAppend(&again, "team ", team, "\n");
  for (const std::string& event : games->events()) absl::StrAppend(&again, "event ", event, "\n");
  absl::StatusOr<Games> reparsed = Games::Parse(again, "written back");
  FUZZ_CHECK_OK(reparsed.status());
  FUZZ_CHECK(reparsed->teams() == games->teams(), again);
  FUZZ_CHECK(reparsed->events() == games->events(), again);
  return 0;
}
