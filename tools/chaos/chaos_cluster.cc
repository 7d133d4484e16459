#include "tools/chaos/chaos_cluster.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <filesystem>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "podium/v1/scoreboard.grpc.pb.h"

namespace podium::chaos {
namespace {

constexpr absl::Duration kRpcTimeout = absl::Seconds(2);

// How `pid` ended, if it has, without reaping it: the Subprocess that owns
// it still reaps it, so its pid is never reused behind its back.
std::optional<std::string> ExitedWithoutReaping(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  siginfo_t info{};
  if (::waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) {
    return std::nullopt;
  }
  return info.si_code == CLD_EXITED ? absl::StrCat("exited with status ", info.si_status)
                                    : absl::StrCat("died of signal ", info.si_status);
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

std::string Tail(const std::string& text, size_t bytes = 1500) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + kRpcTimeout));
}

// Replicated runs: the etcd members, ports reserved (Start reports an etcd
// that cannot be set up).
std::unique_ptr<harness::EtcdCluster> MakeEtcd(const ChaosClusterOptions& options) {
  if (!options.replicated) return nullptr;
  absl::StatusOr<std::unique_ptr<harness::EtcdCluster>> etcd =
      harness::EtcdCluster::Create(3, options.dir + "/etcd");
  return etcd.ok() ? *std::move(etcd) : nullptr;
}

std::vector<std::unique_ptr<harness::BackendProcess>> MakeBackends(
    const ChaosClusterOptions& options, const harness::EtcdCluster* etcd) {
  std::vector<std::string> flags;
  if (!options.games.empty()) flags.push_back("--games=" + options.games);
  std::vector<std::unique_ptr<harness::BackendProcess>> backends;
  if (!options.replicated) {
    backends.push_back(std::make_unique<harness::BackendProcess>(options.dir, flags));
    return backends;
  }
  flags.push_back("--store=etcd");
  flags.push_back("--etcd=" + (etcd != nullptr ? etcd->endpoints() : std::string()));
  for (int i = 0; i < 2; ++i) {
    const std::string dir = absl::StrCat(options.dir, "/backend-", i);
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    backends.push_back(std::make_unique<harness::BackendProcess>(dir, flags));
  }
  return backends;
}

std::string AddressesOf(const std::vector<std::unique_ptr<harness::BackendProcess>>& backends) {
  std::vector<std::string> addresses;
  for (const auto& backend : backends) addresses.push_back(backend->address());
  return absl::StrJoin(addresses, ",");
}

}  // namespace

ChaosCluster::ChaosCluster(ChaosClusterOptions options)
    : options_(std::move(options)),
      journal_(options_.dir + "/bard.journal"),
      etcd_(MakeEtcd(options_)),
      backends_(MakeBackends(options_, etcd_.get())),
      backend_list_(AddressesOf(backends_)),
      frontends_(options_.dir, backend_list_, options_.frontends, "push"),
      clients_(options_.clients),
      client_outputs_(options_.clients) {
  std::vector<std::string> addresses;
  for (int i = 0; i < frontends_.size(); ++i) {
    addresses.push_back(frontends_.address(i));
  }
  frontend_list_ = absl::StrJoin(addresses, ",");
}

// The members' Subprocess destructors SIGKILL and reap whatever still runs.
ChaosCluster::~ChaosCluster() = default;

absl::Status ChaosCluster::Start(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  if (options_.replicated) {
    if (etcd_ == nullptr) {
      return absl::FailedPreconditionError(
          "the etcd cluster could not be set up: is Debian's etcd-server installed?");
    }
    if (absl::Status s = etcd_->StartAll(); !s.ok()) return s;
  }
  for (const auto& backend : backends_) {
    if (absl::Status s = backend->Start(); !s.ok()) return s;
  }
  absl::StatusOr<v1::Board> before = BackendBoard();
  if (!before.ok()) return before.status();
  seq_base_ = before->seq();
  if (absl::Status s = frontends_.StartAll(); !s.ok()) return s;
  if (absl::Status s = WaitForOneMaster(deadline - absl::Now()); !s.ok()) {
    return s;
  }
  if (absl::Status s = StartBard(); !s.ok()) return s;
  for (int i = 0; i < options_.clients; ++i) {
    if (absl::Status s = StartClient(i); !s.ok()) return s;
  }
  // Every client has placed itself and printed its snapshot's first value.
  for (int i = 0; i < options_.clients; ++i) {
    while (harness::ReadFileOrEmpty(client_outputs_[i].back()).find('\n') == std::string::npos) {
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "client-", i, " printed nothing within ", absl::FormatDuration(timeout), "; its log:\n",
            Tail(harness::ReadFileOrEmpty(absl::StrCat(options_.dir, "/client-", i, ".log")))));
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  return absl::OkStatus();
}

