// One connection of HttpServer (http_server.h): reads requests and writes
// their replies, or, for GET /api/stream, holds a Subscription and writes
// its updates as Server-Sent Events until the browser leaves.
//
// Everything but the constructor runs on the connection's executor (the
// event loop, or its own strand when several threads run the loop), so its
// state needs no lock. What it needs of its server is HttpConnectionHost.
#ifndef PODIUM_FRONTEND_HTTP_CONNECTION_H_
#define PODIUM_FRONTEND_HTTP_CONNECTION_H_

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "frontend/frontend.h"
#include "frontend/http_server.h"
#include "frontend/subscription.h"
#include "frontend/web_api.h"

namespace podium {

// What one write to a stream sends: a change's event that every stream
// sending it alone shares (EncodedChange::sse_event), or bytes of this
// stream's own (a batch, the header, a heartbeat).
struct StreamBytes {
  EncodedChangePtr shared;
  std::string own;
  // Whether it is a subscription's write, whose completion it must hear.
  bool from_subscription = false;
  // How much of it the socket has taken.
  size_t written = 0;

  absl::string_view all() const {
    return shared != nullptr ? absl::string_view(shared->sse_event()) : absl::string_view(own);
  }
  absl::string_view rest() const { return all().substr(written); }
};

class HttpConnection;

// The server's side of its connections.
class HttpConnectionHost {
 public:
  virtual ~HttpConnectionHost() = default;
  virtual const HttpServerOptions& options() const = 0;
  virtual Frontend& frontend() = 0;
  virtual WebApi& api() = 0;
  // Whether the server is stopping: a connection accepted now closes.
  virtual bool stopping() const = 0;
  // Runs `call` (a read that missed the cache) on a worker thread; false
  // when too many wait already.
  virtual bool RunOnWorker(std::function<void()> call) = 0;
  // Every open connection is registered, so that Stop() can close it.
  virtual void Register(HttpConnection* connection, std::weak_ptr<HttpConnection> weak) = 0;
  virtual void Unregister(HttpConnection* connection) = 0;
  // A subscription's write of `updates` updates (`conflated` of them
  // conflated), from any thread: the connection's SendStream gets `bytes`
  // on its executor.
  virtual void StartWrite(const std::weak_ptr<HttpConnection>& connection, StreamBytes bytes,
                          int64_t updates, int64_t conflated) = 0;
};

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  using tcp = boost::asio::ip::tcp;

  HttpConnection(HttpConnectionHost* host, tcp::socket socket, tcp::endpoint peer);
  ~HttpConnection();

  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Starts reading requests; when `overloaded`, answers 503 and closes.
  void Begin(bool overloaded);
  // Ends the connection (and its stream, if any); safe to call twice.
  void Close();
  boost::asio::any_io_executor executor() { return socket_.get_executor(); }

  // A stream write, on the connection's executor: tried at once on the
  // socket; what it does not take waits, as long as write_timeout.
  void SendStream(StreamBytes bytes);

 private:
  void ReadRequest();
  void OnRead(boost::beast::error_code ec);
  // Who asks: the connection's peer, or, when the peer is on this machine
  // (HAProxy in front, as ./scripts/run sets it up), the address it says
  // it forwards for: the last one of X-Forwarded-For, which it appended.
  // Rate limits on posts go by this address.
  std::string ClientOf(absl::string_view forwarded_for) const;
  // Answers `status` with `why` and closes: the request cannot be trusted
  // as far as the next one.
  void Refuse(int status, const std::string& why);
  void Send(WebReply reply, bool keep_alive, bool head);
  // A write that waits this long has a reader that stopped reading.
  void StartWriteTimer();

  void OpenStream(const WebRequest& request);
  // Bytes of the stream's own (the header, a heartbeat).
  void Queue(std::string bytes);
  // Writes what the socket takes without waiting; false if it failed
  // (the connection is then closed).
  bool TryWrite(StreamBytes* bytes);
  void Written(const StreamBytes& bytes);
  void WriteNext();
  // A stream's reader sends nothing more; a read ends only when it leaves.
  void WatchForClose();
  void Heartbeat();
  void EndStream();

  HttpConnectionHost* const host_;
  tcp::socket socket_;
  const tcp::endpoint peer_;
  boost::asio::steady_timer read_timer_;
  boost::asio::steady_timer write_timer_;
  boost::asio::steady_timer heartbeat_timer_;
  const std::string client_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  bool timed_out_ = false;
  bool closed_ = false;
  // A stream's state.
  std::shared_ptr<Subscription> subscription_;
  // What waits to be written, oldest first.
  std::deque<StreamBytes> out_;
  bool writing_ = false;
  std::array<char, 256> discard_;
};

}  // namespace podium

#endif  // PODIUM_FRONTEND_HTTP_CONNECTION_H_
