#include "harness/cluster.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/health.h"
#include "common/tls.h"

namespace podium::harness {

std::string BinaryPath(const std::string& relative) {
  return absl::StrCat(PODIUM_BINARY_DIR, "/", relative);
}

BackendProcess::BackendProcess(std::string dir, std::vector<std::string> extra_flags)
    : dir_(std::move(dir)),
      extra_flags_(std::move(extra_flags)),
      address_(absl::StrCat("127.0.0.1:", PickFreePort())),
      token_file_(dir_ + "/write.token"),
      log_path_(dir_ + "/backend.log") {
  std::ofstream(token_file_) << write_token() << "\n";
}

absl::StatusOr<Subprocess> StartHealthy(const std::vector<std::string>& argv,
                                        const std::string& log_path, const std::string& address) {
  absl::StatusOr<Subprocess> process = Subprocess::Start(argv, log_path);
  if (!process.ok()) return process.status();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  absl::Status health;
  while (absl::Now() < deadline) {
    health = CheckHealth(address, absl::Milliseconds(500));
    if (health.ok()) return process;
    absl::StatusOr<int> exited = process->Wait(absl::ZeroDuration());
    if (exited.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          argv[0], " exited with wait status ", *exited, "; log:\n", ReadFileOrEmpty(log_path)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrCat(argv[0],
                                                  " not healthy within 20s: ", health.message(),
                                                  "; log:\n", ReadFileOrEmpty(log_path)));
}

absl::Status BackendProcess::Start() {
  std::vector<std::string> argv = {BinaryPath("backend/podium-backend"), "--listen=" + address_,
                                   "--db=" + dir_ + "/podium.db",
                                   "--write_token_file=" + token_file_};
  // Frontends post fans' messages with the cluster token they hold.
  const std::string cluster_token_file = dir_ + "/backend-cluster.token";
  std::ofstream(cluster_token_file) << FrontendCluster::cluster_token() << "\n";
  argv.push_back("--cluster_token_file=" + cluster_token_file);
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  absl::StatusOr<Subprocess> process = StartHealthy(argv, log_path_, address_);
  if (!process.ok()) return process.status();
  process_ = *std::move(process);
  return absl::OkStatus();
}

void BackendProcess::Kill(int signal) { process_.Kill(signal); }

std::unique_ptr<v1::Backend::Stub> BackendProcess::NewStub() const {
  return v1::Backend::NewStub(grpc::CreateChannel(address_, ChannelCredentials()));
}

FrontendCluster::FrontendCluster(std::string dir, std::string backend, int count, std::string mode,
                                 std::vector<std::string> extra_flags)
    : dir_(std::move(dir)),
      backend_(std::move(backend)),
      mode_(std::move(mode)),
      extra_flags_(std::move(extra_flags)),
      own_flags_(count),
      processes_(count) {
  for (int i = 0; i < count; ++i) {
    addresses_.push_back(absl::StrCat("127.0.0.1:", PickFreePort()));
    peer_addresses_.push_back(absl::StrCat("127.0.0.1:", PickFreePort()));
  }
  std::ofstream(cluster_token_file()) << cluster_token() << "\n";
}

std::string FrontendCluster::cluster_token_file() const { return dir_ + "/cluster.token"; }

void FrontendCluster::AddFlags(int i, std::vector<std::string> flags) {
  own_flags_[i].insert(own_flags_[i].end(), flags.begin(), flags.end());
}

absl::Status FrontendCluster::StartAll() {
  for (int i = 0; i < size(); ++i) {
    if (absl::Status s = Start(i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status FrontendCluster::Start(int i) {
  std::vector<std::string> argv = {BinaryPath("frontend/podium-frontend"),
                                   "--listen=" + addresses_[i],
                                   "--peer_listen=" + peer_addresses_[i],
                                   "--cluster_token_file=" + cluster_token_file(),
                                   "--backend=" + backend_,
                                   "--peers=" + absl::StrJoin(peer_addresses_, ","),
                                   "--cache=" + mode_};
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  argv.insert(argv.end(), own_flags_[i].begin(), own_flags_[i].end());
  absl::StatusOr<Subprocess> process =
      StartHealthy(argv, absl::StrCat(dir_, "/frontend-", i, ".log"), addresses_[i]);
  if (!process.ok()) return process.status();
  processes_[i] = *std::move(process);
  return absl::OkStatus();
}

absl::Status FrontendCluster::StartAsHighestPid(int i) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) {
      // The pids wrapped: every frontend above i's fresh pid starts again
      // to take a pid after the wrap too, and then i, after them.
      for (int j = 0; j < size(); ++j) {
        if (j == i || !running(j) || pid(j) < pid(i)) continue;
        Kill(j, SIGTERM);  // and reaps it
        if (absl::Status started = Start(j); !started.ok()) return started;
      }
      Kill(i, SIGTERM);
    }
    if (absl::Status started = Start(i); !started.ok()) return started;
    if (HighestPid() == i) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "frontend ", i, " (pid ", pid(i), ") is still not the highest pid after 3 starts"));
}

void FrontendCluster::Kill(int i, int signal) { processes_[i].Kill(signal); }

std::string FrontendCluster::log(int i) const {
  return ReadFileOrEmpty(absl::StrCat(dir_, "/frontend-", i, ".log"));
}

std::unique_ptr<v1::Scoreboard::Stub> FrontendCluster::NewStub(int i) const {
  return v1::Scoreboard::NewStub(grpc::CreateChannel(addresses_[i], ChannelCredentials()));
}

int FrontendCluster::HighestPid() const {
  int best = -1;
  for (int i = 0; i < size(); ++i) {
    if (running(i) && (best < 0 || pid(i) > pid(best))) best = i;
  }
  return best;
}

absl::Status FrontendCluster::WaitForMaster(const std::string& master, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string disagreement;
  while (absl::Now() < deadline) {
    disagreement.clear();
    for (int i = 0; i < size() && disagreement.empty(); ++i) {
      if (!running(i)) continue;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
      v1::ListFrontendsReply reply;
      grpc::Status status = NewStub(i)->ListFrontends(&context, v1::ListFrontendsRequest(), &reply);
      if (!status.ok()) {
        disagreement = absl::StrCat(addresses_[i], ": ", status.error_message());
        continue;
      }
      std::string seen;
      int masters = 0;
      for (const v1::FrontendInfo& info : reply.frontends()) {
        if (info.master()) {
          seen = info.address();
          ++masters;
        }
      }
      if (masters != 1 || seen != master) {
        disagreement = absl::StrCat(addresses_[i], " sees ", masters, " masters, '", seen, "'");
      }
    }
    if (disagreement.empty()) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrCat("no agreement on master ", master, " within ",
                                                  absl::FormatDuration(timeout), ": ",
                                                  disagreement));
}

}  // namespace podium::harness
