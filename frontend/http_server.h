// The frontend's HTTP plane: an event-driven HTTP/1.1 server (Boost.Beast
// on Asio) in front of WebApi. A few threads run one event loop for every
// connection, never a thread per connection: a frontend holds thousands of
// browsers' streams, most of them idle.
//
// What it protects the other connections from:
//   - a request's header past max_header_bytes is answered 431, a body past
//     max_body_bytes 413, a request that is not HTTP 400, each then closed;
//   - a request that has not fully arrived within request_timeout of its
//     first byte (slowloris) is answered 408 and closed; a keep-alive
//     connection idle that long is closed;
//   - a stream whose reader stops reading has its updates conflated by its
//     Subscription (bounded memory), and is closed once a write has waited
//     write_timeout;
//   - past max_connections, new connections are answered 503 and closed.
// Reads that miss the cache run on worker threads (BlockingCalls), so the
// event loop never waits on the backend.
//
// A stream (GET /api/stream) is a Subscription like a gRPC Subscribe: its
// writes are Server-Sent Events (sse_events.h), its resume is Last-Event-ID.
// A write is tried at once on the socket and waits in the session only for
// a reader that is behind; updates made off the event loop (catch-ups) are
// handed to it in batches, one wake-up for many streams.
//
// Lifecycle: Start() once; Stop() before the Frontend stops: it says 503
// on /healthz, closes the listener and every connection (ending their
// subscriptions) and joins the threads.
#ifndef PODIUM_FRONTEND_HTTP_SERVER_H_
#define PODIUM_FRONTEND_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "frontend/frontend.h"
#include "frontend/web_api.h"

namespace podium {

struct HttpServerOptions {
  std::string listen;      // host:port; port 0 picks a free one
  int threads = 1;         // threads running the event loop
  int worker_threads = 4;  // threads answering reads that miss the cache
  absl::Duration request_timeout = absl::Seconds(10);
  absl::Duration write_timeout = absl::Seconds(60);
  absl::Duration heartbeat = absl::Seconds(15);
  // How long a browser waits before it reconnects a lost stream.
  absl::Duration retry = absl::Seconds(1);
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 8 * 1024;
  size_t max_connections = 20000;
  // The fan-out shard (SubscriptionHub) of every stream: the frontend's
  // runner must hand that shard's tasks to RunFanOut, so that a change
  // reaches the streams on the event loop that writes to them.
  int fanout_shard = 0;
};

class HttpServer {
 public:
  HttpServer(Frontend* frontend, WebApi* api, HttpServerOptions options);
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens and serves; `port` (if not null) gets the port bound. An error
  // names the address and why it could not be bound.
  absl::Status Start(int* port = nullptr);
  void Stop();

  // Connections open now, streams included.
  int connections() const;

  // Runs a fan-out task on the event loop, after those given before it.
  // There a stream's update is written at once, as Redis writes to its
  // subscribers: no hand-off to another thread, no lock but the
  // subscription's. A task given after Stop() never runs.
  void RunFanOut(std::function<void()> task);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_HTTP_SERVER_H_
