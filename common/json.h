// JSON string literals for the one-object-per-line output every Podium CLI
// offers with --json. Podium builds its few small objects by hand rather
// than through a JSON library; this is the part that must not be gotten
// wrong, since names and error messages can hold any bytes.
#ifndef PODIUM_COMMON_JSON_H_
#define PODIUM_COMMON_JSON_H_

#include <string>

#include "absl/strings/string_view.h"

namespace podium {

// `text` as a JSON string literal, surrounding quotes included. Quotes and
// backslashes are escaped and control characters written as \u00XX, so the
// result never spans lines. Bytes that are not valid UTF-8 become U+FFFD,
// so the output is valid JSON whatever the input.
std::string JsonQuote(absl::string_view text);

}  // namespace podium

#endif  // PODIUM_COMMON_JSON_H_