absl::Status ChaosCluster::StartBard() {
  absl::StatusOr<harness::Subprocess> bard = harness::Subprocess::Start(
      {harness::BinaryPath("bard/podium-bard"), "--backend=" + backend_list_,
       "--write_token_file=" + backends_[0]->token_file(), "--journal=" + journal_, "simulate",
       absl::StrCat("--rate=", options_.bard_rate), absl::StrCat("--seed=", options_.seed),
       absl::StrCat("--max_live=", options_.bard_max_live)},
      options_.dir + "/bard.log");
  if (!bard.ok()) return bard.status();
  bard_ = *std::move(bard);
  return absl::OkStatus();
}

absl::Status ChaosCluster::StartClient(int i) {
  std::vector<std::string>& outputs = client_outputs_[i];
  outputs.push_back(absl::StrCat(options_.dir, "/client-", i, ".", outputs.size() + 1, ".json"));
  absl::StatusOr<harness::Subprocess> client =
      harness::Subprocess::Start({harness::BinaryPath("client/podium-client"),
                                  "--frontends=" + frontend_list_, "--json", "watch"},
                                 outputs.back(), absl::StrCat(options_.dir, "/client-", i, ".log"));
  if (!client.ok()) return client.status();
  clients_[i] = *std::move(client);
  return absl::OkStatus();
}

int ChaosCluster::CurrentMaster() const {
  for (int i = 0; i < frontends_.size(); ++i) {
    if (!frontends_.running(i)) continue;
    grpc::ClientContext context;
    SetDeadline(&context);
    v1::ListFrontendsReply reply;
    if (!frontends_.NewStub(i)->ListFrontends(&context, v1::ListFrontendsRequest(), &reply).ok()) {
      continue;
    }
    for (const v1::FrontendInfo& info : reply.frontends()) {
      if (!info.master()) continue;
      for (int j = 0; j < frontends_.size(); ++j) {
        if (frontends_.address(j) == info.address()) return j;
      }
    }
  }
  return -1;
}

absl::StatusOr<Victim> ChaosCluster::Kill(const Fault& fault) {
  Victim victim;
  victim.target = fault.target;
  victim.index = fault.index;
  if (fault.target == Target::kMaster) {
    victim.target = Target::kFrontend;
    const int master = CurrentMaster();
    if (master >= 0) victim.index = master;
  }
  victim.name = VictimName(Fault{{}, {}, victim.target, victim.index}, options_.replicated);
  switch (victim.target) {
    case Target::kBackend:
      backends_[victim.index]->Kill(SIGKILL);
      break;
    case Target::kEtcd:
      etcd_->Kill(victim.index);
      break;
    case Target::kHost:
      // Frozen, not killed: to the others the host is cut off, with its
      // connections open and silent.
      ::kill(etcd_->pid(victim.index), SIGSTOP);
      if (victim.index < static_cast<int>(backends_.size())) {
        ::kill(backends_[victim.index]->process().pid(), SIGSTOP);
      }
      break;
    case Target::kFrontend:
      frontends_.Kill(victim.index, SIGKILL);
      break;
    case Target::kClient:
      clients_[victim.index].Kill(SIGKILL);
      break;
    case Target::kBard:
      bard_.Kill(SIGKILL);
      break;
    case Target::kMaster:
      return absl::InternalError("unresolved master");
  }
  return victim;
}

absl::Status ChaosCluster::Restart(const Victim& victim) {
  switch (victim.target) {
    case Target::kBackend:
      return backends_[victim.index]->Start();
    case Target::kEtcd:
      return etcd_->Restart(victim.index);
    case Target::kHost:
      ::kill(etcd_->pid(victim.index), SIGCONT);
      if (victim.index < static_cast<int>(backends_.size())) {
        ::kill(backends_[victim.index]->process().pid(), SIGCONT);
      }
      return etcd_->AwaitLeader(victim.index, absl::Seconds(30));
    case Target::kFrontend:
      return frontends_.Start(victim.index);
    case Target::kClient:
      return StartClient(victim.index);
    case Target::kBard:
      return StartBard();
    case Target::kMaster:
      break;
  }
  return absl::InternalError("unresolved master");
}

int64_t ChaosCluster::Pid(const Victim& victim) {
  switch (victim.target) {
    case Target::kBackend:
      return backends_[victim.index]->process().pid();
    case Target::kEtcd:
    case Target::kHost:
      return etcd_->running(victim.index) ? etcd_->pid(victim.index) : 0;
    case Target::kFrontend:
      return frontends_.running(victim.index) ? frontends_.pid(victim.index) : 0;
    case Target::kClient:
      return clients_[victim.index].pid();
    case Target::kBard:
      return bard_.pid();
    case Target::kMaster:
      break;
  }
  return 0;
}

