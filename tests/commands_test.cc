// The podium-client commands that go through frontends, as parsed: the
// frontends listing and watch with its keys.
#include "client/commands.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

using ::testing::ElementsAre;

absl::StatusOr<Command> Parse(std::vector<std::string> args) {
  return ParseCommand(args);
}

TEST(CommandsTest, FrontendsTakesNoArguments) {
  absl::StatusOr<Command> command = Parse({"frontends"});
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_EQ(command->kind, CommandKind::kFrontends);
  EXPECT_TRUE(NeedsFrontends(command->kind));
  EXPECT_EQ(Parse({"frontends", "x"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CommandsTest, WatchWithoutKeysWatchesEverything) {
  absl::StatusOr<Command> command = Parse({"watch"});
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_EQ(command->kind, CommandKind::kWatch);
  EXPECT_TRUE(NeedsFrontends(command->kind));
  const SubscriptionKeys keys = WatchKeys(*command);
  EXPECT_TRUE(keys.all_events);
  EXPECT_TRUE(keys.all_teams);
  EXPECT_TRUE(keys.events.empty());
}

TEST(CommandsTest, WatchEventsAndMedals) {
  absl::StatusOr<Command> command = Parse({"watch", "javelin", "boar-hunt"});
  ASSERT_TRUE(command.ok()) << command.status();
  SubscriptionKeys keys = WatchKeys(*command);
  EXPECT_THAT(keys.events, ElementsAre("javelin", "boar-hunt"));
  EXPECT_FALSE(keys.all_events);
  EXPECT_FALSE(keys.all_teams);

  command->medals = true;
  keys = WatchKeys(*command);
  EXPECT_THAT(keys.events, ElementsAre("javelin", "boar-hunt"));
  EXPECT_TRUE(keys.all_teams);

  command = Parse({"watch"});
  command->medals = true;  // --medals alone: the medals only
  keys = WatchKeys(*command);
  EXPECT_FALSE(keys.all_events);
  EXPECT_TRUE(keys.all_teams);
}

TEST(CommandsTest, ReadsDoNotNeedFrontends) {
  for (CommandKind kind : {CommandKind::kGetScore, CommandKind::kGetMedals,
                           CommandKind::kBoard, CommandKind::kHealth}) {
    EXPECT_FALSE(NeedsFrontends(kind));
  }
}

}  // namespace
}  // namespace podium
