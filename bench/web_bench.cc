// HTTP reads of one event's score, `GET /api/events/NAME`, from a frontend's
// HTTP plane under wrk (Debian's `wrk`), against nginx (Debian's `nginx`)
// serving the very same bytes as a static file, in the same run.
//
// Targets, each a separate process on loopback:
//   hit    podium-frontend --cache=push --http_listen=...: the event is in
//          its cache, so every read is answered on the event loop from the
//          JSON converted once per cached value (the run checks the
//          frontend's own podium_cache_hits_total)
//   nginx  nginx with a generated config in a temporary prefix: one worker
//          process (the frontend answers hits on one event-loop thread,
//          --http_threads=1), access log off, keep-alive without a request
//          limit, open_file_cache and sendfile on; the file holds exactly
//          the body the frontend answered (fetched first), at the same path
//   miss   podium-frontend --cache=off --http_listen=...: every read a
//          GetEvent to the backend, on the frontend's worker threads
//
// For each wrk connection count the targets take turns for --rounds rounds
// (`wrk -t1 -cC -dS --latency`), so load that drifts hits them alike; each
// figure is the median round (by requests/s). nginx is started as a child
// (`nginx -c CONF -p PREFIX -g 'daemon off;'`, never the system service)
// and stopped, with its worker, whatever happens.
//
//   build/bench/web_bench [--connections=16,64] [--seconds=5] [--rounds=3]
//                         [--threads=1] [--miss=true] [--games=FILE] [--event=E]
//                         [--csv=FILE]
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "bench/measurements.h"
#include "common/channel.h"
#include "common/percent_encoding.h"
#include "harness/cluster.h"
#include "harness/http_client.h"
#include "harness/subprocess.h"
#include "harness/temp_dir.h"
#include "podium/v1/scoreboard.grpc.pb.h"

ABSL_FLAG(std::string, connections, "16,64", "wrk connection counts (wrk -c), one load point each");
ABSL_FLAG(int, threads, 1, "wrk threads (wrk -t)");
ABSL_FLAG(int, seconds, 5, "wrk's duration per target, per round (wrk -d)");
ABSL_FLAG(int, rounds, 3,
          "rounds alternating the targets; each figure is the median round, so load "
          "that drifts during the run hits all targets alike");
ABSL_FLAG(bool, miss, true, "also measure a --cache=off frontend (every read a backend call)");
ABSL_FLAG(std::string, csv, "", "also append rows to this CSV file");
ABSL_FLAG(std::string, games, "",
          "the backend's games file (e.g. games/paris2024.games); empty: its built-in day");
ABSL_FLAG(std::string, event, "", "the event read; empty: the games' first");

