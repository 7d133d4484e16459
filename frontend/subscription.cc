#include "frontend/subscription.h"

#include <algorithm>

#include "common/keys.h"
#include "frontend/sse_events.h"
#include "google/protobuf/util/json_util.h"

namespace podium {

EncodedChangePtr EncodeChange(const v1::Change& change) {
  auto encoded = std::make_shared<EncodedChange>();
  encoded->change = change;
  encoded->key = ChangeKey(change);
  v1::SubscribeUpdate update;
  *update.mutable_change() = change;
  update.SerializeToString(&encoded->bytes);
  return encoded;
}

const std::string& EncodedChange::json() const {
  absl::call_once(json_once_, [this] {
    google::protobuf::util::JsonPrintOptions options;
    // A Change always converts: it is a message of ours, already valid.
    (void)google::protobuf::util::MessageToJsonString(change, &json_, options);
  });
  return json_;
}

const std::string& EncodedChange::sse_event() const {
  absl::call_once(sse_once_, [this] { sse_ = SseEvent(*this, false, false); });
  return sse_;
}

std::string OutgoingUpdate::Flags() const {
  std::string flags;
  // Field 2 (snapshot) and field 3 (conflated), varint true.
  if (snapshot) flags.append("\x10\x01", 2);
  if (conflated) flags.append("\x18\x01", 2);
  return flags;
}

std::string OutgoingUpdate::Header() const {
  // Field 1, length-delimited, then the length as a varint.
  std::string header(1, '\x0a');
  size_t length = change->bytes.size() + Flags().size();
  while (length >= 0x80) {
    header.push_back(static_cast<char>((length & 0x7f) | 0x80));
    length >>= 7;
  }
  header.push_back(static_cast<char>(length));
  return header;
}

v1::SubscribeUpdate OutgoingUpdate::ToProto() const {
  v1::SubscribeUpdate update;
  update.ParseFromString(change->bytes + Flags());
  return update;
}

// Held changes beyond this many are conflated per key before release; a
// catch-up of a slow backend must not buffer the world either.
constexpr size_t kMaxHeld = 4096;

namespace {

std::vector<std::string> SortedDistinct(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace

Subscription::Subscription(std::vector<std::string> keys, std::string client,
                           StartWrite start_write, size_t max_queued)
    : keys_(SortedDistinct(std::move(keys))),
      client_(std::move(client)),
      start_write_(std::move(start_write)),
      max_queued_(std::max<size_t>(max_queued, 1)),
      newest_(keys_.size(), queue_.end()),
      version_(keys_.size(), 0) {}

size_t Subscription::KeyIndex(const std::string& key) const {
  auto it = std::lower_bound(keys_.begin(), keys_.end(), key);
  return it != keys_.end() && *it == key ? static_cast<size_t>(it - keys_.begin()) : keys_.size();
}

void Subscription::Publish(const EncodedChangePtr& change) {
  Batch next;
  absl::ReleasableMutexLock lock(&mu_);
  if (closed_) return;
  if (catching_up_ > 0) {
    if (held_.size() >= kMaxHeld) {
      // Keep only the newest held value of each key.
      absl::flat_hash_map<std::string, size_t> newest;
      absl::flat_hash_map<std::string, int> count;
      for (size_t i = 0; i < held_.size(); ++i) {
        const std::string& key = held_[i].first->key;
        newest[key] = i;
        ++count[key];
      }
      std::vector<std::pair<EncodedChangePtr, bool>> kept;
      for (size_t i = 0; i < held_.size(); ++i) {
        const std::string& key = held_[i].first->key;
        if (newest[key] != i) continue;
        kept.emplace_back(std::move(held_[i].first), held_[i].second || count[key] > 1);
      }
      conflated_ += static_cast<int64_t>(held_.size() - kept.size());
      held_.swap(kept);
    }
    held_.emplace_back(change, false);
    return;
  }
  if (!writing_ && queue_.empty()) {
    // The common case of a reader that keeps up: straight to the wire.
    if (!Admit(*change, KeyIndex(change->key), /*snapshot=*/false)) return;
    writing_ = true;
    starting_.fetch_add(1, std::memory_order_relaxed);
    next.push_back(OutgoingUpdate{change, false, false});
  } else {
    Enqueue(change, false, false);
    next = TakeWrite();
  }
  lock.Release();
  Write(next);
}

void Subscription::BeginCatchUp() {
  absl::MutexLock lock(&mu_);
  ++catching_up_;
}

void Subscription::CatchUp(const EncodedChangePtr& change, bool snapshot) {
  CatchUp(absl::MakeConstSpan(&change, 1), snapshot);
}

void Subscription::CatchUp(absl::Span<const EncodedChangePtr> changes, bool snapshot) {
  Batch next;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    for (const EncodedChangePtr& change : changes) Enqueue(change, snapshot, false);
    next = TakeWrite();
  }
  Write(next);
}

void Subscription::EndCatchUp() {
  Batch next;
  {
    absl::MutexLock lock(&mu_);
    if (--catching_up_ > 0 || closed_) return;
    std::vector<std::pair<EncodedChangePtr, bool>> held;
    held.swap(held_);
    // Held changes arrived in seq order; the filter drops what the catch-up
    // already queued.
    for (const auto& [change, conflated] : held) Enqueue(change, false, conflated);
    next = TakeWrite();
  }
  Write(next);
}

bool Subscription::Admit(const EncodedChange& encoded, size_t index, bool snapshot) {
  if (index >= keys_.size()) return false;
  const int64_t seq = encoded.change.seq();
  int64_t& version = version_[index];
  // A snapshot value at the version already queued (0 for a key never
  // written) still tells the client the current value; a change does not.
  if (seq < version || (seq == version && (!snapshot || version > 0))) return false;
  version = seq;
  high_seq_ = std::max(high_seq_, seq);
  return true;
}

void Subscription::Enqueue(const EncodedChangePtr& encoded, bool snapshot, bool conflated) {
  const size_t index = KeyIndex(encoded->key);
  if (!Admit(*encoded, index, snapshot)) return;
  auto& newest = newest_[index];
  if (newest != queue_.end() && queue_.size() >= max_queued_) {
    // Full: the waiting value of this key gives way to the newer one.
    queue_.erase(newest);
    ++conflated_;
    conflated = true;
  }
  queue_.push_back(OutgoingUpdate{encoded, snapshot, conflated});
  newest = std::prev(queue_.end());
}

Subscription::Batch Subscription::TakeWrite() {
  Batch next;
  if (writing_ || closed_ || queue_.empty()) return next;
  writing_ = true;
  starting_.fetch_add(1, std::memory_order_relaxed);
  while (!queue_.empty() && next.size() < kMaxBatch) {
    const size_t index = KeyIndex(queue_.front().change->key);
    if (index < newest_.size() && newest_[index] == queue_.begin()) newest_[index] = queue_.end();
    next.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return next;
}

void Subscription::Write(const Batch& next) {
  if (next.empty()) return;
  start_write_(absl::MakeConstSpan(next));
  starting_.fetch_sub(1, std::memory_order_release);
}

void Subscription::WriteDone() {
  Batch next;
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    next = TakeWrite();
  }
  Write(next);
}

void Subscription::Close() {
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    queue_.clear();
    std::fill(newest_.begin(), newest_.end(), queue_.end());
    held_.clear();
  }
  // The writer may go away once Close() returns: a write being started on
  // another thread finishes starting first (a few microseconds; no write
  // starts after closed_).
  while (starting_.load(std::memory_order_acquire) > 0) absl::SleepFor(absl::Microseconds(20));
}

int64_t Subscription::high_seq() const {
  absl::MutexLock lock(&mu_);
  return high_seq_;
}

bool Subscription::catching_up() const {
  absl::MutexLock lock(&mu_);
  return catching_up_ > 0;
}

int64_t Subscription::conflated() const {
  absl::MutexLock lock(&mu_);
  return conflated_;
}

size_t Subscription::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

}  // namespace podium
