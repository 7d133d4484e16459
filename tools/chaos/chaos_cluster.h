// The processes of a chaos run on loopback: one backend, push-mode
// frontends, the bard simulating a games day with a journal, and clients
// watching everything, each printing to its own file. Any of them can be
// SIGKILLed and started again. Every child is owned here (harness/
// Subprocess objects), so all are SIGKILLed and reaped when the cluster is
// destroyed, however the run ends.
#ifndef PODIUM_TOOLS_CHAOS_CHAOS_CLUSTER_H_
#define PODIUM_TOOLS_CHAOS_CHAOS_CLUSTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "harness/cluster.h"
#include "harness/etcd_cluster.h"
#include "harness/subprocess.h"
#include "podium/v1/types.pb.h"
#include "tools/chaos/fault_plan.h"

namespace podium::chaos {

struct ChaosClusterOptions {
  std::string dir;    // logs, database, journal; must exist
  uint64_t seed = 1;  // the bard's simulation seed
  int frontends = 3;
  int clients = 12;
  double bard_rate = 20;  // writes per second
  int bard_max_live = 4;  // matches in play at once
  std::string games;      // the backend's --games file; empty: its built-in day
  // 3 etcd members and 2 backends over them (--store=etcd), the frontends
  // and the bard given both; else one backend on SQLite.
  bool replicated = false;
};

// A process the run killed, resolved: a kMaster fault names the frontend
// that was master at the time.
struct Victim {
  Target target = Target::kBackend;  // never kMaster
  int index = 0;
  std::string name;  // "frontend-1"
};

// Not thread-safe: one driver thread.
class ChaosCluster {
 public:
  // Reserves the ports; nothing runs until Start. An etcd cluster that
  // cannot even be set up (etcd not installed) makes Start fail.
  explicit ChaosCluster(ChaosClusterOptions options);
  ~ChaosCluster();

  // Starts everything and waits until the frontends agree on a master and
  // every client has printed its first values.
  absl::Status Start(absl::Duration timeout);

  // SIGKILLs the fault's victim (and reaps it).
  absl::StatusOr<Victim> Kill(const Fault& fault);
  // Starts it again; servers are waited for until healthy.
  absl::Status Restart(const Victim& victim);
  // The pid of the victim's current process (0 when down).
  int64_t Pid(const Victim& victim);

  // Processes that exited although nobody killed them, each described with
  // the end of its log; each is restarted. Checked without reaping
  // (waitid WNOWAIT), so a live Subprocess never loses its child.
  std::vector<std::string> RestartUnexpectedExits();

  // SIGTERM to the bard; waits up to `timeout` for it to finish the write in
  // flight, then SIGKILLs it. Returns its wait status.
  absl::StatusOr<int> StopBard(absl::Duration timeout);
  // Runs `podium-bard --json journal-summary` on the bard's journal, which
  // first re-sends the writes a killed bard left pending. Its stdout, or
  // an error with its exit status and log.
  absl::StatusOr<std::string> JournalSummary(absl::Duration timeout);

  // The board of the first backend that answers.
  absl::StatusOr<v1::Board> BackendBoard() const;
  // The backends' head seq before the first write: 0 on SQLite, etcd's
  // revision at the start over etcd (seqs are its revisions).
  int64_t seq_base() const { return seq_base_; }
  absl::StatusOr<v1::Board> FrontendBoard(int i) const;
  // OK when every frontend names the live frontend with the highest pid as
  // the one master; the last disagreement after `timeout` otherwise.
  absl::Status WaitForOneMaster(absl::Duration timeout);

  int frontends() const { return frontends_.size(); }
  int clients() const { return options_.clients; }
  // The stdout files of each client's lifetimes, oldest first.
  const std::vector<std::string>& client_outputs(int i) const { return client_outputs_[i]; }
  const std::string& journal_path() const { return journal_; }

 private:
  absl::Status StartBard();
  absl::Status StartClient(int i);
  // The frontend that is master now, by asking the running ones; -1 when
  // none answers.
  int CurrentMaster() const;
  std::string LogOf(const Victim& victim) const;

  const ChaosClusterOptions options_;
  const std::string journal_;
  std::unique_ptr<harness::EtcdCluster> etcd_;  // replicated runs only
  std::vector<std::unique_ptr<harness::BackendProcess>> backends_;
  std::string backend_list_;  // "A,B" for the frontends and the bard
  int64_t seq_base_ = 0;
  harness::FrontendCluster frontends_;
  std::string frontend_list_;  // "A,B,C" for the clients
  harness::Subprocess bard_;
  std::vector<harness::Subprocess> clients_;
  std::vector<std::vector<std::string>> client_outputs_;
};

}  // namespace podium::chaos

#endif  // PODIUM_TOOLS_CHAOS_CHAOS_CLUSTER_H_
