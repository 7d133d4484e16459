#include "bench/sse_fanout.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bench/measurements.h"
#include "common/percent_encoding.h"
#include "harness/http_client.h"
#include "harness/subprocess.h"

namespace podium::bench {
namespace {

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

// Connections past their connect() that have no snapshot yet, at most: so
// many SYNs at once would overflow the listener's accept queue (whose
// dropped SYNs cost a second each), and the streams would open no sooner.
constexpr int kConnecting = 256;

}  // namespace

struct SseFanout::Connection {
  int fd = -1;
  bool sent = false;  // the request went out
  bool head = false;  // the response's head was read (200, an event stream)
  bool open = false;  // its snapshot arrived
  std::string buffer;
  std::vector<Receipt> receipts;
  std::atomic<int64_t> max_seq{0};
  int64_t reads = 0;
};

absl::StatusOr<std::unique_ptr<SseFanout>> SseFanout::Start(
    const std::string& dir, const std::string& backend_address, v1::Backend::Stub* backend,
    std::string event, std::string team, const std::vector<std::string>& frontend_flags,
    int expected, int* writes) {
  static int started = 0;
  const std::string own_dir = absl::StrCat(dir, "/sse-", ++started);
  std::error_code ignored;
  std::filesystem::create_directories(own_dir, ignored);
  const std::string http_address = absl::StrCat("127.0.0.1:", harness::PickFreePort());
  std::vector<std::string> flags = {"--http_listen=" + http_address};
  flags.insert(flags.end(), frontend_flags.begin(), frontend_flags.end());
  auto frontend =
      std::make_unique<harness::FrontendCluster>(own_dir, backend_address, 1, "push", flags);
  if (absl::Status s = frontend->StartAll(); !s.ok()) return s;
  if (absl::Status s = frontend->WaitForMaster(frontend->address(0), absl::Seconds(15)); !s.ok()) {
    return s;
  }
  // One read of the event over HTTP: the HTTP plane answers, and the
  // frontend has the games' names before the streams ask for the event.
  const std::string path = "/api/events/" + PercentEncode(event);
  absl::StatusOr<harness::HttpResponse> read;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10); absl::Now() < deadline;
       absl::SleepFor(absl::Milliseconds(50))) {
    read = harness::HttpGet(http_address, path, {}, absl::Seconds(5));
    if (read.ok() && read->status == 200) break;
  }
  if (!read.ok()) return read.status();
  if (read->status != 200) {
    return absl::UnavailableError(absl::StrCat("GET ", path, " on the SSE frontend answered ",
                                               read->status, ": ", read->body));
  }
  return std::unique_ptr<SseFanout>(new SseFanout(std::move(frontend), http_address, backend,
                                                  std::move(event), std::move(team), expected,
                                                  writes));
}

SseFanout::SseFanout(std::unique_ptr<harness::FrontendCluster> frontend, std::string http_address,
                     v1::Backend::Stub* backend, std::string event, std::string team, int expected,
                     int* writes)
    : frontend_(std::move(frontend)),
      http_address_(std::move(http_address)),
      backend_(backend),
      event_(std::move(event)),
      team_(std::move(team)),
      request_(absl::StrCat("GET /api/stream?events=", PercentEncode(event_), " HTTP/1.1\r\nHost: ",
                            http_address_, "\r\nAccept: text/event-stream\r\n\r\n")),
      expected_(expected),
      writes_(writes) {
  absl::SimpleAtoi(http_address_.substr(http_address_.rfind(':') + 1), &port_);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
}

SseFanout::~SseFanout() {
  Close().IgnoreError();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  // frontend_ goes with its FrontendCluster: SIGKILLed and reaped.
}

void SseFanout::Fail(const std::string& why) {
  if (failed_.load()) return;
  failure_ = why;
  failed_.store(true);
}

absl::Status SseFanout::Open(int subscribers) {
  if (loop_.joinable()) return absl::FailedPreconditionError("SseFanout::Open called twice");
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 &&
      files.rlim_cur < static_cast<rlim_t>(subscribers) + 256) {
    return absl::ResourceExhaustedError(absl::StrCat(
        subscribers, " SSE connections need more descriptors than RLIMIT_NOFILE's ", files.rlim_cur,
        ": raise ulimit -n (fanout_bench raises it to the hard limit)"));
  }
  const int64_t rss_before = SampleProcess(server()).rss_kib;
  for (int i = 0; i < subscribers; ++i) {
    connections_.push_back(std::make_unique<Connection>());
    connections_.back()->receipts.reserve(static_cast<size_t>(expected_));
  }
  wanted_.store(subscribers);
  loop_ = std::thread([this] { Loop(); });
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  absl::Time report = absl::Now() + absl::Seconds(5);
  while (opened_.load() < subscribers) {
    if (failed_.load()) return absl::UnavailableError(failure_);
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          opened_.load(), " of ", subscribers, " SSE streams had their snapshot within 120 s"));
    }
    if (absl::Now() > report) {
      std::fprintf(stderr, "%s: %lld of %d SSE streams open\n", program_invocation_short_name,
                   static_cast<long long>(opened_.load()), subscribers);
      report += absl::Seconds(5);
    }
    absl::SleepFor(absl::Microseconds(200));
  }
  idle_bytes_per_subscriber_ = IdleBytesPerSubscriber(server(), rss_before, subscribers);
  return absl::OkStatus();
}

