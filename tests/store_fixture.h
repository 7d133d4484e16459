// A store for each kind, for tests that every store must pass: SqliteStore
// on a file, and EtcdStore over a real etcd member started for the test.
// Seqs are counted from the store's head when it was first opened, since
// etcd's revisions start above 0.
#ifndef PODIUM_TESTS_STORE_FIXTURE_H_
#define PODIUM_TESTS_STORE_FIXTURE_H_

#include <memory>
#include <string>

#include "backend/etcd_client.h"
#include "backend/etcd_store.h"
#include "backend/sqlite_store.h"
#include "gtest/gtest.h"
#include "harness/etcd_cluster.h"
#include "harness/temp_dir.h"

namespace podium::test {

// Parameterized by "sqlite" or "etcd".
class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "etcd") {
      absl::StatusOr<std::unique_ptr<harness::EtcdCluster>> etcd =
          harness::EtcdCluster::Start(1, dir_.path());
      ASSERT_TRUE(etcd.ok()) << etcd.status();
      etcd_ = *std::move(etcd);
    }
    std::unique_ptr<Store> store = Open();
    ASSERT_NE(store, nullptr);
    base_ = store->head_seq();
  }

  // The store over the test's file or cluster, as a restarted backend
  // would open it.
  std::unique_ptr<Store> Open(size_t change_retention = 100'000) {
    if (GetParam() == "sqlite") {
      SqliteStoreOptions options;
      options.change_retention = change_retention;
      absl::StatusOr<std::unique_ptr<SqliteStore>> store =
          SqliteStore::Open(dir_.path() + "/podium.db", Games::Default(), options);
      EXPECT_TRUE(store.ok()) << store.status();
      return store.ok() ? *std::move(store) : nullptr;
    }
    absl::StatusOr<std::unique_ptr<EtcdClient>> client = EtcdClient::Connect(etcd_->endpoints());
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    EtcdStoreOptions options;
    options.change_retention = change_retention;
    absl::StatusOr<std::unique_ptr<EtcdStore>> store =
        EtcdStore::Open(*std::move(client), Games::Default(), options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // The seq of the n-th write since the test began.
  int64_t S(int64_t n) const { return base_ + n; }

  harness::ScopedTempDir dir_;
  std::unique_ptr<harness::EtcdCluster> etcd_;
  int64_t base_ = 0;
};

}  // namespace podium::test

#endif  // PODIUM_TESTS_STORE_FIXTURE_H_