namespace podium {
namespace {

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "", ':')) {
    for (const std::string& candidate :
         {absl::StrCat(dir.empty() ? "." : dir, "/", name), absl::StrCat("/usr/sbin/", name)}) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "";
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The URL path of the event.
std::string EventPath(absl::string_view event) { return "/api/events/" + PercentEncode(event); }

// nginx as a child of this process, with its one worker; stopped (and both
// reaped or killed) by Stop() or the destructor, however the run ends.
class Nginx {
 public:
  // Serves `body` at `path` on a free loopback port, from a prefix under
  // `dir` holding its config, logs and the file.
  static absl::StatusOr<std::unique_ptr<Nginx>> Start(const std::string& dir,
                                                      const std::string& path,
                                                      const std::string& body) {
    const std::string nginx = FindOnPath("nginx");
    if (nginx.empty()) {
      return absl::FailedPreconditionError(
          "no nginx on PATH or in /usr/sbin: apt-get install nginx (./scripts/bench does)");
    }
    const std::string prefix = dir + "/nginx";
    const std::string root = prefix + "/html";
    const std::string file = root + path;
    std::error_code error;
    std::filesystem::create_directories(std::filesystem::path(file).parent_path(), error);
    if (error) return absl::InternalError(absl::StrCat("mkdir for ", file, ": ", error.message()));
    std::ofstream(file, std::ios::binary) << body;
    // Run as root, nginx's worker becomes `nobody`: it must be able to
    // walk to the file (the temporary folder is 0700).
    ::chmod(dir.c_str(), 0711);
    for (std::filesystem::path p = std::filesystem::path(file).parent_path();
         p.string().size() > dir.size(); p = p.parent_path()) {
      ::chmod(p.c_str(), 0755);
    }
    ::chmod(file.c_str(), 0644);
    const int port = harness::PickFreePort();
    const std::string config = prefix + "/nginx.conf";
    std::ofstream(config) << absl::StrCat(
        "# Generated by bench/web_bench.cc for one run; not the system's nginx.\n"
        "worker_processes 1;\n"
        "pid ",
        prefix,
        "/nginx.pid;\n"
        "error_log ",
        prefix,
        "/error.log warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        "  access_log off;\n"
        "  default_type application/json;\n"
        "  sendfile on;\n"
        "  tcp_nopush on;\n"
        "  tcp_nodelay on;\n"
        "  keepalive_timeout 65s;\n"
        "  keepalive_requests 100000000;\n"
        "  open_file_cache max=64 inactive=60s;\n"
        "  open_file_cache_valid 60s;\n"
        "  server_tokens off;\n"
        "  server {\n"
        "    listen 127.0.0.1:",
        port,
        ";\n"
        "    root ",
        root,
        ";\n"
        "  }\n"
        "}\n");
    absl::StatusOr<harness::Subprocess> process = harness::Subprocess::Start(
        {nginx, "-c", config, "-p", prefix + "/", "-g", "daemon off;"}, prefix + "/stderr.log");
    if (!process.ok()) return process.status();
    std::unique_ptr<Nginx> started(
        new Nginx(*std::move(process), absl::StrCat("127.0.0.1:", port)));
    // Serving once it answers the file (bounded).
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (true) {
      absl::StatusOr<harness::HttpResponse> reply =
          harness::HttpGet(started->address(), path, {}, absl::Seconds(2));
      if (reply.ok() && reply->status == 200) {
        if (reply->body != body) {
          return absl::InternalError("nginx answers other bytes than the file it was given");
        }
        break;
      }
      if (started->process_.Wait(absl::ZeroDuration()).ok() || absl::Now() > deadline) {
        return absl::UnavailableError(
            absl::StrCat("nginx did not serve ", path, " within 10 s; its logs: ",
                         ReadAll(prefix + "/stderr.log"), ReadAll(prefix + "/error.log")));
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return started;
  }

  ~Nginx() { Stop(); }

  // Fast shutdown (SIGTERM: the master stops its worker and exits), then
  // SIGKILL for whichever of the two is still there after 5 s.
  void Stop() {
    if (!process_.running()) return;
    const std::vector<pid_t> workers = Children(process_.pid());
    ::kill(process_.pid(), SIGTERM);
    if (!process_.Wait(absl::Seconds(5)).ok()) process_.Kill(SIGKILL);
    for (pid_t worker : workers) {
      // Reparented once the master is gone: still an nginx of this run?
      if (absl::StrContains(ReadAll(absl::StrCat("/proc/", worker, "/cmdline")), "nginx")) {
        ::kill(worker, SIGKILL);
      }
    }
  }

  const std::string& address() const { return address_; }
  pid_t pid() const { return process_.pid(); }

 private:
  Nginx(harness::Subprocess process, std::string address)
      : process_(std::move(process)), address_(std::move(address)) {}

  static std::vector<pid_t> Children(pid_t pid) {
    std::vector<pid_t> children;
    std::istringstream list(ReadAll(absl::StrCat("/proc/", pid, "/task/", pid, "/children")));
    for (pid_t child; list >> child;) children.push_back(child);
    return children;
  }

  harness::Subprocess process_;
  const std::string address_;
};

struct Result {
  double requests_per_second = 0;
  double p50_us = 0, p99_us = 0;
  int64_t requests = 0;
  double bytes_per_response = 0;  // headers and body, as wrk read them
};

// wrk's "12.34us", "1.20ms", "2.00s", in microseconds; -1 if not one.
double Micros(absl::string_view text) {
  double value = 0;
  for (const auto& [unit, scale] :
       std::vector<std::pair<absl::string_view, double>>{{"us", 1}, {"ms", 1e3}, {"s", 1e6}}) {
    if (absl::EndsWith(text, unit) &&
        absl::SimpleAtod(text.substr(0, text.size() - unit.size()), &value)) {
      return value * scale;
    }
  }
  return -1;
}

// "45.67MB" in bytes.
double Bytes(absl::string_view text) {
  double value = 0;
  for (const auto& [unit, scale] : std::vector<std::pair<absl::string_view, double>>{
           {"KB", 1024.0}, {"MB", 1048576.0}, {"GB", 1073741824.0}, {"B", 1.0}}) {
    if (absl::EndsWith(text, unit) &&
        absl::SimpleAtod(text.substr(0, text.size() - unit.size()), &value)) {
      return value * scale;
    }
  }
  return 0;
}

// One wrk run against `address`. Every answer must be a 2xx with no socket
// error: anything else is no figure (an error).
absl::StatusOr<Result> RunWrk(const std::string& wrk, const std::string& address,
                              const std::string& path, int connections, const std::string& dir) {
  const std::string out = dir + "/wrk.out";
  std::filesystem::remove(out);
  const int seconds = absl::GetFlag(FLAGS_seconds);
  absl::StatusOr<harness::Subprocess> run = harness::Subprocess::Start(
      {wrk, absl::StrCat("-t", absl::GetFlag(FLAGS_threads)), absl::StrCat("-c", connections),
       absl::StrCat("-d", seconds, "s"), "--latency", absl::StrCat("http://", address, path)},
      out);
  if (!run.ok()) return run.status();
  absl::StatusOr<int> status = run->Wait(absl::Seconds(seconds + 30));
  if (!status.ok()) {
    run->Kill(SIGKILL);
    return absl::DeadlineExceededError(absl::StrCat("wrk against ", address, " did not finish"));
  }
  const std::string text = ReadAll(out);
  if (*status != 0 || absl::StrContains(text, "Non-2xx") ||
      absl::StrContains(text, "Socket errors")) {
    return absl::UnavailableError(
        absl::StrCat("wrk against ", address, " saw errors (wait status ", *status, "):\n", text));
  }
  Result result;
  bool in_distribution = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (words.empty()) continue;
    if (words[0] == "Latency" && words.size() >= 2 && words[1] == "Distribution") {
      in_distribution = true;
    } else if (in_distribution && words.size() == 2 && words[0] == "50%") {
      result.p50_us = Micros(words[1]);
    } else if (in_distribution && words.size() == 2 && words[0] == "99%") {
      result.p99_us = Micros(words[1]);
    } else if (words.size() >= 5 && words[1] == "requests" && words[2] == "in") {
      // "123456 requests in 5.00s, 45.67MB read"
      absl::SimpleAtoi(words[0], &result.requests);
      if (result.requests > 0) {
        result.bytes_per_response = Bytes(words[4]) / static_cast<double>(result.requests);
      }
    } else if (words[0] == "Requests/sec:" && words.size() == 2) {
      absl::SimpleAtod(words[1], &result.requests_per_second);
    }
  }
  if (result.requests_per_second <= 0 || result.p50_us < 0 || result.p99_us < 0) {
    return absl::InternalError(absl::StrCat("no figures in wrk's output:\n", text));
  }
  return result;
}

// podium_cache_hits_total from a frontend's /metrics; -1 if unreadable.
int64_t CacheHits(const std::string& http_address) {
  absl::StatusOr<harness::HttpResponse> metrics = harness::HttpGet(http_address, "/metrics");
  if (!metrics.ok() || metrics->status != 200) return -1;
  for (absl::string_view line : absl::StrSplit(metrics->body, '\n')) {
    if (!absl::ConsumePrefix(&line, "podium_cache_hits_total ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return static_cast<int64_t>(value);
  }
  return -1;
}

int Fail(const std::string& why) {
  std::fprintf(stderr, "web_bench: %s\n", why.c_str());
  return 1;
}

int Main() {
  const std::string wrk = FindOnPath("wrk");
  if (wrk.empty()) return Fail("no wrk on PATH: apt-get install wrk (./scripts/bench does)");
  const std::vector<int> counts = bench::ParseCounts(absl::GetFlag(FLAGS_connections));
  if (counts.empty()) return Fail("--connections needs positive counts, e.g. 16,64");
  harness::ScopedTempDir dir;
  harness::BackendProcess backend(dir.path(), bench::GamesFlags(absl::GetFlag(FLAGS_games)));
  if (absl::Status s = backend.Start(); !s.ok()) return Fail(std::string(s.message()));
  const std::string hit_http = absl::StrCat("127.0.0.1:", harness::PickFreePort());
  harness::FrontendCluster cached(dir.path(), backend.address(), 1, "push",
                                  {"--http_listen=" + hit_http});
  harness::ScopedTempDir off_dir;
  const std::string miss_http = absl::StrCat("127.0.0.1:", harness::PickFreePort());
  harness::FrontendCluster uncached(off_dir.path(), backend.address(), 1, "off",
                                    {"--http_listen=" + miss_http});
  const bool miss = absl::GetFlag(FLAGS_miss);
  if (absl::Status s = cached.StartAll(); !s.ok()) return Fail(std::string(s.message()));
  if (miss) {
    if (absl::Status s = uncached.StartAll(); !s.ok()) return Fail(std::string(s.message()));
  }
  if (absl::Status s = cached.WaitForMaster(cached.address(0), absl::Seconds(15)); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  std::string event = absl::GetFlag(FLAGS_event);
  if (event.empty()) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::Board board;
    grpc::Status status = cached.NewStub(0)->GetBoard(&context, v1::GetScoreboardRequest(), &board);
    if (!status.ok() || board.events().empty()) {
      return Fail("no board from the frontend: " + status.error_message());
    }
    event = board.events(0).event();
  }
  const std::string path = EventPath(event);
  // The bytes: the cached frontend's answer, read until it is a hit (the
  // first read may fill the cache).
  std::string body;
  const int64_t hits_before = CacheHits(hit_http);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<harness::HttpResponse> reply = harness::HttpGet(hit_http, path);
    if (!reply.ok()) return Fail(std::string(reply.status().message()));
    if (reply->status != 200) {
      return Fail(absl::StrCat("GET ", path, " answered ", reply->status, ": ", reply->body));
    }
    if (!body.empty() && reply->body != body) {
      return Fail("the frontend answered the same read with different bytes (a write meanwhile?)");
    }
    body = reply->body;
  }
  if (CacheHits(hit_http) <= hits_before) {
    return Fail("the push frontend's podium_cache_hits_total did not grow: its reads are not hits");
  }
  if (miss) {
    absl::StatusOr<harness::HttpResponse> reply = harness::HttpGet(miss_http, path);
    if (!reply.ok() || reply->status != 200 || reply->body != body) {
      return Fail("the --cache=off frontend does not answer the same bytes");
    }
  }
  absl::StatusOr<std::unique_ptr<Nginx>> nginx = Nginx::Start(dir.path(), path, body);
  if (!nginx.ok()) return Fail(std::string(nginx.status().message()));
  std::printf("GET %s: %zu bytes of JSON; wrk -t%d -d%ds, median of %d alternating rounds\n\n",
              path.c_str(), body.size(), absl::GetFlag(FLAGS_threads), absl::GetFlag(FLAGS_seconds),
              absl::GetFlag(FLAGS_rounds));
  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) csv.open(absl::GetFlag(FLAGS_csv), std::ios::app);

  std::vector<std::pair<std::string, std::string>> targets = {{"hit", hit_http},
                                                              {"nginx", (*nginx)->address()}};
  if (miss) targets.emplace_back("miss", miss_http);
  std::printf(
      "| connections | target | requests/s | p50 us | p99 us | vs nginx | bytes/response |\n");
  std::printf(
      "|-------------|--------|------------|--------|--------|----------|----------------|\n");
  int64_t hit_requests = 0, hits = 0;
  for (int connections : counts) {
    std::map<std::string, std::vector<Result>> rounds;
    for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
      for (const auto& [name, address] : targets) {
        const int64_t hits_at_start = name == "hit" ? CacheHits(hit_http) : 0;
        absl::StatusOr<Result> r = RunWrk(wrk, address, path, connections, dir.path());
        if (!r.ok()) return Fail(absl::StrCat(name, ": ", r.status().message()));
        if (name == "hit") {
          hits += CacheHits(hit_http) - hits_at_start;
          hit_requests += r->requests;
        }
        rounds[name].push_back(*r);
      }
    }
    std::map<std::string, Result> median;
    for (auto& [name, all] : rounds) {
      std::sort(all.begin(), all.end(), [](const Result& a, const Result& b) {
        return a.requests_per_second < b.requests_per_second;
      });
      median[name] = all[all.size() / 2];
    }
    for (const auto& [name, address] : targets) {
      const Result& r = median[name];
      const double ratio = r.requests_per_second / median["nginx"].requests_per_second;
      std::printf("| %11d | %-6s | %10.0f | %6.0f | %6.0f | %7.2fx | %14.0f |\n", connections,
                  name.c_str(), r.requests_per_second, r.p50_us, r.p99_us, ratio,
                  r.bytes_per_response);
      std::fflush(stdout);
      if (csv.is_open()) {
        csv << connections << "," << name << "," << static_cast<int64_t>(r.requests_per_second)
            << "," << r.p50_us << "," << r.p99_us << "," << ratio << ","
            << static_cast<int64_t>(r.bytes_per_response) << "\n";
      }
    }
  }
  // wrk counts the requests answered within its time; a few more may have
  // been answered as it stopped, so hits can exceed them slightly.
  std::printf(
      "\ncache hits counted by the push frontend over its rounds: %lld for %lld requests wrk "
      "counted\n",
      static_cast<long long>(hits), static_cast<long long>(hit_requests));
  (*nginx)->Stop();
  return 0;
}

}  // namespace
}  // namespace podium

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As in every Podium binary (common/init.cc): no lock-graph bookkeeping.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return podium::Main();
}
