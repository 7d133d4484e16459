#include "backend/sqlite_store.h"

#include <filesystem>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "backend/sqlite_db.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/temp_dir.h"
#include "tests/store_requests.h"

// What is particular to SqliteStore: one file, group commit, schema
// upgrades, damage. What every store does is in store_contract_test.cc.
namespace podium {
namespace {

using ::testing::HasSubstr;

using ::podium::test::Award;
using ::podium::test::Score;

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStore> Open(SqliteStoreOptions options = {}) {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(db_path_, Games::Default(), options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  harness::ScopedTempDir dir_;
  const std::string db_path_ = dir_.path() + "/podium.db";
};

// A database from before fingerprints: its keys still dedupe (by key
// alone), and new keys are fingerprinted.
TEST_F(SqliteStoreTest, ADatabaseWithoutFingerprintsIsUpgraded) {
  {
    absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(db_path_);
    ASSERT_TRUE(db.ok()) << db.status();
    v1::Change change;
    change.set_seq(1);
    change.mutable_medals()->set_team("Gauls");
    change.mutable_medals()->set_gold(1);
    change.mutable_medals()->set_version(1);
    std::string hex;
    for (unsigned char c : change.SerializeAsString()) {
      absl::StrAppend(&hex, absl::Hex(c, absl::kZeroPad2));
    }
    ASSERT_TRUE(
        (*db)
            ->Exec(absl::StrCat(
                "CREATE TABLE kv (key TEXT PRIMARY KEY, change BLOB NOT NULL) WITHOUT ROWID;"
                "CREATE TABLE changes (seq INTEGER PRIMARY KEY, change BLOB NOT NULL);"
                "CREATE TABLE applied (key TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                "  change BLOB NOT NULL) WITHOUT ROWID;"
                "INSERT INTO kv VALUES ('team:Gauls', x'",
                hex,
                "');"
                "INSERT INTO changes VALUES (1, x'",
                hex,
                "');"
                "INSERT INTO applied VALUES ('old', 1, x'",
                hex, "');"))
            .ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetMedals("Gauls")->gold(), 1);
  absl::StatusOr<WriteResult> old = store->AwardMedal(Award("old", "Romans", v1::GOLD));
  ASSERT_TRUE(old.ok()) << old.status();  // nothing recorded to compare with
  EXPECT_TRUE(old->duplicate);
  ASSERT_TRUE(store->AwardMedal(Award("new", "Gauls", v1::GOLD)).ok());
  EXPECT_EQ(store->AwardMedal(Award("new", "Romans", v1::GOLD)).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->GetMedals("Gauls")->gold(), 2);
}

TEST_F(SqliteStoreTest, ADamagedAppliedRowIsDataLossForItsKeyAlone) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->AwardMedal(Award("damaged", "Gauls", v1::GOLD)).ok());
  }
  {
    absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(db_path_);
    ASSERT_TRUE(db.ok()) << db.status();
    // Bytes that are no protobuf message: a field of wire type 7.
    ASSERT_TRUE((*db)->Exec("UPDATE applied SET change = x'0f0f0f' WHERE key = 'damaged'").ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<WriteResult> retry = store->AwardMedal(Award("damaged", "Gauls", v1::GOLD));
  EXPECT_EQ(retry.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(retry.status().message(), HasSubstr("'damaged' does not parse"));
  EXPECT_TRUE(store->AwardMedal(Award("fine", "Gauls", v1::GOLD)).ok());
  EXPECT_EQ(store->GetMedals("Gauls")->gold(), 2);
}

TEST_F(SqliteStoreTest, ConcurrentWritersShareCommitsAndGetGaplessSeqs) {
  auto store = Open();
  constexpr int kWriters = 32;
  constexpr int kPerWriter = 50;
  std::vector<std::vector<int64_t>> seqs(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
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
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kTotal);
  EXPECT_EQ(store->GetMedals("Gauls")->silver(), kTotal);
  SqliteStore::Stats stats = store->stats();
  EXPECT_EQ(stats.writes, kTotal);
  // 32 writers blocked on one committer: batches must have formed.
  EXPECT_LT(stats.transactions, kTotal);
}

TEST_F(SqliteStoreTest, CompactionBoundsHistoryAndSaysSo) {
  SqliteStoreOptions options;
  options.change_retention = 10;
  options.idempotency_retention = 1500;
  constexpr int kWrites = 2100;  // crosses two compaction steps
  {
    auto store = Open(options);
    for (int i = 1; i <= kWrites; ++i) {
      ASSERT_TRUE(store->AwardMedal(Award(absl::StrCat("c", i), "Britons", v1::BRONZE)).ok());
    }
    absl::StatusOr<std::vector<v1::Change>> old = store->ChangesSince(0, 100);
    ASSERT_FALSE(old.ok());
    EXPECT_EQ(old.status().code(), absl::StatusCode::kOutOfRange);
    EXPECT_EQ(store->ChangesSince(kWrites - 10, 100)->size(), 10u);
  }
  auto store = Open(options);
  EXPECT_EQ(store->ChangesSince(0, 100).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store->ChangesSince(kWrites - 10, 100)->size(), 10u);
  EXPECT_EQ(store->GetMedals("Britons")->bronze(), kWrites);
  // A key within the idempotency window is still recognised...
  EXPECT_TRUE(store->AwardMedal(Award("c2000", "Britons", v1::BRONZE))->duplicate);
  // ...one compacted out of it is applied again, as documented.
  EXPECT_FALSE(store->AwardMedal(Award("c1", "Britons", v1::BRONZE))->duplicate);
}

TEST_F(SqliteStoreTest, SecondStoreOnSameFileIsRefused) {
  auto store = Open();
  ASSERT_TRUE(store->AwardMedal(Award("x", "Gauls", v1::GOLD)).ok());
  absl::StatusOr<std::unique_ptr<SqliteStore>> second =
      SqliteStore::Open(db_path_, Games::Default());
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("another podium-backend"));
}

TEST_F(SqliteStoreTest, UnopenablePathIsAClearError) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open("/nonexistent/dir/podium.db", Games::Default());
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("/nonexistent/dir/podium.db"));
}

}  // namespace
}  // namespace podium
