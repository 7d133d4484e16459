#include "tools/chaos/board_view.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/keys.h"
#include "common/names.h"

namespace podium::chaos {
namespace {

std::string EventValue(std::string status, std::vector<std::pair<std::string, int64_t>> points) {
  std::sort(points.begin(), points.end());
  std::string value = std::move(status);
  for (const auto& [team, count] : points) {
    absl::StrAppend(&value, " ", team, "=", count);
  }
  return value;
}

std::string TallyValue(int64_t gold, int64_t silver, int64_t bronze) {
  return absl::StrCat("gold=", gold, " silver=", silver, " bronze=", bronze);
}

absl::StatusOr<std::pair<std::string, KeyValue>> EventFromJson(const JsonValue& object,
                                                               const std::string& event) {
  absl::StatusOr<int64_t> version = MemberInt64(object, "version");
  absl::StatusOr<std::string> status = MemberString(object, "status");
  const JsonValue* points = object.Find("points");
  if (!version.ok()) return version.status();
  if (!status.ok()) return status.status();
  if (points == nullptr || !points->is_object()) {
    return absl::InvalidArgumentError("no \"points\" object");
  }
  std::vector<std::pair<std::string, int64_t>> entries;
  for (size_t i = 0; i < points->keys().size(); ++i) {
    absl::StatusOr<int64_t> count = points->items()[i].AsInt64();
    if (!count.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("points of \"", points->keys()[i], "\": ", count.status().message()));
    }
    entries.emplace_back(points->keys()[i], *count);
  }
  return std::make_pair(EventKey(event),
                        KeyValue{*version, EventValue(*status, std::move(entries))});
}

absl::StatusOr<std::pair<std::string, KeyValue>> TallyFromJson(const JsonValue& object,
                                                               const std::string& team) {
  absl::StatusOr<int64_t> version = MemberInt64(object, "version");
  absl::StatusOr<int64_t> gold = MemberInt64(object, "gold");
  absl::StatusOr<int64_t> silver = MemberInt64(object, "silver");
  absl::StatusOr<int64_t> bronze = MemberInt64(object, "bronze");
  for (const auto* field : {&version, &gold, &silver, &bronze}) {
    if (!field->ok()) return field->status();
  }
  return std::make_pair(TeamKey(team), KeyValue{*version, TallyValue(*gold, *silver, *bronze)});
}

}  // namespace

std::string DescribeKeyValue(const KeyValue& value) {
  return absl::StrCat("v", value.version, " ", value.value);
}

BoardView ViewOfBoard(const v1::Board& board) {
  BoardView view;
  for (const v1::EventScore& event : board.events()) {
    std::vector<std::pair<std::string, int64_t>> points;
    for (const v1::TeamPoints& entry : event.points()) {
      points.emplace_back(entry.team(), entry.points());
    }
    view[EventKey(event.event())] =
        KeyValue{event.version(), EventValue(StatusName(event.status()), points)};
  }
  for (const v1::MedalTally& tally : board.medals()) {
    view[TeamKey(tally.team())] =
        KeyValue{tally.version(), TallyValue(tally.gold(), tally.silver(), tally.bronze())};
  }
  return view;
}

absl::StatusOr<std::pair<std::string, KeyValue>> KeyValueFromJson(const JsonValue& object) {
  if (!object.is_object()) return absl::InvalidArgumentError("not an object");
  if (const JsonValue* event = object.Find("event")) {
    absl::StatusOr<std::string> name = event->AsString();
    if (!name.ok()) return absl::InvalidArgumentError("\"event\" not a string");
    return EventFromJson(object, *name);
  }
  if (const JsonValue* team = object.Find("team")) {
    absl::StatusOr<std::string> name = team->AsString();
    if (!name.ok()) return absl::InvalidArgumentError("\"team\" not a string");
    return TallyFromJson(object, *name);
  }
  return absl::InvalidArgumentError("neither \"event\" nor \"team\"");
}

WatchLog ReadWatchLog(absl::string_view output) {
  WatchLog log;
  const std::vector<absl::string_view> lines = absl::StrSplit(output, '\n');
  // StrSplit yields "" after a final newline; anything else there is a
  // line the client did not finish.
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    const absl::string_view line = lines[i];
    const std::string where = absl::StrCat("line ", i + 1);
    absl::StatusOr<JsonValue> json = JsonValue::Parse(line);
    absl::StatusOr<std::pair<std::string, KeyValue>> entry =
        json.ok() ? KeyValueFromJson(*json) : json.status();
    if (!entry.ok()) {
      log.malformed.push_back(
          absl::StrCat(where, ": ", entry.status().message(), ": ", line.substr(0, 200)));
      continue;
    }
    ++log.updates;
    const auto& [key, value] = *entry;
    auto [it, inserted] = log.last.emplace(key, value);
    if (inserted) continue;
    const KeyValue& before = it->second;
    if (value.version < before.version) {
      log.regressions.push_back(absl::StrCat(where, ": ", key, " went from v", before.version,
                                             " back to v", value.version));
    } else if (value.version == before.version) {
      ++log.repeats;
      if (value.value != before.value) {
        log.regressions.push_back(absl::StrCat(where, ": ", key, " v", value.version, " came as '",
                                               before.value, "' and as '", value.value, "'"));
      }
    }
    // The highest version seen stays the reference, so one stale value
    // is one violation, not one per later value.
    if (value.version >= before.version) it->second = value;
  }
  return log;
}

}  // namespace podium::chaos
