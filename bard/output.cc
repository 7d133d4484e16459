#include "bard/output.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/names.h"

namespace podium {
namespace {

// Names are validated by the backend to plain characters; escaping anyway
// keeps the output valid JSON whatever a future server sends.
std::string Quoted(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      absl::StrAppend(&out, "\\", std::string(1, c));
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", static_cast<int>(c)));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string EventJson(const v1::EventScore& event) {
  std::vector<std::string> points;
  for (const v1::TeamPoints& entry : event.points()) {
    points.push_back(absl::StrCat(Quoted(entry.team()), ":", entry.points()));
  }
  return absl::StrCat(
      "{\"event\":", Quoted(event.event()),
      ",\"status\":", Quoted(StatusName(event.status())), ",\"points\":{",
      absl::StrJoin(points, ","), "},\"version\":", event.version(),
      ",\"updated_unix_micros\":", event.updated_unix_micros(), "}");
}

std::string MedalsJson(const v1::MedalTally& tally) {
  return absl::StrCat(
      "{\"team\":", Quoted(tally.team()), ",\"gold\":", tally.gold(),
      ",\"silver\":", tally.silver(), ",\"bronze\":", tally.bronze(),
      ",\"version\":", tally.version(), "}");
}

}  // namespace

std::string DescribeReply(const v1::WriteReply& reply) {
  const v1::Change& change = reply.change();
  std::string line = absl::StrCat("seq ", change.seq(), ": ");
  if (change.has_event()) {
    const v1::EventScore& event = change.event();
    absl::StrAppend(&line, event.event());
    for (const v1::TeamPoints& points : event.points()) {
      absl::StrAppend(&line, " ", points.team(), "=", points.points());
    }
    absl::StrAppend(&line, " ", StatusName(event.status()));
  } else if (change.has_medals()) {
    const v1::MedalTally& tally = change.medals();
    absl::StrAppend(&line, tally.team(), " gold=", tally.gold(),
                    " silver=", tally.silver(), " bronze=", tally.bronze());
  } else if (change.has_fans()) {
    absl::StrAppend(&line, change.fans().event(), " fan board, ", change.fans().posts_size(),
                    " posts");
  } else {
    absl::StrAppend(&line, "(no value)");
  }
  if (!change.reason().empty()) absl::StrAppend(&line, " (reason: ", change.reason(), ")");
  if (reply.duplicate()) absl::StrAppend(&line, " (already applied)");
  return line;
}

std::string ReplyToJson(const v1::WriteReply& reply) {
  const v1::Change& change = reply.change();
  std::string json =
      absl::StrCat("{\"seq\":", change.seq(),
                   ",\"duplicate\":", reply.duplicate() ? "true" : "false");
  if (change.has_event()) {
    absl::StrAppend(&json, ",\"event\":", EventJson(change.event()));
  } else if (change.has_medals()) {
    absl::StrAppend(&json, ",\"medals\":", MedalsJson(change.medals()));
  } else if (change.has_fans()) {
    absl::StrAppend(&json, ",\"fans\":", Quoted(change.fans().event()),
                    ",\"posts\":", change.fans().posts_size());
  }
  if (!change.reason().empty()) absl::StrAppend(&json, ",\"reason\":", Quoted(change.reason()));
  json.push_back('}');
  return json;
}

std::string DescribeReplay(const ReplayProgress& progress) {
  return absl::StrCat("replayed ", progress.applied + progress.duplicates,
                      " writes: ", progress.applied, " applied, ",
                      progress.duplicates, " already applied");
}

std::string ReplayToJson(const ReplayProgress& progress) {
  return absl::StrCat("{\"applied\":", progress.applied,
                      ",\"duplicates\":", progress.duplicates, "}");
}

std::string DescribeReport(const SimulationReport& report) {
  std::string text =
      absl::StrCat("simulated ", report.writes, " writes (", report.duplicates,
                   " already applied), ", report.matches, " matches, ",
                   report.rounds, " complete rounds");
  if (report.refused_awards > 0) {
    absl::StrAppend(&text, ", ", report.refused_awards,
                    " awards left out (their events' medals were already awarded)");
  }
  for (const auto& [team, count] : report.medals) {
    absl::StrAppend(&text, "\n", team, " gold=", count.gold,
                    " silver=", count.silver, " bronze=", count.bronze);
  }
  return text;
}

std::string ReportToJson(const SimulationReport& report) {
  std::vector<std::string> medals;
  for (const auto& [team, count] : report.medals) {
    medals.push_back(absl::StrCat(Quoted(team), ":{\"gold\":", count.gold,
                                  ",\"silver\":", count.silver,
                                  ",\"bronze\":", count.bronze, "}"));
  }
  return absl::StrCat(
      "{\"writes\":", report.writes, ",\"duplicates\":", report.duplicates,
      ",\"rounds\":", report.rounds, ",\"matches\":", report.matches,
      ",\"refused_awards\":", report.refused_awards,
      ",\"medals\":{", absl::StrJoin(medals, ","), "}}");
}

}  // namespace podium
