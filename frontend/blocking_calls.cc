#include "frontend/blocking_calls.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace podium {

BlockingCalls::BlockingCalls(int threads, size_t max_waiting) : max_waiting_(max_waiting) {
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

BlockingCalls::~BlockingCalls() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
}

bool BlockingCalls::Run(std::function<void()> call) {
  absl::MutexLock lock(&mu_);
  if (waiting_.size() >= max_waiting_) return false;
  waiting_.push_back(std::move(call));
  return true;
}

grpc::ServerUnaryReactor* BlockingCalls::RunAndFinish(grpc::CallbackServerContext* context,
                                                      absl::string_view what,
                                                      std::function<grpc::Status()> call) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (Run([reactor, call = std::move(call)] { reactor->Finish(call()); })) return reactor;
  reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               absl::StrCat("this frontend has ", max_waiting_, " ", what,
                                            " already; retry shortly, or ask another frontend")));
  return reactor;
}

void BlockingCalls::Loop() {
  while (true) {
    std::function<void()> read;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](BlockingCalls* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
            return w->stopping_ || !w->waiting_.empty();
          },
          this));
      if (waiting_.empty()) return;  // stopping, and nothing left to run
      read = std::move(waiting_.front());
      waiting_.pop_front();
    }
    read();
  }
}

}  // namespace podium
