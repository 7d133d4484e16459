// Reads and subscribes to the scoreboard for programs: the CLI, tests,
// benchmarks. Two ways to connect:
//
//   * ConnectToFrontends (the normal way): reads go to the client's current
//     frontend through podium.v1.Scoreboard and are served from its cache;
//     subscriptions stream live updates from it. The client is placed on
//     the least-loaded live frontend (its home), fails over to another when
//     its frontend dies and returns home when that one revives; see
//     client/frontend_picker.h and client/subscriber.h.
//   * ConnectToBackend (diagnostics): reads go straight to the backend,
//     with nothing between the reader and the truth; no subscriptions.
//
// The API speaks of scores and tallies, not of the server answering them.
// Errors keep the gRPC code, so callers can tell "no such event"
// (NOT_FOUND) from "server down" (UNAVAILABLE, retry later), and their
// message starts with the address asked, so an operator knows which
// process to look at: "127.0.0.1:7100: failed to connect to all addresses".
#ifndef PODIUM_CLIENT_SCOREBOARD_CLIENT_H_
#define PODIUM_CLIENT_SCOREBOARD_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/client_options.h"
#include "client/connection_watcher.h"
#include "client/delivery_pool.h"
#include "client/frontend_picker.h"
#include "client/subscriber.h"
#include "podium/v1/backend.grpc.pb.h"
#include "podium/v1/scoreboard.grpc.pb.h"
#include "podium/v1/types.pb.h"

namespace podium {

// Thread-safe: many threads may read through one client.
class ScoreboardClient {
 public:
  // A client reading the backend at `address` ("host:port"). Does not
  // contact it: connecting is lazy, so a client may be created before its
  // server starts, and the first read reports an unreachable server.
  // INVALID_ARGUMENT for an empty address or unusable options.
  static absl::StatusOr<std::unique_ptr<ScoreboardClient>> ConnectToBackend(
      const std::string& address, ScoreboardClientOptions options = {});

  // A client of the frontend tier. `seeds` only need to include one
  // reachable frontend: the client asks the seeds, in order, for the
  // membership and settles on the least-loaded live frontend. INVALID_ARGUMENT
  // for no seeds or unusable options; UNAVAILABLE naming each seed's
  // failure when none answers.
  static absl::StatusOr<std::unique_ptr<ScoreboardClient>> ConnectToFrontends(
      std::vector<std::string> seeds, ScoreboardClientOptions options = {});

  ScoreboardClient(const ScoreboardClient&) = delete;
  ScoreboardClient& operator=(const ScoreboardClient&) = delete;
  // Reads still in progress on other threads must have returned.
  // Subscriptions may outlive the client.
  ~ScoreboardClient();

  // Reads. Through frontends, a read that finds the current frontend
  // UNAVAILABLE or past its deadline fails over to another live frontend
  // and is retried there once; other errors are returned as they are.
  //
  // NOT_FOUND naming the event when it is not part of the games.
  absl::StatusOr<v1::EventScore> GetScore(const std::string& event);
  // NOT_FOUND naming the team when it is not part of the games.
  absl::StatusOr<v1::MedalTally> GetMedals(const std::string& team);
  // The medal table, ranked (common/standings.h), as of Standings.seq.
  absl::StatusOr<v1::Standings> GetStandings();
  // Every event and every tally, consistent as of Board.seq.
  absl::StatusOr<v1::Board> GetBoard();

  // Every retained change of the event or team `name` ("event:NAME" or
  // "team:NAME" for a name that is both), oldest first, read a page at a
  // time from the backend's change log (through a frontend, or directly);
  // see v1::History for where the log was compacted. NOT_FOUND for a name
  // outside the games; ABORTED when the log was compacted past the pages
  // already read (run it again).
  absl::StatusOr<v1::History> GetHistory(const std::string& name);

  // The frontend tier's membership (address, pid, master, cache mode,
  // clients, alive) as reported by the first frontend that answers.
  // FAILED_PRECONDITION for a client of the backend.
  absl::StatusOr<v1::ListFrontendsReply> ListFrontends();

  // Live updates of `keys` to `callback` until the returned handle is
  // cancelled or destroyed; see client/subscriber.h. FAILED_PRECONDITION
  // for a client of the backend, INVALID_ARGUMENT for no or malformed keys.
  absl::StatusOr<std::unique_ptr<Subscriber>> Subscribe(
      const SubscriptionKeys& keys, UpdateCallback callback);

  // OK when the server this client reads from now reports SERVING on the
  // standard grpc.health.v1 service; otherwise why not, naming it.
  absl::Status CheckHealth();

  // The server this client reads from now: the backend, or the current
  // frontend.
  std::string address() const;
  // The frontend the client was placed on ("" for a client of the backend).
  std::string home() const;

 private:
  ScoreboardClient(std::string backend, ScoreboardClientOptions options,
                   std::shared_ptr<FrontendPicker> picker);

  // One read through the frontends with failover; `call` makes the call on
  // the stub it is given.
  template <typename Reply, typename Call>
  absl::StatusOr<Reply> ReadThroughFrontends(const Call& call);

  // One page of a history.
  absl::StatusOr<v1::History> GetHistoryPage(const v1::HistoryRequest& request);
  // A context whose deadline is `timeout` from now.
  void PrepareContext(grpc::ClientContext* context) const;
  // `status` with `address` put in front of its message.
  static absl::Status AttributeError(const std::string& address,
                                     const grpc::Status& status);

  const std::string backend_address_;  // empty through frontends
  const ScoreboardClientOptions options_;
  // Through the backend: its stub, and the watcher of its channel.
  std::unique_ptr<ConnectionWatcher> watcher_;
  std::unique_ptr<v1::Backend::Stub> backend_;
  // Through frontends. Shared with the subscriptions.
  const std::shared_ptr<FrontendPicker> picker_;
  // The subscriptions' threads, started with the first subscription.
  absl::Mutex pool_mu_;
  std::shared_ptr<DeliveryPool> pool_ ABSL_GUARDED_BY(pool_mu_);
};

}  // namespace podium

#endif  // PODIUM_CLIENT_SCOREBOARD_CLIENT_H_
