#include "client/subscribe_stream.h"

#include <utility>

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
  stub_->async()->Subscribe(&context_, &request_, this);
  AddHold();
  {
    absl::MutexLock lock(&mu_);
    read_pending_ = true;
  }
  StartRead(&buffer_);
  StartCall();
}

void SubscribeStream::ReadIf(bool (*wanted)(int queued)) {
  {
    absl::MutexLock lock(&mu_);
    if (read_pending_ || finished_ || !wanted(queued_)) return;
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
  context_.TryCancel();
  // A paused stream is read once more, so that the failed read releases
  // the hold and the call can finish.
  ReadIf([](int) { return true; });
}

void SubscribeStream::OnReadInitialMetadataDone(bool ok) {
  if (ok) sink_->OnStreamEstablished(this);
}

void SubscribeStream::OnReadDone(bool ok) {
  bool more = false;
  {
    absl::MutexLock lock(&mu_);
    read_pending_ = false;
    if (!ok) {
      finished_ = true;
    } else {
      queued_ += buffer_.updates_size();
      more = queued_ < kWindow;
      read_pending_ = more;
    }
  }
  if (!ok) {
    RemoveHold();
    return;
  }
  v1::SubscribeUpdates message = std::move(buffer_);
  buffer_.Clear();
  for (v1::SubscribeUpdate& update : *message.mutable_updates()) {
    sink_->OnStreamUpdate(this, std::move(update));
  }
  if (more) StartRead(&buffer_);
}

void SubscribeStream::OnDone(const grpc::Status& status) {
  sink_->OnStreamDone(this, status);
}

}  // namespace podium
