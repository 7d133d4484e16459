#include "bard/bard_writer.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/auth.h"
#include "common/backoff.h"
#include "common/channel.h"
#include "common/names.h"
#include "common/status_util.h"
#include "glog/logging.h"

namespace podium {
namespace {

// How fast the channel tries to reconnect to a backend that went away. gRPC's
// defaults (1 s growing to 120 s) would leave the bard failing fast for up to
// two minutes after the backend is back.
std::string RandomKeyPrefix() {
  std::random_device device;
  const uint64_t high = device();
  const uint64_t low = device();
  return absl::StrFormat("bard-%016x-", (high << 32) ^ low);
}

std::string DescribeReply(const v1::WriteReply& reply) {
  return absl::StrCat("seq ", reply.change().seq(), reply.duplicate() ? " (already applied)" : "");
}

}  // namespace

BardWriter::BardWriter(const std::string& backend_address, std::string write_token,
                       BardWriterOptions options)
    : address_(backend_address),
      write_token_(std::move(write_token)),
      options_(options),
      key_prefix_(RandomKeyPrefix()),
      stub_(v1::Backend::NewStub(CreateFastReconnectChannel(backend_address))) {}

std::string BardWriter::NextKey() { return absl::StrCat(key_prefix_, next_key_.fetch_add(1)); }

absl::StatusOr<v1::WriteReply> BardWriter::RecordScore(v1::RecordScoreRequest request) {
  if (request.idempotency_key().empty()) request.set_idempotency_key(NextKey());
  const std::string what =
      absl::StrCat("RecordScore key=", request.idempotency_key(), " event=", request.event());
  v1::WriteReply reply;
  absl::Status status = CallWithRetries(what, true, [&](grpc::ClientContext* context) {
    return stub_->RecordScore(context, request, &reply);
  });
  if (!status.ok()) return status;
  VLOG(1) << what << " -> " << DescribeReply(reply);
  return reply;
}

absl::StatusOr<v1::WriteReply> BardWriter::AwardMedal(v1::AwardMedalRequest request) {
  if (request.idempotency_key().empty()) request.set_idempotency_key(NextKey());
  const std::string what =
      absl::StrCat("AwardMedal key=", request.idempotency_key(), " team=", request.team(),
                   " medal=", MedalName(request.medal()));
  v1::WriteReply reply;
  absl::Status status = CallWithRetries(what, true, [&](grpc::ClientContext* context) {
    return stub_->AwardMedal(context, request, &reply);
  });
  if (!status.ok()) return status;
  VLOG(1) << what << " -> " << DescribeReply(reply);
  return reply;
}

absl::StatusOr<v1::WriteReply> BardWriter::RemovePost(v1::RemovePostRequest request) {
  if (request.idempotency_key().empty()) request.set_idempotency_key(NextKey());
  const std::string what = absl::StrCat("RemovePost key=", request.idempotency_key(),
                                        " event=", request.event(), " post=", request.post_id());
  v1::WriteReply reply;
  absl::Status status = CallWithRetries(what, true, [&](grpc::ClientContext* context) {
    return stub_->RemovePost(context, request, &reply);
  });
  if (!status.ok()) return status;
  VLOG(1) << what << " -> " << DescribeReply(reply);
  return reply;
}

absl::StatusOr<v1::Board> BardWriter::GetBoard() {
  v1::Board board;
  absl::Status status = CallWithRetries("GetBoard", false, [&](grpc::ClientContext* context) {
    return stub_->GetBoard(context, v1::GetBoardRequest(), &board);
  });
  if (!status.ok()) return status;
  VLOG(1) << "GetBoard -> " << board.events_size() << " events, " << board.medals_size()
          << " teams at seq " << board.seq();
  return board;
}

absl::Status BardWriter::CallWithRetries(
    const std::string& what, bool with_token,
    const std::function<grpc::Status(grpc::ClientContext*)>& attempt) {
  const absl::Time start = absl::Now();
  const absl::Time give_up = start + options_.retry_budget;
  Backoff backoff(options_.initial_backoff, options_.max_backoff);
  for (int attempts = 1;; ++attempts) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.attempt_timeout));
    // Fail fast while the backend is down: the retry loop, not gRPC, decides
    // how long to keep trying, and a stop can end it between attempts.
    context.set_wait_for_ready(false);
    if (with_token) AddBearerToken(&context, write_token_);
    absl::Status status = FromGrpcStatus(attempt(&context));
    if (status.ok() || !IsRetryable(status)) return status;

    // The last pause is cut short so that an attempt is made at the end of
    // the budget: the budget is how long a backend may stay down.
    const absl::Duration left = give_up - absl::Now();
    const absl::Duration delay = std::min(backoff.Next(), left);
    if (left <= absl::ZeroDuration()) {
      return absl::Status(
          status.code(),
          absl::StrCat(
              what, " to ", address_, " gave up after ", attempts, " attempts in ",
              absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(1))), ": ",
              status.message()));
    }
    auto stopped = [&] {
      return absl::CancelledError(
          absl::StrCat(what, " stopped while retrying; last error: ", status.ToString()));
    };
    if (options_.stop != nullptr && options_.stop->HasBeenNotified()) {
      return stopped();
    }
    LOG(WARNING) << what << " attempt " << attempts << " failed (" << status << "); retrying in "
                 << absl::Trunc(delay, absl::Milliseconds(1));
    retries_.fetch_add(1);
    if (options_.stop == nullptr) {
      absl::SleepFor(delay);
    } else if (options_.stop->WaitForNotificationWithTimeout(delay)) {
      return stopped();
    }
  }
}

}  // namespace podium
