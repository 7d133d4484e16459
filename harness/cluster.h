// Real Podium processes on loopback for multi-process tests: each picks a
// free port, waits for its health check before a test uses it, and is
// SIGKILLed and reaped when the test ends, however it ends.
#ifndef PODIUM_HARNESS_CLUSTER_H_
#define PODIUM_HARNESS_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "harness/subprocess.h"
#include "podium/v1/backend.grpc.pb.h"
#include "podium/v1/scoreboard.grpc.pb.h"

namespace podium::harness {

// Where the build put a binary, e.g. BinaryPath("backend/podium-backend").
std::string BinaryPath(const std::string& relative);

// One podium-backend with its own database and token under `dir`.
class BackendProcess {
 public:
  BackendProcess(std::string dir, std::vector<std::string> extra_flags = {});

  // Starts it and waits until it reports SERVING.
  absl::Status Start();
  // SIGKILL (the crash the durability guarantee is about), or another signal.
  void Kill(int signal);
  absl::Status Restart() {
    Kill(9);
    return Start();
  }

  const std::string& address() const { return address_; }
  const std::string& token_file() const { return token_file_; }
  // The write token in token_file().
  static std::string write_token() { return "test-token"; }
  const std::string& log_path() const { return log_path_; }
  std::string log() const { return ReadFileOrEmpty(log_path_); }
  Subprocess& process() { return process_; }
  // A stub on a fresh channel.
  std::unique_ptr<v1::Backend::Stub> NewStub() const;

 private:
  const std::string dir_;
  const std::vector<std::string> extra_flags_;
  const std::string address_;
  const std::string token_file_;
  const std::string log_path_;
  Subprocess process_;
};

// Frontends over one backend, numbered 0..n-1, each on its own port.
class FrontendCluster {
 public:
  FrontendCluster(std::string dir, std::string backend, int count, std::string mode,
                  std::vector<std::string> extra_flags = {});

  // Flags for frontend i alone, from its next start on.
  void AddFlags(int i, std::vector<std::string> flags);
  absl::Status StartAll();
  // Starts frontend i (again) and waits for its health check.
  absl::Status Start(int i);
  // Starts frontend i (again) so that it has the highest pid of the running
  // frontends. Linux hands out increasing pids until pid_max, then wraps to
  // low ones, so on a busy machine a fresh process may be lower than one
  // started before the wrap: then the running frontends above it are
  // started again (taking post-wrap pids too), and i after them (at most 3
  // rounds).
  absl::Status StartAsHighestPid(int i);
  void Kill(int i, int signal);

  int size() const { return static_cast<int>(addresses_.size()); }
  // The public address (Scoreboard) and the peer-plane one (FrontendPeer).
  const std::string& address(int i) const { return addresses_[i]; }
  const std::string& peer_address(int i) const { return peer_addresses_[i]; }
  // What every frontend of the cluster is started with.
  static std::string cluster_token() { return "test-cluster-token"; }
  std::string cluster_token_file() const;
  pid_t pid(int i) const { return processes_[i].pid(); }
  bool running(int i) const { return processes_[i].running(); }
  std::string log(int i) const;
  std::unique_ptr<v1::Scoreboard::Stub> NewStub(int i) const;

  // Waits until every running frontend names `master` as master (and it
  // calls itself master); the last disagreement on timeout.
  absl::Status WaitForMaster(const std::string& master, absl::Duration timeout);
  // The running frontend with the highest pid: the one the bully rule elects.
  int HighestPid() const;

 private:
  const std::string dir_;
  const std::string backend_;
  const std::string mode_;
  const std::vector<std::string> extra_flags_;
  std::vector<std::string> addresses_;
  std::vector<std::string> peer_addresses_;
  std::vector<std::vector<std::string>> own_flags_;
  std::vector<Subprocess> processes_;
};

// Starts `argv` logging to `log_path` and waits until `address` reports
// SERVING; fails early with the log when the process exits instead.
absl::StatusOr<Subprocess> StartHealthy(const std::vector<std::string>& argv,
                                        const std::string& log_path, const std::string& address);

}  // namespace podium::harness

#endif  // PODIUM_HARNESS_CLUSTER_H_
