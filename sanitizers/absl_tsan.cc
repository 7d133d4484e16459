// absl::Mutex, CondVar and Notification made visible to ThreadSanitizer;
// linked into every binary of a PODIUM_SANITIZE=thread build, and only
// there.
//
// Why: TSan knows that a lock orders two threads' accesses only if the
// lock's code tells it, and Debian's libabsl_synchronization is not built
// with TSan, so its Mutex says nothing. Without this file every field
// guarded by an absl::Mutex is reported as a race (cache_test alone gave 25
// reports). Each function below stands in for the library's one of the
// same name (the dynamic linker finds this library first, for our code and
// for libgrpc's, whose locks are absl::Mutex too), tells TSan what the call
// does to the lock, and calls the real function found with
// dlsym(RTLD_NEXT). absl compiled with TSan does the same inside
// mutex.cc.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

#define PODIUM_STRINGIFY2(x) #x
#define PODIUM_STRINGIFY(x) PODIUM_STRINGIFY2(x)

namespace {

// The real function: `rest` is its mangled name after the namespace, e.g.
// "5Mutex4LockEv"; the inline namespace (Debian's "debian3") is spliced in
// from absl's options so that an absl upgrade needs no edit here.
template <typename Fn>
Fn Real(const char* rest, bool is_const = false) {
  const char* ns = PODIUM_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name = std::string(is_const ? "_ZNK4absl" : "_ZN4absl") +
                           std::to_string(std::strlen(ns)) + ns + rest;
  void* fn = dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "absl_tsan: %s not found after this library: %s\n",
                 name.c_str(), dlerror());
    std::abort();
  }
  return reinterpret_cast<Fn>(fn);
}

// Inside one of the functions below: absl calls its own functions too
// (AwaitWithTimeout calls AwaitWithDeadline, through the dynamic linker and
// so through here); only the outermost call is the program's and is told.
thread_local int depth = 0;

struct Outermost {
  Outermost() : outermost(depth++ == 0) {}
  ~Outermost() { --depth; }
  const bool outermost;
};

// Mutexes this thread holds in reader mode: Await and CondVar::Wait give
// up and retake the lock in the mode it is held in, which TSan must be told.
thread_local std::vector<const void*> reader_held;

bool HeldAsReader(const void* mu) {
  return std::find(reader_held.begin(), reader_held.end(), mu) !=
         reader_held.end();
}
void ForgetReader(const void* mu) {
  auto it = std::find(reader_held.begin(), reader_held.end(), mu);
  if (it != reader_held.end()) reader_held.erase(it);
}

void Locked(void* mu, bool reader) {
  __tsan_mutex_post_lock(mu, reader ? __tsan_mutex_read_lock : 0, 0);
  if (reader) reader_held.push_back(mu);
}

// Around a call that releases `mu` while it waits and holds it again when
// it returns.
template <typename Call>
auto Waiting(void* mu, Call call) {
  Outermost scope;
  if (!scope.outermost) return call();
  const bool reader = HeldAsReader(mu);
  const unsigned flags = reader ? __tsan_mutex_read_lock : 0;
  __tsan_mutex_pre_unlock(mu, flags);
  __tsan_mutex_post_unlock(mu, flags);
  if (reader) ForgetReader(mu);
  __tsan_mutex_pre_lock(mu, flags);
  auto result = call();
  Locked(mu, reader);
  return result;
}

template <typename Call>
auto Acquiring(void* mu, bool reader, Call call) {
  Outermost scope;
  if (!scope.outermost) return call();
  __tsan_mutex_pre_lock(mu, reader ? __tsan_mutex_read_lock : 0);
  auto result = call();
  Locked(mu, reader);
  return result;
}

struct Nothing {};

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

using Cond = const Condition&;

void Mutex::Lock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex4LockEv");
  Acquiring(this, false, [&] { return real(this), Nothing{}; });
}

void Mutex::ReaderLock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  Acquiring(this, true, [&] { return real(this), Nothing{}; });
}

