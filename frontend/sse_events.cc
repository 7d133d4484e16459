#include "frontend/sse_events.h"

#include "absl/strings/str_cat.h"

namespace podium {

std::string SseEvent(const EncodedChange& change, bool snapshot, bool conflated) {
  std::string out;
  // The JSON never spans lines (protobuf escapes control characters in
  // strings and prints compactly), so one data: line carries it.
  // A snapshot's values come in key order, not seq order: resuming after
  // one of them could skip a key not sent yet. Without an id: line the
  // browser keeps the last one it had, as a gRPC client keeps its cursor.
  if (!snapshot) absl::StrAppend(&out, "id: ", change.change.seq(), "\n");
  absl::StrAppend(&out, "event: update\ndata: {\"change\":", change.json(),
                  snapshot ? ",\"snapshot\":true" : "", conflated ? ",\"conflated\":true" : "",
                  "}\n\n");
  return out;
}

std::string SseEvents(absl::Span<const OutgoingUpdate> updates) {
  std::string out;
  for (const OutgoingUpdate& update : updates) {
    if (!update.snapshot && !update.conflated) {
      out.append(update.change->sse_event());
    } else {
      out.append(SseEvent(*update.change, update.snapshot, update.conflated));
    }
  }
  return out;
}

std::string SseStart(absl::Duration retry) {
  return absl::StrCat("retry: ", absl::ToInt64Milliseconds(retry), "\n\n");
}

}  // namespace podium
