// podium-frontend: a caching frontend of the scoreboard.
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth.h"
#include "common/init.h"
#include "common/server.h"
#include "frontend/frontend.h"
#include "frontend/http_server.h"
#include "frontend/peer_service.h"
#include "frontend/scoreboard_service.h"
#include "frontend/subscribe_streams.h"
#include "frontend/web_api.h"
#include "glog/logging.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7101",
          "the public address clients read and subscribe at, host:port");
ABSL_FLAG(std::string, peer_listen, "",
          "the peer-plane address other frontends reach this one at (election "
          "and push, podium.v1.FrontendPeer), host:port; must appear in --peers "
          "as written; never the same as --listen");
ABSL_FLAG(std::string, cluster_token_file, "",
          "file whose first line is the cluster token: every peer call carries "
          "it and a call without it is refused; the same file for every "
          "frontend of the cluster");
ABSL_FLAG(std::string, backend, "127.0.0.1:7100",
          "the backend's address, host:port; or several backends over one etcd "
          "cluster, host:port,host:port,... (the first that answers is used, the next "
          "when it fails)");
ABSL_FLAG(std::vector<std::string>, peers, {},
          "every frontend's --peer_listen address, this one's included, "
          "comma-separated");
ABSL_FLAG(std::string, cache, "push",
          "push: the elected master pushes each change to the frontends that "
          "need it; pull: poll the backend every --poll_interval; off: no "
          "cache, every read goes to the backend (to measure what caching "
          "saves)");
ABSL_FLAG(absl::Duration, poll_interval, absl::Milliseconds(100),
          "pull mode: how often to read the backend's change log");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Milliseconds(100),
          "how often to ping every peer");
ABSL_FLAG(absl::Duration, failure_timeout, absl::Milliseconds(500),
          "a peer silent this long is dead (a dead master is replaced within "
          "about this plus one heartbeat)");
ABSL_FLAG(int, stream_threads, podium::SubscribeStreams::DefaultQueues(),
          "threads that write to Subscribe streams, each with its own gRPC "
          "completion queue; a change fans out on all of them at once "
          "(default: one per core)");
ABSL_FLAG(absl::Duration, names_max_age, absl::Seconds(10),
          "how often the games' names are read again from the backend, so "
          "that a backend restarted with a grown games file is noticed and "
          "cached values refreshed");
ABSL_FLAG(int, recent_changes, static_cast<int>(podium::RecentChanges::kDefaultCapacity),
          "changes kept in memory so that subscriptions resuming from a "
          "recent seq (after a change of master, or a dead frontend's clients "
          "arriving here) replay from memory instead of the backend; each "
          "takes a few hundred bytes");
ABSL_FLAG(std::string, http_listen, "",
          "where browsers reach this frontend over HTTP, host:port (the page, "
          "/api/board, /api/events/NAME, /api/medals, /api/stream as "
          "Server-Sent Events, /healthz, /metrics); empty: no HTTP");
ABSL_FLAG(std::string, web_root, PODIUM_WEB_ROOT,
          "the folder of the page's files (index.html, app.js, style.css), read "
          "once at start");
ABSL_FLAG(int, http_threads, 1,
          "threads running the HTTP event loop (every connection shares them)");
ABSL_FLAG(absl::Duration, http_request_timeout, absl::Seconds(10),
          "an HTTP request must arrive whole within this of its first byte "
          "(else 408, against slowloris), and a keep-alive connection idle "
          "this long is closed");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(1),
          "how long in-flight calls may finish after SIGTERM");

