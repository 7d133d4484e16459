#include "common/json.h"

#include <cstdint>

#include "absl/strings/str_format.h"

namespace podium {
namespace {

constexpr absl::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// The length of the well-formed UTF-8 sequence starting at text[0], or 0
// when it is not one (RFC 3629: no overlong forms, no surrogates, nothing
// past U+10FFFF).
size_t Utf8SequenceLength(absl::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(0);
  size_t length = 0;
  uint8_t min_second = 0x80;
  uint8_t max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) min_second = 0xA0;  // overlong
    if (lead == 0xED) max_second = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) min_second = 0x90;  // overlong
    if (lead == 0xF4) max_second = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < min_second || byte(1) > max_second) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

std::string JsonQuote(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  while (!text.empty()) {
    const unsigned char c = static_cast<unsigned char>(text[0]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      const size_t length = Utf8SequenceLength(text);
      if (length == 0) {
        out.append(kReplacementCharacter.data(), kReplacementCharacter.size());
        text.remove_prefix(1);
        continue;
      }
      out.append(text.data(), length);
      text.remove_prefix(length);
      continue;
    }
    text.remove_prefix(1);
  }
  out.push_back('"');
  return out;
}

}  // namespace podium
