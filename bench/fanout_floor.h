// The floor of fan-out that fanout_bench measures Podium against (and
// stream_memory_bench, Podium's memory per stream): a gRPC
// server that fans one message out to every Subscribe stream and does
// nothing else, built as a server doing only that would be built. Streams
// live on async completion queues (one per core by default, as the
// frontend's), each drained by a thread of its own; a publish serializes
// one message once and hands it to every queue, whose thread writes it to
// each of its streams, one write at a time per stream, in seq order (a
// stream still writing holds the next ones). No cache, no subscriptions
// by key, no batching of waiting messages into one (Podium batches them).
//
// A publish is a Backend.RecordScore call, so that the benchmark drives the
// floor exactly as it drives Podium's backend: its reply carries the seq
// the floor gave the change (one more than the last), and the change is the
// request's event and points, about the size of Podium's for the same
// write. Every stream opens with a snapshot that carries no value.
#ifndef PODIUM_BENCH_FANOUT_FLOOR_H_
#define PODIUM_BENCH_FANOUT_FLOOR_H_

#include <string>

#include "absl/status/statusor.h"
#include "harness/subprocess.h"

namespace podium::bench {

// The main() of a benchmark that starts itself as the floor: parses the
// flags and raises the open-file limit; given --floor_listen=ADDRESS it
// serves the floor there (with --floor_queues) until SIGINT or SIGTERM,
// else it returns `run` of this binary's own path.
int FloorBenchMain(int argc, char** argv, int (*run)(const std::string& self));

// Starts `self`, a benchmark whose main() is FloorBenchMain, as the floor
// on a free loopback port with --floor_queues queues (0: one per core, as
// a frontend's --stream_threads), its output in `log`. Returns once it
// answers health checks; its address in *address.
absl::StatusOr<harness::Subprocess> StartFanoutFloor(const std::string& self,
                                                     const std::string& log, std::string* address);

}  // namespace podium::bench

#endif  // PODIUM_BENCH_FANOUT_FLOOR_H_
