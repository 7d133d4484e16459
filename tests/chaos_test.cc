// The chaos run's plain parts: the fault plan is a function of the seed,
// JSON lines are read strictly, and each end-of-run check finds what it is
// meant to find (a stale value, a version going back, a medal counted twice
// or lost).
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/chaos/board_view.h"
#include "tools/chaos/fault_plan.h"
#include "tools/chaos/json_value.h"
#include "tools/chaos/verdict.h"

namespace podium::chaos {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<std::string> Describe(const std::vector<Fault>& plan) {
  std::vector<std::string> lines;
  for (const Fault& fault : plan) {
    lines.push_back(absl::StrCat(absl::FormatDuration(fault.kill_at), " ",
                                 VictimName(fault), " ",
                                 absl::FormatDuration(fault.down_for)));
  }
  return lines;
}

TEST(FaultPlanTest, TheSeedDecidesThePlan) {
  FaultPlanOptions options;
  options.seed = 7;
  const std::vector<Fault> plan = PlanFaults(options);
  EXPECT_EQ(Describe(PlanFaults(options)), Describe(plan));
  options.seed = 8;
  EXPECT_NE(Describe(PlanFaults(options)), Describe(plan));
}

TEST(FaultPlanTest, OneFaultAtATimeWithinTheRanges) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    FaultPlanOptions options;
    options.seed = seed;
    const std::vector<Fault> plan = PlanFaults(options);
    ASSERT_THAT(plan, ::testing::Not(IsEmpty())) << seed;
    absl::Duration free_at = options.warm_up;
    for (const Fault& fault : plan) {
      EXPECT_GE(fault.kill_at, free_at + options.min_gap) << seed;
      EXPECT_LT(fault.kill_at, options.duration) << seed;
      EXPECT_GE(fault.down_for, options.min_down);
      EXPECT_LE(fault.down_for, options.max_down);
      const int limit = fault.target == Target::kClient ? options.clients
                                                        : options.frontends;
      EXPECT_GE(fault.index, 0);
      EXPECT_LT(fault.index, limit);
      free_at = fault.restart_at();
    }
  }
}

TEST(FaultPlanTest, EveryKindOfVictimComesUp) {
  std::set<Target> seen;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    FaultPlanOptions options;
    options.seed = seed;
    for (const Fault& fault : PlanFaults(options)) seen.insert(fault.target);
  }
  EXPECT_THAT(seen, SizeIs(5));
}

TEST(FaultPlanTest, AReplicatedPlanAddsEtcdBackendAndHostFaultsWithinTheirRanges) {
  std::set<Target> seen;
  std::set<std::string> names;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    FaultPlanOptions options;
    options.seed = seed;
    options.replicated = true;
    for (const Fault& fault : PlanFaults(options)) {
      seen.insert(fault.target);
      names.insert(VictimName(fault, true));
      if (fault.target == Target::kEtcd || fault.target == Target::kHost) {
        EXPECT_LT(fault.index, options.etcd_members);
      }
      if (fault.target == Target::kBackend) EXPECT_LT(fault.index, options.backends);
    }
  }
  EXPECT_THAT(seen, SizeIs(7));
  EXPECT_TRUE(names.count("backend-1") && names.count("etcd-2") && names.count("host-0"));
  // Without --replicated, a seed's plan is what it always was.
  FaultPlanOptions plain;
  plain.seed = 5;
  for (const Fault& fault : PlanFaults(plain)) {
    EXPECT_NE(fault.target, Target::kEtcd);
    EXPECT_NE(fault.target, Target::kHost);
  }
  plain.replicated = true;
  plain.etcd_members = 1;
  EXPECT_FALSE(CheckFaultPlanOptions(plain).ok()) << "one member down would be all of them";
}

TEST(FaultPlanTest, OptionsAreChecked) {
  FaultPlanOptions options;
  EXPECT_TRUE(CheckFaultPlanOptions(options).ok());
  options.min_down = absl::Seconds(5);
  EXPECT_FALSE(CheckFaultPlanOptions(options).ok());
  options = FaultPlanOptions();
  options.clients = 0;
  EXPECT_FALSE(CheckFaultPlanOptions(options).ok());
}

TEST(JsonValueTest, ReadsWhatTheClientsPrint) {
  absl::StatusOr<JsonValue> json = JsonValue::Parse(
      R"({"team":"Gaul\"s\u00e9","gold":1,"silver":0,"bronze":-2,)"
      R"("version":9,"snapshot":false,"list":[1,2.5e3,null,true]})");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*MemberString(*json, "team"), "Gaul\"s\xc3\xa9");
  EXPECT_EQ(*MemberInt64(*json, "bronze"), -2);
  EXPECT_FALSE(*json->Find("snapshot")->AsBool());
  EXPECT_THAT(json->Find("list")->items(), SizeIs(4));
  EXPECT_FALSE(json->Find("list")->items()[1].AsInt64().ok());
  EXPECT_EQ(json->Find("missing"), nullptr);
}

TEST(JsonValueTest, RefusesWhatIsNotJson) {
  for (const char* bad :
       {"", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x", "{'a':1}",
        "{\"a\":01x}", "{\"a\":\"\x01\"}", "[1 2]", "{\"a\":tru}"}) {
    EXPECT_FALSE(JsonValue::Parse(bad).ok()) << bad;
  }
}

