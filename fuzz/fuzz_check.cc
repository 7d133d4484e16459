#include "fuzz/fuzz_check.h"

#include "glog/logging.h"
#include "google/protobuf/stubs/logging.h"

namespace podium::fuzz {

void QuietLogging() {
  // Errors and warnings alike; a FATAL still stops the process (and is a
  // finding).
  FLAGS_minloglevel = google::GLOG_FATAL;
  // nullptr discards protobuf's messages.
  google::protobuf::SetLogHandler(nullptr);
}

}  // namespace podium::fuzz
