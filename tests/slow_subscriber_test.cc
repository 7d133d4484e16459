// Issue 4, slow subscribers: a client that stops reading cannot make its
// frontend's memory grow without bound, and still ends with the latest
// value of every key once it reads again.
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/keys.h"
#include "gtest/gtest.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"
#include "harness/update_reader.h"

namespace podium::test {
namespace {

// Resident memory of a process, in KiB, from /proc.
int64_t RssKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

TEST(SlowSubscriberTest, StalledReaderKeepsFrontendMemoryBoundedAndGetsLatest) {
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path());
  ASSERT_TRUE(backend.Start().ok()) << backend.log();
  // The frontend's recent changes (a fixed-size buffer, RecentChanges)
  // fill up with the writes below too; kept small, so that what is
  // measured is the stalled subscriber's queue.
  harness::FrontendCluster frontends(dir.path(), backend.address(), 1, "push",
                                     {"--recent_changes=64"});
  ASSERT_EQ(frontends.StartAll(), absl::OkStatus());
  ASSERT_TRUE(frontends.WaitForMaster(frontends.address(0), absl::Seconds(15)).ok());

  const std::vector<std::string> events = {"menhir-put", "boar-hunt", "javelin", "100m"};
  // The stalled client: subscribes, reads the snapshot, then stops reading.
  auto stub = frontends.NewStub(0);
  grpc::ClientContext context;
  v1::SubscribeRequest request;
  for (const std::string& event : events) request.add_events(event);
  auto reader = std::make_unique<harness::UpdateReader>(stub.get(), &context, request);
  std::map<std::string, int64_t> latest_seen;
  v1::SubscribeUpdate update;
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_TRUE(reader->Read(&update));
    latest_seen[ChangeKey(update.change())] = update.change().seq();
  }
  const int64_t rss_before = RssKib(frontends.pid(0));

  // 32,000 changes of four keys. Queued one by one they take about 10 MB
  // (measured with conflation switched off: 32 MB for 100,000); conflated,
  // the queue holds four.
  constexpr int kWriters = 16;
  constexpr int kPerWriter = 2000;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto backend_stub = backend.NewStub();
      for (int i = 0; i < kPerWriter; ++i) {
        grpc::ClientContext write_context;
        AddBearerToken(&write_context, "test-token");
        v1::RecordScoreRequest write;
        write.set_idempotency_key(absl::StrCat("s", w, "-", i));
        write.set_event(events[(w + i) % events.size()]);
        v1::TeamPoints* points = write.add_points();
        points->set_team("Romans");
        points->set_points(i);
        v1::WriteReply reply;
        if (!backend_stub->RecordScore(&write_context, write, &reply).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : writers) t.join();
  ASSERT_EQ(failures.load(), 0);
  const int64_t rss_after = RssKib(frontends.pid(0));
  RecordProperty("rss_growth_kib", static_cast<int>(rss_after - rss_before));
  std::cout << "frontend RSS growth " << rss_after - rss_before << " KiB\n";
  if (std::getenv("PODIUM_RSS_IS_MOSTLY_TSAN") == nullptr) {
    EXPECT_LT(rss_after - rss_before, 4 * 1024)
        << "frontend grew from " << rss_before << " KiB to " << rss_after << " KiB";
  } else {
    std::cout << "(not bounded under TSan: its shadow memory grows with the writes)\n";
  }

  // The backend's final values.
  std::map<std::string, int64_t> final_version;
  {
    grpc::ClientContext board_context;
    v1::Board board;
    ASSERT_TRUE(backend.NewStub()->GetBoard(&board_context, v1::GetBoardRequest(), &board).ok());
    for (const v1::EventScore& e : board.events()) final_version[EventKey(e.event())] = e.version();
  }
  // Reading again drains what flow control held plus the conflated queue,
  // ending on the latest version of every key. Bounded by the number of
  // updates that could possibly be waiting.
  for (int n = 0; n < kWriters * kPerWriter; ++n) {
    bool done = true;
    for (const std::string& event : events) {
      done = done && latest_seen[EventKey(event)] == final_version[EventKey(event)];
    }
    if (done) break;
    ASSERT_TRUE(reader->Read(&update)) << "stream ended early";
    const std::string key = ChangeKey(update.change());
    ASSERT_GT(update.change().seq(), latest_seen[key]) << "version went back for " << key;
    latest_seen[key] = update.change().seq();
  }
  for (const std::string& event : events) {
    EXPECT_EQ(latest_seen[EventKey(event)], final_version[EventKey(event)]) << event;
  }
  context.TryCancel();
}

}  // namespace
}  // namespace podium::test
