#include "client/connection_watcher.h"

#include <algorithm>
#include <utility>

#include "glog/logging.h"

namespace podium {
namespace {

// How long one watch lasts before it is renewed: bounds how long Forget()
// and the destructor wait.
constexpr absl::Duration kSlice = absl::Milliseconds(200);

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

struct ConnectionWatcher::Entry {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  grpc_connectivity_state state = GRPC_CHANNEL_IDLE;
  bool forgotten = false;  // guarded by the watcher's mu_
};

ConnectionWatcher::ConnectionWatcher() : thread_([this] { Run(); }) {}

ConnectionWatcher::~ConnectionWatcher() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void ConnectionWatcher::Watch(const std::string& address,
                              std::shared_ptr<grpc::Channel> channel) {
  auto* entry = new Entry{address, std::move(channel)};
  entry->state = entry->channel->GetState(/*try_to_connect=*/false);
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    delete entry;
    return;
  }
  entries_.push_back(entry);
  Arm(entry);
}

void ConnectionWatcher::Forget(const grpc::Channel* channel) {
  absl::MutexLock lock(&mu_);
  for (Entry* entry : entries_) {
    if (entry->channel.get() == channel) entry->forgotten = true;
  }
}

void ConnectionWatcher::Arm(Entry* entry) {
  ++armed_;
  entry->channel->NotifyOnStateChange(
      entry->state, absl::ToChronoTime(absl::Now() + kSlice), &cq_, entry);
}

void ConnectionWatcher::Run() {
  for (;;) {
    void* tag = nullptr;
    bool changed = false;
    const grpc::CompletionQueue::NextStatus next = cq_.AsyncNext(
        &tag, &changed, absl::ToChronoTime(absl::Now() + kSlice));
    absl::MutexLock lock(&mu_);
    if (next == grpc::CompletionQueue::GOT_EVENT) {
      auto* entry = static_cast<Entry*>(tag);
      --armed_;
      if (stopping_ || entry->forgotten) {
        entries_.erase(std::find(entries_.begin(), entries_.end(), entry));
        delete entry;
      } else {
        const grpc_connectivity_state now = entry->channel->GetState(false);
        if (now != entry->state) {
          VLOG(1) << entry->address << ": connection "
                  << StateName(entry->state) << " -> " << StateName(now);
          entry->state = now;
        }
        Arm(entry);
      }
    }
    if (stopping_ && armed_ == 0) break;
  }
  cq_.Shutdown();
  void* tag;
  bool ok;
  while (cq_.Next(&tag, &ok)) {
  }
}

}  // namespace podium
