// The simulated games day, against a fake backend that checks every write
// for the rules of a match (points only go up, medals follow the final
// points) and counts what it acknowledged.
#include "bard/simulator.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;

const std::vector<std::string> kEvents = {
    "menhir-put", "boar-hunt", "chariot-race", "javelin", "wrestling", "100m"};
const std::vector<std::string> kTeams = {"Gauls", "Romans", "Britons",
                                         "Egyptians"};

// The event an award is in: named, or (a rematch's) said in its reason;
// empty for neither.
std::string AwardedIn(const v1::AwardMedalRequest& request) {
  if (!request.event().empty()) return request.event();
  const size_t end = request.reason().find(" rematch, round ");
  return end == std::string::npos ? std::string() : request.reason().substr(0, end);
}

// A backend in miniature that also referees.
class RefereeWriter : public ScoreWriter {
 public:
  explicit RefereeWriter(std::vector<std::string> teams)
      : teams_(std::move(teams)) {}

  absl::StatusOr<v1::WriteReply> RecordScore(
      v1::RecordScoreRequest request) override {
    if (absl::Status s = Count(); !s.ok()) return s;
    EventState& event = events[request.event()];
    event.points.resize(teams_.size(), 0);
    std::string line = absl::StrCat("score ", request.event());
    if (request.status() == v1::SCHEDULED) {
      // A new match: every team named, at 0.
      if (request.points_size() != static_cast<int>(teams_.size())) {
        violations.push_back("reset without every team: " + line);
      }
      std::fill(event.points.begin(), event.points.end(), 0);
      event.medals.clear();
    }
    for (const v1::TeamPoints& points : request.points()) {
      const size_t team = TeamIndex(points.team());
      if (points.points() < event.points[team]) {
        violations.push_back(absl::StrCat("points of ", points.team(), " in ",
                                          request.event(), " went down"));
      }
      if (event.status == v1::FINAL && request.status() != v1::SCHEDULED) {
        violations.push_back("points after final in " + request.event());
      }
      event.points[team] = points.points();
      absl::StrAppend(&line, " ", points.team(), "=", points.points());
    }
    if (request.status() != v1::EVENT_STATUS_UNSPECIFIED) {
      event.status = request.status();
      absl::StrAppend(&line, " ", request.status());
    }
    if (event.status == v1::LIVE) {
      int live = 0;
      for (const auto& [name, state] : events) live += state.status == v1::LIVE;
      max_live_seen = std::max(max_live_seen, live);
    }
    trace.push_back(line);
    return v1::WriteReply();
  }

  absl::StatusOr<v1::WriteReply> AwardMedal(
      v1::AwardMedalRequest request) override {
    if (absl::Status s = Count(); !s.ok()) return s;
    // A rematch's award names no event (the store counts an event's medals
    // once); its reason says whose it is.
    const std::string name = AwardedIn(request);
    if (name.empty()) {
      violations.push_back("an award naming no event nor rematch: " + request.reason());
      return v1::WriteReply();
    }
    if (request.event().empty()) {
      unnamed_awards.push_back(request.reason());
    } else {
      named_awards.push_back(name);
    }
    trace.push_back(absl::StrCat("award ", request.team(), " ", request.medal(), " ", name));
    if (!events.count(name)) {
      violations.push_back("medal in an event never scored: " + name);
      return v1::WriteReply();
    }
    EventState& event = events[name];
    if (event.status != v1::FINAL) {
      violations.push_back("medal before final in " + name);
    }
    // The ranking by final points, ties to the team listed first.
    std::vector<size_t> ranking(teams_.size());
    std::iota(ranking.begin(), ranking.end(), 0);
    std::stable_sort(ranking.begin(), ranking.end(), [&](size_t a, size_t b) {
      return event.points[a] > event.points[b];
    });
    const size_t place = event.medals.size();
    if (request.medal() != static_cast<v1::Medal>(v1::GOLD + place) ||
        teams_[ranking[place]] != request.team()) {
      violations.push_back(absl::StrCat("medal ", request.medal(), " to ",
                                        request.team(), " in ", name,
                                        " does not follow the points"));
    }
    event.medals.push_back(request.team());
    MedalCount& count = medals[request.team()];
    ++(request.medal() == v1::GOLD     ? count.gold
       : request.medal() == v1::SILVER ? count.silver
                                       : count.bronze);
    return v1::WriteReply();
  }

