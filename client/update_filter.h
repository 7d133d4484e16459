// What a subscription delivers, and where it resumes (guarantees 3 and 6 on
// the client's side). Updates of one subscription can come from two
// streams at once (the old frontend's and the new one's while it moves) and
// a resumed stream replays changes the client may already have, so the
// callback sees each update through this filter:
//
//   * per key, a version is delivered only when it is newer than the last
//     one delivered for that key; anything else is dropped. The versions a
//     callback sees for a key therefore strictly increase, whatever the
//     frontends send, and nothing is delivered twice.
//   * the resume seq is a seq up to which every change of the subscribed
//     keys has been delivered or superseded by a newer delivered version of
//     its key: a new stream opened with after_seq = resume_seq misses
//     nothing.
//
// The resume seq advances only with changes (snapshot = false), which a
// stream sends in seq order, so a change with seq s means that the stream
// has sent everything up to s. Snapshot entries come key by key, not in
// seq order, and mean nothing for other keys until the snapshot is over;
// a stream broken in the middle of one resumes from before it (and the
// repeated entries are dropped as already delivered).
//
// Not thread-safe: the subscription's delivery thread owns it.
#ifndef PODIUM_CLIENT_UPDATE_FILTER_H_
#define PODIUM_CLIENT_UPDATE_FILTER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "podium/v1/scoreboard.pb.h"

namespace podium {

// How far one stream has sent everything: it was opened with
// after_seq = `covered`, which moves up with each change it sends.
struct StreamCursor {
  explicit StreamCursor(int64_t after_seq) : covered(after_seq) {}
  int64_t covered;
};

class UpdateFilter {
 public:
  // `resume_seq`: where a subscription resumed from an earlier one starts.
  explicit UpdateFilter(int64_t resume_seq = 0) : resume_seq_(resume_seq) {}

  // True when `update`, received on the stream at `cursor`, is to be
  // delivered; records it either way. An update carrying no value is
  // dropped.
  bool Admit(const v1::SubscribeUpdate& update, StreamCursor* cursor);

  // The after_seq for the next stream.
  int64_t resume_seq() const { return resume_seq_; }
  // The last version delivered for `key` (common/keys.h), if any.
  std::optional<int64_t> last_version(const std::string& key) const;
  int64_t delivered() const { return delivered_; }
  int64_t dropped() const { return dropped_; }

 private:
  int64_t resume_seq_;
  absl::flat_hash_map<std::string, int64_t> versions_;
  int64_t delivered_ = 0;
  int64_t dropped_ = 0;
};

}  // namespace podium

#endif  // PODIUM_CLIENT_UPDATE_FILTER_H_
