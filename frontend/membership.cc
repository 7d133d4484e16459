#include "frontend/membership.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/channel.h"
#include "glog/logging.h"

namespace podium {

Membership::Membership(v1::Member self, const std::vector<std::string>& peers,
                       v1::CacheMode mode, MembershipOptions options,
                       MasterChanged on_master_changed, StatusFn local_status)
    : self_(std::move(self)),
      mode_(mode),
      options_(options),
      on_master_changed_(std::move(on_master_changed)),
      local_status_(std::move(local_status)) {
  absl::MutexLock lock(&mu_);
  for (const std::string& address : peers) {
    if (address == self_.address() || peers_.count(address) > 0) continue;
    Peer& peer = peers_[address];
    peer.address = address;
    peer.stub = v1::FrontendPeer::NewStub(
        CreateFastReconnectChannel(address, absl::Milliseconds(500)));
    peer_order_.push_back(address);
  }
}

Membership::~Membership() { Stop(); }

void Membership::Start() {
  heartbeat_ = std::thread([this] { HeartbeatLoop(); });
}

void Membership::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    // Outstanding pings hold `this`; wait for their callbacks.
    mu_.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &in_flight_));
  }
  if (heartbeat_.joinable()) heartbeat_.join();
}

bool Membership::Outranks(int64_t pid_a, const std::string& a, int64_t pid_b,
                          const std::string& b) {
  return pid_a != pid_b ? pid_a > pid_b : a > b;
}

bool Membership::AliveLocked(const Peer& peer) const {
  return absl::Now() - peer.last_heard < options_.failure_timeout;
}

void Membership::HeartbeatLoop() {
  absl::Time next = absl::Now();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithDeadline(absl::Condition(&stopping_), next)) return;
    }
    SendPings();
    {
      absl::MutexLock lock(&mu_);
      Evaluate();
    }
    Notify();
    next += options_.heartbeat_interval;
    if (next < absl::Now()) next = absl::Now() + options_.heartbeat_interval;
  }
}

void Membership::SendPings() {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  for (auto& [address, peer] : peers_) {
    // A dead peer's ping waits for its deadline; don't stack more behind it.
    if (peer.ping_in_flight) continue;
    struct Call {
      grpc::ClientContext context;
      v1::PingRequest request;
      v1::PingReply reply;
    };
    auto* call = new Call;
    call->context.set_deadline(
        absl::ToChronoTime(absl::Now() + options_.failure_timeout));
    Authorize(&call->context);
    *call->request.mutable_from() = self_;
    call->request.set_master(master_);
    call->request.set_epoch(epoch_);
    peer.ping_in_flight = true;
    ++in_flight_;
    Peer* target = &peer;
    peer.stub->async()->Ping(
        &call->context, &call->request, &call->reply,
        [this, call, target](grpc::Status status) {
          {
            absl::MutexLock lock(&mu_);
            target->ping_in_flight = false;
            if (status.ok()) {
              const bool was_alive = AliveLocked(*target);
              target->last_heard = absl::Now();
              target->pid = call->reply.member().pid();
              target->public_address = call->reply.member().public_address();
              target->last_reply = call->reply;
              max_epoch_seen_ = std::max(max_epoch_seen_, call->reply.epoch());
              if (!was_alive) {
                LOG(INFO) << "peer " << target->address << " (pid "
                          << target->pid << ") is alive";
              }
              // A master we missed the announcement of: adopt it when it is
              // the highest live frontend we know.
              if (call->reply.master() == target->address &&
                  call->reply.epoch() > epoch_) {
                Evaluate();
              }
            }
            --in_flight_;
          }
          delete call;
        });
  }
}

