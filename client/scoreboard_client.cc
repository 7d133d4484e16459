#include "client/scoreboard_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/channel.h"
#include "common/health.h"
#include "common/standings.h"
#include "common/status_util.h"
#include "glog/logging.h"

namespace podium {
namespace {

// Bounds the pages one GetHistory reads (the backend's page is 1,000
// changes, and its log keeps 100,000 by default).
constexpr int kMaxHistoryPages = 10000;

// More would only add threads waiting for the same few streams.
constexpr int kMaxDeliveryThreads = 64;

absl::Status ValidateOptions(const ScoreboardClientOptions& options) {
  const std::pair<const char*, absl::Duration> durations[] = {
      {"read timeout", options.timeout},
      {"reconnect backoff", options.max_reconnect_backoff},
      {"keep-alive time", options.keepalive_time},
      {"keep-alive timeout", options.keepalive_timeout},
      {"home probe interval", options.home_probe_interval},
      {"membership refresh interval", options.membership_refresh_interval},
  };
  for (const auto& [what, value] : durations) {
    if (value <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " must be positive, not ", absl::FormatDuration(value)));
    }
  }
  if (options.delivery_threads < 1 ||
      options.delivery_threads > kMaxDeliveryThreads) {
    return absl::InvalidArgumentError(
        absl::StrCat("delivery threads must be 1 to ", kMaxDeliveryThreads,
                     ", not ", options.delivery_threads));
  }
  return absl::OkStatus();
}

