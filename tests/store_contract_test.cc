// The Store contract (backend/store.h), held by every store: SqliteStore on
// a file, and EtcdStore over a real etcd member started for the test. Seqs
// are counted from the store's head when it was first opened, since etcd's
// revisions start above 0.
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "backend/etcd_client.h"
#include "backend/etcd_store.h"
#include "backend/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/etcd_cluster.h"
#include "harness/temp_dir.h"
#include "tests/store_fixture.h"
#include "tests/store_requests.h"

namespace podium {
namespace {

using ::podium::test::Award;
using ::podium::test::Score;
using ::testing::HasSubstr;

class StoreContractTest : public test::StoreTest {};

INSTANTIATE_TEST_SUITE_P(Stores, StoreContractTest, ::testing::Values("sqlite", "etcd"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST_P(StoreContractTest, WritesAreReadBackWithSeqAsVersion) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<WriteResult> w1 = store->RecordScore(Score("k1", "menhir-put", "Gauls", 3));
  ASSERT_TRUE(w1.ok()) << w1.status();
  EXPECT_FALSE(w1->duplicate);
  EXPECT_EQ(w1->change.seq(), S(1));
  absl::StatusOr<WriteResult> w2 = store->AwardMedal(Award("k2", "Romans", v1::GOLD));
  ASSERT_TRUE(w2.ok()) << w2.status();
  EXPECT_EQ(w2->change.seq(), S(2));

  absl::StatusOr<v1::EventScore> score = store->GetEvent("menhir-put");
  ASSERT_TRUE(score.ok());
  EXPECT_EQ(score->version(), S(1));
  EXPECT_EQ(score->points(0).team(), "Gauls");
  EXPECT_EQ(score->points(0).points(), 3);
  EXPECT_EQ(score->points(1).points(), 0);  // Romans untouched
  EXPECT_EQ(store->GetMedals("Romans")->gold(), 1);
  EXPECT_EQ(store->GetMedals("Romans")->version(), S(2));
  v1::Board board = store->GetBoard();
  EXPECT_EQ(board.seq(), S(2));
  EXPECT_EQ(board.events_size(), static_cast<int>(Games::Default().events().size()));
}
TEST_P(StoreContractTest, StatusOnlyUpdateKeepsPoints) {
  auto store = Open();
  ASSERT_TRUE(store->RecordScore(Score("a", "javelin", "Gauls", 7)).ok());
  v1::RecordScoreRequest final_whistle;
  final_whistle.set_idempotency_key("b");
  final_whistle.set_event("javelin");
  final_whistle.set_status(v1::FINAL);
  ASSERT_TRUE(store->RecordScore(final_whistle).ok());
  EXPECT_EQ(store->GetEvent("javelin")->status(), v1::FINAL);
  EXPECT_EQ(store->GetEvent("javelin")->points(0).points(), 7);
}
TEST_P(StoreContractTest, AnOfficialResultIsProtestedThenOfficialAgainEachANewVersion) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  int64_t last = 0;
  int key = 0;
  for (v1::EventStatus status : {v1::START_LIST, v1::LIVE, v1::INTERMEDIATE, v1::UNCONFIRMED,
                                 v1::UNOFFICIAL, v1::OFFICIAL, v1::PROTESTED, v1::OFFICIAL}) {
    v1::RecordScoreRequest request;
    request.set_idempotency_key(absl::StrCat("s", ++key));
    request.set_event("javelin");
    request.set_status(status);
    absl::StatusOr<WriteResult> written = store->RecordScore(request);
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_GT(written->change.seq(), last);
    last = written->change.seq();
    EXPECT_EQ(store->GetEvent("javelin")->status(), status);
    EXPECT_EQ(store->GetEvent("javelin")->version(), last);
  }
}
TEST_P(StoreContractTest, ARevokedMedalAndACorrectedScoreAreNewChangesWithTheirReasons) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->AwardMedal(Award("a", "Gauls", v1::GOLD)).ok());
  v1::AwardMedalRequest revoke = Award("b", "Gauls", v1::GOLD);
  revoke.set_revoke(true);
  revoke.set_reason("disqualified: a menhir of lead");
  absl::StatusOr<WriteResult> revoked = store->AwardMedal(revoke);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->change.seq(), S(2));
  EXPECT_EQ(revoked->change.medals().gold(), 0);
  EXPECT_EQ(revoked->change.medals().version(), S(2));
  EXPECT_EQ(revoked->change.reason(), "disqualified: a menhir of lead");
  // The same revocation again under its key, reason reworded: applied once.
  revoke.set_reason("disqualified");
  absl::StatusOr<WriteResult> again = store->AwardMedal(revoke);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(store->GetMedals("Gauls")->gold(), 0);

  // None left: refused, and no seq is used up.
  revoke.set_idempotency_key("c");
  absl::StatusOr<WriteResult> below = store->AwardMedal(revoke);
  EXPECT_EQ(below.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(below.status().message(), HasSubstr("no gold medal to revoke"));

  v1::RecordScoreRequest correction = Score("d", "javelin", "Gauls", 71);
  correction.set_reason("measurement corrected");
  absl::StatusOr<WriteResult> corrected = store->RecordScore(correction);
  ASSERT_TRUE(corrected.ok()) << corrected.status();
  EXPECT_EQ(corrected->change.seq(), S(3));
  EXPECT_EQ(corrected->change.reason(), "measurement corrected");

  // The change log keeps each reason, across a restart too.
  store.reset();
  store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::vector<v1::Change>> log = store->ChangesSince(0, 10);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ((*log)[0].reason(), "");
  EXPECT_EQ((*log)[1].reason(), "disqualified: a menhir of lead");
  EXPECT_EQ((*log)[2].reason(), "measurement corrected");
}
// An event awards what the games declare for it (1,1,1 unless declared) and
// no more: a second gold naming the event is refused, saying so, and uses
// no seq; a retry of the first is still its duplicate; a revocation gives
// one back; an award naming no event is not counted; and the counts
// survive a restart.
TEST_P(StoreContractTest, AnEventAwardsNoMoreOfAMedalThanTheGamesDeclare) {
  auto in_event = [](const std::string& key, const std::string& team, v1::Medal medal) {
    v1::AwardMedalRequest request = Award(key, team, medal);
    request.set_event("menhir-put");
    return request;
  };
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->AwardMedal(in_event("a", "Gauls", v1::GOLD)).ok());
  absl::StatusOr<WriteResult> second = store->AwardMedal(in_event("b", "Romans", v1::GOLD));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_THAT(second.status().message(),
              HasSubstr("event 'menhir-put' has already awarded its 1 gold medal"));
  absl::StatusOr<WriteResult> retry = store->AwardMedal(in_event("a", "Gauls", v1::GOLD));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->duplicate);
  absl::StatusOr<WriteResult> silver = store->AwardMedal(in_event("c", "Romans", v1::SILVER));
  ASSERT_TRUE(silver.ok()) << silver.status();
  EXPECT_EQ(silver->change.seq(), S(2));
  absl::StatusOr<WriteResult> unnamed = store->AwardMedal(Award("d", "Romans", v1::GOLD));
  ASSERT_TRUE(unnamed.ok()) << unnamed.status();
  EXPECT_EQ(unnamed->change.seq(), S(3));

  store.reset();
  store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->AwardMedal(in_event("e", "Romans", v1::GOLD)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  v1::AwardMedalRequest revoke = in_event("f", "Gauls", v1::GOLD);
  revoke.set_revoke(true);
  revoke.set_reason("disqualified");
  ASSERT_TRUE(store->AwardMedal(revoke).ok());
  absl::StatusOr<WriteResult> moved_up = store->AwardMedal(in_event("g", "Romans", v1::GOLD));
  ASSERT_TRUE(moved_up.ok()) << moved_up.status();
  EXPECT_EQ(moved_up->change.seq(), S(5));
  EXPECT_EQ(moved_up->change.medals().gold(), 2);
  EXPECT_EQ(store->GetMedals("Gauls")->gold(), 0);
}
TEST_P(StoreContractTest, IdempotencyKeyIsAppliedOnceEvenAcrossRestart) {
  {
    auto store = Open();
    absl::StatusOr<WriteResult> first = store->AwardMedal(Award("same", "Gauls", v1::GOLD));
    absl::StatusOr<WriteResult> again = store->AwardMedal(Award("same", "Gauls", v1::GOLD));
    ASSERT_TRUE(first.ok() && again.ok());
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->change.seq(), first->change.seq());
    EXPECT_EQ(store->GetMedals("Gauls")->gold(), 1);
    EXPECT_EQ(store->head_seq(), S(1));
  }
  auto reopened = Open();
  absl::StatusOr<WriteResult> retry = reopened->AwardMedal(Award("same", "Gauls", v1::GOLD));
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->change.medals().gold(), 1);
  EXPECT_EQ(reopened->GetMedals("Gauls")->gold(), 1);
  EXPECT_EQ(reopened->head_seq(), S(1));
}
// A retry is the same request under the same key; a different request
// under a used key is a writer's mistake, and answering it with the
// original change would hide that its write never happened.
TEST_P(StoreContractTest, AKeyReusedForADifferentWriteIsRefused) {
  {
    auto store = Open();
    ASSERT_TRUE(store->AwardMedal(Award("same", "Gauls", v1::GOLD)).ok());
    absl::StatusOr<WriteResult> other = store->AwardMedal(Award("same", "Romans", v1::GOLD));
    EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists) << other.status();
    EXPECT_THAT(other.status().message(), HasSubstr("'same'"));
    EXPECT_THAT(other.status().message(),
                HasSubstr(absl::StrCat("different write (seq ", S(1), ")")));
    // A score under a medal's key is a different request too.
    EXPECT_EQ(store->RecordScore(Score("same", "menhir-put", "Gauls", 1)).status().code(),
              absl::StatusCode::kAlreadyExists);
    // Two writes with one key sent back to back, so that they may share a
    // batch or race in etcd: one applies, the other is refused, whichever
    // the store took first.
    absl::Mutex mu;
    std::vector<absl::Status> results;
    auto done = [&](absl::StatusOr<WriteResult> r) {
      absl::MutexLock lock(&mu);
      results.push_back(r.status());
    };
    const v1::AwardMedalRequest first = Award("pair", "Gauls", v1::SILVER);
    const v1::AwardMedalRequest second = Award("pair", "Romans", v1::SILVER);
    store->AwardMedalAsync(first, done);
    store->AwardMedalAsync(second, done);
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](std::vector<absl::Status>* r) { return r->size() == 2; }, &results));
    EXPECT_EQ(results[0].ok() + results[1].ok(), 1) << results[0] << "; " << results[1];
    const absl::Status& refused = results[0].ok() ? results[1] : results[0];
    EXPECT_EQ(refused.code(), absl::StatusCode::kAlreadyExists) << refused;
    EXPECT_EQ(store->GetMedals("Gauls")->silver() + store->GetMedals("Romans")->silver(), 1);
    EXPECT_EQ(store->GetMedals("Romans")->gold(), 0);
    EXPECT_EQ(store->head_seq(), S(2));
  }
  // The fingerprints are durable, and a true retry is still a duplicate.
  auto reopened = Open();
  EXPECT_EQ(reopened->AwardMedal(Award("same", "Romans", v1::GOLD)).status().code(),
            absl::StatusCode::kAlreadyExists);
  absl::StatusOr<WriteResult> retry = reopened->AwardMedal(Award("same", "Gauls", v1::GOLD));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(reopened->head_seq(), S(2));
}
TEST_P(StoreContractTest, StateAndChangeLogSurviveReopen) {
  {
    auto store = Open();
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(store->RecordScore(Score(absl::StrCat("s", i), "boar-hunt", "Romans", i)).ok());
    }
  }
  auto store = Open();
  EXPECT_EQ(store->head_seq(), S(20));
  EXPECT_EQ(store->GetEvent("boar-hunt")->points(1).points(), 19);
  absl::StatusOr<std::vector<v1::Change>> changes = store->ChangesSince(0, 100);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ((*changes)[i].seq(), S(i + 1));
  absl::StatusOr<WriteResult> next = store->AwardMedal(Award("n", "Gauls", v1::BRONZE));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->change.seq(), S(21));
}
TEST_P(StoreContractTest, InvalidWritesChangeNothing) {
  auto store = Open();
  ASSERT_TRUE(store->AwardMedal(Award("ok", "Gauls", v1::GOLD)).ok());
  struct Case {
    absl::StatusOr<WriteResult> result;
    absl::StatusCode code;
    const char* message;
  };
  v1::RecordScoreRequest twice = Score("t", "javelin", "Gauls", 1);
  *twice.add_points() = twice.points(0);
  v1::RecordScoreRequest empty;
  empty.set_idempotency_key("e");
  empty.set_event("javelin");
  const Case cases[] = {
      {store->RecordScore(Score("a", "curling", "Gauls", 1)), absl::StatusCode::kNotFound,
       "unknown event 'curling'"},
      {store->RecordScore(Score("b", "javelin", "Goths", 1)), absl::StatusCode::kNotFound,
       "unknown team 'Goths'"},
      {store->RecordScore(Score("c", "javelin", "Gauls", -1)), absl::StatusCode::kInvalidArgument,
       "must be 0 to"},
      {store->RecordScore(Score("d", "javelin", "Gauls", kMaxPoints + 1)),
       absl::StatusCode::kInvalidArgument, "must be 0 to"},
      {store->RecordScore(Score("", "javelin", "Gauls", 1)), absl::StatusCode::kInvalidArgument,
       "idempotency_key is empty"},
      {store->RecordScore(twice), absl::StatusCode::kInvalidArgument, "named twice"},
      {store->RecordScore(empty), absl::StatusCode::kInvalidArgument, "nothing to record"},
      {store->AwardMedal(Award("f", std::string(1 << 20, 'x'), v1::GOLD)),
       absl::StatusCode::kInvalidArgument, "team name is 1048576 bytes long"},
      {store->AwardMedal(Award("h", "G@uls", v1::GOLD)), absl::StatusCode::kInvalidArgument,
       "team name 'G@uls' has character '@'"},
      {store->AwardMedal(Award("g", "Gauls", v1::MEDAL_UNSPECIFIED)),
       absl::StatusCode::kInvalidArgument, "gold, silver or bronze"},
      {store->AwardMedal(Award(std::string(200, 'k'), "Gauls", v1::GOLD)),
       absl::StatusCode::kInvalidArgument, "idempotency_key is 200 bytes"},
  };
  for (const Case& c : cases) {
    ASSERT_FALSE(c.result.ok()) << c.message;
    EXPECT_EQ(c.result.status().code(), c.code) << c.result.status();
    EXPECT_THAT(c.result.status().message(), HasSubstr(c.message));
    EXPECT_LT(c.result.status().message().size(), 300u) << "echoes too much";
  }
  EXPECT_EQ(store->head_seq(), S(1));
  EXPECT_EQ(store->GetMedals("Gauls")->gold(), 1);
  EXPECT_EQ(store->GetEvent("javelin")->version(), 0);
}
TEST_P(StoreContractTest, AKeysHistoryIsItsRetainedChangesWithTimesAndReasonsAPageAtATime) {
  auto store = Open(/*change_retention=*/4);
  ASSERT_NE(store, nullptr);
  const int64_t before = absl::ToUnixMicros(absl::Now());
  ASSERT_TRUE(store->AwardMedal(Award("a", "Gauls", v1::GOLD)).ok());
  ASSERT_TRUE(store->RecordScore(Score("b", "javelin", "Gauls", 3)).ok());
  v1::AwardMedalRequest revoke = Award("c", "Gauls", v1::GOLD);
  revoke.set_revoke(true);
  revoke.set_reason("disqualified");
  ASSERT_TRUE(store->AwardMedal(revoke).ok());

  v1::HistoryRequest request;
  request.set_name("Gauls");
  absl::StatusOr<v1::History> history = store->GetHistory(request, 100);
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->key(), "team:Gauls");
  EXPECT_EQ(history->head_seq(), S(3));
  EXPECT_EQ(history->compacted_through_seq(), 0);
  EXPECT_FALSE(history->more());
  ASSERT_EQ(history->changes_size(), 2);
  EXPECT_EQ(history->changes(0).seq(), S(1));
  EXPECT_EQ(history->changes(0).medals().gold(), 1);
  EXPECT_GE(history->changes(0).medals().updated_unix_micros(), before);
  EXPECT_EQ(history->changes(1).seq(), S(3));
  EXPECT_EQ(history->changes(1).medals().gold(), 0);
  EXPECT_EQ(history->changes(1).reason(), "disqualified");

  // A page at a time: the first page says more follow.
  absl::StatusOr<v1::History> first = store->GetHistory(request, 1);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->changes_size(), 1);
  EXPECT_TRUE(first->more());
  request.set_after_seq(first->changes(0).seq());
  absl::StatusOr<v1::History> second = store->GetHistory(request, 1);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->changes_size(), 1);
  EXPECT_EQ(second->changes(0).seq(), S(3));
  EXPECT_FALSE(second->more());

  // Two more writes push seq 1 out of the log of 4: the history says so.
  ASSERT_TRUE(store->RecordScore(Score("d", "javelin", "Gauls", 4)).ok());
  ASSERT_TRUE(store->RecordScore(Score("e", "javelin", "Gauls", 5)).ok());
  request.set_after_seq(0);
  history = store->GetHistory(request, 100);
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->compacted_through_seq(), S(1));
  ASSERT_EQ(history->changes_size(), 1);
  EXPECT_EQ(history->changes(0).seq(), S(3));
  request.set_name("event:javelin");
  history = store->GetHistory(request, 100);
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->changes_size(), 3);  // seqs 2, 4 and 5
  EXPECT_GT(history->changes(2).event().updated_unix_micros(), 0);

  request.set_name("Vikings");
  EXPECT_EQ(store->GetHistory(request, 100).status().code(), absl::StatusCode::kNotFound);
  request.set_name("Gauls");
  request.set_after_seq(-1);
  EXPECT_EQ(store->GetHistory(request, 100).status().code(), absl::StatusCode::kInvalidArgument);
}
TEST_P(StoreContractTest, ConcurrentWritersEachGetTheirOwnIncreasingSeqsAndNoneIsLost) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kWriters = 16;
  constexpr int kPerWriter = 25;
  std::vector<std::vector<int64_t>> seqs(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        // Every writer increments the same tally: no increment may be lost
        // to a concurrent one.
        absl::StatusOr<WriteResult> r =
            store->AwardMedal(Award(absl::StrCat("w", w, "-", i), "Gauls", v1::SILVER));
        ASSERT_TRUE(r.ok()) << r.status();
        seqs[w].push_back(r->change.seq());
      }
    });
  }
  for (std::thread& t : threads) t.join();

  std::set<int64_t> all;
  for (const auto& s : seqs) {
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
    all.insert(s.begin(), s.end());
  }
  constexpr int kTotal = kWriters * kPerWriter;
  ASSERT_EQ(all.size(), static_cast<size_t>(kTotal));
  EXPECT_GT(*all.begin(), S(0));
  EXPECT_EQ(store->GetMedals("Gauls")->silver(), kTotal);
  EXPECT_EQ(store->GetMedals("Gauls")->version(), *all.rbegin());
  // The log holds every one of them, in order.
  absl::StatusOr<std::vector<v1::Change>> log = store->ChangesSince(S(0), kTotal + 1);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->size(), static_cast<size_t>(kTotal));
  for (int i = 0; i < kTotal; ++i) EXPECT_EQ((*log)[i].medals().silver(), i + 1);
}

