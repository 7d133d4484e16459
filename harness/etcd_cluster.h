// Real etcd members (Debian's etcd-server) on loopback for tests: each on
// ports picked free, its data under the test's directory, waited on until
// the cluster has a leader, and SIGKILLed and reaped when the test ends.
#ifndef PODIUM_HARNESS_ETCD_CLUSTER_H_
#define PODIUM_HARNESS_ETCD_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "harness/subprocess.h"

namespace podium::harness {

// Not thread-safe.
class EtcdCluster {
 public:
  // Starts `members` members (1 or 3, usually) with data and logs under
  // `dir` (made if missing), and waits until every one sees a leader. FAILED_PRECONDITION
  // naming the package when etcd is not installed.
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> Start(int members, const std::string& dir);
  // The same in two steps, for a caller that must know the endpoints
  // before anything runs: ports and folders now, the members on StartAll.
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> Create(int members, const std::string& dir);
  absl::Status StartAll();

  int size() const { return static_cast<int>(members_.size()); }
  // Member i's client endpoint, host:port.
  std::string endpoint(int i) const;
  // Every member's, comma-separated, as --etcd takes them.
  std::string endpoints() const;

  // SIGKILLs member i (its data stays).
  void Kill(int i);
  // Starts member i again on its ports and data, and waits until it sees a
  // leader.
  absl::Status Restart(int i);
  bool running(int i) const { return members_[i].process.running(); }
  pid_t pid(int i) const { return members_[i].process.pid(); }
  std::string log(int i) const { return ReadFileOrEmpty(members_[i].log_path); }

  // Waits until member i answers with a leader (its own view).
  absl::Status AwaitLeader(int i, absl::Duration timeout) const;

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    std::string data_dir;
    std::string log_path;
    Subprocess process;
  };
  EtcdCluster() = default;
  absl::Status StartMember(int i, bool fresh);

  std::string initial_cluster_;
  std::vector<Member> members_;
};

}  // namespace podium::harness

#endif  // PODIUM_HARNESS_ETCD_CLUSTER_H_