std::string ChaosCluster::LogOf(const Victim& victim) const {
  switch (victim.target) {
    case Target::kBackend:
      return backends_[victim.index]->log();
    case Target::kEtcd:
    case Target::kHost:
      return etcd_->log(victim.index);
    case Target::kFrontend:
      return frontends_.log(victim.index);
    case Target::kClient:
      return harness::ReadFileOrEmpty(absl::StrCat(options_.dir, "/client-", victim.index, ".log"));
    case Target::kBard:
      return harness::ReadFileOrEmpty(options_.dir + "/bard.log");
    case Target::kMaster:
      break;
  }
  return "";
}

std::vector<std::string> ChaosCluster::RestartUnexpectedExits() {
  std::vector<Victim> everyone = {{Target::kBard, 0, "bard"}};
  for (int i = 0; i < static_cast<int>(backends_.size()); ++i) {
    everyone.push_back(
        {Target::kBackend, i, VictimName(Fault{{}, {}, Target::kBackend, i}, options_.replicated)});
  }
  for (int i = 0; etcd_ != nullptr && i < etcd_->size(); ++i) {
    everyone.push_back({Target::kEtcd, i, absl::StrCat("etcd-", i)});
  }
  for (int i = 0; i < frontends_.size(); ++i) {
    everyone.push_back({Target::kFrontend, i, absl::StrCat("frontend-", i)});
  }
  for (int i = 0; i < options_.clients; ++i) {
    everyone.push_back({Target::kClient, i, absl::StrCat("client-", i)});
  }
  std::vector<std::string> exits;
  for (const Victim& victim : everyone) {
    const std::optional<std::string> how = ExitedWithoutReaping(static_cast<pid_t>(Pid(victim)));
    if (!how.has_value()) continue;
    // Reaps it (SIGKILL to a zombie is harmless).
    absl::StatusOr<Victim> reaped = Kill(Fault{{}, {}, victim.target, victim.index});
    std::string line = absl::StrCat(
        victim.name, " ", *how, " without being killed; end of its log:\n", Tail(LogOf(victim)));
    if (absl::Status s = Restart(victim); !s.ok()) {
      absl::StrAppend(&line, "\nand could not be restarted: ", s.ToString());
    }
    exits.push_back(std::move(line));
  }
  return exits;
}

absl::StatusOr<int> ChaosCluster::StopBard(absl::Duration timeout) {
  if (!bard_.running()) return absl::FailedPreconditionError("no bard");
  ::kill(bard_.pid(), SIGTERM);
  absl::StatusOr<int> status = bard_.Wait(timeout);
  if (status.ok()) return status;
  return bard_.Kill(SIGKILL);
}

absl::StatusOr<std::string> ChaosCluster::JournalSummary(absl::Duration timeout) {
  const std::string out = options_.dir + "/journal-summary.json";
  const std::string log = options_.dir + "/journal-summary.log";
  absl::StatusOr<harness::Subprocess> summary = harness::Subprocess::Start(
      {harness::BinaryPath("bard/podium-bard"), "--backend=" + backend_list_,
       "--write_token_file=" + backends_[0]->token_file(), "--journal=" + journal_, "--json",
       "journal-summary"},
      out, log);
  if (!summary.ok()) return summary.status();
  absl::StatusOr<int> status = summary->Wait(timeout);
  if (!status.ok()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "podium-bard journal-summary still running after ", absl::FormatDuration(timeout),
        "; log:\n", Tail(harness::ReadFileOrEmpty(log))));
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(absl::StrCat("podium-bard journal-summary ended with ",
                                            DescribeWaitStatus(*status), "; log:\n",
                                            Tail(harness::ReadFileOrEmpty(log))));
  }
  return harness::ReadFileOrEmpty(out);
}

absl::StatusOr<v1::Board> ChaosCluster::BackendBoard() const {
  std::string errors;
  for (const auto& backend : backends_) {
    grpc::ClientContext context;
    SetDeadline(&context);
    v1::Board board;
    grpc::Status status = backend->NewStub()->GetBoard(&context, v1::GetBoardRequest(), &board);
    if (status.ok()) return board;
    absl::StrAppend(&errors, errors.empty() ? "" : "; ", backend->address(), ": ",
                    status.error_message());
  }
  return absl::UnavailableError(absl::StrCat("backend GetBoard: ", errors));
}

absl::StatusOr<v1::Board> ChaosCluster::FrontendBoard(int i) const {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::Board board;
  grpc::Status status =
      frontends_.NewStub(i)->GetBoard(&context, v1::GetScoreboardRequest(), &board);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("frontend-", i, " GetBoard: ", status.error_message()));
  }
  return board;
}

absl::Status ChaosCluster::WaitForOneMaster(absl::Duration timeout) {
  const int highest = frontends_.HighestPid();
  if (highest < 0) return absl::FailedPreconditionError("no frontend runs");
  return frontends_.WaitForMaster(frontends_.address(highest), timeout);
}

}  // namespace podium::chaos