  struct EventState {
    v1::EventStatus status = v1::SCHEDULED;
    std::vector<int64_t> points;
    std::vector<std::string> medals;  // awarded since the last reset
  };
  std::map<std::string, EventState> events;
  std::map<std::string, MedalCount> medals;
  std::vector<std::string> trace;
  std::vector<std::string> violations;
  std::vector<std::string> named_awards;    // their events
  std::vector<std::string> unnamed_awards;  // their reasons
  int max_live_seen = 0;
  int64_t writes = 0;
  // When set: notified on write number stop_at, or write fail_at fails.
  absl::Notification* stop = nullptr;
  int64_t stop_at = 0;
  int64_t fail_at = 0;

 private:
  absl::Status Count() {
    ++writes;
    if (writes == fail_at) {
      return absl::PermissionDeniedError("wrong write token");
    }
    if (stop != nullptr && writes == stop_at) stop->Notify();
    return absl::OkStatus();
  }
  size_t TeamIndex(const std::string& team) const {
    return static_cast<size_t>(std::find(teams_.begin(), teams_.end(), team) -
                               teams_.begin());
  }

  const std::vector<std::string> teams_;
};

SimulatorOptions Unpaced(uint64_t seed, int64_t rounds) {
  SimulatorOptions options;
  options.events = kEvents;
  options.teams = kTeams;
  options.rate = 0;
  options.seed = seed;
  options.max_rounds = rounds;
  return options;
}

TEST(SimulatorTest, SameSeedGivesTheSameWrites) {
  RefereeWriter first(kTeams), second(kTeams), other(kTeams);
  ASSERT_TRUE(Simulator(Unpaced(7, 2), &first).Run().ok());
  ASSERT_TRUE(Simulator(Unpaced(7, 2), &second).Run().ok());
  ASSERT_TRUE(Simulator(Unpaced(8, 2), &other).Run().ok());
  EXPECT_FALSE(first.trace.empty());
  EXPECT_EQ(first.trace, second.trace);
  EXPECT_NE(first.trace, other.trace);
}

TEST(SimulatorTest, EveryEventReachesFinalWithItsMedals) {
  RefereeWriter writer(kTeams);
  Simulator simulator(Unpaced(1, 1), &writer);
  ASSERT_TRUE(simulator.Run().ok());
  ASSERT_EQ(writer.events.size(), kEvents.size());
  for (const auto& [event, state] : writer.events) {
    EXPECT_EQ(state.status, v1::FINAL) << event;
    EXPECT_EQ(state.medals.size(), 3u) << event;
  }
  const SimulationReport report = simulator.report();
  EXPECT_EQ(report.rounds, 1);
  EXPECT_EQ(report.matches, static_cast<int64_t>(kEvents.size()));
  EXPECT_EQ(report.writes, writer.writes);
  EXPECT_GT(writer.max_live_seen, 1) << "matches should overlap";
}

// Which teams the writes of each event name, scores and medals alike.
class NamingWriter : public ScoreWriter {
 public:
  absl::StatusOr<v1::WriteReply> RecordScore(v1::RecordScoreRequest request) override {
    for (const v1::TeamPoints& points : request.points()) {
      named[request.event()].insert(points.team());
    }
    return v1::WriteReply();
  }
  absl::StatusOr<v1::WriteReply> AwardMedal(v1::AwardMedalRequest request) override {
    named[AwardedIn(request)].insert(request.team());
    ++medals[AwardedIn(request)];
    return v1::WriteReply();
  }
  std::map<std::string, std::set<std::string>> named;
  std::map<std::string, int> medals;
};

