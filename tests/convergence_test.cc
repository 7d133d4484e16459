// podium-admin checksum's check against real processes on loopback: three
// etcd members, two backends over them. (tests/hosts_test.sh cuts a member
// off by its network; here one is paused, which the check must tell apart
// from a member merely milliseconds behind.)
#include "tools/admin/convergence.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/etcd_cluster.h"
#include "harness/temp_dir.h"

namespace podium::test {
namespace {

using ::testing::HasSubstr;

TEST(ConvergenceTest, APausedMemberDisagreesByNameAndAgreesOnceItCatchesUp) {
  harness::ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<harness::EtcdCluster>> etcd =
      harness::EtcdCluster::Start(3, dir.path());
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  const std::vector<std::string> store = {"--store=etcd", "--etcd=" + (*etcd)->endpoints()};
  std::vector<std::unique_ptr<harness::BackendProcess>> backends;
  for (const char* name : {"/b1", "/b2"}) {
    std::filesystem::create_directories(dir.path() + name);
    backends.push_back(std::make_unique<harness::BackendProcess>(dir.path() + name, store));
    ASSERT_TRUE(backends.back()->Start().ok()) << backends.back()->log();
  }
  std::vector<std::unique_ptr<v1::Backend::Stub>> stubs;
  std::vector<std::pair<std::string, v1::Backend::StubInterface*>> targets;
  for (const auto& backend : backends) {
    stubs.push_back(backend->NewStub());
    targets.emplace_back(backend->address(), stubs.back().get());
  }
  auto award = [&](int i) {
    grpc::ClientContext context;
    AddBearerToken(&context, harness::BackendProcess::write_token());
    v1::AwardMedalRequest request;
    request.set_idempotency_key(absl::StrCat("a", i));
    request.set_team("Gauls");
    request.set_medal(v1::GOLD);
    v1::WriteReply reply;
    return stubs[i % 2]->AwardMedal(&context, request, &reply).ok();
  };
  absl::StatusOr<std::unique_ptr<EtcdClient>> client =
      EtcdClient::Connect((*etcd)->endpoints(), absl::Seconds(1));
  ASSERT_TRUE(client.ok());

  for (int i = 0; i < 20; ++i) ASSERT_TRUE(award(i));
  ConvergenceReport report = CheckConvergence(targets, **client, "/podium/", absl::Seconds(2));
  EXPECT_TRUE(report.agree) << ReportText(report);
  EXPECT_GE(report.revision, 21);

  // The first member stops answering; the others go on taking writes.
  const pid_t first = (*etcd)->pid(0);
  ASSERT_EQ(kill(first, SIGSTOP), 0);
  int written = 20;
  for (int i = 20; i < 30; ++i) written += award(i);
  EXPECT_GE(written, 25) << "writes stopped with one member of three paused";
  report = CheckConvergence(targets, **client, "/podium/", absl::Milliseconds(500));
  EXPECT_FALSE(report.agree) << ReportText(report);
  EXPECT_THAT(report.why, HasSubstr((*etcd)->endpoint(0)));
  EXPECT_THAT(ReportText(report), HasSubstr("DISAGREE"));

  ASSERT_EQ(kill(first, SIGCONT), 0);
  ASSERT_TRUE((*etcd)->AwaitLeader(0, absl::Seconds(20)).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    award(written++);  // under writes
    report = CheckConvergence(targets, **client, "/podium/", absl::Seconds(2));
  } while (!report.agree && absl::Now() < deadline);
  EXPECT_TRUE(report.agree) << ReportText(report);
  EXPECT_THAT(ReportJson(report), HasSubstr("{\"agree\":true}"));
}

}  // namespace
}  // namespace podium::test
