// The etcd cluster as Podium's etcd store sees it: a list of members'
// client endpoints, reached over etcd's own gRPC API (protos/etcd), one
// preferred at a time. A call that finds its member unreachable, without a
// leader or too slow moves on to the next member, so a store keeps working
// while a minority of the cluster is down or cut off.
//
// Every write Podium sends is a transaction that checks its own idempotency
// record first, so sending one again after an UNAVAILABLE answer (which may
// hide a commit) is always safe; that is why calls here may be retried on
// another member.
#ifndef PODIUM_BACKEND_ETCD_CLIENT_H_
#define PODIUM_BACKEND_ETCD_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"

namespace podium {

// One member's client endpoint.
struct EtcdMember {
  std::string address;  // host:port
  std::unique_ptr<etcdserverpb::KV::StubInterface> kv;
  std::unique_ptr<etcdserverpb::Watch::StubInterface> watch;
  std::unique_ptr<etcdserverpb::Lease::StubInterface> lease;
  std::unique_ptr<etcdserverpb::Maintenance::StubInterface> maintenance;
};

// Thread-safe.
class EtcdClient {
 public:
  // `endpoints`: "host:port,host:port,..." (TLS when the process has it,
  // see common/tls.h). INVALID_ARGUMENT for an empty or malformed list.
  // `call_timeout` bounds each call on one member: a member that lost its
  // leader holds a write until then (etcd drops proposals in flight at a
  // change of leader), and a host that vanished answers nothing, so it is
  // short; a call that times out is sent to the next member, which is safe
  // for every call Podium makes.
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Connect(
      const std::string& endpoints, absl::Duration call_timeout = absl::Seconds(1));
  // For tests: members whose stubs are given.
  EtcdClient(std::vector<EtcdMember> members, absl::Duration call_timeout);
  // Waits for the completion thread; every TxnAsync must have been answered.
  ~EtcdClient();

  size_t size() const { return members_.size(); }
  const EtcdMember& member(size_t index) const { return members_[index]; }
  // The member calls go to first, until it fails.
  size_t preferred() const { return preferred_.load(); }
  // `index` failed: prefer the one after it (unless another call already
  // moved on).
  void Demote(size_t index);
  absl::Duration call_timeout() const { return call_timeout_; }

  // Blocking calls, trying each member at most once, the preferred first.
  grpc::Status Range(const etcdserverpb::RangeRequest& request,
                     etcdserverpb::RangeResponse* response);
  grpc::Status Txn(const etcdserverpb::TxnRequest& request, etcdserverpb::TxnResponse* response);
  grpc::Status Compact(const etcdserverpb::CompactionRequest& request,
                       etcdserverpb::CompactionResponse* response);
  grpc::Status LeaseGrant(const etcdserverpb::LeaseGrantRequest& request,
                          etcdserverpb::LeaseGrantResponse* response);

  // The same as Txn without blocking: `done` runs once, on this client's
  // completion thread, after `response` is filled or every member has
  // failed. `request` and `response` must stay valid until then.
  void TxnAsync(const etcdserverpb::TxnRequest* request, etcdserverpb::TxnResponse* response,
                std::function<void(grpc::Status)> done);

  // Whether a failed call may succeed on another member.
  static bool TryAnother(const grpc::Status& status);

 private:
  struct AsyncTxn;
  void StartTxn(std::unique_ptr<AsyncTxn> call);
  // Takes finished calls off cq_: each is retried or answered, then freed
  // here, outside gRPC's own frames (a ClientContext freed inside gRPC's
  // callback of its own call upset its reference counts).
  void CompletionLoop();

  template <typename Call>
  grpc::Status OnEachMember(Call call);
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  std::vector<EtcdMember> members_;
  const absl::Duration call_timeout_;
  std::atomic<size_t> preferred_{0};
  grpc::CompletionQueue cq_;
  std::thread completions_;
};

// The end of the key range of every key starting with `prefix`, as etcd
// wants it in range_end.
std::string EtcdPrefixEnd(const std::string& prefix);

}  // namespace podium

#endif  // PODIUM_BACKEND_ETCD_CLIENT_H_
