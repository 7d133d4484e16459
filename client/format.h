// How scores and tallies are printed: one JSON object per value for
// programs (jq, scripts, the web later), and aligned text for people
// watching a terminal. Field names in the JSON are part of Podium's
// public interface (docs/client.md); change them only with a new field.
#ifndef PODIUM_CLIENT_FORMAT_H_
#define PODIUM_CLIENT_FORMAT_H_

#include <string>

#include "absl/types/span.h"
#include "podium/v1/scoreboard.pb.h"
#include "podium/v1/types.pb.h"

namespace podium {

// One line, no trailing newline:
// {"event":"menhir-put","status":"live","points":{"Gauls":3,"Romans":1},
//  "version":17,"updated_unix_micros":1700000000000000}
// Teams appear in the order the server gave them (the games file's).
std::string EventScoreJson(const v1::EventScore& score);

// One line, no trailing newline:
// {"team":"Gauls","gold":1,"silver":0,"bronze":2,"version":9}
std::string MedalTallyJson(const v1::MedalTally& tally);

// One line, no trailing newline: the tally's fields with its rank first
// and its total after the bronzes:
// {"rank":1,"team":"Gauls","gold":1,"silver":0,"bronze":2,"total":3,"version":9}
std::string StandingJson(const v1::Standing& standing);

// One line, no trailing newline: "menhir-put  live  Gauls 3 : Romans 1  (v17)".
std::string EventScoreText(const v1::EventScore& score);
// The points alone: "Gauls 3 : Romans 1"; "-" for a score with no teams,
// so a column is never empty.
std::string PointsText(const v1::EventScore& score);

// One line, no trailing newline: "Gauls  gold 1  silver 0  bronze 2  (v9)".
std::string MedalTallyText(const v1::MedalTally& tally);

// EventScoreText lines with event names and statuses padded to a common
// width, so the points line up; each line ends in '\n'.
std::string EventTableText(absl::Span<const v1::EventScore> scores);

// A table with a header row ("rank team gold silver bronze total version")
// and one right-aligned row per standing, in their order; each line ends
// in '\n'.
std::string StandingsText(const v1::Standings& standings);

// A header naming the board's seq, the events' table, a blank line and
// the medal table, ranked (common/standings.h).
std::string BoardText(const v1::Board& board);

// A subscription's update: the value's JSON object (EventScoreJson or
// MedalTallyJson) with one more field, "snapshot" (true when the value is
// part of a snapshot rather than a single change), last:
// {"team":"Gauls","gold":1,"silver":0,"bronze":2,"version":9,"snapshot":false}
std::string SubscribeUpdateJson(const v1::SubscribeUpdate& update);

// EventScoreText or MedalTallyText, followed by "  [snapshot]" for a
// snapshot's value.
std::string SubscribeUpdateText(const v1::SubscribeUpdate& update);

// One key's history (ScoreboardClient::GetHistory) for people: a header
// naming the key and the log's head, a line saying where the log was
// compacted when it was, then one aligned row per change, oldest first:
// seq, time (UTC), the value (a status and the points, or the tally and
// what the change did to it, "+1 gold"), and the reason when one was
// given. Each line ends in '\n'.
std::string HistoryText(const v1::History& history);

// The same for programs, one JSON object a line: first
// {"key":"team:Gauls","head_seq":57,"compacted_through_seq":0}, then per
// change its value's object (EventScoreJson or MedalTallyJson, the tally
// with "updated_unix_micros" too) with "seq" and "reason" after.
std::string HistoryJson(const v1::History& history);

// "push", "pull", "off"; "unspecified" for the zero value.
std::string CacheModeName(v1::CacheMode mode);

// One line, no trailing newline:
// {"address":"127.0.0.1:7101","pid":4242,"master":true,"cache_mode":"push",
//  "clients":2,"alive":true}
std::string FrontendInfoJson(const v1::FrontendInfo& info);

// One line per frontend, each ending in '\n', columns aligned:
// "127.0.0.1:7101  pid 4242  master  push  clients 2  alive"
// (a frontend that is not master says "member"; one that does not answer
// its peers' heartbeats says "dead").
std::string FrontendTableText(absl::Span<const v1::FrontendInfo> frontends);

}  // namespace podium

#endif  // PODIUM_CLIENT_FORMAT_H_
