#include "bench/redis_fanout.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "bench/measurements.h"
#include "harness/subprocess.h"

namespace podium::bench {
namespace {

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

// One RESP reply of the kinds a subscriber and a publisher are sent: an
// array of bulk strings and integers, or a bare integer or simple string.
enum class Resp { kIncomplete, kOne, kBad };

// The text up to the next CRLF from `*pos`, which moves past it.
Resp Line(absl::string_view data, size_t* pos, absl::string_view* line) {
  const size_t end = data.find("\r\n", *pos);
  if (end == absl::string_view::npos) return Resp::kIncomplete;
  *line = data.substr(*pos, end - *pos);
  *pos = end + 2;
  return Resp::kOne;
}

Resp Element(absl::string_view data, size_t* pos, absl::string_view* out) {
  if (*pos >= data.size()) return Resp::kIncomplete;
  const char kind = data[*pos];
  ++*pos;
  absl::string_view line;
  if (Resp r = Line(data, pos, &line); r != Resp::kOne) return r;
  if (kind == ':' || kind == '+') {
    *out = line;
    return Resp::kOne;
  }
  int64_t length = 0;
  if (kind != '$' || !absl::SimpleAtoi(line, &length) || length < 0) return Resp::kBad;
  if (data.size() < *pos + static_cast<size_t>(length) + 2) return Resp::kIncomplete;
  *out = data.substr(*pos, static_cast<size_t>(length));
  *pos += static_cast<size_t>(length) + 2;
  return Resp::kOne;
}

Resp Reply(absl::string_view data, size_t* pos, std::vector<absl::string_view>* parts) {
  parts->clear();
  if (*pos >= data.size()) return Resp::kIncomplete;
  if (data[*pos] != '*') {
    absl::string_view one;
    Resp r = Element(data, pos, &one);
    if (r == Resp::kOne) parts->push_back(one);
    return r;
  }
  ++*pos;
  absl::string_view line;
  if (Resp r = Line(data, pos, &line); r != Resp::kOne) return r;
  int count = 0;
  if (!absl::SimpleAtoi(line, &count) || count < 0) return Resp::kBad;
  for (int i = 0; i < count; ++i) {
    absl::string_view part;
    if (Resp r = Element(data, pos, &part); r != Resp::kOne) return r;
    parts->push_back(part);
  }
  return Resp::kOne;
}

std::string Command(const std::vector<absl::string_view>& words) {
  std::string out = absl::StrCat("*", words.size(), "\r\n");
  for (absl::string_view word : words)
    absl::StrAppend(&out, "$", word.size(), "\r\n", word, "\r\n");
  return out;
}

absl::StatusOr<int> ConnectLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("connect to 127.0.0.1:", port, ": ", std::strerror(error)));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool SendAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads `count` replies from a blocking socket; each is left in `replies`.
absl::Status ReadReplies(int fd, int count, std::vector<std::string>* replies) {
  std::string buffer;
  size_t pos = 0;
  char chunk[4096];
  std::vector<absl::string_view> parts;
  while (static_cast<int>(replies->size()) < count) {
    const size_t start = pos;
    const Resp r = Reply(buffer, &pos, &parts);
    if (r == Resp::kBad) return absl::DataLossError("redis sent a reply that does not parse");
    if (r == Resp::kOne) {
      replies->push_back(parts.empty() ? "" : std::string(parts[0]));
      continue;
    }
    pos = start;
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError("redis closed the connection");
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

constexpr absl::string_view kChannel = "fanout";

}  // namespace

struct RedisFanout::Connection {
  int fd = -1;
  std::string buffer;  // read and not yet parsed
  std::vector<Receipt> receipts;
  std::atomic<int64_t> max_seq{0};
  int64_t messages = 0;
};

absl::StatusOr<std::unique_ptr<RedisFanout>> RedisFanout::Start(const std::string& dir,
                                                                std::string event, std::string team,
                                                                int threads, int expected) {
  const std::string redis = FindOnPath("redis-server");
  if (redis.empty()) {
    return absl::FailedPreconditionError(
        "no redis-server on PATH: install Debian's redis-server (./scripts/bench does)");
  }
  // Thousands of subscriber sockets in this one process.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  const int port = harness::PickFreePort();
  absl::StatusOr<harness::Subprocess> server = harness::Subprocess::Start(
      {redis, "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
       "no", "--maxclients", "20000", "--tcp-backlog", "4096", "--protected-mode", "no",
       "--loglevel", "warning", "--dir", dir},
      dir + "/redis.log");
  if (!server.ok()) return server.status();
  std::unique_ptr<RedisFanout> fanout(new RedisFanout(*std::move(server), port, std::move(event),
                                                      std::move(team), threads, expected));
  // Ready once it answers a PING; that connection then publishes.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (true) {
    absl::StatusOr<int> fd = ConnectLoopback(port);
    std::vector<std::string> replies;
    if (fd.ok() && SendAll(*fd, Command({"PING"})) && ReadReplies(*fd, 1, &replies).ok() &&
        replies[0] == "PONG") {
      fanout->publisher_ = *fd;
      break;
    }
    if (fd.ok()) ::close(*fd);
    if (absl::Now() > deadline) {
      return absl::UnavailableError(absl::StrCat("redis-server did not answer on port ", port,
                                                 " within 10 s; see ", dir, "/redis.log"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return fanout;
}

RedisFanout::RedisFanout(harness::Subprocess redis, int port, std::string event, std::string team,
                         int threads, int expected)
    : redis_(std::move(redis)),
      port_(port),
      event_(std::move(event)),
      team_(std::move(team)),
      thread_count_(std::max(1, threads)),
      expected_(expected) {
  for (int i = 0; i < thread_count_; ++i) {
    epoll_fds_.push_back(::epoll_create1(EPOLL_CLOEXEC));
    threads_.emplace_back([this, fd = epoll_fds_.back()] { ReadLoop(fd); });
  }
}

RedisFanout::~RedisFanout() {
  Close().IgnoreError();
  if (publisher_ >= 0) ::close(publisher_);
}

absl::Status RedisFanout::Open(int subscribers) {
  const int64_t rss_before = SampleProcess(redis_.pid()).rss_kib;
  const std::string subscribe = Command({"SUBSCRIBE", kChannel});
  for (int s = 0; s < subscribers; ++s) {
    absl::StatusOr<int> fd = ConnectLoopback(port_);
    if (!fd.ok()) return fd.status();
    auto connection = std::make_unique<Connection>();
    connection->fd = *fd;
    connection->receipts.reserve(static_cast<size_t>(expected_));
    if (!SendAll(*fd, subscribe)) {
      ::close(*fd);
      return absl::UnavailableError("redis closed a subscriber's connection");
    }
    ::fcntl(*fd, F_SETFL, ::fcntl(*fd, F_GETFL) | O_NONBLOCK);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = connection.get();
    connections_.push_back(std::move(connection));
    ::epoll_ctl(epoll_fds_[static_cast<size_t>(s) % epoll_fds_.size()], EPOLL_CTL_ADD, *fd, &event);
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (opened_.load() < subscribers) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          opened_.load(), " of ", subscribers, " redis subscriptions confirmed within 120 s"));
    }
    absl::SleepFor(absl::Microseconds(200));
  }
  idle_bytes_per_subscriber_ = IdleBytesPerSubscriber(redis_.pid(), rss_before, subscribers);
  return absl::OkStatus();
}

void RedisFanout::ReadLoop(int epoll_fd) {
  epoll_event events[256];
  char chunk[65536];
  std::vector<absl::string_view> parts;
  while (!stopping_.load()) {
    const int ready = ::epoll_wait(epoll_fd, events, 256, 50);
    for (int i = 0; i < ready; ++i) {
      auto* connection = static_cast<Connection*>(events[i].data.ptr);
      while (true) {
        const ssize_t n = ::recv(connection->fd, chunk, sizeof(chunk), 0);
        if (n <= 0) break;  // drained (EAGAIN), or closed
        connection->buffer.append(chunk, static_cast<size_t>(n));
      }
      const int64_t now = NowMicros();
      size_t pos = 0;
      while (true) {
        const size_t start = pos;
        const Resp r = Reply(connection->buffer, &pos, &parts);
        if (r != Resp::kOne) {
          if (r == Resp::kIncomplete) pos = start;
          break;
        }
        if (parts.size() == 3 && parts[0] == "subscribe") {
          opened_.fetch_add(1);
        } else if (parts.size() == 3 && parts[0] == "message") {
          ++connection->messages;
          v1::SubscribeUpdates updates;
          if (!updates.ParseFromArray(parts[2].data(), static_cast<int>(parts[2].size()))) {
            continue;
          }
          for (const v1::SubscribeUpdate& update : updates.updates()) {
            connection->receipts.push_back(
                Receipt{update.change().seq(), now, connection->messages});
            connection->max_seq.store(update.change().seq(), std::memory_order_release);
            received_.fetch_add(1, std::memory_order_relaxed);
          }
        }
      }
      connection->buffer.erase(0, pos);
    }
  }
}

absl::StatusOr<std::vector<int64_t>> RedisFanout::Publish(int count) {
  std::string commands;
  std::vector<int64_t> seqs;
  for (int i = 0; i < count; ++i) {
    const v1::RecordScoreRequest write = FanoutWrite(event_, team_, ++writes_);
    v1::SubscribeUpdates updates;
    v1::Change* change = updates.add_updates()->mutable_change();
    change->set_seq(writes_);
    v1::EventScore* score = change->mutable_event();
    score->set_event(write.event());
    *score->mutable_points() = write.points();
    score->set_version(writes_);
    score->set_updated_unix_micros(NowMicros());
    commands += Command({"PUBLISH", kChannel, updates.SerializeAsString()});
    seqs.push_back(writes_);
  }
  if (!SendAll(publisher_, commands)) return absl::UnavailableError("redis closed the publisher");
  std::vector<std::string> replies;
  if (absl::Status s = ReadReplies(publisher_, count, &replies); !s.ok()) return s;
  return seqs;
}

bool RedisFanout::AllHave(int64_t seq) const {
  return std::all_of(connections_.begin(), connections_.end(), [seq](const auto& connection) {
    return connection->max_seq.load(std::memory_order_acquire) >= seq;
  });
}

absl::Status RedisFanout::Close() {
  if (stopping_.exchange(true)) return absl::OkStatus();
  for (std::thread& thread : threads_) thread.join();
  for (int fd : epoll_fds_) ::close(fd);
  for (const auto& connection : connections_) ::close(connection->fd);
  return absl::OkStatus();
}

std::vector<const std::vector<Receipt>*> RedisFanout::receipts() const {
  std::vector<const std::vector<Receipt>*> all;
  for (const auto& connection : connections_) all.push_back(&connection->receipts);
  return all;
}

}  // namespace podium::bench
