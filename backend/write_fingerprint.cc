#include "backend/write_fingerprint.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/fnv.h"

namespace podium {
namespace {

// The request's fields, each length-prefixed, rather than its serialized
// bytes, which a newer build may order differently (fields it used to keep
// as unknown).
class Fingerprinter {
 public:
  explicit Fingerprinter(char kind) : text_(1, kind) {}
  Fingerprinter& Add(absl::string_view field) {
    absl::StrAppend(&text_, field.size(), ":", field);
    return *this;
  }
  Fingerprinter& Add(int64_t field) { return Add(absl::StrCat(field)); }
  int64_t Done() const { return static_cast<int64_t>(Fnv1a64(text_) | 1); }

 private:
  std::string text_;
};

}  // namespace

int64_t WriteFingerprint(const v1::RecordScoreRequest& request) {
  Fingerprinter f('s');
  f.Add(request.event()).Add(request.status()).Add(request.points_size());
  for (const v1::TeamPoints& points : request.points()) f.Add(points.team()).Add(points.points());
  return f.Done();
}

int64_t WriteFingerprint(const v1::AwardMedalRequest& request) {
  Fingerprinter f('m');
  f.Add(request.team()).Add(request.medal()).Add(request.event());
  // Only when set, so that keys applied before revocations existed keep
  // their fingerprints.
  if (request.revoke()) f.Add("revoke");
  return f.Done();
}

int64_t WriteFingerprint(const v1::PostToFanBoardRequest& request) {
  return Fingerprinter('p').Add(request.event()).Add(request.author()).Add(request.text()).Done();
}

int64_t WriteFingerprint(const v1::RemovePostRequest& request) {
  return Fingerprinter('r').Add(request.event()).Add(request.post_id()).Done();
}

absl::Status KeyReusedError(absl::string_view key, int64_t seq) {
  return absl::AlreadyExistsError(
      absl::StrCat("idempotency key '", key, "' was already used for a different write (seq ", seq,
                   "); nothing was applied: give each new write a new key"));
}

}  // namespace podium
