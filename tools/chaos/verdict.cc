#include "tools/chaos/verdict.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/chaos/json_value.h"

namespace podium::chaos {

int64_t JournalTotals::medal_total() const {
  int64_t total = 0;
  for (const auto& [team, tally] : medals) total += tally.total();
  return total;
}

absl::StatusOr<JournalTotals> ParseJournalSummary(absl::string_view output) {
  absl::string_view last;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (absl::StartsWith(line, "{")) last = line;
  }
  if (last.empty()) {
    return absl::InvalidArgumentError("no JSON line in the journal summary");
  }
  absl::StatusOr<JsonValue> json = JsonValue::Parse(last);
  if (!json.ok()) return json.status();
  JournalTotals totals;
  for (auto [name, field] : {std::pair<const char*, int64_t*>{"acked", &totals.acked},
                             {"duplicates", &totals.duplicates},
                             {"pending", &totals.pending},
                             {"refused", &totals.refused}}) {
    absl::StatusOr<int64_t> value = MemberInt64(*json, name);
    if (!value.ok()) return value.status();
    *field = *value;
  }
  const JsonValue* medals = json->Find("medals");
  if (medals == nullptr || !medals->is_object()) {
    return absl::InvalidArgumentError("no \"medals\" object");
  }
  for (size_t i = 0; i < medals->keys().size(); ++i) {
    const JsonValue& entry = medals->items()[i];
    Tally& tally = totals.medals[medals->keys()[i]];
    for (auto [name, field] : {std::pair<const char*, int64_t*>{"gold", &tally.gold},
                               {"silver", &tally.silver},
                               {"bronze", &tally.bronze}}) {
      absl::StatusOr<int64_t> value = MemberInt64(entry, name);
      if (!value.ok()) return value.status();
      *field = *value;
    }
  }
  return totals;
}

std::vector<std::string> DiffViews(const BoardView& want, absl::string_view want_name,
                                   const BoardView& got, absl::string_view got_name, size_t limit) {
  std::vector<std::string> diffs;
  size_t found = 0;
  auto add = [&](std::string line) {
    if (++found <= limit) diffs.push_back(std::move(line));
  };
  for (const auto& [key, value] : want) {
    auto it = got.find(key);
    if (it == got.end()) {
      add(absl::StrCat(key, ": ", want_name, " ", DescribeKeyValue(value), ", ", got_name,
                       " does not have it"));
    } else if (it->second != value) {
      add(absl::StrCat(key, ": ", want_name, " ", DescribeKeyValue(value), ", ", got_name, " ",
                       DescribeKeyValue(it->second)));
    }
  }
  for (const auto& [key, value] : got) {
    if (want.count(key) == 0) {
      add(absl::StrCat(key, ": ", got_name, " ", DescribeKeyValue(value), ", ", want_name,
                       " does not have it"));
    }
  }
  if (found > limit) {
    diffs.push_back(absl::StrCat("... and ", found - limit, " more"));
  }
  return diffs;
}

std::vector<std::string> DiffMedals(const v1::Board& backend, const JournalTotals& journal) {
  std::vector<std::string> diffs;
  std::set<std::string> seen;
  for (const v1::MedalTally& tally : backend.medals()) {
    seen.insert(tally.team());
    Tally acked;
    if (auto it = journal.medals.find(tally.team()); it != journal.medals.end()) {
      acked = it->second;
    }
    if (tally.gold() != acked.gold || tally.silver() != acked.silver ||
        tally.bronze() != acked.bronze) {
      diffs.push_back(absl::StrCat(tally.team(), ": backend gold=", tally.gold(),
                                   " silver=", tally.silver(), " bronze=", tally.bronze(),
                                   ", journal acknowledged gold=", acked.gold,
                                   " silver=", acked.silver, " bronze=", acked.bronze));
    }
  }
  for (const auto& [team, tally] : journal.medals) {
    if (seen.count(team) == 0) {
      diffs.push_back(absl::StrCat(team, ": the journal acknowledges ", tally.total(),
                                   " medals, the backend has no such team"));
    }
  }
  return diffs;
}

void Verdict::Fail(absl::string_view check, absl::string_view detail) {
  violations_.push_back(absl::StrCat(check, ": ", detail));
}

}  // namespace podium::chaos
