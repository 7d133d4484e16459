// Just enough JSON to read what Podium's CLIs print with --json (one object
// per line, see docs/client.md): objects, arrays, strings, numbers, true,
// false and null. The project writes its JSON by hand and links no JSON
// library; the chaos checks must read it back strictly, since a malformed
// line from a client is itself something to report.
#ifndef PODIUM_TOOLS_CHAOS_JSON_VALUE_H_
#define PODIUM_TOOLS_CHAOS_JSON_VALUE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace podium::chaos {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  // The whole of `text` (surrounding whitespace allowed) as one value.
  // INVALID_ARGUMENT with the byte offset of the first problem.
  static absl::StatusOr<JsonValue> Parse(absl::string_view text);

  Type type() const { return type_; }
  bool is_object() const { return type_ == Type::kObject; }

  // The member `name` of an object; null when absent or not an object.
  const JsonValue* Find(absl::string_view name) const;
  // An object's members, in the order written.
  const std::vector<std::string>& keys() const { return keys_; }
  const std::vector<JsonValue>& items() const { return items_; }

  // The value as a string (kString), a boolean (kBool) or an integer
  // (kNumber written without fraction or exponent); INVALID_ARGUMENT
  // otherwise.
  absl::StatusOr<std::string> AsString() const;
  absl::StatusOr<bool> AsBool() const;
  absl::StatusOr<int64_t> AsInt64() const;

 private:
  friend class JsonParser;

  Type type_ = Type::kNull;
  std::string text_;  // a string's value, a number's spelling
  bool boolean_ = false;
  std::vector<std::string> keys_;  // kObject: names, parallel to items_
  std::vector<JsonValue> items_;   // kArray elements, kObject values
};

// Convenience for objects: the member as an integer or string, with an
// error naming the member.
absl::StatusOr<int64_t> MemberInt64(const JsonValue& object, absl::string_view name);
absl::StatusOr<std::string> MemberString(const JsonValue& object, absl::string_view name);

}  // namespace podium::chaos

#endif  // PODIUM_TOOLS_CHAOS_JSON_VALUE_H_
