#include "client/frontend_picker.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/placement.h"
#include "common/channel.h"
#include "common/health.h"
#include "common/status_util.h"
#include "glog/logging.h"

namespace podium {
namespace {

// A frontend that failed this recently is not chosen again while another
// is available: the membership may still list it as alive (peers notice a
// death only after their failure timeout).
constexpr absl::Duration kFailedMemory = absl::Seconds(2);

int Millis(absl::Duration d) {
  return static_cast<int>(std::max<int64_t>(absl::ToInt64Milliseconds(d), 1));
}

}  // namespace

absl::StatusOr<std::shared_ptr<FrontendPicker>> FrontendPicker::Create(
    std::vector<std::string> seeds, ScoreboardClientOptions options) {
  if (seeds.empty()) {
    return absl::InvalidArgumentError("no frontend addresses given: pass host:port,host:port,...");
  }
  for (const std::string& seed : seeds) {
    if (seed.empty()) {
      return absl::InvalidArgumentError(
          "empty frontend address in the list; give host:port,host:port");
    }
  }
  std::shared_ptr<FrontendPicker> picker(new FrontendPicker(std::move(seeds), options));
  absl::StatusOr<v1::ListFrontendsReply> reply = picker->ListFrontends();
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::string> home;
  {
    absl::MutexLock lock(&picker->mu_);
    home = ChooseFrontend(reply->frontends(), {}, &picker->rng_);
    if (!home.ok()) {
      return absl::UnavailableError(
          absl::StrCat(reply->answered_by(), " lists no live frontend: ", home.status().message()));
    }
    picker->home_ = *home;
    picker->current_ = *home;
  }
  VLOG(1) << "placed at " << *home << " (membership from " << reply->answered_by() << ")";
  picker->prober_ = std::thread([p = picker.get()] { p->ProbeHomeAndLearn(); });
  return picker;
}

FrontendPicker::FrontendPicker(std::vector<std::string> seeds, ScoreboardClientOptions options)
    : seeds_(std::move(seeds)),
      options_(options),
      rng_(options.placement_seed != 0 ? options.placement_seed : std::random_device{}()) {
  absl::MutexLock lock(&mu_);
  for (const std::string& seed : seeds_) {
    if (std::find(known_.begin(), known_.end(), seed) == known_.end()) {
      known_.push_back(seed);
    }
  }
}

FrontendPicker::~FrontendPicker() {
  stopping_.Notify();
  if (prober_.joinable()) prober_.join();
}

std::string FrontendPicker::home() const {
  absl::MutexLock lock(&mu_);
  return home_;
}

std::string FrontendPicker::current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

std::vector<std::string> FrontendPicker::known() const {
  absl::MutexLock lock(&mu_);
  return known_;
}

FrontendPicker::Connection& FrontendPicker::ConnectionTo(const std::string& address) {
  Connection& connection = connections_[address];
  if (connection.channel == nullptr) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, Millis(options_.keepalive_time));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Millis(options_.keepalive_timeout));
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    // gRPC's default stops pinging after two pings without data; a quiet
    // subscription must be watched all the same.
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    connection.channel =
        CreateFastReconnectChannel(address, options_.max_reconnect_backoff, std::move(args));
    connection.stub = v1::Scoreboard::NewStub(connection.channel);
    watcher_.Watch(address, connection.channel);
  }
  return connection;
}

void FrontendPicker::RefreshIfFailed(const std::string& address) {
  auto it = connections_.find(address);
  if (it == connections_.end()) return;
  if (it->second.channel->GetState(false) != GRPC_CHANNEL_TRANSIENT_FAILURE) {
    return;
  }
  VLOG(1) << address << ": replacing a channel in TRANSIENT_FAILURE";
  watcher_.Forget(it->second.channel.get());
  connections_.erase(it);
  ConnectionTo(address);
}

std::shared_ptr<v1::Scoreboard::Stub> FrontendPicker::Stub(const std::string& address) {
  absl::MutexLock lock(&mu_);
  return ConnectionTo(address).stub;
}

