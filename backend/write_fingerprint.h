// What identifies a write request, to tell a retry (the same request under
// its idempotency key) from a different write that reuses the key. Every
// store records it beside the key; the value must never change between
// releases, since stored fingerprints are compared with new ones.
#ifndef PODIUM_BACKEND_WRITE_FINGERPRINT_H_
#define PODIUM_BACKEND_WRITE_FINGERPRINT_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "podium/v1/backend.pb.h"

namespace podium {

// Never 0, which stores use for "not recorded". The reason is left out: the
// same write with its reason reworded is a retry, not a different write.
int64_t WriteFingerprint(const v1::RecordScoreRequest& request);
int64_t WriteFingerprint(const v1::AwardMedalRequest& request);
int64_t WriteFingerprint(const v1::PostToFanBoardRequest& request);
int64_t WriteFingerprint(const v1::RemovePostRequest& request);

// ALREADY_EXISTS: `key` applied another write, as `seq`.
absl::Status KeyReusedError(absl::string_view key, int64_t seq);

}  // namespace podium

#endif  // PODIUM_BACKEND_WRITE_FINGERPRINT_H_
