// Reads the scoreboard for programs: the CLI, tests, benchmarks. Today it
// reads one backend directly (diagnostics mode: nothing between the reader
// and the truth). The API speaks of scores and tallies, not of the server
// answering them, so that reading through caching frontends can slot in
// behind it without changing its callers.
//
// Errors keep the gRPC code, so callers can tell "no such event"
// (NOT_FOUND) from "server down" (UNAVAILABLE, retry later), and their
// message starts with the address asked, so an operator knows which
// process to look at: "127.0.0.1:7100: failed to connect to all addresses".
#ifndef PODIUM_CLIENT_SCOREBOARD_CLIENT_H_
#define PODIUM_CLIENT_SCOREBOARD_CLIENT_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "podium/v1/backend.grpc.pb.h"
#include "podium/v1/types.pb.h"

namespace podium {

struct ScoreboardClientOptions {
  // Deadline of each read. A read of a dead or hung server fails with
  // UNAVAILABLE or DEADLINE_EXCEEDED within it instead of blocking.
  absl::Duration timeout = absl::Seconds(2);
  // Longest pause between reconnection attempts after the server went
  // away. gRPC's own default (two minutes) would leave a client that polls
  // a restarting server failing long after the server is back. See
  // common/channel.h.
  absl::Duration max_reconnect_backoff = absl::Seconds(1);
};

// Thread-safe: gRPC stubs are, and nothing else changes after
// construction. Many threads may read through one client.
//
// Each client runs one thread that watches its connection. gRPC advances a
// connection attempt only while some thread polls the channel, and reads of
// a down server fail at once without polling; unwatched, a client polling a
// restarting server would notice it back only at gRPC's 5 s backup poll.
class ScoreboardClient {
 public:
  // A client reading the backend at `address` ("host:port"). Does not
  // contact it: connecting is lazy, so a client may be created before its
  // server starts, and the first read reports an unreachable server.
  // INVALID_ARGUMENT for an empty address or unusable options.
  static absl::StatusOr<std::unique_ptr<ScoreboardClient>> ConnectToBackend(
      const std::string& address, ScoreboardClientOptions options = {});

  ScoreboardClient(const ScoreboardClient&) = delete;
  ScoreboardClient& operator=(const ScoreboardClient&) = delete;
  // Waits (briefly) for the connection watcher to stop. Reads still in
  // progress on other threads must have returned.
  ~ScoreboardClient();

  // NOT_FOUND naming the event when it is not part of the games.
  absl::StatusOr<v1::EventScore> GetScore(const std::string& event);
  // NOT_FOUND naming the team when it is not part of the games.
  absl::StatusOr<v1::MedalTally> GetMedals(const std::string& team);
  // Every team's tally, in the games file's order, as of one moment.
  absl::StatusOr<std::vector<v1::MedalTally>> GetAllMedals();
  // Every event and every tally, consistent as of Board.seq.
  absl::StatusOr<v1::Board> GetBoard();

  // OK when the server this client reads from reports SERVING on the
  // standard grpc.health.v1 service; otherwise why not, naming it.
  absl::Status CheckHealth();

  // The server this client reads from, as given to ConnectToBackend.
  const std::string& address() const { return address_; }

 private:
  ScoreboardClient(std::string address, ScoreboardClientOptions options,
                   std::shared_ptr<grpc::Channel> channel);

  // The watcher thread: polls the channel until the destructor says stop,
  // logging connectivity changes at verbosity 1.
  void WatchConnectivity();

  // A context whose deadline is `timeout` from now.
  void PrepareContext(grpc::ClientContext* context) const;
  // `status` with the address asked put in front of its message.
  absl::Status AttributeError(const grpc::Status& status) const;

  const std::string address_;
  const ScoreboardClientOptions options_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::Backend::Stub> backend_;
  absl::Notification stopping_;
  std::thread watcher_;
};

}  // namespace podium

#endif  // PODIUM_CLIENT_SCOREBOARD_CLIENT_H_
