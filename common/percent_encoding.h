// URL percent-encoding (RFC 3986): what the frontends decode from a
// request's path and query, and what clients of the HTTP plane (the
// benchmarks) encode names with.
#ifndef PODIUM_COMMON_PERCENT_ENCODING_H_
#define PODIUM_COMMON_PERCENT_ENCODING_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace podium {

// `text` with every byte but the unreserved ones (letters, digits, - _ . ~)
// as %XX: safe as a path segment or a query value.
std::string PercentEncode(absl::string_view text);

// %XX decoded (and, with `plus_is_space`, as in a query, '+' as a space);
// nothing when a % is not followed by two hex digits.
std::optional<std::string> PercentDecode(absl::string_view text, bool plus_is_space);

}  // namespace podium

#endif  // PODIUM_COMMON_PERCENT_ENCODING_H_
