#include "client/scoreboard_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/channel.h"
#include "common/health.h"
#include "common/status_util.h"
#include "glog/logging.h"

namespace podium {
namespace {

// How long the connection watcher polls before checking whether to stop;
// bounds the destructor's wait.
constexpr absl::Duration kWatchSlice = absl::Milliseconds(100);

const char* StateName(grpc_connectivity_state state) {
  switch (state) {
    case GRPC_CHANNEL_IDLE:
      return "IDLE";
    case GRPC_CHANNEL_CONNECTING:
      return "CONNECTING";
    case GRPC_CHANNEL_READY:
      return "READY";
    case GRPC_CHANNEL_TRANSIENT_FAILURE:
      return "TRANSIENT_FAILURE";
    case GRPC_CHANNEL_SHUTDOWN:
      return "SHUTDOWN";
  }
  return "UNKNOWN";
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScoreboardClient>>
ScoreboardClient::ConnectToBackend(const std::string& address,
                                   ScoreboardClientOptions options) {
  if (address.empty()) {
    return absl::InvalidArgumentError(
        "no backend address given: pass host:port, e.g. 127.0.0.1:7100");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("read timeout must be positive, not ",
                     absl::FormatDuration(options.timeout)));
  }
  if (options.max_reconnect_backoff <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("reconnect backoff must be positive, not ",
                     absl::FormatDuration(options.max_reconnect_backoff)));
  }
  std::shared_ptr<grpc::Channel> channel =
      CreateFastReconnectChannel(address, options.max_reconnect_backoff);
  return std::unique_ptr<ScoreboardClient>(
      new ScoreboardClient(address, options, std::move(channel)));
}

ScoreboardClient::ScoreboardClient(std::string address,
                                   ScoreboardClientOptions options,
                                   std::shared_ptr<grpc::Channel> channel)
    : address_(std::move(address)),
      options_(options),
      channel_(std::move(channel)),
      backend_(v1::Backend::NewStub(channel_)),
      watcher_([this] { WatchConnectivity(); }) {}

ScoreboardClient::~ScoreboardClient() {
  stopping_.Notify();
  watcher_.join();
}

void ScoreboardClient::WatchConnectivity() {
  grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/false);
  while (!stopping_.HasBeenNotified()) {
    channel_->WaitForStateChange(state,
                                 absl::ToChronoTime(absl::Now() + kWatchSlice));
    const grpc_connectivity_state now = channel_->GetState(false);
    if (now != state) {
      VLOG(1) << address_ << ": connection " << StateName(state) << " -> "
              << StateName(now);
      state = now;
    }
  }
}

void ScoreboardClient::PrepareContext(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
}

absl::Status ScoreboardClient::AttributeError(
    const grpc::Status& status) const {
  absl::Status converted = FromGrpcStatus(status);
  return absl::Status(converted.code(),
                      absl::StrCat(address_, ": ", converted.message()));
}

absl::StatusOr<v1::EventScore> ScoreboardClient::GetScore(
    const std::string& event) {
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::GetEventRequest request;
  request.set_event(event);
  v1::EventScore score;
  grpc::Status status = backend_->GetEvent(&context, request, &score);
  if (!status.ok()) return AttributeError(status);
  return score;
}

absl::StatusOr<v1::MedalTally> ScoreboardClient::GetMedals(
    const std::string& team) {
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::GetMedalsRequest request;
  request.set_team(team);
  v1::MedalTally tally;
  grpc::Status status = backend_->GetMedals(&context, request, &tally);
  if (!status.ok()) return AttributeError(status);
  return tally;
}

absl::StatusOr<std::vector<v1::MedalTally>> ScoreboardClient::GetAllMedals() {
  absl::StatusOr<v1::Board> board = GetBoard();
  if (!board.ok()) return board.status();
  return std::vector<v1::MedalTally>(board->medals().begin(),
                                     board->medals().end());
}

absl::StatusOr<v1::Board> ScoreboardClient::GetBoard() {
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::Board board;
  grpc::Status status =
      backend_->GetBoard(&context, v1::GetBoardRequest(), &board);
  if (!status.ok()) return AttributeError(status);
  return board;
}

absl::Status ScoreboardClient::CheckHealth() {
  return podium::CheckHealth(address_, options_.timeout);
}

}  // namespace podium
