// Convergence, shown: for one revision, whether every etcd member holds the
// same history (etcd's HashKV) and every backend serves the board the
// members hold (a digest of the values both sides name). The check of
// `podium-admin checksum`.
#ifndef PODIUM_TOOLS_ADMIN_CONVERGENCE_H_
#define PODIUM_TOOLS_ADMIN_CONVERGENCE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backend/etcd_client.h"
#include "podium/v1/backend.grpc.pb.h"
#include "podium/v1/types.pb.h"

namespace podium {

// What two copies of a board agree on exactly when they hold the same
// written values at the same versions: each value of version > 0, in key
// order, with the teams' points (0 points and a team left out are alike).
uint64_t BoardDigest(const std::vector<v1::Change>& values);
// The written values of a board (version > 0), as changes.
std::vector<v1::Change> BoardValues(const v1::Board& board);

struct MemberCheck {
  std::string address;
  // etcd's hash of its keys at the report's revision.
  absl::StatusOr<uint32_t> hash_kv = absl::UnknownError("not asked");
  // The revision the member had compacted through when it hashed: hashes
  // of members at different compaction points differ by design.
  int64_t compact_revision = 0;
  // The digest of the values under the prefix as this member holds them
  // (read locally, serializable), at each backend's board seq.
  std::map<int64_t, absl::StatusOr<uint64_t>> digest_at;
};

struct BackendCheck {
  std::string address;
  absl::StatusOr<v1::Board> board = absl::UnknownError("not asked");
  uint64_t digest = 0;
};

struct ConvergenceReport {
  // The revision the members' hashes are compared at: the newest board seq
  // of the backends, or etcd's newest. A member that has not applied it
  // (cut off, behind) cannot answer for it, and so disagrees.
  int64_t revision = 0;
  std::vector<MemberCheck> members;
  std::vector<BackendCheck> backends;
  bool agree = false;
  // Why not, for a person: the first disagreement found.
  std::string why;
};

// Asks every backend for its board and every member of `etcd` for its hash
// and values under `prefix`; each call bounded by `timeout`.
ConvergenceReport CheckConvergence(
    const std::vector<std::pair<std::string, v1::Backend::StubInterface*>>& backends,
    EtcdClient& etcd, const std::string& prefix, absl::Duration timeout);

// One line per member and backend, then the verdict.
std::string ReportText(const ConvergenceReport& report);
// The same as JSON objects, one a line.
std::string ReportJson(const ConvergenceReport& report);

}  // namespace podium

#endif  // PODIUM_TOOLS_ADMIN_CONVERGENCE_H_
