#include "client/subscriber.h"

#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/status_util.h"
#include "glog/logging.h"

namespace podium {
namespace {

// A stream at the new frontend that has neither failed nor said anything
// for this long counts as established all the same: a frontend need not
// send anything until a subscribed key changes.
constexpr absl::Duration kEstablishGrace = absl::Seconds(1);
// Events one Step() handles before the subscriptions waiting behind it get
// their turn.
constexpr int kEventsPerStep = 64;

bool IsRefusal(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return true;
    default:
      return false;
  }
}

std::atomic<int> next_id{1};

}  // namespace

struct Subscriber::Event {
  enum Kind { kUpdate, kEstablished, kDone, kWake };
  Event() = default;
  Event(Kind kind, SubscribeStream* stream) : kind(kind), stream(stream) {}

  Kind kind = kWake;
  SubscribeStream* stream = nullptr;
  v1::SubscribeUpdate update;
  grpc::Status status;
};

absl::StatusOr<std::unique_ptr<Subscriber>> Subscriber::Start(
    std::shared_ptr<FrontendPicker> picker, std::shared_ptr<DeliveryPool> pool,
    const SubscriptionKeys& keys, UpdateCallback callback) {
  if (keys.events.empty() && keys.teams.empty() && !keys.all_events &&
      !keys.all_teams) {
    return absl::InvalidArgumentError(
        "nothing to subscribe to: name events or teams, or ask for all");
  }
  if (callback == nullptr) {
    return absl::InvalidArgumentError("subscription without a callback");
  }
  v1::SubscribeRequest request;
  request.set_all_events(keys.all_events);
  request.set_all_teams(keys.all_teams);
  for (const std::string& event : keys.events) {
    if (absl::Status s = ValidateName("event", event); !s.ok()) return s;
    request.add_events(event);
  }
  for (const std::string& team : keys.teams) {
    if (absl::Status s = ValidateName("team", team); !s.ok()) return s;
    request.add_teams(team);
  }
  std::unique_ptr<Subscriber> subscription(
      new Subscriber(std::move(picker), std::move(pool), std::move(request),
                     std::move(callback)));
  Subscriber* self = subscription.get();
  self->listener_ =
      self->picker_->AddListener([self] { self->Post(Event(Event::kWake, nullptr)); });
  self->pool_->Add(self);
  return subscription;
}

Subscriber::Subscriber(std::shared_ptr<FrontendPicker> picker,
                       std::shared_ptr<DeliveryPool> pool,
                       v1::SubscribeRequest request, UpdateCallback callback)
    : id_(next_id++),
      picker_(std::move(picker)),
      pool_(std::move(pool)),
      request_(std::move(request)),
      callback_(std::move(callback)),
      backoff_(absl::Milliseconds(50), absl::Milliseconds(500)) {}

Subscriber::~Subscriber() {
  Cancel();
  pool_->Remove(this);
}

void Subscriber::Cancel() {
  {
    absl::MutexLock lock(&mu_);
    cancel_requested_ = true;
    if (std::this_thread::get_id() == stepping_) return;
  }
  pool_->Notify(this);
  if (pool_->OnPoolThread()) {
    // Inside another subscription's callback: the pool's threads may all
    // be held by callbacks like this one, so this one's last steps run
    // here.
    pool_->RunUntil(this, [this] {
      absl::MutexLock lock(&mu_);
      return ended_;
    });
    return;
  }
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&ended_));
}

bool Subscriber::WaitForEnd(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&ended_), timeout);
  return ended_;
}

absl::Status Subscriber::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

int64_t Subscriber::resume_seq() const {
  absl::MutexLock lock(&mu_);
  return resume_seq_;
}

std::string Subscriber::frontend() const {
  absl::MutexLock lock(&mu_);
  return frontend_;
}

int64_t Subscriber::delivered() const {
  absl::MutexLock lock(&mu_);
  return delivered_;
}

int64_t Subscriber::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

void Subscriber::OnStreamUpdate(SubscribeStream* stream,
                                v1::SubscribeUpdate update) {
  Event event(Event::kUpdate, stream);
  event.update = std::move(update);
  Post(std::move(event));
}

