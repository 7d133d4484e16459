// Freshness: how long after a write is acknowledged every frontend has it.
//
// Three frontends over one backend, in push mode and in pull mode at
// several poll intervals. The bench subscribes to one event on each
// frontend (the Subscribe stream is fed from the same place as the cache:
// the master's invalidation in push mode, the poll in pull mode), writes
// that event through the backend, and records when each frontend's stream
// delivers the write's seq. A sample's staleness is the slowest of the
// three.
//
//   build/bench/freshness_bench [--samples=200] [--modes=push,pull:10ms,...]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "bench/measurements.h"
#include "common/auth.h"
#include "common/channel.h"
#include "harness/cluster.h"
#include "harness/temp_dir.h"
#include "harness/update_reader.h"

ABSL_FLAG(int, samples, 200, "writes measured per mode (fewer for slow polls)");
ABSL_FLAG(std::string, modes, "push,pull:10ms,pull:100ms,pull:1000ms",
          "cache modes to measure; pull takes its poll interval");
ABSL_FLAG(std::string, csv, "", "also append rows to this CSV file");

namespace podium {
namespace {

using bench::Percentile;

constexpr char kEvent[] = "javelin";

// Receipt times of seqs on one frontend's Subscribe stream.
class StreamWatcher {
 public:
  explicit StreamWatcher(const std::string& address)
      : stub_(v1::Scoreboard::NewStub(CreateFastReconnectChannel(address))) {
    v1::SubscribeRequest request;
    request.add_events(kEvent);
    reader_ = std::make_unique<harness::UpdateReader>(stub_.get(), &context_, request);
    thread_ = std::thread([this] {
      v1::SubscribeUpdate update;
      while (reader_->Read(&update)) {
        const absl::Time now = absl::Now();
        absl::MutexLock lock(&mu_);
        received_[update.change().seq()] = now;
      }
    });
  }
  ~StreamWatcher() {
    context_.TryCancel();
    thread_.join();
  }
  // When `seq` arrived, waiting up to `timeout` for it.
  std::optional<absl::Time> WaitFor(int64_t seq, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto arrived = [this, seq]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return received_.count(seq) > 0; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&arrived), timeout)) return std::nullopt;
    return received_[seq];
  }

 private:
  std::unique_ptr<v1::Scoreboard::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<harness::UpdateReader> reader_;
  absl::Mutex mu_;
  std::map<int64_t, absl::Time> received_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

int Main() {
  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);
  std::printf("| mode          | samples | p50 ms  | p99 ms  | max ms  |\n");
  std::printf("|---------------|---------|---------|---------|---------|\n");
  for (absl::string_view mode_spec : absl::StrSplit(absl::GetFlag(FLAGS_modes), ',')) {
    std::vector<std::string> parts = absl::StrSplit(mode_spec, ':');
    const std::string mode = parts[0];
    std::vector<std::string> flags;
    absl::Duration interval = absl::ZeroDuration();
    if (parts.size() > 1) {
      flags.push_back("--poll_interval=" + parts[1]);
      if (!absl::ParseDuration(parts[1], &interval)) return 2;
    }
    harness::ScopedTempDir dir;
    harness::BackendProcess backend(dir.path());
    harness::FrontendCluster frontends(dir.path(), backend.address(), 3, mode, flags);
    for (absl::Status s : {backend.Start(), frontends.StartAll()}) {
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
        return 1;
      }
    }
    if (mode == "push") {
      frontends.WaitForMaster(frontends.address(frontends.HighestPid()), absl::Seconds(15))
          .IgnoreError();
    }
    std::vector<std::unique_ptr<StreamWatcher>> watchers;
    for (int i = 0; i < 3; ++i) {
      watchers.push_back(std::make_unique<StreamWatcher>(frontends.address(i)));
    }
    auto stub = backend.NewStub();
    // Slow polls get fewer samples so every mode takes comparable time.
    int samples = absl::GetFlag(FLAGS_samples);
    if (interval > absl::ZeroDuration()) {
      samples = std::max<int>(10, std::min<int64_t>(samples, absl::Seconds(20) / interval));
    }
    std::vector<double> staleness;
    // Warm-up writes let every stream finish its snapshot first.
    for (int i = -3; i < samples; ++i) {
      grpc::ClientContext context;
      AddBearerToken(&context, harness::BackendProcess::write_token());
      v1::RecordScoreRequest request;
      request.set_idempotency_key(absl::StrCat(mode_spec, "-", i));
      request.set_event(kEvent);
      v1::TeamPoints* points = request.add_points();
      points->set_team("Gauls");
      points->set_points(i + 10);
      v1::WriteReply reply;
      if (!stub->RecordScore(&context, request, &reply).ok()) return 1;
      const absl::Time acked = absl::Now();
      absl::Time last = acked;
      bool all = true;
      for (auto& watcher : watchers) {
        std::optional<absl::Time> got =
            watcher->WaitFor(reply.change().seq(), interval + absl::Seconds(5));
        if (!got) {
          all = false;
          break;
        }
        last = std::max(last, *got);
      }
      if (!all) {
        std::fprintf(stderr, "%s: seq %ld never reached every frontend\n",
                     std::string(mode_spec).c_str(), static_cast<long>(reply.change().seq()));
        return 1;
      }
      if (i >= 0) staleness.push_back(absl::ToDoubleMilliseconds(last - acked));
      // Spread writes evenly over the poll cycle: waiting for the last
      // write to arrive has just aligned us with a poll.
      const double phase = std::fmod((i + 3) * 0.6180339887, 1.0);
      absl::SleepFor(absl::Milliseconds(2) + phase * interval);
    }
    std::printf("| %-13s | %7zu | %7.2f | %7.2f | %7.2f |\n", std::string(mode_spec).c_str(),
                staleness.size(), Percentile(staleness, 0.5), Percentile(staleness, 0.99),
                Percentile(staleness, 1.0));
    std::fflush(stdout);
    if (csv.is_open()) {
      csv << mode_spec << "," << staleness.size() << "," << Percentile(staleness, 0.5) << ","
          << Percentile(staleness, 0.99) << "," << Percentile(staleness, 1.0) << "\n";
    }
  }
  return 0;
}

}  // namespace
}  // namespace podium

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As in every Podium binary (common/init.cc): no lock-graph bookkeeping.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return podium::Main();
}
