// podium-backend: the durable database of the scoreboard.
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "backend/backend_service.h"
#include "backend/games.h"
#include "backend/sqlite_store.h"
#include "common/auth.h"
#include "common/init.h"
#include "common/server.h"
#include "glog/logging.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7100",
          "address to serve on, host:port (port 0 picks a free one)");
ABSL_FLAG(std::string, db, "var/podium.db",
          "SQLite database file; created if missing. Its directory must exist");
ABSL_FLAG(std::string, write_token_file, "",
          "file whose first line is the bearer token writes must carry "
          "(required)");
ABSL_FLAG(std::string, games, "",
          "games file naming the events and teams (see docs/games.md); "
          "empty uses the built-in Gauls-vs-Romans games day");
ABSL_FLAG(int64_t, change_retention, 100000,
          "changes kept for ChangesSince/Watch; older ones are compacted");
ABSL_FLAG(int64_t, idempotency_retention, 1000000,
          "idempotency keys remembered, counted in writes");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(2),
          "how long in-flight calls may finish after SIGTERM");

namespace {

int Fail(const absl::Status& status) {
  LOG(ERROR) << status;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  podium::BlockTerminationSignals();
  podium::CommandLine command_line = podium::InitProcess(
      argc, argv,
      "podium-backend --listen=ADDR --db=PATH --write_token_file=FILE "
      "[--games=FILE]\n\nServes the scoreboard's durable store over gRPC "
      "(service podium.v1.Backend).");
  if (command_line.exit_code) return *command_line.exit_code;
  std::vector<std::string> args = std::move(command_line.args);
  if (!args.empty()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", args[0], "'; see --help")));
  }
  if (absl::GetFlag(FLAGS_change_retention) < 1 ||
      absl::GetFlag(FLAGS_idempotency_retention) < 1) {
    return Fail(absl::InvalidArgumentError(
        "--change_retention and --idempotency_retention must be at least 1"));
  }
  absl::StatusOr<std::string> token =
      podium::ReadTokenFile(absl::GetFlag(FLAGS_write_token_file));
  if (!token.ok()) return Fail(token.status());

  const std::string games_path = absl::GetFlag(FLAGS_games);
  absl::StatusOr<podium::Games> games =
      games_path.empty() ? podium::Games::Default()
                         : podium::Games::LoadFile(games_path);
  if (!games.ok()) return Fail(games.status());
  LOG(INFO) << "games: " << games->events().size() << " events, "
            << games->teams().size() << " teams"
            << (games_path.empty() ? " (built-in)" : " from " + games_path);

  podium::SqliteStoreOptions options;
  options.change_retention = absl::GetFlag(FLAGS_change_retention);
  options.idempotency_retention = absl::GetFlag(FLAGS_idempotency_retention);
  absl::StatusOr<std::unique_ptr<podium::SqliteStore>> store =
      podium::SqliteStore::Open(absl::GetFlag(FLAGS_db), *std::move(games),
                                options);
  if (!store.ok()) return Fail(store.status());

  podium::BackendService service(store->get(), *token);
  int port = 0;
  absl::StatusOr<std::unique_ptr<grpc::Server>> server =
      podium::StartServer(absl::GetFlag(FLAGS_listen), {&service}, &port);
  if (!server.ok()) return Fail(server.status());
  LOG(INFO) << "podium-backend serving on " << absl::GetFlag(FLAGS_listen)
            << " (port " << port << "), database " << absl::GetFlag(FLAGS_db);

  int signal_number = podium::WaitForTerminationSignal();
  LOG(INFO) << "signal " << signal_number << ": shutting down";
  podium::ShutdownServer(server->get(), absl::GetFlag(FLAGS_shutdown_grace));
  server->reset();
  store->reset();
  LOG(INFO) << "podium-backend stopped cleanly";
  return 0;
}
