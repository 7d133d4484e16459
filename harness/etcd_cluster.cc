#include "harness/etcd_cluster.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/channel.h"
#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"

namespace podium::harness {
namespace {

constexpr char kEtcd[] = "/usr/bin/etcd";

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(int members,
                                                                const std::string& dir) {
  absl::StatusOr<std::unique_ptr<EtcdCluster>> cluster = Create(members, dir);
  if (!cluster.ok()) return cluster.status();
  if (absl::Status s = (*cluster)->StartAll(); !s.ok()) return s;
  return cluster;
}

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Create(int members,
                                                                 const std::string& dir) {
  if (access(kEtcd, X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(kEtcd, " is missing: install Debian's etcd-server (./scripts/test does)"));
  }
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot make the folder ", dir, " for etcd: ", error.message()));
  }
  std::unique_ptr<EtcdCluster> cluster(new EtcdCluster());
  std::vector<std::string> peers;
  for (int i = 0; i < members; ++i) {
    Member member;
    member.name = absl::StrCat("etcd-", i);
    member.client_port = PickFreePort();
    member.peer_port = PickFreePort();
    member.data_dir = absl::StrCat(dir, "/", member.name);
    member.log_path = absl::StrCat(dir, "/", member.name, ".log");
    peers.push_back(absl::StrCat(member.name, "=http://127.0.0.1:", member.peer_port));
    cluster->members_.push_back(std::move(member));
  }
  cluster->initial_cluster_ = absl::StrJoin(peers, ",");
  return cluster;
}

absl::Status EtcdCluster::StartAll() {
  for (int i = 0; i < size(); ++i) {
    if (absl::Status s = StartMember(i, /*fresh=*/true); !s.ok()) return s;
  }
  for (int i = 0; i < size(); ++i) {
    if (absl::Status s = AwaitLeader(i, absl::Seconds(30)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status EtcdCluster::StartMember(int i, bool fresh) {
  Member& m = members_[i];
  const std::string client = absl::StrCat("http://127.0.0.1:", m.client_port);
  const std::string peer = absl::StrCat("http://127.0.0.1:", m.peer_port);
  absl::StatusOr<Subprocess> process =
      Subprocess::Start({kEtcd, "--name", m.name, "--data-dir", m.data_dir, "--listen-client-urls",
                         client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
                         "--initial-advertise-peer-urls", peer, "--initial-cluster",
                         initial_cluster_, "--initial-cluster-token", "podium-test",
                         "--initial-cluster-state", fresh ? "new" : "existing",
                         // Loopback round trips are microseconds: elections need not wait a
                         // second (etcd's defaults are 100 ms and 1 s).
                         "--heartbeat-interval", "50", "--election-timeout", "500", "--logger",
                         "zap", "--log-outputs", "stderr"},
                        m.log_path);
  if (!process.ok()) return process.status();
  m.process = *std::move(process);
  return absl::OkStatus();
}

std::string EtcdCluster::endpoint(int i) const {
  return absl::StrCat("127.0.0.1:", members_[i].client_port);
}

std::string EtcdCluster::endpoints() const {
  std::vector<std::string> all;
  for (int i = 0; i < size(); ++i) all.push_back(endpoint(i));
  return absl::StrJoin(all, ",");
}

void EtcdCluster::Kill(int i) {
  if (members_[i].process.running()) members_[i].process.Kill(SIGKILL);
}

absl::Status EtcdCluster::Restart(int i) {
  Kill(i);
  if (absl::Status s = StartMember(i, /*fresh=*/false); !s.ok()) return s;
  return AwaitLeader(i, absl::Seconds(30));
}

absl::Status EtcdCluster::AwaitLeader(int i, absl::Duration timeout) const {
  // A channel that retries a member still starting within 100 ms, not
  // gRPC's default backoff of seconds.
  auto stub = etcdserverpb::Maintenance::NewStub(CreateFastReconnectChannel(endpoint(i)));
  const absl::Time deadline = absl::Now() + timeout;
  std::string last = "no answer yet";
  while (absl::Now() < deadline) {
    if (!members_[i].process.running()) break;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    context.set_wait_for_ready(true);
    etcdserverpb::StatusResponse status;
    grpc::Status s = stub->Status(&context, etcdserverpb::StatusRequest(), &status);
    if (s.ok() && status.leader() != 0) return absl::OkStatus();
    last = s.ok() ? "no leader yet" : s.error_message();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::UnavailableError(absl::StrCat("etcd member ", members_[i].name, " at ", endpoint(i),
                                             " has no leader (", last, "); its log:\n", log(i)));
}

}  // namespace podium::harness
