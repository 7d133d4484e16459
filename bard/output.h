// What podium-bard prints on stdout: one line per result, either for people
// or, with --json, one JSON object per line for scripts. Kept apart from
// main() so the formats are tested and shared by every command.
#ifndef PODIUM_BARD_OUTPUT_H_
#define PODIUM_BARD_OUTPUT_H_

#include <string>

#include "bard/replay.h"
#include "bard/simulator.h"
#include "podium/v1/backend.pb.h"

namespace podium {

// "seq 42: menhir-put Gauls=3 Romans=1 live" or
// "seq 43: Gauls gold=1 silver=0 bronze=2", with " (already applied)" for a
// duplicate.
std::string DescribeReply(const v1::WriteReply& reply);
// The reply's change, its value spelled as podium-client prints values
// (docs/client.md), plus whether it was a duplicate; one line:
// {"seq":42,"duplicate":false,"event":{"event":"menhir-put",
//  "status":"live","points":{"Gauls":3,"Romans":1},"version":42,
//  "updated_unix_micros":1700000000000000}}
// or {"seq":43,"duplicate":true,"medals":{"team":"Gauls","gold":1,
//  "silver":0,"bronze":2,"version":43}}.
std::string ReplyToJson(const v1::WriteReply& reply);

std::string DescribeReplay(const ReplayProgress& progress);
std::string ReplayToJson(const ReplayProgress& progress);

// One line of totals, then one line per team awarded: "Gauls gold=1 ...".
std::string DescribeReport(const SimulationReport& report);
// {"writes":..,"duplicates":..,"rounds":..,"matches":..,
//  "medals":{"TEAM":{"gold":..,"silver":..,"bronze":..},...}}
std::string ReportToJson(const SimulationReport& report);

}  // namespace podium

#endif  // PODIUM_BARD_OUTPUT_H_
