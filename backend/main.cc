// podium-backend: the durable database of the scoreboard.
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "backend/backend_service.h"
#include "backend/etcd_client.h"
#include "backend/etcd_store.h"
#include "backend/games.h"
#include "backend/sqlite_store.h"
#include "common/auth.h"
#include "common/init.h"
#include "common/server.h"
#include "glog/logging.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7100",
          "address to serve on, host:port (port 0 picks a free one)");
ABSL_FLAG(std::string, store, "sqlite",
          "where the truth lives: sqlite (one file, one machine: --db) or etcd (a "
          "replicated etcd v3 cluster shared by any number of backends: --etcd)");
ABSL_FLAG(std::string, db, "var/podium.db",
          "--store=sqlite: the database file; created if missing. Its directory must exist");
ABSL_FLAG(std::string, etcd, "",
          "--store=etcd: the cluster's client endpoints, host:port,host:port,... (every "
          "member, so that the backend moves on when one fails)");
ABSL_FLAG(std::string, etcd_prefix, "/podium/",
          "--store=etcd: the key prefix of this games day in etcd");
ABSL_FLAG(absl::Duration, idempotency_ttl, absl::Hours(24),
          "--store=etcd: how long an idempotency key is remembered (sqlite counts "
          "writes instead: --idempotency_retention)");
ABSL_FLAG(std::string, write_token_file, "",
          "file whose first line is the bearer token writes must carry "
          "(required)");
ABSL_FLAG(std::string, cluster_token_file, "",
          "file whose first line is the frontends' cluster token: with it, "
          "frontends may post fans' messages to fan boards (PostToFanBoard); "
          "empty: only the write token may post");
ABSL_FLAG(std::string, games, "",
          "games file naming the events and teams (see docs/games.md); "
          "empty uses the built-in Gauls-vs-Romans games day");
ABSL_FLAG(int64_t, change_retention, 100000,
          "changes kept for ChangesSince/Watch (etcd: revisions of history); older "
          "ones are compacted");
ABSL_FLAG(int64_t, idempotency_retention, 1000000,
          "--store=sqlite: idempotency keys remembered, counted in writes");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(2),
          "how long in-flight calls may finish after SIGTERM");

namespace {

int Fail(const absl::Status& status) {
  LOG(ERROR) << status;
  return 1;
}

absl::StatusOr<std::unique_ptr<podium::Store>> OpenStore(const std::string& kind,
                                                         podium::Games games) {
  if (kind == "sqlite") {
    podium::SqliteStoreOptions options;
    options.change_retention = absl::GetFlag(FLAGS_change_retention);
    options.idempotency_retention = absl::GetFlag(FLAGS_idempotency_retention);
    absl::StatusOr<std::unique_ptr<podium::SqliteStore>> store =
        podium::SqliteStore::Open(absl::GetFlag(FLAGS_db), std::move(games), options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<podium::Store>(*std::move(store));
  }
  if (kind == "etcd") {
    absl::StatusOr<std::unique_ptr<podium::EtcdClient>> etcd =
        podium::EtcdClient::Connect(absl::GetFlag(FLAGS_etcd));
    if (!etcd.ok()) return etcd.status();
    podium::EtcdStoreOptions options;
    options.prefix = absl::GetFlag(FLAGS_etcd_prefix);
    options.change_retention = absl::GetFlag(FLAGS_change_retention);
    options.idempotency_ttl = absl::GetFlag(FLAGS_idempotency_ttl);
    absl::StatusOr<std::unique_ptr<podium::EtcdStore>> store =
        podium::EtcdStore::Open(*std::move(etcd), std::move(games), options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<podium::Store>(*std::move(store));
  }
  return absl::InvalidArgumentError(absl::StrCat("--store=", kind, " is neither sqlite nor etcd"));
}

}  // namespace

int main(int argc, char** argv) {
  podium::BlockTerminationSignals();
  podium::CommandLine command_line = podium::InitProcess(
      argc, argv,
      "podium-backend --listen=ADDR --write_token_file=FILE [--games=FILE]\n"
      "               [--store=sqlite --db=PATH | --store=etcd --etcd=HOST:PORT,...]\n\n"
      "Serves the scoreboard's durable store over gRPC (service podium.v1.Backend):\n"
      "one SQLite file, or an etcd cluster that any number of backends share.");
  if (command_line.exit_code) return *command_line.exit_code;
  std::vector<std::string> args = std::move(command_line.args);
  if (!args.empty()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", args[0], "'; see --help")));
  }
  if (absl::GetFlag(FLAGS_change_retention) < 1 || absl::GetFlag(FLAGS_idempotency_retention) < 1) {
    return Fail(absl::InvalidArgumentError(
        "--change_retention and --idempotency_retention must be at least 1"));
  }
  absl::StatusOr<std::string> token = podium::ReadTokenFile(absl::GetFlag(FLAGS_write_token_file));
  if (!token.ok()) return Fail(token.status());

  const std::string games_path = absl::GetFlag(FLAGS_games);
  absl::StatusOr<podium::Games> games =
      games_path.empty() ? podium::Games::Default() : podium::Games::LoadFile(games_path);
  if (!games.ok()) return Fail(games.status());
  LOG(INFO) << "games: " << games->events().size() << " events, " << games->teams().size()
            << " teams" << (games_path.empty() ? " (built-in)" : " from " + games_path);

  absl::StatusOr<std::unique_ptr<podium::Store>> store =
      OpenStore(absl::GetFlag(FLAGS_store), *std::move(games));
  if (!store.ok()) return Fail(store.status());

  std::string cluster_token;
  if (const std::string path = absl::GetFlag(FLAGS_cluster_token_file); !path.empty()) {
    absl::StatusOr<std::string> read = podium::ReadTokenFile(path, "--cluster_token_file");
    if (!read.ok()) return Fail(read.status());
    cluster_token = *std::move(read);
  }
  podium::BackendService service(store->get(), *token, cluster_token);
  int port = 0;
  absl::StatusOr<std::unique_ptr<grpc::Server>> server =
      podium::StartServer(absl::GetFlag(FLAGS_listen), {&service}, &port);
  if (!server.ok()) return Fail(server.status());
  LOG(INFO) << "podium-backend serving on " << absl::GetFlag(FLAGS_listen) << " (port " << port
            << "), "
            << (absl::GetFlag(FLAGS_store) == "etcd"
                    ? "etcd " + absl::GetFlag(FLAGS_etcd) + " under " +
                          absl::GetFlag(FLAGS_etcd_prefix)
                    : "database " + absl::GetFlag(FLAGS_db));

  int signal_number = podium::WaitForTerminationSignal();
  LOG(INFO) << "signal " << signal_number << ": shutting down";
  podium::ShutdownServer(server->get(), absl::GetFlag(FLAGS_shutdown_grace));
  server->reset();
  store->reset();
  LOG(INFO) << "podium-backend stopped cleanly";
  return 0;
}
