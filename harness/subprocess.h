// Child processes for multi-process tests: real binaries, their output in a
// log file, and always reaped, also when a test fails midway.
#ifndef PODIUM_HARNESS_SUBPROCESS_H_
#define PODIUM_HARNESS_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace podium::harness {

// Not thread-safe.
class Subprocess {
 public:
  // Starts argv[0] with the rest as arguments; stdout and stderr go to
  // `log_path` (appended, so restarts keep one log), or stderr to
  // `stderr_path` when given, so that a program's output can be parsed
  // apart from its logging.
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const std::string& log_path,
                                          const std::string& stderr_path = "");
  // No process: running() is false.
  Subprocess() = default;
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  // SIGKILLs and reaps the child if it is still running.
  ~Subprocess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // Sends `signal` and reaps; returns the wait status.
  int Kill(int signal);
  // Waits up to `timeout` for the child to exit; DEADLINE_EXCEEDED if it
  // did not (it is left running). Returns the wait status.
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that nothing listens on and that no other test
// process gets from this function while this one lives. It lies below the
// kernel's ephemeral range (ip_local_port_range), because a port the kernel
// picked and this process released can be taken by any outgoing connect()
// on the machine before the server binds it; the reservation between test
// processes is an flock on TestPortFolder()/PORT.lock, which the shell and
// Python harnesses take the same way.
int PickFreePort();

// The folder of port reservations: $TMPDIR/podium-test-ports.
std::string TestPortFolder();

// The text of a file, or "" when it cannot be read (for failure messages).
std::string ReadFileOrEmpty(const std::string& path);

// This process's own binary (/proc/self/exe), for a program that starts
// copies of itself in another role; "" when it cannot be read.
std::string SelfPath();

}  // namespace podium::harness

#endif  // PODIUM_HARNESS_SUBPROCESS_H_
