// One run of h2load (Debian's nghttp2-client), an HTTP/2 load generator
// that shares no code with gRPC and costs far less per call than a gRPC
// client: the fairer judge of a gRPC server's own cost for unary calls.
#ifndef PODIUM_BENCH_H2LOAD_RUN_H_
#define PODIUM_BENCH_H2LOAD_RUN_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace podium::bench {

// What a load of unary calls measured: calls a second, and latency
// quantiles in microseconds. All zero: no figure.
struct CallRate {
  double calls_per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
};

// Where h2load is, from PATH; empty when it is not installed.
std::string FindH2load();

// The body h2load sends for a unary gRPC call of `message` (serialized):
// one message frame, no compression flag, big-endian length.
std::string GrpcFrame(const std::string& message);

// The CPUs this process may run on, split in two: the last for the
// servers measured (and this process), the others for the load. Unpinned on two cores, where
// the scheduler happened to put h2load beside a server's threads changed a
// round's rate by up to 2× (docs/benchmarks.md); pinned apart, rounds of
// one server agree within a few percent, and each server's rate is what
// one core's worth of it serves. Both empty with fewer than two CPUs.
struct CpuSplit {
  std::vector<int> servers;
  std::vector<int> load;
};
CpuSplit SplitCpus();

// Pins the calling thread, and so every process it starts from now on, to
// `cpus`. An error says why not.
absl::Status PinCallingThread(const std::vector<int>& cpus);

// h2load against `url` (http://HOST:PORT/package.Service/Method) for
// `duration`, with `clients` connections of `streams` concurrent calls
// each, every call sending `frame`; its files go in `dir`. It runs on
// `cpus` (empty: wherever the caller may). The rate is h2load's, the
// quantiles are from its log of every call. Every call must succeed with
// HTTP 200: anything else is no figure (all zero), said on stderr.
CallRate RunH2load(const std::string& url, const std::string& frame, int clients, int streams,
                   absl::Duration duration, const std::string& dir,
                   const std::vector<int>& cpus = {});

}  // namespace podium::bench

#endif  // PODIUM_BENCH_H2LOAD_RUN_H_
