// What a fan's post may hold, checked alike by the frontend that takes it
// (before it spends the fan's rate-limit token) and the backend that
// stores it.
#ifndef PODIUM_COMMON_FAN_POSTS_H_
#define PODIUM_COMMON_FAN_POSTS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace podium {

// A board shows its newest posts, at most this many; older ones leave it.
inline constexpr int kMaxFanPosts = 100;
inline constexpr int kMaxAuthorChars = 40;
inline constexpr int kMaxPostChars = 500;

// OK, or INVALID_ARGUMENT saying what is wrong: an author of 1 to 40
// characters and a text of 1 to 500, both UTF-8 without control characters
// (the text may hold newlines). Characters are Unicode code points.
absl::Status ValidatePost(absl::string_view author, absl::string_view text);

}  // namespace podium

#endif  // PODIUM_COMMON_FAN_POSTS_H_