bool Mutex::TryLock() {
  static auto real = Real<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  Outermost scope;
  if (!scope.outermost) return real(this);
  __tsan_mutex_pre_lock(this, __tsan_mutex_try_lock);
  const bool locked = real(this);
  __tsan_mutex_post_lock(
      this, __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

bool Mutex::ReaderTryLock() {
  static auto real = Real<bool (*)(Mutex*)>("5Mutex13ReaderTryLockEv");
  Outermost scope;
  if (!scope.outermost) return real(this);
  const unsigned flags = __tsan_mutex_try_lock | __tsan_mutex_read_lock;
  __tsan_mutex_pre_lock(this, flags);
  const bool locked = real(this);
  __tsan_mutex_post_lock(this, flags | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  if (locked) reader_held.push_back(this);
  return locked;
}

void Mutex::Unlock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex6UnlockEv");
  Outermost scope;
  if (!scope.outermost) return real(this);
  __tsan_mutex_pre_unlock(this, 0);
  real(this);
  __tsan_mutex_post_unlock(this, 0);
}

void Mutex::ReaderUnlock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  Outermost scope;
  if (!scope.outermost) return real(this);
  ForgetReader(this);
  __tsan_mutex_pre_unlock(this, __tsan_mutex_read_lock);
  real(this);
  __tsan_mutex_post_unlock(this, __tsan_mutex_read_lock);
}

void Mutex::LockWhen(Cond cond) {
  static auto real = Real<void (*)(Mutex*, Cond)>("5Mutex8LockWhenERKNS0_9ConditionE");
  Acquiring(this, false, [&] { return real(this, cond), Nothing{}; });
}

void Mutex::ReaderLockWhen(Cond cond) {
  static auto real = Real<void (*)(Mutex*, Cond)>("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  Acquiring(this, true, [&] { return real(this, cond), Nothing{}; });
}

// The *WithTimeout/*WithDeadline forms hold the lock on return whatever
// they return (true: the condition holds).
bool Mutex::LockWhenWithTimeout(Cond cond, Duration timeout) {
  static auto real = Real<bool (*)(Mutex*, Cond, Duration)>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Acquiring(this, false, [&] { return real(this, cond, timeout); });
}

bool Mutex::ReaderLockWhenWithTimeout(Cond cond, Duration timeout) {
  static auto real = Real<bool (*)(Mutex*, Cond, Duration)>(
      "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Acquiring(this, true, [&] { return real(this, cond, timeout); });
}

bool Mutex::LockWhenWithDeadline(Cond cond, Time deadline) {
  static auto real = Real<bool (*)(Mutex*, Cond, Time)>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Acquiring(this, false, [&] { return real(this, cond, deadline); });
}

bool Mutex::ReaderLockWhenWithDeadline(Cond cond, Time deadline) {
  static auto real = Real<bool (*)(Mutex*, Cond, Time)>(
      "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Acquiring(this, true, [&] { return real(this, cond, deadline); });
}

void Mutex::Await(Cond cond) {
  static auto real = Real<void (*)(Mutex*, Cond)>("5Mutex5AwaitERKNS0_9ConditionE");
  Waiting(this, [&] { return real(this, cond), Nothing{}; });
}

bool Mutex::AwaitWithTimeout(Cond cond, Duration timeout) {
  static auto real = Real<bool (*)(Mutex*, Cond, Duration)>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Waiting(this, [&] { return real(this, cond, timeout); });
}

bool Mutex::AwaitWithDeadline(Cond cond, Time deadline) {
  static auto real = Real<bool (*)(Mutex*, Cond, Time)>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Waiting(this, [&] { return real(this, cond, deadline); });
}

void CondVar::Wait(Mutex* mu) {
  static auto real = Real<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE");
  Waiting(mu, [&] { return real(this, mu), Nothing{}; });
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static auto real = Real<bool (*)(CondVar*, Mutex*, Duration)>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return Waiting(mu, [&] { return real(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static auto real = Real<bool (*)(CondVar*, Mutex*, Time)>(
      "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return Waiting(mu, [&] { return real(this, mu, deadline); });
}

// HasBeenNotified() is inline, so in our (instrumented) code: an acquire
// load of the flag, which orders nothing unless the store Notify() makes in
// the library is announced as a release of the same address. The flag
// follows the Mutex (notification.h: `Mutex mutex_; std::atomic<bool>
// notified_yet_;`); the assertion stops the build if that layout changes.
static_assert(sizeof(Notification) == sizeof(Mutex) + alignof(Mutex),
              "absl::Notification is no longer {Mutex, atomic<bool>}");
void Notification::Notify() {
  static auto real = Real<void (*)(Notification*)>("12Notification6NotifyEv");
  __tsan_release(reinterpret_cast<char*>(this) + sizeof(Mutex));
  real(this);
}

ABSL_NAMESPACE_END
}  // namespace absl