absl::StatusOr<v1::ListFrontendsReply> FrontendPicker::ListFrontends(const std::string& skip) {
  std::vector<std::string> order;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& address : {current_, home_}) {
      if (!address.empty()) order.push_back(address);
    }
    order.insert(order.end(), known_.begin(), known_.end());
  }
  absl::flat_hash_set<std::string> asked;
  std::vector<std::string> failures;
  for (const std::string& address : order) {
    // The destructor waits for the refresh thread: one call at most.
    if (stopping_.HasBeenNotified()) break;
    if (address == skip || !asked.insert(address).second) continue;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
    v1::ListFrontendsReply reply;
    const grpc::Status status =
        Stub(address)->ListFrontends(&context, v1::ListFrontendsRequest(), &reply);
    if (!status.ok()) {
      failures.push_back(absl::StrCat(address, ": ", FromGrpcStatus(status).ToString()));
      continue;
    }
    if (reply.answered_by().empty()) reply.set_answered_by(address);
    absl::MutexLock lock(&mu_);
    for (const v1::FrontendInfo& info : reply.frontends()) {
      if (!info.address().empty() &&
          std::find(known_.begin(), known_.end(), info.address()) == known_.end()) {
        known_.push_back(info.address());
      }
    }
    return reply;
  }
  return absl::UnavailableError(
      absl::StrCat("no frontend answered ListFrontends: ",
                   failures.empty() ? "none left to ask" : absl::StrJoin(failures, "; ")));
}

absl::StatusOr<std::string> FrontendPicker::FailOver(const std::string& failed,
                                                     const absl::Status& why) {
  absl::MutexLock move_lock(&failover_mu_);
  absl::flat_hash_set<std::string> avoid = {failed};
  {
    absl::MutexLock lock(&mu_);
    if (current_ != failed) return current_;
    const absl::Time now = absl::Now();
    failed_at_[failed] = now;
    for (const auto& [address, when] : failed_at_) {
      if (now - when < kFailedMemory) avoid.insert(address);
    }
  }
  absl::StatusOr<v1::ListFrontendsReply> reply = ListFrontends(failed);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::string> to;
  {
    absl::MutexLock lock(&mu_);
    to = ChooseFrontendAfterFailure(reply->frontends(), failed, avoid, &rng_);
    // Everything else failed lately too: any live one but `failed` will do.
    if (!to.ok()) to = ChooseFrontendAfterFailure(reply->frontends(), failed, {failed}, &rng_);
    if (!to.ok()) return to.status();
  }
  MoveTo(*to, absl::StrCat("failover from ", failed), why.message());
  return *to;
}

void FrontendPicker::MoveTo(const std::string& to, const std::string& what, absl::string_view why) {
  std::string home;
  {
    absl::MutexLock lock(&mu_);
    current_ = to;
    home = home_;
    RefreshIfFailed(to);
  }
  LOG(INFO) << "frontend " << what << " to " << to
            << (to == home ? "" : absl::StrCat(" (home ", home, ")")) << (why.empty() ? "" : ": ")
            << why;
  absl::MutexLock lock(&listeners_mu_);
  for (const auto& [id, listener] : listeners_) listener();
}

int FrontendPicker::AddListener(std::function<void()> listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_[next_listener_] = std::move(listener);
  return next_listener_++;
}

void FrontendPicker::RemoveListener(int id) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(id);
}

void FrontendPicker::ProbeHomeAndLearn() {
  const absl::Duration probe_timeout = std::min(options_.home_probe_interval, options_.timeout);
  const absl::Duration tick =
      std::min(options_.home_probe_interval, options_.membership_refresh_interval);
  absl::Time learned = absl::Now();  // Create() just listed the membership
  absl::Time probed = absl::InfinitePast();
  while (!stopping_.WaitForNotificationWithTimeout(tick)) {
    std::string home, away;
    {
      absl::MutexLock lock(&mu_);
      home = home_;
      away = current_;
    }
    if (away == home) {
      if (absl::Now() - learned < options_.membership_refresh_interval) continue;
      learned = absl::Now();
      // Only for what it adds to known_; a failure is the next failover's
      // business.
      absl::StatusOr<v1::ListFrontendsReply> reply = ListFrontends();
      VLOG(2) << "membership refresh: " << (reply.ok() ? "ok" : reply.status().ToString());
      continue;
    }
    if (absl::Now() - probed < options_.home_probe_interval) continue;
    probed = absl::Now();
    const absl::Status health = CheckHealth(home, probe_timeout);
    VLOG(2) << "probe of home " << home << ": " << health;
    if (!health.ok()) continue;
    absl::MutexLock move_lock(&failover_mu_);
    {
      absl::MutexLock lock(&mu_);
      if (current_ == home_) continue;
      away = current_;
    }
    MoveTo(home, absl::StrCat("return home from ", away), "");
  }
}

}  // namespace podium