TEST(SimulatorTest, AnEventWithTeamsOfItsOwnIsContestedOnlyByThem) {
  SimulatorOptions options = Unpaced(3, 2);
  options.event_teams[kEvents[0]] = {kTeams[1], kTeams[2]};
  NamingWriter writer;
  ASSERT_TRUE(Simulator(options, &writer).Run().ok());
  EXPECT_THAT(writer.named[kEvents[0]], ::testing::UnorderedElementsAre(kTeams[1], kTeams[2]));
  EXPECT_EQ(writer.medals[kEvents[0]], 2 * 2) << "two teams, two medals a round";
  EXPECT_EQ(writer.named[kEvents[1]].size(), kTeams.size());
}

// The medal kinds each event was awarded, in the order awarded.
class MedalKindsWriter : public ScoreWriter {
 public:
  absl::StatusOr<v1::WriteReply> RecordScore(v1::RecordScoreRequest) override {
    return v1::WriteReply();
  }
  absl::StatusOr<v1::WriteReply> AwardMedal(v1::AwardMedalRequest request) override {
    kinds[AwardedIn(request)].push_back(request.medal());
    return v1::WriteReply();
  }
  std::map<std::string, std::vector<v1::Medal>> kinds;
};

TEST(SimulatorTest, AnEventAwardsTheMedalsItsGamesDeclareAndNoOthers) {
  SimulatorOptions options = Unpaced(4, 1);
  options.event_medals[kEvents[0]] = {v1::GOLD, v1::SILVER, v1::BRONZE, v1::BRONZE};  // judo
  options.event_medals[kEvents[1]] = {v1::GOLD, v1::SILVER, v1::SILVER};  // a tie for silver
  options.event_medals[kEvents[2]] = {};  // a demonstration event
  MedalKindsWriter writer;
  ASSERT_TRUE(Simulator(options, &writer).Run().ok());
  EXPECT_THAT(writer.kinds[kEvents[0]],
              ::testing::ElementsAre(v1::GOLD, v1::SILVER, v1::BRONZE, v1::BRONZE));
  EXPECT_THAT(writer.kinds[kEvents[1]], ::testing::ElementsAre(v1::GOLD, v1::SILVER, v1::SILVER));
  EXPECT_EQ(writer.kinds.count(kEvents[2]), 0u);
  EXPECT_THAT(writer.kinds[kEvents[3]], ::testing::ElementsAre(v1::GOLD, v1::SILVER, v1::BRONZE));
}

TEST(SimulatorTest, PointsOnlyGoUpAndMedalsFollowThemOverManyRounds) {
  for (uint64_t seed : {1, 2, 3, 42}) {
    RefereeWriter writer(kTeams);
    ASSERT_TRUE(Simulator(Unpaced(seed, 5), &writer).Run().ok());
    EXPECT_THAT(writer.violations, ::testing::IsEmpty()) << "seed " << seed;
  }
}

TEST(SimulatorTest, AcknowledgedMedalsPerTeamMatchWhatTheBackendGot) {
  RefereeWriter writer(kTeams);
  Simulator simulator(Unpaced(5, 3), &writer);
  ASSERT_TRUE(simulator.Run().ok());
  const SimulationReport report = simulator.report();
  EXPECT_EQ(report.medals, writer.medals);
  int64_t total = 0;
  for (const auto& [team, count] : report.medals) total += count.total();
  EXPECT_EQ(total, 3 * 3 * static_cast<int64_t>(kEvents.size()));
}

// The store counts an event's medals against what the games declare, so
// only the first round's awards name their event; a rematch's say in their
// reason whose they are.
TEST(SimulatorTest, OnlyFirstRoundAwardsNameTheirEventAndRematchesSayWhoseTheyAre) {
  RefereeWriter writer(kTeams);
  ASSERT_TRUE(Simulator(Unpaced(4, 3), &writer).Run().ok());
  EXPECT_THAT(writer.violations, IsEmpty());
  EXPECT_EQ(writer.named_awards.size(), 3 * kEvents.size());
  EXPECT_EQ(writer.unnamed_awards.size(), 2 * 3 * kEvents.size());
  EXPECT_THAT(writer.unnamed_awards, Contains(RematchReason("javelin", 2)));
  EXPECT_THAT(writer.unnamed_awards, Contains(RematchReason("100m", 3)));
}