void SseFanout::Connect(int index) {
  Connection* connection = connections_[static_cast<size_t>(index)].get();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(absl::StrCat("socket: ", std::strerror(errno)));
  connection->fd = fd;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port_));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  epoll_event event{};
  event.data.ptr = connection;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    if (::send(fd, request_.data(), request_.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request_.size())) {
      return Fail(absl::StrCat("sending stream ", index, "'s request: ", std::strerror(errno)));
    }
    connection->sent = true;
    event.events = EPOLLIN;
  } else if (errno == EINPROGRESS) {
    event.events = EPOLLIN | EPOLLOUT;
  } else {
    return Fail(absl::StrCat("connect to ", http_address_, ": ", std::strerror(errno)));
  }
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    return Fail(absl::StrCat("epoll_ctl: ", std::strerror(errno)));
  }
}

void SseFanout::Loop() {
  const int wanted = wanted_.load();
  int next = 0;
  epoll_event events[512];
  while (!stopping_.load() && !failed_.load()) {
    while (next < wanted && next - opened_.load(std::memory_order_relaxed) < kConnecting &&
           !failed_.load()) {
      Connect(next++);
    }
    const int ready = ::epoll_wait(epoll_fd_, events, 512, 10);
    for (int i = 0; i < ready; ++i) {
      auto* connection = static_cast<Connection*>(events[i].data.ptr);
      if (!connection->sent && (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int error = 0;
        socklen_t length = sizeof(error);
        ::getsockopt(connection->fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
          return Fail(absl::StrCat("connect to ", http_address_, ": ", std::strerror(error)));
        }
        if (::send(connection->fd, request_.data(), request_.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(request_.size())) {
          return Fail(absl::StrCat("sending a stream's request: ", std::strerror(errno)));
        }
        connection->sent = true;
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.ptr = connection;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection->fd, &event);
        continue;
      }
      Read(connection);
    }
  }
}

void SseFanout::Read(Connection* connection) {
  char chunk[65536];
  bool closed = false;
  size_t got = 0;
  while (true) {
    const ssize_t n = ::recv(connection->fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      connection->buffer.append(chunk, static_cast<size_t>(n));
      got += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    closed = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    break;
  }
  if (got > 0) {
    const int64_t now = NowMicros();
    ++connection->reads;
    std::string& buffer = connection->buffer;
    size_t pos = 0;
    if (!connection->head) {
      const size_t end = buffer.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (!closed) return;
      } else {
        const absl::string_view head(buffer.data(), end);
        if (!absl::StartsWith(head, "HTTP/1.1 200") ||
            !absl::StrContains(head, "text/event-stream")) {
          return Fail(absl::StrCat("not an event stream: ", buffer.substr(0, 400)));
        }
        connection->head = true;
        pos = end + 4;
      }
    }
    // Events end with an empty line. `id: SEQ` comes first when there is
    // one; a snapshot value has none; comments and `retry:` are skipped.
    while (connection->head) {
      const size_t end = buffer.find("\n\n", pos);
      if (end == std::string::npos) break;
      const absl::string_view block(buffer.data() + pos, end - pos);
      pos = end + 2;
      if (absl::StartsWith(block, "id: ")) {
        const size_t eol = block.find('\n');
        int64_t seq = 0;
        if (!absl::SimpleAtoi(
                block.substr(4, eol == absl::string_view::npos ? block.size() - 4 : eol - 4),
                &seq)) {
          return Fail(absl::StrCat("an event id that is not a seq: ", block.substr(0, 80)));
        }
        connection->receipts.push_back(Receipt{seq, now, connection->reads});
        if (seq > connection->max_seq.load(std::memory_order_relaxed)) {
          connection->max_seq.store(seq, std::memory_order_release);
        }
        received_.fetch_add(1, std::memory_order_relaxed);
      } else if (!connection->open && absl::StrContains(block, "event: update")) {
        connection->open = true;
        opened_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    buffer.erase(0, pos);
  }
  if (closed && !stopping_.load()) {
    Fail(absl::StrCat("the frontend closed an SSE stream",
                      connection->head ? "" : " before answering", "; see its log"));
  }
}

absl::StatusOr<std::vector<int64_t>> SseFanout::Publish(int count) {
  if (failed_.load()) return absl::UnavailableError(failure_);
  return PublishThroughBackend(backend_, event_, team_, count, writes_);
}

bool SseFanout::AllHave(int64_t seq) const {
  if (failed_.load()) return true;  // no use waiting; Close() says why
  return std::all_of(connections_.begin(), connections_.end(), [seq](const auto& connection) {
    return connection->max_seq.load(std::memory_order_acquire) >= seq;
  });
}

absl::Status SseFanout::Close() {
  if (stopping_.exchange(true)) return absl::OkStatus();
  if (loop_.joinable()) loop_.join();
  // Reset rather than closed: no TIME_WAIT left on this side for the next
  // measurement's thousands of connections.
  const linger reset{1, 0};
  for (const auto& connection : connections_) {
    if (connection->fd < 0) continue;
    ::setsockopt(connection->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    ::close(connection->fd);
    connection->fd = -1;
  }
  if (failed_.load()) return absl::UnavailableError(failure_);
  return absl::OkStatus();
}

std::vector<const std::vector<Receipt>*> SseFanout::receipts() const {
  std::vector<const std::vector<Receipt>*> all;
  for (const auto& connection : connections_) all.push_back(&connection->receipts);
  return all;
}

}  // namespace podium::bench
