#include "common/fan_posts.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/names.h"

namespace podium {
namespace {

// Code points of well-formed UTF-8: every byte but continuation bytes.
int64_t CodePoints(absl::string_view text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

absl::Status ValidateText(absl::string_view field, absl::string_view text, int64_t max_chars,
                          bool newlines) {
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not valid UTF-8"));
  }
  const int64_t chars = CodePoints(text);
  if (chars < 1 || chars > max_chars) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be 1 to ", max_chars, " characters; it is ", chars));
  }
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && !(newlines && c == '\n')) || byte == 0x7F) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " holds a control character (byte ", static_cast<int>(byte), ")",
                       newlines ? "; only newlines are allowed" : ""));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePost(absl::string_view author, absl::string_view text) {
  if (absl::Status s = ValidateText("author", author, kMaxAuthorChars, false); !s.ok()) return s;
  return ValidateText("text", text, kMaxPostChars, true);
}

}  // namespace podium
