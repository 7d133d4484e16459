#include "bench/paced_writer.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth.h"

namespace podium::bench {

PacedWriter::PacedWriter(std::unique_ptr<v1::Backend::StubInterface> backend,
                         std::string write_token, std::vector<std::string> events,
                         absl::Duration interval)
    : backend_(std::move(backend)),
      write_token_(std::move(write_token)),
      events_(std::move(events)),
      interval_(interval) {}

PacedWriter::~PacedWriter() { Stop(); }

void PacedWriter::Write(const std::string& event) {
  grpc::ClientContext context;
  AddBearerToken(&context, write_token_);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  const int64_t n = written_.fetch_add(1);
  v1::RecordScoreRequest request;
  request.set_idempotency_key(absl::StrCat("paced-", n));
  request.set_event(event);
  v1::TeamPoints* points = request.add_points();
  points->set_team("Gauls");
  points->set_points(n);
  v1::WriteReply reply;
  if (!backend_->RecordScore(&context, request, &reply).ok()) {
    failed_.fetch_add(1);
    return;
  }
  const int64_t seq = reply.change().seq();
  int64_t seen = acked_.load();
  while (seq > seen && !acked_.compare_exchange_weak(seen, seq)) {
  }
}

absl::StatusOr<int64_t> PacedWriter::LatestSeq() const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::Board board;
  const grpc::Status status = backend_->GetBoard(&context, v1::GetBoardRequest(), &board);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the backend's seq: GetBoard failed: ", status.error_message()));
  }
  return board.seq();
}

void PacedWriter::WriteEach() {
  for (const std::string& event : events_) Write(event);
}

void PacedWriter::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    const absl::Time end = absl::Now() + absl::Minutes(10);
    while (!stop_.load() && absl::Now() < end) {
      WriteEach();
      absl::SleepFor(interval_);
    }
  });
}

void PacedWriter::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace podium::bench