void Subscriber::OnStreamEstablished(SubscribeStream* stream) {
  Post(Event(Event::kEstablished, stream));
}

void Subscriber::OnStreamDone(SubscribeStream* stream,
                              const grpc::Status& status) {
  Event event(Event::kDone, stream);
  event.status = status;
  Post(std::move(event));
}

void Subscriber::Post(Event event) {
  {
    absl::MutexLock lock(&mu_);
    if (ended_) return;
    events_.push_back(std::move(event));
  }
  pool_->Notify(this);
}

absl::Time Subscriber::Step() {
  {
    absl::MutexLock lock(&mu_);
    if (ended_) return absl::InfiniteFuture();
    stepping_ = std::this_thread::get_id();
  }
  if (!opened_) {
    opened_ = true;
    OpenActive();
  }
  for (int handled = 0; handled < kEventsPerStep; ++handled) {
    Event event;
    bool have_event = false;
    bool cancel = false;
    {
      absl::MutexLock lock(&mu_);
      if (!events_.empty()) {
        event = std::move(events_.front());
        events_.pop_front();
        have_event = true;
      }
      cancel = cancel_requested_;
    }
    if (cancel && !stopping_) Stop(absl::OkStatus());
    if (have_event) Handle(event);
    if (stopping_ && streams_.empty()) {
      absl::MutexLock lock(&mu_);
      frontend_.clear();
      ended_ = true;
      stepping_ = std::thread::id();
      return absl::InfiniteFuture();
    }
    if (!have_event) break;
  }
  if (!stopping_) Tick();
  absl::MutexLock lock(&mu_);
  stepping_ = std::thread::id();
  if (!events_.empty() || (cancel_requested_ && !stopping_)) {
    return absl::InfinitePast();
  }
  return NextDeadline();
}

absl::Time Subscriber::NextDeadline() const {
  if (stopping_) return absl::InfiniteFuture();
  absl::Time deadline = candidate_deadline_;
  if (active_ == nullptr) deadline = std::min(deadline, retry_at_);
  return deadline;
}

void Subscriber::Handle(Event& event) {
  switch (event.kind) {
    case Event::kUpdate:
      HandleUpdate(event.stream, event.update);
      break;
    case Event::kEstablished:
      if (event.stream->cancelled || stopping_) break;
      failures_ = 0;
      outage_reported_ = false;
      if (event.stream == candidate_) Promote(candidate_);
      break;
    case Event::kDone:
      HandleDone(event.stream, event.status);
      break;
    case Event::kWake:
      break;
  }
}

void Subscriber::HandleUpdate(SubscribeStream* stream, const v1::SubscribeUpdate& update) {
  stream->Consumed();
  if (stream->cancelled || stopping_) return;
  stream->delivered_any = true;
  failures_ = 0;
  outage_reported_ = false;
  const bool admitted = filter_.Admit(update, &stream->cursor);
  if (stream == candidate_) Promote(stream);
  // Published before the callback runs, so that a reader the callback
  // wakes (a test, a CLI) never sees counters behind what it was given.
  Publish();
  if (admitted) callback_(update);
}

void Subscriber::HandleDone(SubscribeStream* stream, const grpc::Status& status) {
  std::unique_ptr<SubscribeStream> done = std::move(streams_[stream]);
  streams_.erase(stream);
  if (stopping_ || done->cancelled) return;
  const absl::Status why = FromGrpcStatus(status);
  if (stream == candidate_) {
    candidate_ = nullptr;
    candidate_deadline_ = absl::InfiniteFuture();
    LOG(INFO) << "subscription " << id_ << ": could not move to "
              << done->address << ": " << why << "; staying at "
              << last_frontend_;
    picker_->FailOver(done->address, why).IgnoreError();
    return;
  }
  active_ = nullptr;
  if (IsRefusal(status.error_code())) {
    // The owner gets this as status() and reports it; logging it too
    // made the CLI say it twice.
    VLOG(1) << "subscription " << id_ << ": " << done->address << " refused it: " << why;
    Stop(absl::Status(why.code(), absl::StrCat(done->address, ": ", why.message())));
    return;
  }
  if (candidate_ != nullptr) {
    Promote(candidate_);
    return;
  }
  if (!done->delivered_any) ++failures_;
  VLOG(1) << "subscription " << id_ << ": stream at " << done->address
          << " ended: " << why;
  last_error_ = std::string(why.message());
  absl::StatusOr<std::string> to = picker_->FailOver(done->address, why);
  // Said once per outage; the retries that follow are at verbosity 1.
  if (!to.ok() && !outage_reported_) {
    outage_reported_ = true;
    LOG(WARNING) << "subscription " << id_ << ": stream at " << done->address
                 << " ended (" << why << ") and no other frontend is available ("
                 << to.status().message() << "); retrying";
  }
  if (failures_ == 0) backoff_.Reset();
  retry_at_ = failures_ == 0 ? absl::Now() : absl::Now() + backoff_.Next();
  Publish();
}

