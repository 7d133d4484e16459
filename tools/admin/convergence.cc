#include "tools/admin/convergence.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backend/etcd_values.h"
#include "common/fnv.h"
#include "common/json.h"
#include "common/keys.h"

namespace podium {
namespace {

constexpr int kHashRounds = 5;

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

absl::Status Failed(const grpc::Status& status) {
  return absl::UnavailableError(status.error_message());
}

// Calls `call` until it succeeds, fails otherwise than "the member has not
// reached that revision yet", or `timeout` has passed: a member that keeps
// up reaches it within milliseconds, one cut off never does.
template <typename Call>
grpc::Status UntilCaughtUp(absl::Duration timeout, Call call) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    grpc::Status status = call(Context(std::max(deadline - absl::Now(), absl::Milliseconds(1))));
    if (status.ok() || status.error_message().find("future revision") == std::string::npos ||
        absl::Now() + absl::Milliseconds(50) >= deadline) {
      return status;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

// The member's own copy of the values under `prefix` at `revision`.
absl::StatusOr<uint64_t> MemberDigest(const EtcdMember& member, const std::string& prefix,
                                      int64_t revision, absl::Duration timeout) {
  etcdserverpb::RangeRequest request;
  request.set_key(prefix + "kv/");
  request.set_range_end(EtcdPrefixEnd(prefix + "kv/"));
  request.set_revision(revision);
  request.set_serializable(true);  // this member's data, not the leader's
  etcdserverpb::RangeResponse response;
  grpc::Status status = UntilCaughtUp(timeout, [&](std::unique_ptr<grpc::ClientContext> context) {
    return member.kv->Range(context.get(), request, &response);
  });
  if (!status.ok()) return Failed(status);
  std::vector<v1::Change> values;
  for (const mvccpb::KeyValue& kv : response.kvs()) {
    absl::StatusOr<v1::Change> change = DecodeValue(kv);
    if (!change.ok()) return change.status();
    // The digest is of the scoreboard, which is what a backend's board
    // holds too; fan boards differ alike or not at all in HashKV, which
    // covers every key.
    if (change->has_fans()) continue;
    values.push_back(*std::move(change));
  }
  return BoardDigest(values);
}

}  // namespace

uint64_t BoardDigest(const std::vector<v1::Change>& values) {
  std::vector<std::string> lines;
  for (const v1::Change& change : values) {
    std::string line = absl::StrCat(ChangeKey(change), "@", change.seq());
    if (change.has_event()) {
      absl::StrAppend(&line, " ", change.event().status());
      std::set<std::pair<std::string, int64_t>> points;
      for (const v1::TeamPoints& p : change.event().points()) {
        if (p.points() != 0) points.emplace(p.team(), p.points());
      }
      for (const auto& [team, n] : points) absl::StrAppend(&line, " ", team, "=", n);
    } else {
      const v1::MedalTally& t = change.medals();
      absl::StrAppend(&line, " ", t.gold(), "/", t.silver(), "/", t.bronze());
    }
    lines.push_back(std::move(line));
  }
  std::sort(lines.begin(), lines.end());
  std::string all;
  for (const std::string& line : lines) absl::StrAppend(&all, line, "\n");
  return Fnv1a64(all);
}

std::vector<v1::Change> BoardValues(const v1::Board& board) {
  std::vector<v1::Change> values;
  for (const v1::EventScore& event : board.events()) {
    if (event.version() == 0) continue;
    v1::Change change;
    *change.mutable_event() = event;
    change.set_seq(event.version());
    values.push_back(std::move(change));
  }
  for (const v1::MedalTally& tally : board.medals()) {
    if (tally.version() == 0) continue;
    v1::Change change;
    *change.mutable_medals() = tally;
    change.set_seq(tally.version());
    values.push_back(std::move(change));
  }
  return values;
}

ConvergenceReport CheckConvergence(
    const std::vector<std::pair<std::string, v1::Backend::StubInterface*>>& backends,
    EtcdClient& etcd, const std::string& prefix, absl::Duration timeout) {
  ConvergenceReport report;
  std::set<int64_t> seqs;
  for (const auto& [address, stub] : backends) {
    BackendCheck check;
    check.address = address;
    v1::Board board;
    grpc::Status status = stub->GetBoard(Context(timeout).get(), v1::GetBoardRequest(), &board);
    if (status.ok()) {
      check.digest = BoardDigest(BoardValues(board));
      seqs.insert(board.seq());
      check.board = std::move(board);
    } else {
      check.board = Failed(status);
    }
    report.backends.push_back(std::move(check));
  }
  if (!seqs.empty()) {
    report.revision = *seqs.rbegin();
  } else {
    etcdserverpb::RangeRequest newest;
    newest.set_key(prefix);
    newest.set_count_only(true);
    etcdserverpb::RangeResponse response;
    if (etcd.Range(newest, &response).ok()) report.revision = response.header().revision();
  }

  // etcd applies a compaction on each member at its own moment, and a
  // hash covers only what is not compacted: hashes taken at different
  // compaction points are asked again (a few times) before they count.
  for (int round = 0; round < kHashRounds; ++round) {
    report.members.clear();
    std::set<int64_t> compactions;
    for (size_t i = 0; i < etcd.size(); ++i) {
      const EtcdMember& member = etcd.member(i);
      MemberCheck check;
      check.address = member.address;
      etcdserverpb::HashKVRequest request;
      request.set_revision(report.revision);
      etcdserverpb::HashKVResponse response;
      grpc::Status status =
          UntilCaughtUp(timeout, [&](std::unique_ptr<grpc::ClientContext> context) {
            return member.maintenance->HashKV(context.get(), request, &response);
          });
      check.hash_kv = status.ok() ? absl::StatusOr<uint32_t>(response.hash()) : Failed(status);
      check.compact_revision = response.compact_revision();
      if (status.ok()) compactions.insert(check.compact_revision);
      for (int64_t seq : seqs) check.digest_at[seq] = MemberDigest(member, prefix, seq, timeout);
      report.members.push_back(std::move(check));
    }
    if (compactions.size() <= 1) break;
    absl::SleepFor(absl::Milliseconds(200));
  }

  // The verdict: every answer in, all hashes alike, every backend's board
  // as every member holds it.
  auto disagree = [&report](std::string why) {
    if (report.why.empty()) report.why = std::move(why);
  };
  const MemberCheck* reference = nullptr;  // the first member that hashed
  for (const MemberCheck& m : report.members) {
    if (!m.hash_kv.ok()) {
      disagree(
          absl::StrCat("etcd member ", m.address, " gave no hash: ", m.hash_kv.status().message()));
    } else if (reference == nullptr) {
      reference = &m;
    } else if (*m.hash_kv != *reference->hash_kv) {
      disagree(absl::StrCat("etcd member ", m.address, " hashes revision ", report.revision,
                            " differently from ", reference->address));
    }
  }
  for (const BackendCheck& b : report.backends) {
    if (!b.board.ok()) {
      disagree(absl::StrCat("backend ", b.address, " gave no board: ", b.board.status().message()));
      continue;
    }
    for (const MemberCheck& m : report.members) {
      const absl::StatusOr<uint64_t>& at = m.digest_at.at(b.board->seq());
      if (!at.ok()) {
        disagree(absl::StrCat("etcd member ", m.address, " could not be read at seq ",
                              b.board->seq(), ": ", at.status().message()));
      } else if (*at != b.digest) {
        disagree(absl::StrCat("backend ", b.address, " serves at seq ", b.board->seq(),
                              " another board than etcd member ", m.address, " holds"));
      }
    }
  }
  if (report.members.empty()) disagree("no etcd member was given");
  report.agree = report.why.empty();
  return report;
}

std::string ReportText(const ConvergenceReport& report) {
  std::string out = absl::StrCat("revision ", report.revision, "\n");
  for (const MemberCheck& m : report.members) {
    absl::StrAppend(&out, "etcd     ", m.address, "  hashkv ",
                    m.hash_kv.ok() ? absl::StrFormat("%08x", *m.hash_kv)
                                   : absl::StrCat("(", m.hash_kv.status().message(), ")"));
    for (const auto& [seq, digest] : m.digest_at) {
      absl::StrAppend(&out, "  board@", seq, " ",
                      digest.ok() ? absl::StrFormat("%016x", *digest) : "(unreadable)");
    }
    absl::StrAppend(&out, "\n");
  }
  for (const BackendCheck& b : report.backends) {
    absl::StrAppend(&out, "backend  ", b.address, "  ",
                    b.board.ok() ? absl::StrFormat("board@%d %016x", b.board->seq(), b.digest)
                                 : absl::StrCat("(", b.board.status().message(), ")"),
                    "\n");
  }
  absl::StrAppend(&out, report.agree ? "agree\n" : absl::StrCat("DISAGREE: ", report.why, "\n"));
  return out;
}

std::string ReportJson(const ConvergenceReport& report) {
  std::string out;
  for (const MemberCheck& m : report.members) {
    absl::StrAppend(&out, "{\"etcd\":", JsonQuote(m.address), ",\"revision\":", report.revision);
    if (m.hash_kv.ok()) {
      absl::StrAppend(&out, ",\"hashkv\":", *m.hash_kv);
    } else {
      absl::StrAppend(&out, ",\"error\":", JsonQuote(m.hash_kv.status().message()));
    }
    for (const auto& [seq, digest] : m.digest_at) {
      if (digest.ok()) {
        absl::StrAppend(&out, ",\"board_", seq, "\":\"", absl::StrFormat("%016x", *digest), "\"");
      }
    }
    absl::StrAppend(&out, "}\n");
  }
  for (const BackendCheck& b : report.backends) {
    absl::StrAppend(&out, "{\"backend\":", JsonQuote(b.address));
    if (b.board.ok()) {
      absl::StrAppend(&out, ",\"seq\":", b.board->seq(), ",\"digest\":\"",
                      absl::StrFormat("%016x", b.digest), "\"");
    } else {
      absl::StrAppend(&out, ",\"error\":", JsonQuote(b.board.status().message()));
    }
    absl::StrAppend(&out, "}\n");
  }
  absl::StrAppend(&out, "{\"agree\":", report.agree ? "true" : "false",
                  report.agree ? "" : absl::StrCat(",\"why\":", JsonQuote(report.why)), "}\n");
  return out;
}

}  // namespace podium
