#include "bench/subscribe_readers.h"

namespace podium::bench {
namespace {

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

}  // namespace

void TimedReader::Proceed(const Op* op, bool ok) {
  const void* tag = op;
  if (tag == &finished_) {
    done_->Add();
    return;
  }
  if (!ok) {  // the stream ended (cancelled, or refused)
    stream_->Finish(&status_, &finished_);
    return;
  }
  if (tag == &read_) {
    const int64_t now = NowMicros();
    ++messages_;
    for (const v1::SubscribeUpdate& update : message_.updates()) {
      if (update.snapshot()) {
        opened_->Add();
      } else {
        receipts_.push_back(Receipt{update.change().seq(), now, messages_});
        max_seq_.store(update.change().seq(), std::memory_order_release);
        received_->Add();
      }
    }
  }
  stream_->Read(&message_, &read_);
}

}  // namespace podium::bench
