#include "client/subscribe_stream.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/subscribe_format.h"

namespace podium {

SubscribeStream::SubscribeStream(Sink* sink, std::string address,
                                 int64_t after_seq)
    : address(std::move(address)),
      after_seq(after_seq),
      cursor(after_seq),
      sink_(sink) {}

void SubscribeStream::Start(std::shared_ptr<v1::Scoreboard::Stub> stub,
                            v1::SubscribeRequest request) {
  stub_ = std::move(stub);
  request_ = std::move(request);
  request_.set_after_seq(after_seq);
  request_.set_format(v1::SUBSCRIBE_FORMAT_BATCHES);
  stub_->async()->Subscribe(&context_, &request_, this);
  // The hold keeps the call open until a read has failed; the first read
  // waits for the frontend's initial metadata and its format.
  AddHold();
  StartCall();
}

void SubscribeStream::ReadIf(bool (*wanted)(int queued)) {
  {
    absl::MutexLock lock(&mu_);
    if (read_pending_ || finished_ || !wanted(queued_)) return;
    // Before the format is known only a cancel reads (to end the call).
    if (format_ != Format::kMatches && !cancelling_) return;
    read_pending_ = true;
  }
  StartRead(&buffer_);
}

void SubscribeStream::Consumed() {
  {
    absl::MutexLock lock(&mu_);
    --queued_;
  }
  ReadIf([](int queued) { return queued <= kWindow / 2; });
}

void SubscribeStream::Cancel() {
  cancelled = true;
  {
    absl::MutexLock lock(&mu_);
    cancelling_ = true;
  }
  context_.TryCancel();
  // A paused stream is read once more, so that the failed read releases
  // the hold and the call can finish.
  ReadIf([](int) { return true; });
}

void SubscribeStream::OnReadInitialMetadataDone(bool ok) {
  bool matches = false;
  if (ok) {
    // Valid here: gRPC filled it in before this reaction.
    const auto& metadata = context_.GetServerInitialMetadata();
    auto found = metadata.find(kSubscribeFormatKey);
    matches =
        found != metadata.end() && found->second == grpc::string_ref(kSubscribeFormatBatches);
  }
  bool start_read = false;
  {
    absl::MutexLock lock(&mu_);
    format_ = matches ? Format::kMatches : ok ? Format::kDiffers : Format::kUnknown;
    // Also when the call failed or is refused: that read fails and frees
    // the hold.
    start_read = !read_pending_ && !finished_;
    if (start_read) read_pending_ = true;
  }
  if (matches) {
    sink_->OnStreamEstablished(this);
  } else if (ok) {
    context_.TryCancel();  // not ours to read; OnDone says why
  }
  if (start_read) StartRead(&buffer_);
}

void SubscribeStream::OnReadDone(bool ok) {
  bool ours = false;
  {
    absl::MutexLock lock(&mu_);
    if (!ok) {
      read_pending_ = false;
      finished_ = true;
    }
    ours = format_ == Format::kMatches;
  }
  if (!ok) {
    RemoveHold();
    return;
  }
  if (!ours) {
    // Read only to end a cancelled call: drop it and read on until a read
    // fails.
    StartRead(&buffer_);
    return;
  }
  // read_pending_ stays set while this message is handed over: a Consumed()
  // on the owner's thread must not start the next read into buffer_ now, or
  // the updates of two messages could interleave.
  v1::SubscribeUpdates message = std::move(buffer_);
  buffer_.Clear();
  {
    absl::MutexLock lock(&mu_);
    queued_ += message.updates_size();
  }
  for (v1::SubscribeUpdate& update : *message.mutable_updates()) {
    sink_->OnStreamUpdate(this, std::move(update));
  }
  bool more = false;
  {
    absl::MutexLock lock(&mu_);
    // A cancelled stream reads on until a read fails and frees the call.
    more = queued_ < kWindow || cancelling_;
    read_pending_ = more;
  }
  if (more) StartRead(&buffer_);
}

void SubscribeStream::OnDone(const grpc::Status& status) {
  bool differs = false;
  {
    absl::MutexLock lock(&mu_);
    differs = format_ == Format::kDiffers;
  }
  if (!differs) {
    sink_->OnStreamDone(this, status);
    return;
  }
  sink_->OnStreamDone(
      this, grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                         absl::StrCat("frontend ", address,
                                      " sends Subscribe messages in another format than this "
                                      "client reads (it runs another Podium version)")));
}

}  // namespace podium
