#include "client/delivery_pool.h"

#include "glog/logging.h"

namespace podium {
namespace {

thread_local const DeliveryPool* current_pool = nullptr;

}  // namespace

DeliveryPool::DeliveryPool(int threads) {
  CHECK_GE(threads, 1);
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

DeliveryPool::~DeliveryPool() {
  {
    absl::MutexLock lock(&mu_);
    DCHECK(states_.empty()) << states_.size() << " workers were not removed";
    stopping_ = true;
    changed_.SignalAll();
  }
  for (std::thread& thread : threads_) thread.join();
}

void DeliveryPool::Add(Worker* worker) {
  absl::MutexLock lock(&mu_);
  auto [it, added] = states_.try_emplace(worker);
  DCHECK(added) << "worker added twice";
  MakeReady(worker, it->second);
}

void DeliveryPool::Notify(Worker* worker) {
  absl::MutexLock lock(&mu_);
  auto it = states_.find(worker);
  if (it != states_.end()) MakeReady(worker, it->second);
}

void DeliveryPool::Remove(Worker* worker) {
  absl::MutexLock lock(&mu_);
  ++step_waiters_;
  for (;;) {
    auto it = states_.find(worker);
    if (it == states_.end()) break;
    if (!it->second.running) {
      SetDeadline(worker, it->second, absl::InfiniteFuture());
      states_.erase(it);  // its ready_ entry, if any, is now stale
      break;
    }
    step_ended_.Wait(&mu_);
  }
  --step_waiters_;
}

bool DeliveryPool::OnPoolThread() const { return current_pool == this; }

void DeliveryPool::RunUntil(Worker* worker, absl::FunctionRef<bool()> finished) {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      ++step_waiters_;
      bool claimed = false;
      while (!claimed) {
        auto it = states_.find(worker);
        if (it == states_.end()) {
          --step_waiters_;
          return;
        }
        State& state = it->second;
        if (!state.running &&
            (state.queued || state.deadline <= absl::Now())) {
          Claim(worker, state);
          claimed = true;
        } else {
          step_ended_.WaitWithDeadline(&mu_, state.deadline);
        }
      }
      --step_waiters_;
    }
    RunStep(worker);
    if (finished()) return;
  }
}

void DeliveryPool::MakeReady(Worker* worker, State& state) {
  if (state.running) {
    state.again = true;
    return;
  }
  if (state.queued) return;
  state.queued = true;
  ready_.push_back(worker);
  changed_.Signal();
  if (step_waiters_ > 0) step_ended_.SignalAll();  // RunUntil waits for this
}

void DeliveryPool::Claim(Worker* worker, State& state) {
  state.queued = false;
  state.running = true;
  SetDeadline(worker, state, absl::InfiniteFuture());
}

void DeliveryPool::SetDeadline(Worker* worker, State& state, absl::Time deadline) {
  if (state.deadline != absl::InfiniteFuture()) {
    timers_.erase({state.deadline, worker});
  }
  state.deadline = absl::InfiniteFuture();
  if (deadline == absl::InfiniteFuture()) return;
  if (deadline <= absl::Now()) {
    MakeReady(worker, state);
    return;
  }
  state.deadline = deadline;
  const bool earliest = timers_.empty() || deadline < timers_.begin()->first;
  timers_.insert({deadline, worker});
  // A thread asleep until a later timer must wake for this one.
  if (earliest) changed_.Signal();
}

void DeliveryPool::FireTimers() {
  const absl::Time now = absl::Now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    Worker* worker = timers_.begin()->second;
    timers_.erase(timers_.begin());
    auto it = states_.find(worker);
    DCHECK(it != states_.end()) << "a removed worker's timer was left";
    if (it == states_.end()) continue;
    it->second.deadline = absl::InfiniteFuture();
    MakeReady(worker, it->second);
  }
}

DeliveryPool::Worker* DeliveryPool::ClaimReady() {
  while (!ready_.empty()) {
    Worker* worker = ready_.front();
    ready_.pop_front();
    auto it = states_.find(worker);
    // Stale entries: removed, or claimed by RunUntil meanwhile.
    if (it == states_.end() || !it->second.queued) continue;
    Claim(worker, it->second);
    return worker;
  }
  return nullptr;
}

void DeliveryPool::RunStep(Worker* worker) {
  const absl::Time next = worker->Step();
  absl::MutexLock lock(&mu_);
  auto it = states_.find(worker);
  CHECK(it != states_.end()) << "a worker was removed while it ran";
  State& state = it->second;
  state.running = false;
  if (state.again) {
    state.again = false;
    MakeReady(worker, state);
  } else {
    SetDeadline(worker, state, next);
  }
  if (step_waiters_ > 0) step_ended_.SignalAll();
}

void DeliveryPool::Loop() {
  current_pool = this;
  for (;;) {
    Worker* worker = nullptr;
    {
      absl::MutexLock lock(&mu_);
      for (;;) {
        if (stopping_) return;
        FireTimers();
        worker = ClaimReady();
        if (worker != nullptr) break;
        const absl::Time wake =
            timers_.empty() ? absl::InfiniteFuture() : timers_.begin()->first;
        changed_.WaitWithDeadline(&mu_, wake);
      }
    }
    RunStep(worker);
  }
}

}  // namespace podium