// The failures a read retries on another frontend: the frontend is gone,
// or too slow to count on. Anything else would fail there too.
bool ShouldFailOver(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScoreboardClient>>
ScoreboardClient::ConnectToBackend(const std::string& address,
                                   ScoreboardClientOptions options) {
  if (address.empty()) {
    return absl::InvalidArgumentError(
        "no backend address given: pass host:port, e.g. 127.0.0.1:7100");
  }
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  return std::unique_ptr<ScoreboardClient>(
      new ScoreboardClient(address, options, nullptr));
}

absl::StatusOr<std::unique_ptr<ScoreboardClient>>
ScoreboardClient::ConnectToFrontends(std::vector<std::string> seeds,
                                     ScoreboardClientOptions options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<FrontendPicker>> picker =
      FrontendPicker::Create(std::move(seeds), options);
  if (!picker.ok()) return picker.status();
  return std::unique_ptr<ScoreboardClient>(
      new ScoreboardClient("", options, *std::move(picker)));
}

ScoreboardClient::ScoreboardClient(std::string backend,
                                   ScoreboardClientOptions options,
                                   std::shared_ptr<FrontendPicker> picker)
    : backend_address_(std::move(backend)),
      options_(options),
      picker_(std::move(picker)) {
  if (picker_ != nullptr) return;
  std::shared_ptr<grpc::Channel> channel = CreateFastReconnectChannel(
      backend_address_, options_.max_reconnect_backoff);
  watcher_ = std::make_unique<ConnectionWatcher>();
  watcher_->Watch(backend_address_, channel);
  backend_ = v1::Backend::NewStub(channel);
}

ScoreboardClient::~ScoreboardClient() = default;

std::string ScoreboardClient::address() const {
  return picker_ != nullptr ? picker_->current() : backend_address_;
}

std::string ScoreboardClient::home() const {
  return picker_ != nullptr ? picker_->home() : "";
}

void ScoreboardClient::PrepareContext(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
}

absl::Status ScoreboardClient::AttributeError(const std::string& address,
                                              const grpc::Status& status) {
  absl::Status converted = FromGrpcStatus(status);
  return absl::Status(converted.code(),
                      absl::StrCat(address, ": ", converted.message()));
}

template <typename Reply, typename Call>
absl::StatusOr<Reply> ScoreboardClient::ReadThroughFrontends(const Call& call) {
  std::string address = picker_->current();
  for (int attempt = 0;; ++attempt) {
    grpc::ClientContext context;
    PrepareContext(&context);
    Reply reply;
    const grpc::Status status =
        call(picker_->Stub(address).get(), &context, &reply);
    if (status.ok()) return reply;
    absl::Status error = AttributeError(address, status);
    if (attempt > 0 || !ShouldFailOver(status.error_code())) return error;
    absl::StatusOr<std::string> next = picker_->FailOver(address, error);
    if (!next.ok()) {
      return absl::Status(error.code(), absl::StrCat(error.message(),
                                                     "; and no other frontend: ",
                                                     next.status().message()));
    }
    VLOG(1) << "read failed at " << address << " (" << error
            << "); retrying at " << *next;
    address = *next;
  }
}

absl::StatusOr<v1::EventScore> ScoreboardClient::GetScore(
    const std::string& event) {
  if (picker_ != nullptr) {
    v1::GetScoreRequest request;
    request.set_event(event);
    return ReadThroughFrontends<v1::EventScore>(
        [&](v1::Scoreboard::Stub* stub, grpc::ClientContext* context,
            v1::EventScore* reply) {
          return stub->GetScore(context, request, reply);
        });
  }
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::GetEventRequest request;
  request.set_event(event);
  v1::EventScore score;
  grpc::Status status = backend_->GetEvent(&context, request, &score);
  if (!status.ok()) return AttributeError(backend_address_, status);
  return score;
}

absl::StatusOr<v1::MedalTally> ScoreboardClient::GetMedals(
    const std::string& team) {
  if (picker_ != nullptr) {
    v1::GetTeamMedalsRequest request;
    request.set_team(team);
    return ReadThroughFrontends<v1::MedalTally>(
        [&](v1::Scoreboard::Stub* stub, grpc::ClientContext* context,
            v1::MedalTally* reply) {
          return stub->GetMedals(context, request, reply);
        });
  }
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::GetMedalsRequest request;
  request.set_team(team);
  v1::MedalTally tally;
  grpc::Status status = backend_->GetMedals(&context, request, &tally);
  if (!status.ok()) return AttributeError(backend_address_, status);
  return tally;
}

absl::StatusOr<v1::Standings> ScoreboardClient::GetStandings() {
  if (picker_ != nullptr) {
    return ReadThroughFrontends<v1::Standings>(
        [](v1::Scoreboard::Stub* stub, grpc::ClientContext* context,
           v1::Standings* reply) {
          return stub->GetStandings(context, v1::GetStandingsRequest(), reply);
        });
  }
  // The backend serves boards; ranked here as a frontend ranks them.
  absl::StatusOr<v1::Board> board = GetBoard();
  if (!board.ok()) return board.status();
  v1::Standings standings = RankStandings(board->medals());
  standings.set_seq(board->seq());
  return standings;
}

absl::StatusOr<v1::Board> ScoreboardClient::GetBoard() {
  if (picker_ != nullptr) {
    return ReadThroughFrontends<v1::Board>(
        [](v1::Scoreboard::Stub* stub, grpc::ClientContext* context,
           v1::Board* reply) {
          return stub->GetBoard(context, v1::GetScoreboardRequest(), reply);
        });
  }
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::Board board;
  grpc::Status status =
      backend_->GetBoard(&context, v1::GetBoardRequest(), &board);
  if (!status.ok()) return AttributeError(backend_address_, status);
  return board;
}

absl::StatusOr<v1::History> ScoreboardClient::GetHistoryPage(
    const v1::HistoryRequest& request) {
  if (picker_ != nullptr) {
    return ReadThroughFrontends<v1::History>(
        [&](v1::Scoreboard::Stub* stub, grpc::ClientContext* context,
            v1::History* reply) { return stub->GetHistory(context, request, reply); });
  }
  grpc::ClientContext context;
  PrepareContext(&context);
  v1::History page;
  grpc::Status status = backend_->GetHistory(&context, request, &page);
  if (!status.ok()) return AttributeError(backend_address_, status);
  return page;
}

absl::StatusOr<v1::History> ScoreboardClient::GetHistory(const std::string& name) {
  v1::HistoryRequest request;
  request.set_name(name);
  v1::History history;
  // A page holds at least one change, and the log at most its retention.
  for (int page = 0; page < kMaxHistoryPages; ++page) {
    absl::StatusOr<v1::History> next = GetHistoryPage(request);
    if (!next.ok()) return next.status();
    if (page == 0) {
      history.set_key(next->key());
      history.set_compacted_through_seq(next->compacted_through_seq());
    } else if (next->compacted_through_seq() > request.after_seq()) {
      return absl::AbortedError(absl::StrCat(
          "the change log was compacted past seq ", request.after_seq(),
          " while the history of ", name, " was read; read it again"));
    }
    history.set_head_seq(next->head_seq());
    for (v1::Change& change : *next->mutable_changes()) {
      request.set_after_seq(change.seq());
      *history.add_changes() = std::move(change);
    }
    if (!next->more() || next->changes().empty()) return history;
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "the history of ", name, " is longer than ", kMaxHistoryPages,
      " pages; read it with Scoreboard.GetHistory a page at a time"));
}

absl::StatusOr<v1::ListFrontendsReply> ScoreboardClient::ListFrontends() {
  if (picker_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this client reads the backend ", backend_address_,
        " directly; connect to frontends to list them"));
  }
  return picker_->ListFrontends();
}

absl::StatusOr<std::unique_ptr<Subscriber>> ScoreboardClient::Subscribe(
    const SubscriptionKeys& keys, UpdateCallback callback) {
  if (picker_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this client reads the backend ", backend_address_,
        " directly; subscriptions are served by frontends"));
  }
  std::shared_ptr<DeliveryPool> pool;
  {
    absl::MutexLock lock(&pool_mu_);
    if (pool_ == nullptr) {
      pool_ = std::make_shared<DeliveryPool>(options_.delivery_threads);
    }
    pool = pool_;
  }
  return Subscriber::Start(picker_, std::move(pool), keys, std::move(callback));
}

absl::Status ScoreboardClient::CheckHealth() {
  return podium::CheckHealth(address(), options_.timeout);
}

}  // namespace podium
