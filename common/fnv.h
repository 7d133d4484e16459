// FNV-1a, 64 bit: a hash that is stable across builds, platforms and library
// versions (std::hash is not), for what must survive a rebuilt binary: the
// replay files' idempotency keys and the bard journal's line checksums.
#ifndef PODIUM_COMMON_FNV_H_
#define PODIUM_COMMON_FNV_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace podium {

inline uint64_t Fnv1a64(absl::string_view data) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace podium

#endif  // PODIUM_COMMON_FNV_H_