// A store that already holds this day's medals (a bard run before on it)
// refuses the first round's awards; the run goes on, counting them apart.
class FullEventsWriter : public RefereeWriter {
 public:
  using RefereeWriter::RefereeWriter;
  absl::StatusOr<v1::WriteReply> AwardMedal(v1::AwardMedalRequest request) override {
    if (!request.event().empty()) {
      ++refused;
      return absl::FailedPreconditionError("event has already awarded its 1 gold medal");
    }
    return RefereeWriter::AwardMedal(std::move(request));
  }
  int64_t refused = 0;
};

TEST(SimulatorTest, FirstRoundAwardsTheStoreRefusesAreLeftOutAndCounted) {
  FullEventsWriter writer(kTeams);
  Simulator simulator(Unpaced(6, 2), &writer);
  ASSERT_TRUE(simulator.Run().ok());
  const SimulationReport report = simulator.report();
  EXPECT_EQ(report.rounds, 2);
  EXPECT_EQ(report.refused_awards, writer.refused);
  EXPECT_EQ(writer.refused, static_cast<int64_t>(3 * kEvents.size()));
  // Only the rematch's medals were acknowledged, and only they are counted.
  EXPECT_EQ(report.medals, writer.medals);
  EXPECT_EQ(writer.unnamed_awards.size(), 3 * kEvents.size());
}

TEST(SimulatorTest, FewerThanThreeTeamsGetOnlyAsManyMedals) {
  const std::vector<std::string> teams = {"Gauls", "Romans"};
  RefereeWriter writer(teams);
  SimulatorOptions options = Unpaced(3, 1);
  options.teams = teams;
  ASSERT_TRUE(Simulator(options, &writer).Run().ok());
  EXPECT_THAT(writer.violations, ::testing::IsEmpty());
  for (const auto& [event, state] : writer.events) {
    EXPECT_EQ(state.medals.size(), 2u) << event;
  }
  const int64_t events = static_cast<int64_t>(kEvents.size());
  EXPECT_EQ(writer.medals["Gauls"].total() + writer.medals["Romans"].total(),
            2 * events);
}

TEST(SimulatorTest, StopEndsTheRunAfterTheWriteInFlight) {
  RefereeWriter writer(kTeams);
  absl::Notification stop;
  writer.stop = &stop;
  writer.stop_at = 17;
  Simulator simulator(Unpaced(1, 0), &writer, &stop);  // no round limit
  ASSERT_TRUE(simulator.Run().ok());
  EXPECT_EQ(writer.writes, 17);
  EXPECT_EQ(simulator.report().writes, 17);
}

TEST(SimulatorTest, AFailedWriteEndsTheRunUncounted) {
  RefereeWriter writer(kTeams);
  writer.fail_at = 10;
  Simulator simulator(Unpaced(1, 0), &writer);
  absl::Status status = simulator.Run();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(writer.writes, 10);
  EXPECT_EQ(simulator.report().writes, 9);
}

TEST(SimulatorTest, PacedRunKeepsToItsRateAndDuration) {
  RefereeWriter writer(kTeams);
  SimulatorOptions options = Unpaced(1, 0);
  options.rate = 200;
  options.duration = absl::Milliseconds(100);
  Simulator simulator(options, &writer);
  ASSERT_TRUE(simulator.Run().ok());
  // Slots every 5 ms from the start, none at or after the end: at most 20.
  EXPECT_GE(writer.writes, 1);
  EXPECT_LE(writer.writes, 20);
}

TEST(SimulatorTest, UnusableOptionsAreInvalidArgument) {
  RefereeWriter writer(kTeams);
  SimulatorOptions no_teams = Unpaced(1, 1);
  no_teams.teams.clear();
  EXPECT_EQ(Simulator(no_teams, &writer).Run().code(),
            absl::StatusCode::kInvalidArgument);
  SimulatorOptions negative_rate = Unpaced(1, 1);
  negative_rate.rate = -1;
  EXPECT_EQ(Simulator(negative_rate, &writer).Run().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.writes, 0);
}

}  // namespace
}  // namespace podium
