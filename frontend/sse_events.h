// The Server-Sent Events wire format of a subscription's updates
// (https://html.spec.whatwg.org/multipage/server-sent-events.html), as the
// page's EventSource reads them:
//
//   id: 42
//   event: update
//   data: {"change":{...},"snapshot":true,"conflated":true}
//
// `data` is a SubscribeUpdate in protobuf's JSON mapping (flags omitted
// when false), so a browser reads what a gRPC subscriber reads. `id` is the
// change's seq: an EventSource that loses its connection sends the last one
// back as Last-Event-ID, and the stream resumes after it, exactly as
// Subscribe's after_seq does. A snapshot's values carry no id (see
// SseEvents).
#ifndef PODIUM_FRONTEND_SSE_EVENTS_H_
#define PODIUM_FRONTEND_SSE_EVENTS_H_

#include <string>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "frontend/subscription.h"

namespace podium {

// One update's event.
std::string SseEvent(const EncodedChange& change, bool snapshot, bool conflated);
// The events one write of `updates` sends, in order. A write of one plain
// update sends change->sse_event(), which every stream shares.
std::string SseEvents(absl::Span<const OutgoingUpdate> updates);
// What a stream begins with: how long a browser waits before reconnecting.
std::string SseStart(absl::Duration retry);
// A comment line, which EventSource ignores, to keep idle connections (and
// the proxies on their way) from timing out.
inline constexpr char kSseHeartbeat[] = ": keep-alive\n\n";

}  // namespace podium

#endif  // PODIUM_FRONTEND_SSE_EVENTS_H_
