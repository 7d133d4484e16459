// podium-admin: operator checks of a running cluster. Today one:
// checksum, convergence of the etcd members and the backends over them.
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "backend/etcd_client.h"
#include "common/channel.h"
#include "common/init.h"
#include "tools/admin/convergence.h"

ABSL_FLAG(std::string, etcd, "127.0.0.1:7121,127.0.0.1:7122,127.0.0.1:7123",
          "every etcd member's client endpoint, host:port,... (./scripts/run --replicated's "
          "by default)");
ABSL_FLAG(std::string, backends, "127.0.0.1:7100,127.0.0.1:7104",
          "the backends over that cluster, host:port,..., each asked on its own");
ABSL_FLAG(std::string, etcd_prefix, "/podium/", "the backends' --etcd_prefix");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(2),
          "how long each member and backend has to answer; one that does not "
          "counts as disagreeing");
ABSL_FLAG(bool, json, false, "one JSON object per member, backend and verdict, a line each");

namespace {

constexpr char kUsage[] =
    "podium-admin [--etcd=H:P,...] [--backends=H:P,...] [--json] checksum\n\n"
    "checksum: for one revision (the newest board the backends serve), each etcd\n"
    "member's HashKV and its copy of the values, and each backend's digest of\n"
    "the board it serves; says 'agree' (exit 0) when all hashes match and every\n"
    "backend serves what every member holds, else DISAGREE and why (exit 1).\n"
    "A member cut off from the others, or behind them, cannot answer for that\n"
    "revision and disagrees until it has caught up.";

}  // namespace

int main(int argc, char** argv) {
  podium::CommandLine command_line = podium::InitProcess(argc, argv, kUsage);
  if (command_line.exit_code) return *command_line.exit_code;
  if (command_line.args.size() != 1 || command_line.args[0] != "checksum") {
    std::cerr << "podium-admin: expected one command, checksum\n\n" << kUsage << std::endl;
    return 2;
  }
  absl::StatusOr<std::unique_ptr<podium::EtcdClient>> etcd =
      podium::EtcdClient::Connect(absl::GetFlag(FLAGS_etcd), absl::GetFlag(FLAGS_timeout));
  if (!etcd.ok()) {
    std::cerr << "podium-admin: " << etcd.status().message() << std::endl;
    return 2;
  }
  std::vector<std::unique_ptr<podium::v1::Backend::Stub>> stubs;
  std::vector<std::pair<std::string, podium::v1::Backend::StubInterface*>> backends;
  for (absl::string_view address :
       absl::StrSplit(absl::GetFlag(FLAGS_backends), ',', absl::SkipWhitespace())) {
    stubs.push_back(
        podium::v1::Backend::NewStub(podium::CreateFastReconnectChannel(std::string(address))));
    backends.emplace_back(std::string(address), stubs.back().get());
  }
  const podium::ConvergenceReport report = podium::CheckConvergence(
      backends, **etcd, absl::GetFlag(FLAGS_etcd_prefix), absl::GetFlag(FLAGS_timeout));
  std::cout << (absl::GetFlag(FLAGS_json) ? podium::ReportJson(report) : podium::ReportText(report))
            << std::flush;
  return report.agree ? 0 : 1;
}