void Subscriber::Tick() {
  const absl::Time now = absl::Now();
  if (active_ == nullptr && now >= retry_at_) OpenActive();
  if (candidate_ != nullptr && now >= candidate_deadline_) Promote(candidate_);
  if (active_ == nullptr) return;
  // Follow the client's current frontend.
  const std::string current = picker_->current();
  if (active_->address == current) {
    if (candidate_ != nullptr) {  // moved back before the move completed
      candidate_->Cancel();
      candidate_ = nullptr;
      candidate_deadline_ = absl::InfiniteFuture();
    }
    return;
  }
  if (candidate_ != nullptr && candidate_->address == current) return;
  if (candidate_ != nullptr) candidate_->Cancel();
  candidate_ = Open(current);
  candidate_deadline_ = now + kEstablishGrace;
}

SubscribeStream* Subscriber::Open(const std::string& address) {
  auto stream = std::make_unique<SubscribeStream>(
      static_cast<SubscribeStream::Sink*>(this), address, filter_.resume_seq());
  SubscribeStream* raw = stream.get();
  streams_[raw] = std::move(stream);
  raw->Start(picker_->Stub(address), request_);
  return raw;
}

void Subscriber::OpenActive() {
  const std::string to = picker_->current();
  active_ = Open(to);
  if (!last_frontend_.empty() && last_frontend_ != to) {
    LOG(INFO) << "subscription " << id_ << ": failover from " << last_frontend_
              << " to " << to << ", resuming after seq " << active_->after_seq
              << " (" << last_frontend_ << ": " << last_error_ << ")";
  } else if (failures_ > 1) {
    VLOG(1) << "subscription " << id_ << ": retrying at " << to << " after seq "
            << active_->after_seq;
  } else {
    VLOG(1) << "subscription " << id_ << ": subscribing at " << to
            << " after seq " << active_->after_seq;
  }
  last_frontend_ = to;
  Publish();
}

void Subscriber::Promote(SubscribeStream* stream) {
  SubscribeStream* old = active_;
  active_ = stream;
  candidate_ = nullptr;
  candidate_deadline_ = absl::InfiniteFuture();
  if (old != nullptr) old->Cancel();
  const std::string from = old != nullptr ? old->address : last_frontend_;
  const bool home = stream->address == picker_->home();
  LOG(INFO) << "subscription " << id_ << ": "
            << (home ? "returned home from " : "moved from ") << from << " to "
            << stream->address << ", resumed after seq " << stream->after_seq;
  last_frontend_ = stream->address;
  Publish();
}

void Subscriber::Stop(const absl::Status& status) {
  stopping_ = true;
  for (auto& [raw, stream] : streams_) {
    if (!stream->cancelled) stream->Cancel();
  }
  active_ = nullptr;
  candidate_ = nullptr;
  picker_->RemoveListener(listener_);
  absl::MutexLock lock(&mu_);
  status_ = status;
}

void Subscriber::Publish() {
  absl::MutexLock lock(&mu_);
  resume_seq_ = filter_.resume_seq();
  delivered_ = filter_.delivered();
  dropped_ = filter_.dropped();
  frontend_ = active_ != nullptr ? active_->address : "";
}

}  // namespace podium