void Membership::Evaluate() {
  if (stopping_) return;
  // Give peers one failure timeout to answer before the first decision, so
  // a starting frontend does not grab mastership it would lose at once.
  const bool settling = absl::Now() - started_ < options_.failure_timeout;
  std::string highest = self_.address();
  int64_t highest_pid = self_.pid();
  for (auto& [address, peer] : peers_) {
    if (AliveLocked(peer) && Outranks(peer.pid, address, highest_pid, highest)) {
      highest = address;
      highest_pid = peer.pid;
    }
  }
  if (!master_.empty() && master_ != self_.address()) {
    auto it = peers_.find(master_);
    if (it == peers_.end() || !AliveLocked(it->second)) {
      LOG(WARNING) << "master " << master_ << " is dead (silent for "
                   << absl::FormatDuration(options_.failure_timeout) << ")";
      SetMaster("", epoch_);
    }
  }
  if (highest == self_.address()) {
    if (master_ != self_.address() && !settling) BecomeMaster();
    return;
  }
  // A higher peer lives. Adopt its claim if it already made one we missed.
  const Peer& top = peers_.at(highest);
  if (top.last_reply.master() == highest && top.last_reply.epoch() >= epoch_ &&
      (master_ != highest || top.last_reply.epoch() != epoch_)) {
    SetMaster(highest, top.last_reply.epoch());
  }
}

void Membership::BecomeMaster() {
  const int64_t epoch = std::max(max_epoch_seen_, epoch_) + 1;
  LOG(INFO) << "I am the highest live frontend (pid " << self_.pid()
            << "): master of epoch " << epoch;
  SetMaster(self_.address(), epoch);
  for (auto& [address, peer] : peers_) {
    if (!AliveLocked(peer)) continue;
    struct Call {
      grpc::ClientContext context;
      v1::CoordinatorRequest request;
      v1::CoordinatorReply reply;
    };
    auto* call = new Call;
    call->context.set_deadline(
        absl::ToChronoTime(absl::Now() + options_.failure_timeout));
    Authorize(&call->context);
    *call->request.mutable_master() = self_;
    call->request.set_epoch(epoch);
    ++in_flight_;
    std::string to = address;
    peer.stub->async()->Coordinator(
        &call->context, &call->request, &call->reply,
        [this, call, to](grpc::Status status) {
          if (!status.ok()) {
            LOG(WARNING) << "Coordinator to " << to << ": " << status.error_message();
          } else if (!call->reply.accepted()) {
            LOG(INFO) << to << " refused my Coordinator: " << call->reply.reason();
          } else {
            VLOG(1) << to << " accepted me as master of epoch " << call->request.epoch();
          }
          absl::MutexLock lock(&mu_);
          --in_flight_;
          delete call;
        });
  }
}

void Membership::SetMaster(const std::string& master, int64_t epoch) {
  if (master == master_ && epoch == epoch_) return;
  LOG(INFO) << "master changes: " << (master_.empty() ? "(none)" : master_)
            << " epoch " << epoch_ << " -> " << (master.empty() ? "(none)" : master)
            << " epoch " << epoch;
  master_ = master;
  epoch_ = epoch;
  max_epoch_seen_ = std::max(max_epoch_seen_, epoch);
  pending_.push_back(MasterView{master, epoch, master == self_.address()});
}

void Membership::Notify() {
  absl::MutexLock order(&notify_mu_);
  std::vector<MasterView> views;
  {
    absl::MutexLock lock(&mu_);
    views.swap(pending_);
  }
  for (const MasterView& view : views) on_master_changed_(view);
}

void Membership::StartNewEpoch() {
  {
    absl::MutexLock lock(&mu_);
    if (master_ != self_.address()) return;
    BecomeMaster();
  }
  Notify();
}

v1::PingReply Membership::HandlePing(const v1::PingRequest& request) {
  const LocalStatus status = local_status_();
  v1::PingReply reply;
  {
    absl::MutexLock lock(&mu_);
    // Only a peer's answers to our own pings, at its own address, say it
    // lives, which pid it has and which epochs exist: a caller (even one
    // holding the cluster token) can neither keep a dead master alive nor
    // push epochs up by pinging in its name.
    *reply.mutable_member() = self_;
    reply.set_master(master_);
    reply.set_epoch(epoch_);
  }
  reply.set_cache_mode(mode_);
  reply.set_clients(status.clients);
  reply.set_applied_seq(status.applied_seq);
  VLOG(2) << "Ping from " << request.from().address();
  return reply;
}

