#include "common/init.h"

#include <openssl/crypto.h>
#include <stdlib.h>

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "common/flag_parser.h"
#include "common/tls.h"
#include "glog/logging.h"

ABSL_FLAG(int, verbose, 0,
          "glog verbosity: 1 logs every message sent or received");

namespace podium {

CommandLine InitProcess(int argc, char** argv, const char* usage) {
  // gRPC never joins its executor threads, which may still be finishing a
  // TLS handshake or creating a subchannel when main returns. OpenSSL's own
  // atexit cleanup would free the locks and per-thread state they use: a
  // crash at exit (seen under TSan in the bard) or state made after the
  // cleanup that nothing owns (LeakSanitizer). OpenSSL's memory goes with
  // the process instead. Must come before gRPC first uses OpenSSL.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
  // gRPC advances a reconnection only while some thread polls; with only
  // fail-fast calls in flight, its backup poller (every 5 s by default) is
  // what does. Must be set before gRPC initializes; an operator's setting
  // wins.
  setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", /*overwrite=*/0);
  // Debian builds Abseil without NDEBUG, which leaves Mutex deadlock
  // detection on: a lock-order graph updated on every nested lock. It cost
  // a tenth of a frontend's CPU in fan-out. Tests keep it (they do not run
  // through here) and so still catch lock-order inversions.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(usage);
  // --help lists Podium's own flags (those of every linked Podium library,
  // e.g. --verbose); --helpfull adds Abseil's.
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view path) {
    return !absl::StrContains(path, "absl/");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  absl::SetFlagsUsageConfig(config);
  CommandLine command_line;
  absl::StatusOr<ParsedFlags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::cerr << argv[0] << ": " << flags.status().message() << "\n";
    command_line.exit_code = 2;
    return command_line;
  }
  if (flags->usage_requested) {
    absl::flags_internal::HandleUsageFlags(std::cout, usage);
    command_line.exit_code = 0;
    return command_line;
  }
  if (absl::Status tls = ConfigureTlsFromFlags(); !tls.ok()) {
    std::cerr << argv[0] << ": " << tls.message() << "\n";
    command_line.exit_code = 1;
    return command_line;
  }
  FLAGS_logtostderr = true;
  FLAGS_v = absl::GetFlag(FLAGS_verbose);
  google::InitGoogleLogging(argv[0]);
  command_line.args = std::move(flags->positional);
  return command_line;
}

}  // namespace podium
