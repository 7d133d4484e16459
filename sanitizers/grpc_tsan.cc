// gRPC's completion queues made visible to ThreadSanitizer; linked into
// every binary of a PODIUM_SANITIZE=thread build beside absl_tsan.cc.
//
// Why: an operation's tag and op set are filled on the thread that starts
// it and used on the thread that completes it. Between the two, Debian's
// uninstrumented libgrpc passes them through combiners and lock-free queues
// TSan cannot see, so every gRPC call looked like a race on its own
// tags, op sets, byte buffers and messages (CallbackWithStatusTag::Run
// reading what its constructor wrote, CallOpRecvMessage::FinishOp
// deserializing into a reply, ...). Every operation passes three points we
// can see, because libgrpc and libgrpc++ call them through the dynamic
// linker: grpc_cq_begin_op when it starts, grpc_cq_end_op when it
// completes, and grpc_completion_queue_next/pluck when a thread takes the
// completion (callback queues run the callback on the completing thread, or
// hand it over under a mutex absl_tsan.cc already shows). Each function
// below tells TSan that the start happens before the completion, and the
// completion before the thread that takes it, then calls libgrpc's.
//
// Likewise for bytes we lend gRPC without a copy (grpc::Slice with a destroy
// callback, as SubscribeStreams sends shared encoded changes): the callback
// runs on whichever gRPC thread drops the last reference, ordered after the
// slice's creation only by libgrpc's atomic reference count.
#include <dlfcn.h>
#include <grpc/grpc.h>
#include <grpc/slice.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/status/status.h"

struct grpc_cq_completion;

// Declared by gRPC's internal headers (src/core/lib/surface/
// completion_queue.h), which Debian does not ship; the signatures match
// the symbols in libgrpc.so.
bool grpc_cq_begin_op(grpc_completion_queue* cq, void* tag);
void grpc_cq_end_op(grpc_completion_queue* cq, void* tag, absl::Status error,
                    void (*done)(void* done_arg, grpc_cq_completion* storage),
                    void* done_arg, grpc_cq_completion* storage, bool internal);

namespace {

template <typename Fn>
Fn Real(Fn, const char* name) {
  void* fn = dlsym(RTLD_NEXT, name);
  if (fn == nullptr) {
    std::fprintf(stderr, "grpc_tsan: %s not found after this library: %s\n",
                 name, dlerror());
    std::abort();
  }
  return reinterpret_cast<Fn>(fn);
}

void Took(const grpc_event& event) {
  if (event.type == GRPC_OP_COMPLETE) __tsan_acquire(event.tag);
}

// A lent slice's own destroy callback and argument.
struct Lent {
  void (*destroy)(void*);
  void* user_data;
};

void DestroyLent(void* p) {
  auto* lent = static_cast<Lent*>(p);
  __tsan_acquire(lent);
  lent->destroy(lent->user_data);
  delete lent;
}

}  // namespace

bool grpc_cq_begin_op(grpc_completion_queue* cq, void* tag) {
  static auto real = Real(&grpc_cq_begin_op, "_Z16grpc_cq_begin_opP21grpc_completion_queuePv");
  __tsan_release(tag);
  return real(cq, tag);
}

void grpc_cq_end_op(grpc_completion_queue* cq, void* tag, absl::Status error,
                    void (*done)(void* done_arg, grpc_cq_completion* storage),
                    void* done_arg, grpc_cq_completion* storage, bool internal) {
  // The mangled name spells absl's inline namespace; Debian's is debian3.
  static auto real = Real(
      &grpc_cq_end_op,
      "_Z14grpc_cq_end_opP21grpc_completion_queuePvN4absl7debian36StatusEPFvS1_"
      "P18grpc_cq_completionES1_S6_b");
  __tsan_acquire(tag);
  __tsan_release(tag);
  real(cq, tag, std::move(error), done, done_arg, storage, internal);
}

extern "C" grpc_event grpc_completion_queue_next(grpc_completion_queue* cq,
                                                 gpr_timespec deadline, void* reserved) {
  static auto real = Real(&grpc_completion_queue_next, "grpc_completion_queue_next");
  const grpc_event event = real(cq, deadline, reserved);
  Took(event);
  return event;
}

extern "C" grpc_event grpc_completion_queue_pluck(grpc_completion_queue* cq, void* tag,
                                                  gpr_timespec deadline, void* reserved) {
  static auto real = Real(&grpc_completion_queue_pluck, "grpc_completion_queue_pluck");
  const grpc_event event = real(cq, tag, deadline, reserved);
  Took(event);
  return event;
}

extern "C" grpc_slice grpc_slice_new_with_user_data(void* p, size_t len,
                                                    void (*destroy)(void*),
                                                    void* user_data) {
  static auto real =
      Real(&grpc_slice_new_with_user_data, "grpc_slice_new_with_user_data");
  auto* lent = new Lent{destroy, user_data};
  __tsan_release(lent);
  return real(p, len, &DestroyLent, lent);
}
