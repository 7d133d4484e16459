#include "harness/completion_threads.h"

#include <algorithm>

namespace podium::harness {

CompletionThreads::CompletionThreads(int queues, Dispatch dispatch) {
  for (int i = 0; i < std::max(queues, 1); ++i) {
    queues_.push_back(std::make_unique<grpc::CompletionQueue>());
  }
  for (auto& queue : queues_) {
    threads_.emplace_back([cq = queue.get(), dispatch] {
      void* tag = nullptr;
      bool ok = false;
      while (cq->Next(&tag, &ok)) dispatch(tag, ok);
    });
  }
}

CompletionThreads::~CompletionThreads() { Stop(); }

void CompletionThreads::Stop() {
  if (threads_.empty()) return;
  for (auto& queue : queues_) queue->Shutdown();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

}  // namespace podium::harness
