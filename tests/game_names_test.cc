#include "frontend/game_names.h"

#include <atomic>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podium {
namespace {

using ::testing::ElementsAre;

v1::Board BoardOf(std::vector<std::string> events, std::vector<std::string> teams) {
  v1::Board board;
  for (const auto& event : events) board.add_events()->set_event(event);
  for (const auto& team : teams) board.add_medals()->set_team(team);
  return board;
}

// The backend's board as the fake serves it, and how often it was read.
class FakeBackend {
 public:
  absl::StatusOr<v1::Board> Read() {
    absl::MutexLock lock(&mu_);
    ++reads_;
    return board_;
  }
  void Set(absl::StatusOr<v1::Board> board) {
    absl::MutexLock lock(&mu_);
    board_ = std::move(board);
  }
  int reads() {
    absl::MutexLock lock(&mu_);
    return reads_;
  }

 private:
  absl::Mutex mu_;
  absl::StatusOr<v1::Board> board_ ABSL_GUARDED_BY(mu_) = absl::UnavailableError("down");
  int reads_ ABSL_GUARDED_BY(mu_) = 0;
};

// Waits (bounded) until `names` knows `key` without asking again.
bool EventuallyKnown(GameNames& names, const std::string& key) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    for (const auto& event : names.events()) {
      if ("event:" + event == key) return true;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return false;
}

// Waits (bounded) until the fake was read at least `n` times.
bool ReadAtLeast(FakeBackend& backend, int n) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (backend.reads() < n && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  return backend.reads() >= n;
}

TEST(GameNamesTest, EverythingIsKnownUntilNamesArrive) {
  FakeBackend backend;  // down
  GameNames names([&] { return backend.Read(); });
  EXPECT_TRUE(names.empty());
  EXPECT_TRUE(names.Known("event:anything"));  // the backend judges then
}

TEST(GameNamesTest, ReadsTheNamesAtOnceAndRetriesUntilTheBackendAnswers) {
  FakeBackend backend;  // down
  GameNames names([&] { return backend.Read(); });
  EXPECT_FALSE(names.WaitForNames(absl::Milliseconds(50)));
  ASSERT_TRUE(ReadAtLeast(backend, 2));  // tried, failed, tried again
  backend.Set(BoardOf({"javelin"}, {"Gauls"}));
  ASSERT_TRUE(names.WaitForNames(absl::Seconds(10)));
  EXPECT_THAT(names.events(), ElementsAre("javelin"));
  EXPECT_THAT(names.teams(), ElementsAre("Gauls"));
}

// Without a recheck interval, so that the first unknown name asks at once.
GameNamesOptions NoRateLimit() {
  GameNamesOptions options;
  options.recheck = absl::ZeroDuration();
  return options;
}

TEST(GameNamesTest, AnUnknownNameRereadsTheNamesInTheBackground) {
  FakeBackend backend;
  backend.Set(BoardOf({"javelin"}, {"Gauls"}));
  GameNames names([&] { return backend.Read(); }, NoRateLimit());
  ASSERT_TRUE(names.WaitForNames(absl::Seconds(10)));
  EXPECT_TRUE(names.Known("event:javelin"));
  EXPECT_TRUE(names.Known("team:Gauls"));
  backend.Set(BoardOf({"javelin", "discus"}, {"Gauls"}));
  EXPECT_FALSE(names.Known("event:discus"));  // refused now, read again
  ASSERT_TRUE(EventuallyKnown(names, "event:discus"));
  EXPECT_TRUE(names.Known("event:discus"));
  EXPECT_THAT(names.events(), ElementsAre("javelin", "discus"));
}

TEST(GameNamesTest, TyposDoNotHammerTheBackend) {
  FakeBackend backend;
  backend.Set(BoardOf({"javelin"}, {"Gauls"}));
  GameNamesOptions options;
  options.recheck = absl::Hours(1);
  GameNames names([&] { return backend.Read(); }, options);
  ASSERT_TRUE(names.WaitForNames(absl::Seconds(10)));
  ASSERT_EQ(backend.reads(), 1);
  // Names read just now are not read again within the interval, however
  // many unknown names come: the reader only ever reads when asked.
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(names.Known("event:jav" + std::to_string(i)));
  names.RefreshIfOld();  // 30 s by default: not due either
  EXPECT_EQ(backend.reads(), 1);
}

TEST(GameNamesTest, AnOlderReadCannotBringBackOlderNames) {
  FakeBackend backend;  // down: only the test's boards count
  GameNames names([&] { return backend.Read(); });
  const uint64_t slow = names.Ticket();  // started before the restart
  const uint64_t fresh = names.Ticket();
  names.Remember(BoardOf({"javelin", "discus"}, {"Gauls"}), fresh);
  names.Remember(BoardOf({"javelin"}, {"Gauls"}), slow);
  EXPECT_THAT(names.events(), ElementsAre("javelin", "discus"));
}

TEST(GameNamesTest, AFailedRereadKeepsTheNamesItHad) {
  FakeBackend backend;
  backend.Set(BoardOf({"javelin"}, {"Gauls"}));
  GameNames names([&] { return backend.Read(); }, NoRateLimit());
  ASSERT_TRUE(names.WaitForNames(absl::Seconds(10)));
  backend.Set(absl::UnavailableError("down"));
  EXPECT_FALSE(names.Known("event:discus"));
  ASSERT_TRUE(ReadAtLeast(backend, 2));
  EXPECT_THAT(names.events(), ElementsAre("javelin"));
  EXPECT_TRUE(names.Known("event:javelin"));
}

TEST(GameNamesTest, OldNamesAreReadAgainUnaskedAndAChangeIsHandedOn) {
  // A backend restarted with a grown games file tells no one: the names
  // are read again once max_age old, and the owner hears of the change.
  FakeBackend backend;
  backend.Set(BoardOf({"javelin"}, {"Gauls"}));
  absl::Mutex mu;
  std::vector<v1::Board> changes;
  GameNamesOptions options;
  options.max_age = absl::Milliseconds(20);
  GameNames names([&] { return backend.Read(); }, options, [&](const v1::Board& board) {
    absl::MutexLock lock(&mu);
    changes.push_back(board);
  });
  ASSERT_TRUE(names.WaitForNames(absl::Seconds(10)));
  const int first_reads = backend.reads();
  ASSERT_TRUE(ReadAtLeast(backend, first_reads + 2));  // unasked, twice
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(changes.empty()) << "the same names are no change";
  }
  backend.Set(BoardOf({"javelin"}, {"Gauls", "Britons"}));
  absl::MutexLock lock(&mu);
  auto heard = [&] { return !changes.empty(); };
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&heard), absl::Seconds(10)));
  EXPECT_EQ(changes[0].medals_size(), 2);
  EXPECT_THAT(names.teams(), ElementsAre("Gauls", "Britons"));
}

TEST(GameNamesTest, TheVersionMovesWhenTheNamesOrTheGamesChangeOnly) {
  FakeBackend backend;  // down: only the test's boards count
  GameNames names([&] { return backend.Read(); });
  const uint64_t none = names.version();
  names.Remember(BoardOf({"javelin"}, {"Gauls"}), names.Ticket());
  const uint64_t first = names.version();
  EXPECT_NE(first, none) << "the first names";
  names.Remember(BoardOf({"javelin"}, {"Gauls"}), names.Ticket());
  EXPECT_EQ(names.version(), first) << "the same names again";
  v1::Board renamed = BoardOf({"javelin"}, {"Gauls"});
  renamed.mutable_games()->add_teams()->set_name("Gaul");
  names.Remember(renamed, names.Ticket());
  EXPECT_NE(names.version(), first) << "a display name changed";
}

}  // namespace
}  // namespace podium