namespace {

int Fail(const std::string& message) {
  LOG(ERROR) << message;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  podium::BlockTerminationSignals();
  podium::CommandLine command_line = podium::InitProcess(
      argc, argv,
      "podium-frontend --listen=ADDR --peer_listen=ADDR --peers=A,B,C "
      "--cluster_token_file=FILE --backend=ADDR --cache=push|pull|off\n\nServes the "
      "scoreboard (podium.v1.Scoreboard) on --listen from an in-memory cache kept "
      "fresh by push or pull, and elects a master with its peers "
      "(podium.v1.FrontendPeer) on --peer_listen, where only holders of the "
      "cluster token are heard.");
  if (command_line.exit_code) return *command_line.exit_code;
  std::vector<std::string> args = std::move(command_line.args);
  if (!args.empty()) return Fail("unexpected argument '" + args[0] + "'; see --help");

  podium::FrontendOptions options;
  options.public_address = absl::GetFlag(FLAGS_listen);
  options.address = absl::GetFlag(FLAGS_peer_listen);
  if (options.address.empty()) {
    return Fail(
        "give --peer_listen=HOST:PORT, the address other frontends reach this "
        "one at; it is not the public --listen");
  }
  if (options.address == options.public_address) {
    return Fail(
        "--peer_listen must differ from --listen: the peer plane is not "
        "served where the public connects");
  }
  absl::StatusOr<std::string> cluster_token =
      podium::ReadTokenFile(absl::GetFlag(FLAGS_cluster_token_file), "--cluster_token_file");
  if (!cluster_token.ok()) return Fail(std::string(cluster_token.status().message()));
  options.membership.cluster_token = *cluster_token;
  options.pid = getpid();
  options.backend = absl::GetFlag(FLAGS_backend);
  options.peers = absl::GetFlag(FLAGS_peers);
  const std::string cache = absl::GetFlag(FLAGS_cache);
  if (cache == "push") {
    options.mode = podium::v1::PUSH;
  } else if (cache == "pull") {
    options.mode = podium::v1::PULL;
  } else if (cache == "off") {
    options.mode = podium::v1::OFF;
  } else {
    return Fail("--cache must be push, pull or off, not '" + cache + "'");
  }
  options.poll_interval = absl::GetFlag(FLAGS_poll_interval);
  options.membership.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  options.membership.failure_timeout = absl::GetFlag(FLAGS_failure_timeout);
  options.names.max_age = absl::GetFlag(FLAGS_names_max_age);
  if (absl::GetFlag(FLAGS_recent_changes) < 1) {
    return Fail("--recent_changes must be at least 1");
  }
  options.recent_changes = static_cast<size_t>(absl::GetFlag(FLAGS_recent_changes));
  if (options.names.max_age <= absl::ZeroDuration()) {
    return Fail("--names_max_age must be positive");
  }
  if (options.poll_interval <= absl::ZeroDuration() ||
      options.membership.heartbeat_interval <= absl::ZeroDuration() ||
      options.membership.failure_timeout <= options.membership.heartbeat_interval) {
    return Fail(
        "--poll_interval and --heartbeat_interval must be positive, and "
        "--failure_timeout longer than --heartbeat_interval");
  }
  if (absl::GetFlag(FLAGS_http_threads) < 1) return Fail("--http_threads must be at least 1");
  if (absl::GetFlag(FLAGS_http_request_timeout) <= absl::ZeroDuration()) {
    return Fail("--http_request_timeout must be positive");
  }
  if (absl::GetFlag(FLAGS_stream_threads) < 1) {
    return Fail("--stream_threads must be at least 1");
  }
  if (options.peers.empty()) options.peers = {options.address};
  if (std::find(options.peers.begin(), options.peers.end(), options.address) ==
      options.peers.end()) {
    return Fail("--peers must list this frontend's --peer_listen address (" + options.address +
                ") as the others will reach it");
  }

  podium::Frontend frontend(options);
  podium::ScoreboardService scoreboard(&frontend);
  podium::PeerService peer(&frontend, options.membership.cluster_token);
  podium::SubscribeStreams streams(&frontend, &scoreboard, absl::GetFlag(FLAGS_stream_threads));
  // Two servers: the peer plane never shares the public port, so nothing a
  // stranger reaches there speaks for the cluster.
  // Under TLS the peer plane is mutual TLS: callers show a certificate too.
  absl::StatusOr<std::unique_ptr<grpc::Server>> peer_server = podium::StartServer(
      options.address, {&peer}, nullptr, nullptr, /*require_client_certificate=*/true);
  if (!peer_server.ok()) return Fail(std::string(peer_server.status().message()));
  int port = 0;
  absl::StatusOr<std::unique_ptr<grpc::Server>> server =
      podium::StartServer(options.public_address, {&scoreboard}, &port,
                          [&streams](grpc::ServerBuilder* builder) { streams.AddTo(builder); });
  if (!server.ok()) return Fail(std::string(server.status().message()));
  streams.Start();
  // Live changes fan out on the stream threads, each to its own streams,
  // and on the HTTP event loop to the browsers' (shard queues()).
  std::unique_ptr<podium::HttpServer> http;
  frontend.SetFanOutRunner([&streams, &http](int shard, std::function<void()> task) {
    if (shard < streams.queues()) return streams.Run(shard, std::move(task));
    // Only streams of the HTTP plane have this shard, so it exists.
    http->RunFanOut(std::move(task));
  });
  frontend.Start();
  // The HTTP plane, after the gRPC one: both serve the same Frontend.
  podium::WebApiOptions web_options;
  web_options.web_root = absl::GetFlag(FLAGS_web_root);
  web_options.grpc_subscribers = [&streams] { return streams.live(); };
  web_options.grpc_delivered = [&streams] { return streams.delivered(); };
  web_options.grpc_conflated = [&streams] { return streams.conflated(); };
  podium::WebApi web(&frontend, web_options);
  if (const std::string http_listen = absl::GetFlag(FLAGS_http_listen); !http_listen.empty()) {
    if (absl::Status loaded = web.Load(); !loaded.ok()) {
      LOG(WARNING) << loaded.message() << "; serving the API without the page";
    }
    podium::HttpServerOptions http_options;
    http_options.listen = http_listen;
    http_options.threads = absl::GetFlag(FLAGS_http_threads);
    http_options.request_timeout = absl::GetFlag(FLAGS_http_request_timeout);
    http_options.fanout_shard = streams.queues();
    http = std::make_unique<podium::HttpServer>(&frontend, &web, http_options);
    if (absl::Status started = http->Start(); !started.ok()) {
      frontend.Stop();
      return Fail(std::string(started.message()));
    }
    LOG(INFO) << "serving HTTP on " << http_listen << " (page from " << web_options.web_root << ")";
  }
  LOG(INFO) << "podium-frontend pid " << options.pid << " serving on " << options.public_address
            << " (peers on " << options.address << "), cache " << cache << ", backend "
            << options.backend << ", " << options.peers.size() << " frontends";

  int signal_number = podium::WaitForTerminationSignal();
  LOG(INFO) << "signal " << signal_number << ": shutting down";
  // Streams end before the Frontend stops; /healthz says 503 from here on.
  if (http != nullptr) http->Stop();
  frontend.Stop();
  podium::ShutdownServer(server->get(), absl::GetFlag(FLAGS_shutdown_grace));
  podium::ShutdownServer(peer_server->get(), absl::ZeroDuration());
  streams.Stop();
  LOG(INFO) << "podium-frontend stopped cleanly";
  return 0;
}