TEST_P(StoreContractTest, ChangesPastTheRetentionAreOutOfRangeBeforeAndAfterAReopen) {
  constexpr int kWrites = 30;
  {
    auto store = Open(/*change_retention=*/10);
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= kWrites; ++i) {
      ASSERT_TRUE(store->AwardMedal(Award(absl::StrCat("c", i), "Britons", v1::BRONZE)).ok());
    }
    absl::StatusOr<std::vector<v1::Change>> old = store->ChangesSince(S(0), 100);
    EXPECT_EQ(old.status().code(), absl::StatusCode::kOutOfRange) << old.status();
    EXPECT_THAT(old.status().message(), HasSubstr("GetBoard"));
    EXPECT_EQ(store->ChangesSince(S(kWrites - 10), 100)->size(), 10u);
  }
  auto store = Open(/*change_retention=*/10);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->ChangesSince(S(0), 100).status().code(), absl::StatusCode::kOutOfRange);
  absl::StatusOr<std::vector<v1::Change>> recent = store->ChangesSince(S(kWrites - 10), 100);
  ASSERT_TRUE(recent.ok()) << recent.status();
  EXPECT_EQ(recent->size(), 10u);
  EXPECT_EQ(store->GetMedals("Britons")->bronze(), kWrites);
  EXPECT_EQ(store->GetBoard().seq(), S(kWrites));
}

}  // namespace
}  // namespace podium
