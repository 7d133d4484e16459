// How a frontend tells a client which Subscribe message format it sends
// (SubscribeRequest.format says which one the client reads): both sides
// check, so that processes of different Podium versions refuse each other
// loudly rather than misread each other's messages.
#ifndef PODIUM_COMMON_SUBSCRIBE_FORMAT_H_
#define PODIUM_COMMON_SUBSCRIBE_FORMAT_H_

namespace podium {

// Initial-metadata key a frontend sets on every Subscribe stream it accepts.
inline constexpr char kSubscribeFormatKey[] = "podium-subscribe-format";
// Its value for SubscribeUpdates messages (SUBSCRIBE_FORMAT_BATCHES).
inline constexpr char kSubscribeFormatBatches[] = "batches";

}  // namespace podium

#endif  // PODIUM_COMMON_SUBSCRIBE_FORMAT_H_