v1::Board SmallBoard(int64_t seq) {
  v1::Board board;
  v1::EventScore* event = board.add_events();
  event->set_event("menhir-put");
  event->set_status(v1::LIVE);
  event->set_version(seq - 1);
  for (const char* team : {"Gauls", "Romans"}) {
    v1::TeamPoints* points = event->add_points();
    points->set_team(team);
    points->set_points(team[0] == 'G' ? 3 : 1);
  }
  v1::MedalTally* gauls = board.add_medals();
  gauls->set_team("Gauls");
  gauls->set_gold(2);
  gauls->set_bronze(1);
  gauls->set_version(seq);
  v1::MedalTally* romans = board.add_medals();
  romans->set_team("Romans");
  board.set_seq(seq);
  return board;
}

constexpr char kWatch[] =
    R"({"event":"menhir-put","status":"live","points":{"Romans":1,"Gauls":3},)"
    R"("version":11,"updated_unix_micros":5,"snapshot":true})"
    "\n"
    R"({"team":"Gauls","gold":2,"silver":0,"bronze":1,"version":12,)"
    R"("snapshot":false})"
    "\n"
    R"({"team":"Romans","gold":0,"silver":0,"bronze":0,"version":0})"
    "\n";

TEST(BoardViewTest, ABoardAndAClientThatSawItAgree) {
  const WatchLog log = ReadWatchLog(kWatch);
  EXPECT_EQ(log.updates, 3);
  EXPECT_THAT(log.regressions, IsEmpty());
  EXPECT_THAT(log.malformed, IsEmpty());
  EXPECT_THAT(DiffViews(ViewOfBoard(SmallBoard(12)), "backend", log.last,
                        "client-0"),
              IsEmpty());
  EXPECT_EQ(DescribeKeyValue(log.last.at("event:menhir-put")),
            "v11 live Gauls=3 Romans=1");
}

TEST(BoardViewTest, AStaleOrMissingValueIsADifference) {
  const BoardView client = ReadWatchLog(kWatch).last;
  BoardView backend = ViewOfBoard(SmallBoard(14));
  const std::vector<std::string> diffs =
      DiffViews(backend, "backend", client, "client-3");
  ASSERT_THAT(diffs, SizeIs(2));
  EXPECT_EQ(diffs[0],
            "event:menhir-put: backend v13 live Gauls=3 Romans=1, client-3 v11 "
            "live Gauls=3 Romans=1");
  backend["team:Britons"] = KeyValue{4, "gold=1 silver=0 bronze=0"};
  EXPECT_THAT(DiffViews(backend, "backend", client, "client-3", 2),
              ElementsAre(HasSubstr("event:"), HasSubstr("team:Britons"),
                          "... and 1 more"));
}

TEST(BoardViewTest, AVersionGoingBackIsARegression) {
  const std::string log_text = absl::StrCat(
      kWatch,
      R"({"team":"Gauls","gold":1,"silver":0,"bronze":1,"version":10})", "\n",
      R"({"team":"Gauls","gold":9,"silver":0,"bronze":1,"version":12})", "\n",
      R"({"team":"Gauls","gold":3,"silver":0,"bronze":1,"version":13})", "\n",
      "not json\n", R"({"team":"Gauls","gold":)");
  const WatchLog log = ReadWatchLog(log_text);
  ASSERT_THAT(log.regressions, SizeIs(2));
  EXPECT_EQ(log.regressions[0], "line 4: team:Gauls went from v12 back to v10");
  EXPECT_THAT(log.regressions[1], HasSubstr("line 5: team:Gauls v12 came as"));
  EXPECT_EQ(log.repeats, 1);
  // The torn last line is excused; the complete bad one is not.
  ASSERT_THAT(log.malformed, SizeIs(1));
  EXPECT_THAT(log.malformed[0], HasSubstr("line 7"));
  EXPECT_EQ(log.last.at("team:Gauls").version, 13);
}

TEST(VerdictTest, MedalsMustMatchTheAcknowledgedAwards) {
  absl::StatusOr<JournalTotals> totals = ParseJournalSummary(
      "I0101 some log line\n"
      R"({"acked":40,"duplicates":2,"pending":0,"refused":0,)"
      R"("medals":{"Gauls":{"gold":2,"silver":0,"bronze":1}}})"
      "\n");
  ASSERT_TRUE(totals.ok()) << totals.status();
  EXPECT_EQ(totals->acked, 40);
  EXPECT_EQ(totals->medal_total(), 3);
  EXPECT_THAT(DiffMedals(SmallBoard(12), *totals), IsEmpty());

  totals->medals["Gauls"].gold = 3;  // one award lost by the backend
  totals->medals["Romans"].silver = 1;
  totals->medals["Picts"].bronze = 1;
  EXPECT_THAT(
      DiffMedals(SmallBoard(12), *totals),
      ElementsAre(
          "Gauls: backend gold=2 silver=0 bronze=1, journal acknowledged "
          "gold=3 silver=0 bronze=1",
          HasSubstr("Romans: backend gold=0"), HasSubstr("Picts")));
  EXPECT_FALSE(ParseJournalSummary("no json here").ok());
  EXPECT_FALSE(ParseJournalSummary(R"({"acked":1})").ok());
}

TEST(VerdictTest, CollectsViolationsInOrder) {
  Verdict verdict;
  EXPECT_TRUE(verdict.passed());
  verdict.Fail("(1) one final board", "frontend-2 is stale");
  verdict.Fail("(4) one master", "two masters");
  EXPECT_FALSE(verdict.passed());
  EXPECT_THAT(verdict.violations(),
              ElementsAre("(1) one final board: frontend-2 is stale",
                          "(4) one master: two masters"));
}

}  // namespace
}  // namespace podium::chaos