v1::CoordinatorReply Membership::HandleCoordinator(
    const v1::CoordinatorRequest& request) {
  v1::CoordinatorReply reply;
  {
    absl::MutexLock lock(&mu_);
    const v1::Member& claimant = request.master();
    // Only heartbeats vouch for a peer: a claim for an address that is not
    // configured, or a pid its heartbeats do not show alive, is refused
    // before its epoch can be remembered.
    auto it = peers_.find(claimant.address());
    if (it == peers_.end()) {
      reply.set_reason(claimant.address() + " is not a configured peer");
    } else if (!AliveLocked(it->second) || it->second.pid != claimant.pid()) {
      reply.set_reason(absl::StrCat(claimant.address(), " pid ", claimant.pid(),
                                    " is not alive by its heartbeats"));
    }
    if (!reply.reason().empty()) {
      LOG_EVERY_T(WARNING, 10) << "Coordinator refused: " << reply.reason();
      return reply;
    }
    max_epoch_seen_ = std::max(max_epoch_seen_, request.epoch());
    if (Outranks(self_.pid(), self_.address(), claimant.pid(), claimant.address())) {
      reply.set_reason("my pid " + std::to_string(self_.pid()) + " is higher");
    } else {
      for (auto& [address, peer] : peers_) {
        if (address != claimant.address() && AliveLocked(peer) &&
            Outranks(peer.pid, address, claimant.pid(), claimant.address())) {
          reply.set_reason(address + " is alive with a higher pid");
        }
      }
    }
    if (reply.reason().empty() && request.epoch() >= epoch_) {
      reply.set_accepted(true);
      SetMaster(claimant.address(), request.epoch());
    } else if (reply.reason().empty()) {
      reply.set_reason("epoch " + std::to_string(request.epoch()) +
                       " is older than mine, " + std::to_string(epoch_));
    }
    LOG(INFO) << "Coordinator from " << claimant.address() << " (pid "
              << claimant.pid() << ", epoch " << request.epoch() << "): "
              << (reply.accepted() ? "accepted" : "refused, " + reply.reason());
  }
  Notify();
  return reply;
}

MasterView Membership::master() const {
  absl::MutexLock lock(&mu_);
  return MasterView{master_, epoch_, master_ == self_.address()};
}

bool Membership::IsAlive(const std::string& address) const {
  absl::MutexLock lock(&mu_);
  if (address == self_.address()) return true;
  auto it = peers_.find(address);
  return it != peers_.end() && AliveLocked(it->second);
}

std::vector<v1::FrontendInfo> Membership::Frontends() const {
  const LocalStatus status = local_status_();
  std::vector<v1::FrontendInfo> out;
  absl::MutexLock lock(&mu_);
  v1::FrontendInfo& me = out.emplace_back();
  me.set_address(self_.public_address());
  me.set_pid(self_.pid());
  me.set_master(master_ == self_.address());
  me.set_cache_mode(mode_);
  me.set_clients(status.clients);
  me.set_alive(true);
  for (const std::string& address : peer_order_) {
    const Peer& peer = peers_.at(address);
    // A peer never heard from has not told us its public address, and its
    // peer address would send clients to a port that serves them nothing.
    if (peer.public_address.empty()) continue;
    v1::FrontendInfo& info = out.emplace_back();
    info.set_address(peer.public_address);
    info.set_pid(peer.pid);
    info.set_alive(AliveLocked(peer));
    info.set_master(info.alive() && master_ == address);
    info.set_cache_mode(peer.last_reply.cache_mode());
    info.set_clients(info.alive() ? peer.last_reply.clients() : 0);
    if (!info.alive()) info.set_last_clients(peer.last_reply.clients());
  }
  return out;
}

std::vector<int64_t> Membership::LiveAppliedSeqs() const {
  std::vector<int64_t> out = {local_status_().applied_seq};
  absl::MutexLock lock(&mu_);
  for (const auto& [address, peer] : peers_) {
    if (AliveLocked(peer)) out.push_back(peer.last_reply.applied_seq());
  }
  return out;
}

bool Membership::IsPeer(const std::string& address) const {
  absl::MutexLock lock(&mu_);
  return peers_.count(address) > 0;
}

void Membership::Authorize(grpc::ClientContext* context) const {
  if (!options_.cluster_token.empty()) AddBearerToken(context, options_.cluster_token);
}

v1::FrontendPeer::Stub* Membership::Stub(const std::string& address) const {
  absl::MutexLock lock(&mu_);
  auto it = peers_.find(address);
  return it == peers_.end() ? nullptr : it->second.stub.get();
}

}  // namespace podium
